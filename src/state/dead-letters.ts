// Messages apply could not read as events, kept in `_my2pg.dead_letters` in the batch's
// transaction; with Kafka apply also publishes them to the dead-letter topic (docs/EVENTS.md
// "Dead letters").

import type { ClientBase } from 'pg';

export async function recordDeadLetter(
  client: ClientBase,
  stream: string,
  msg: { part: string; position: string; value: string },
  error: string,
): Promise<void> {
  await client.query(
    'INSERT INTO _my2pg.dead_letters (stream, part, position, error, message) VALUES ($1, $2, $3, $4, $5)',
    [stream, msg.part, msg.position, error, msg.value],
  );
}
