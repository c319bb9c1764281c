// A seeded, mixed OLTP workload for end-to-end tests: single- and multi-row transactions
// across three tables (one with a composite key), primary-key updates, deletes, and one big
// transaction.

import type mysql from 'mysql2/promise';

export const WORKLOAD_TABLES = ['customers', 'order_items', 'events'];

export async function createWorkloadTables(conn: mysql.Connection, db: string): Promise<void> {
  await conn.query(`CREATE TABLE \`${db}\`.customers (
      id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
      name VARCHAR(100) NOT NULL,
      balance DECIMAL(12,2),
      created DATETIME(6),
      flags SET('a','b','c'),
      note TEXT
    ) CHARACTER SET utf8mb4`);
  await conn.query(`CREATE TABLE \`${db}\`.order_items (
      order_id INT NOT NULL,
      line SMALLINT NOT NULL,
      sku VARCHAR(20),
      qty INT NOT NULL,
      price DECIMAL(10,2),
      PRIMARY KEY (order_id, line)
    )`);
  await conn.query(`CREATE TABLE \`${db}\`.events (
      id BIGINT NOT NULL PRIMARY KEY,
      kind ENUM('x','y','z'),
      payload JSON,
      at TIMESTAMP(3) NULL,
      data VARBINARY(16)
    )`);
}

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Workload {
  private readonly customers = new Set<number>();
  private readonly orders: Array<[number, number]> = [];
  private nextCustomer = 1;
  private nextOrder = 1;
  private nextEvent = 1;
  private readonly rand: () => number;
  transactions = 0;

  constructor(
    private conn: mysql.Connection,
    private readonly db: string,
    seed = 42,
  ) {
    this.rand = rng(seed);
  }

  /** Goes on through another connection (the source was restarted). */
  useConnection(conn: mysql.Connection): void {
    this.conn = conn;
  }

  private pick<T>(items: T[]): T | undefined {
    return items.length ? items[Math.floor(this.rand() * items.length)] : undefined;
  }

  private customerValues(id: number): unknown[] {
    const r = this.rand;
    return [
      id,
      `cust ${id} ${['é', '😀', "o'hara", 'tab\there', 'back\\slash'][id % 5]}`,
      (Math.floor(r() * 2_000_000) / 100 - 10_000).toFixed(2),
      `2024-0${1 + (id % 9)}-1${id % 10} 1${id % 10}:2${id % 10}:3${id % 10}.${String(id % 1_000_000).padStart(6, '0')}`,
      ['', 'a', 'b,c', 'a,b,c'][id % 4],
      id % 7 === 0 ? null : `note\n${id}`,
    ];
  }

  async insertCustomers(n: number): Promise<void> {
    const rows = [];
    for (let i = 0; i < n; i++) {
      const id = this.nextCustomer++;
      this.customers.add(id);
      rows.push(this.customerValues(id));
    }
    await this.conn.query(`INSERT INTO \`${this.db}\`.customers (id, name, balance, created, flags, note) VALUES ?`, [rows]);
  }

  async insertOrder(lines: number): Promise<void> {
    const order = this.nextOrder++;
    const rows = [];
    for (let l = 1; l <= lines; l++) {
      this.orders.push([order, l]);
      rows.push([order, l, `SKU-${order}-${l}`, 1 + Math.floor(this.rand() * 9), (this.rand() * 100).toFixed(2)]);
    }
    await this.conn.query(`INSERT INTO \`${this.db}\`.order_items (order_id, line, sku, qty, price) VALUES ?`, [rows]);
  }

  async insertEvent(): Promise<void> {
    const id = this.nextEvent++;
    await this.conn.query(`INSERT INTO \`${this.db}\`.events (id, kind, payload, at, data) VALUES (?, ?, ?, ?, ?)`, [
      id,
      ['x', 'y', 'z'][id % 3],
      JSON.stringify({ id, big: '18446744073709551615', nested: { list: [1, 2.5, null], s: 'ü' } }),
      `2024-05-0${1 + (id % 9)} 12:00:0${id % 10}.${String(id % 1000).padStart(3, '0')}`,
      Buffer.from([0, id % 256, 255, 10]),
    ]);
  }

  /** One random transaction. */
  async step(): Promise<void> {
    const r = this.rand();
    const c = this.conn;
    const db = this.db;
    this.transactions++;
    if (r < 0.25 || this.customers.size < 5) {
      await this.insertCustomers(1);
    } else if (r < 0.45) {
      await c.query('BEGIN');
      await this.insertCustomers(1 + Math.floor(this.rand() * 5));
      await this.insertOrder(1 + Math.floor(this.rand() * 4));
      await this.insertEvent();
      await c.query('COMMIT');
    } else if (r < 0.6) {
      const id = this.pick([...this.customers]);
      await c.query(`UPDATE \`${db}\`.customers SET balance = balance + 1.25, note = CONCAT(IFNULL(note, ''), '+') WHERE id = ?`, [id]);
    } else if (r < 0.7) {
      // Primary-key change.
      const id = this.pick([...this.customers])!;
      const to = this.nextCustomer++;
      this.customers.delete(id);
      this.customers.add(to);
      await c.query(`UPDATE \`${db}\`.customers SET id = ? WHERE id = ?`, [to, id]);
    } else if (r < 0.78) {
      const id = this.pick([...this.customers])!;
      this.customers.delete(id);
      await c.query(`DELETE FROM \`${db}\`.customers WHERE id = ?`, [id]);
    } else if (r < 0.88) {
      const item = this.pick(this.orders);
      if (!item) return this.insertOrder(2);
      // Composite-key change: move a line to another line number.
      const newLine = 100 + Math.floor(this.rand() * 10_000);
      if (this.orders.some(([o, l]) => o === item[0] && l === newLine)) return;
      await c.query(`UPDATE \`${db}\`.order_items SET line = ?, qty = qty + 1 WHERE order_id = ? AND line = ?`, [newLine, item[0], item[1]]);
      item[1] = newLine;
    } else if (r < 0.94) {
      const idx = Math.floor(this.rand() * this.orders.length);
      const item = this.orders[idx];
      if (!item) return;
      this.orders.splice(idx, 1);
      await c.query(`DELETE FROM \`${db}\`.order_items WHERE order_id = ? AND line = ?`, item);
    } else {
      await this.insertEvent();
      await c.query(`UPDATE \`${db}\`.events SET kind = 'z', payload = JSON_SET(payload, '$.touched', true) WHERE id = ?`, [
        1 + Math.floor(this.rand() * (this.nextEvent - 1)),
      ]);
    }
  }

  /** One transaction of `rows` inserted rows (sent in statements of 1000 rows). */
  async bigTransaction(rows: number): Promise<void> {
    await this.conn.query('BEGIN');
    for (let done = 0; done < rows; done += 1000) await this.insertOrder(Math.min(1000, rows - done));
    await this.conn.query('COMMIT');
    this.transactions++;
  }
}
