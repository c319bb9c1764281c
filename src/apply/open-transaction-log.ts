// The messages applied inside a replica transaction that has not committed yet, kept on disk: if
// the replica connection is lost before the commit, Postgres drops all of them, and apply
// applies them again from here (the transport delivered them once and moves on). Memory stays
// bounded however large the source transaction is; the file is emptied at every commit.

import { createReadStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { DeliveredMessage } from '../transport/transport.js';

/** Characters written at a time. */
const WRITE_CHUNK = 1 << 20;

export class OpenTransactionLog {
  private file: fs.FileHandle | null = null;
  private readonly path = path.join(os.tmpdir(), `my2pg-open-transaction-${process.pid}-${Math.random().toString(36).slice(2)}.log`);
  /** Messages in the file. */
  size = 0;

  async append(messages: readonly DeliveredMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.file ??= await fs.open(this.path, 'w');
    let text = '';
    // Parts and positions hold no tab or line break; a value (JSON, unless it is invalid) is
    // written as it is ('r') unless it holds a line break, then as a JSON string ('j'). Written
    // a little at a time: a whole batch's text at once (tens of MB, and as much again as a
    // buffer for the write) would raise the process's peak memory.
    for (const m of messages) {
      text += `${m.part}\t${m.position}\t${/[\n\r]/.test(m.value) ? `j${JSON.stringify(m.value)}` : `r${m.value}`}\n`;
      if (text.length >= WRITE_CHUNK) {
        await this.file.write(text);
        text = '';
      }
    }
    if (text !== '') await this.file.write(text);
    this.size += messages.length;
  }

  /** The logged messages in order, `pageSize` at a time. */
  async *replay(pageSize: number): AsyncGenerator<DeliveredMessage[]> {
    if (this.size === 0) return;
    const lines = createInterface({ input: createReadStream(this.path, { encoding: 'utf8' }), crlfDelay: Infinity });
    let page: DeliveredMessage[] = [];
    for await (const line of lines) {
      if (line === '') continue;
      const a = line.indexOf('\t');
      const b = line.indexOf('\t', a + 1);
      const value = line[b + 1] === 'j' ? (JSON.parse(line.slice(b + 2)) as string) : line.slice(b + 2);
      page.push({ part: line.slice(0, a), position: line.slice(a + 1, b), value });
      if (page.length >= pageSize) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  /** The replica transaction committed: nothing to replay any more. */
  async clear(): Promise<void> {
    if (this.size === 0 && this.file === null) return;
    this.size = 0;
    await this.file?.truncate(0);
    await this.file?.close();
    this.file = null;
  }

  /** Removes the file. */
  async close(): Promise<void> {
    await this.clear();
    await fs.rm(this.path, { force: true });
  }
}
