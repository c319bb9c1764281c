// Streams COPY text lines into Postgres in chunks of about 64 KiB.

import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** Bytes of COPY text sent at a time. */
export const COPY_CHUNK = 65536;

/**
 * Writes the lines straight into the COPY stream, waiting for 'drain' when the socket is full.
 * An error while producing the lines aborts the COPY (CopyFail) and is the one thrown.
 */
export async function copyLines(client: ClientBase, sql: string, lines: Iterable<string>): Promise<void> {
  const stream = client.query(copyFrom(sql));
  const done = finished(stream);
  // Reported by `done` (or by a write's 'drain' wait); keep Node from calling it unhandled.
  done.catch(() => undefined);
  let buf = '';
  try {
    for (const line of lines) {
      buf += line;
      if (buf.length >= COPY_CHUNK) {
        const ok = stream.write(buf);
        buf = '';
        if (!ok) await once(stream, 'drain');
      }
    }
    if (buf) stream.write(buf);
    stream.end();
  } catch (err) {
    stream.destroy(err as Error);
    await done.catch(() => undefined);
    throw err;
  }
  await done;
}
