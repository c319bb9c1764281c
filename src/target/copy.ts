// Streams COPY text lines into Postgres in chunks of about 64 KiB.

import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const CHUNK = 65536;

export async function copyLines(client: ClientBase, sql: string, lines: Iterable<string>): Promise<void> {
  const chunks = function* () {
    let buf = '';
    for (const line of lines) {
      buf += line;
      if (buf.length >= CHUNK) {
        yield buf;
        buf = '';
      }
    }
    if (buf) yield buf;
  };
  await pipeline(Readable.from(chunks()), client.query(copyFrom(sql)));
}

/**
 * COPYs an object stream (rows from another database) into Postgres, each object turned into a
 * line by `toLine`, with the source's backpressure kept. Resolves to the number of rows.
 */
export async function copyRows<T>(client: ClientBase, sql: string, rows: Readable, toLine: (row: T) => string): Promise<number> {
  let n = 0;
  let buf = '';
  const lines = new Transform({
    writableObjectMode: true,
    transform(row: T, _enc, done) {
      n++;
      buf += toLine(row);
      if (buf.length >= CHUNK) {
        const out = buf;
        buf = '';
        done(null, out);
      } else {
        done();
      }
    },
    flush(done) {
      done(null, buf || undefined);
    },
  });
  await pipeline(rows, lines, client.query(copyFrom(sql)));
  return n;
}
