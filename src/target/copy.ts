// Streams COPY text lines into Postgres in chunks of about 64 KiB.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** Bytes of COPY text sent at a time. */
export const COPY_CHUNK = 65536;

export async function copyLines(client: ClientBase, sql: string, lines: Iterable<string>): Promise<void> {
  const chunks = function* () {
    let buf = '';
    for (const line of lines) {
      buf += line;
      if (buf.length >= COPY_CHUNK) {
        yield buf;
        buf = '';
      }
    }
    if (buf) yield buf;
  };
  await pipeline(Readable.from(chunks()), client.query(copyFrom(sql)));
}
