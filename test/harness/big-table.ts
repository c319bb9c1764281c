// The 10-column mixed-type table of the bootstrap tests and benchmark, filled deterministically
// from a sequence of integers (ids 2, 4, 6, …, so inserts can land between them).

import type mysql from 'mysql2/promise';
import { seqRows } from './sequence.js';

/** Creates the table and fills it with `rows` rows, in transactions of `txRows` (default: one). */
export async function createBigTable(conn: mysql.Connection, db: string, rows: number, table = 'big', txRows = rows): Promise<void> {
  await conn.query(`CREATE TABLE \`${db}\`.\`${table}\` (
    id BIGINT UNSIGNED NOT NULL PRIMARY KEY, qty INT NOT NULL, price DECIMAL(20,6), ratio DOUBLE, name VARCHAR(64),
    note TEXT, created DATETIME(6), flag TINYINT(1), tag ENUM('a','b','c'), raw VARBINARY(16)) CHARACTER SET utf8mb4`);
  await fillBigTable(conn, db, 1, rows, table, txRows);
}

/** Inserts the rows of sequence numbers `from`…`to` (ids 2·seq), in transactions of `txRows`. */
export async function fillBigTable(conn: mysql.Connection, db: string, from: number, to: number, table = 'big', txRows = to - from + 1): Promise<void> {
  for (let lo = from; lo <= to; lo += txRows) {
    await conn.query(`INSERT INTO \`${db}\`.\`${table}\` SELECT seq * 2, seq % 1000, seq / 7, seq / 3, CONCAT('name-', seq),
      IF(seq % 10 = 0, NULL, REPEAT('x', seq % 50)), TIMESTAMP('2020-01-01') + INTERVAL seq SECOND + INTERVAL seq % 1000000 MICROSECOND,
      seq % 2, ELT(1 + seq % 3, 'a', 'b', 'c'), UNHEX(LPAD(HEX(seq), 8, '0')) FROM ${seqRows(lo, Math.min(lo + txRows - 1, to))}`);
  }
}
