// Holds the rows of the open transaction until its commit (Maxwell puts the XID, known only at
// commit, on every row). Past a memory limit rows spill to a temporary file, so a transaction
// of any size streams through in bounded memory (docs/OPERATIONS.md "Memory").

import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A row whose event JSON still lacks the transaction's xid and commit flag. */
export interface PendingRow {
  database: string;
  table: string;
  type: 'insert' | 'update' | 'delete';
  ts: number;
  /** Serialised `data` object. */
  data: string;
  /** Serialised `old` object, for updates. */
  old?: string;
  /** Serialised `json_nulls` member, when a JSON column holds JSON's null (docs/EVENTS.md). */
  jsonNulls?: string;
  key: string;
  /** Start of the rows event, `file:offset` (Maxwell's `position`). */
  position: string;
  /** Partition string, or which commit-time value gives it. */
  partition: string | { at: 'commit'; by: 'transaction_id' | 'thread_id' };
  /** Serialised key values and key column names, when the output options ask for them (`primary_key`, `primary_key_columns`). */
  primaryKey?: string;
  primaryKeyColumns?: string;
}

/** What a row weighs in memory besides its strings (object, fields), roughly. */
const ROW_OVERHEAD = 200;

export class TransactionBuffer {
  private rows: PendingRow[] = [];
  /** Approximate bytes the rows in memory hold. */
  private bytes = 0;
  private spillDir: string | null = null;
  private spill: WriteStream | null = null;
  private spilled = 0;
  private spillError: Error | null = null;

  /** Rows stay in memory up to `maxInMemoryBytes` (16 MiB: transactions of ~30k typical rows). */
  constructor(private readonly maxInMemoryBytes = 16 * 2 ** 20) {}

  get size(): number {
    return this.spilled + this.rows.length;
  }

  async add(row: PendingRow): Promise<void> {
    this.rows.push(row);
    this.bytes += ROW_OVERHEAD + row.data.length + (row.old?.length ?? 0) + row.key.length;
    if (this.bytes >= this.maxInMemoryBytes) await this.spillRows();
  }

  /** Yields all rows in order, in chunks, then empties the buffer. */
  async *drain(chunkSize: number): AsyncGenerator<PendingRow[]> {
    if (this.spill) {
      const path = this.spill.path as string;
      const closed = once(this.spill, 'close');
      this.spill.end();
      await closed;
      this.spill = null;
      if (this.spillError) throw this.spillError;
      let chunk: PendingRow[] = [];
      for await (const line of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
        chunk.push(JSON.parse(line) as PendingRow);
        if (chunk.length >= chunkSize) {
          yield chunk;
          chunk = [];
        }
      }
      if (chunk.length) yield chunk;
    }
    const rows = this.rows;
    this.rows = [];
    this.bytes = 0;
    for (let i = 0; i < rows.length; i += chunkSize) yield rows.slice(i, i + chunkSize);
    await this.reset();
  }

  /** Forgets the open transaction (e.g. on ROLLBACK) and removes any spill file. */
  async reset(): Promise<void> {
    this.rows = [];
    this.bytes = 0;
    const spill = this.spill;
    this.spill = null;
    if (spill && !spill.closed) {
      // Let the file finish opening and close before its directory goes.
      const closed = once(spill, 'close').catch(() => undefined);
      spill.end();
      await closed;
    }
    this.spilled = 0;
    if (this.spillDir) rmSync(this.spillDir, { recursive: true, force: true });
    this.spillDir = null;
  }

  private async spillRows(): Promise<void> {
    if (this.spillError) throw this.spillError;
    if (!this.spill) {
      this.spillDir = mkdtempSync(join(tmpdir(), 'my2pg-tx-'));
      this.spill = createWriteStream(join(this.spillDir, 'rows.jsonl'));
      this.spill.on('error', (err) => (this.spillError = err));
    }
    const rows = this.rows;
    this.spilled += rows.length;
    this.rows = [];
    this.bytes = 0;
    // In pieces of 1,000 rows: one string of them all would double what the buffer holds.
    for (let i = 0; i < rows.length; i += 1000) {
      let text = '';
      for (const r of rows.slice(i, i + 1000)) text += `${JSON.stringify(r)}\n`;
      if (!this.spill.write(text)) await once(this.spill, 'drain');
    }
  }
}
