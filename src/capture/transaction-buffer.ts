// Holds the rows of the open transaction until its commit (Maxwell puts the XID, known only at
// commit, on every row). Past a memory limit rows spill to a temporary file, so a transaction
// of any size streams through in bounded memory (DESIGN §6.6).

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
  key: string;
  /** Start of the rows event, `file:offset` (Maxwell's `position`). */
  position: string;
  /** Partition string, or which commit-time value gives it. */
  partition: string | { at: 'commit'; by: 'transaction_id' | 'thread_id' };
  /** Serialised key values and key column names (`primary_key`, `primary_key_columns`). */
  primaryKey: string;
  primaryKeyColumns: string;
}

export class TransactionBuffer {
  private rows: PendingRow[] = [];
  private spillDir: string | null = null;
  private spill: WriteStream | null = null;
  private spilled = 0;

  constructor(private readonly maxInMemory = 10_000) {}

  get size(): number {
    return this.spilled + this.rows.length;
  }

  async add(row: PendingRow): Promise<void> {
    this.rows.push(row);
    if (this.rows.length >= this.maxInMemory) await this.spillRows();
  }

  /** Yields all rows in order, in chunks, then empties the buffer. */
  async *drain(chunkSize: number): AsyncGenerator<PendingRow[]> {
    if (this.spill) {
      const path = this.spill.path as string;
      this.spill.end();
      await once(this.spill, 'close');
      this.spill = null;
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
    for (let i = 0; i < rows.length; i += chunkSize) yield rows.slice(i, i + chunkSize);
    this.reset();
  }

  /** Forgets the open transaction (e.g. on ROLLBACK) and removes any spill file. */
  reset(): void {
    this.rows = [];
    this.spill?.destroy();
    this.spill = null;
    this.spilled = 0;
    if (this.spillDir) rmSync(this.spillDir, { recursive: true, force: true });
    this.spillDir = null;
  }

  private async spillRows(): Promise<void> {
    if (!this.spill) {
      this.spillDir = mkdtempSync(join(tmpdir(), 'my2pg-tx-'));
      this.spill = createWriteStream(join(this.spillDir, 'rows.jsonl'));
    }
    let text = '';
    for (const r of this.rows) text += `${JSON.stringify(r)}\n`;
    this.spilled += this.rows.length;
    this.rows = [];
    if (!this.spill.write(text)) await once(this.spill, 'drain');
  }
}
