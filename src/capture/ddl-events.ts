// DDL statements of the binlog: skipped when `ddl_skip` lists them, otherwise parsed and applied
// to the schema tracker, which says which DDL events to publish and which definitions to store;
// and DDL events as the messages of their transaction.

import type { Connection } from 'mysql2/promise';
import type { QueryEvent } from '../source/zongji.js';
import { My2pgError } from '../core/errors.js';
import type { StreamMessage } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { encodeDdlEvent, type DdlEventFields } from '../core/maxwell.js';
import { ddlKey, ddlPartitionString, type OutputOptions } from '../core/maxwell-keys.js';
import type { BinlogPosition } from '../core/position.js';
import { readTableSchema } from '../source/schema-reader.js';
import { ddlFingerprint, type SchemaTracker, type TrackedStatement } from './schema-tracker.js';

export interface DdlEventsOptions {
  conn: Connection;
  tracker: SchemaTracker;
  /**
   * DDL statements to pass over without parsing or tracking (`ddl_skip`): fingerprints
   * (ddlFingerprint) or binlog positions `file:pos` of the statement's transaction.
   */
  ddlSkip?: string[];
  log: Logger;
}

/** What following one statement did; `tablesChanged`: table ids may now describe other columns. */
export interface FollowedStatement extends TrackedStatement {
  tablesChanged: boolean;
}

export class DdlEvents {
  constructor(private readonly o: DdlEventsOptions) {}

  /**
   * A DDL statement of the transaction at `position`, parsed and applied to the schema tracker.
   * Unparseable statements on included objects stop capture here (docs/OPERATIONS.md "Schema
   * changes"), unless listed in `ddl_skip`.
   */
  async follow(ev: QueryEvent, sql: string, position: string, maxwell: Pick<DdlEventFields, 'eventPosition' | 'gtid'> = {}): Promise<FollowedStatement> {
    const { log, tracker } = this.o;
    const fingerprint = ddlFingerprint(sql);
    const skip = this.o.ddlSkip ?? [];
    if (skip.includes(fingerprint) || skip.includes(position)) {
      log.warn({ sql, position, fingerprint }, 'DDL statement skipped (ddl_skip): the schema tracker and the replica do not see it');
      return { events: [], records: [], tablesChanged: false };
    }
    try {
      const op = tracker.parse(sql, ev.schema);
      const done = await tracker.apply(op, { ts: ev.timestamp, sql, position, ...maxwell }, (db, table) => readTableSchema(this.o.conn, db, table));
      log.debug({ op: op.op, sql, position, events: done.events.length }, 'DDL statement');
      return { events: done.events, records: done.records, tablesChanged: op.op !== 'ignored' };
    } catch (err) {
      if (!(err instanceof My2pgError) || err.code !== 'UNSUPPORTED_DDL') throw err;
      throw new My2pgError(
        'UNSUPPORTED_DDL',
        `capture stopped at binlog position ${position} on a DDL statement it cannot follow (${err.message}). ` +
          `Statement: ${sql} — to move past it, add "${fingerprint}" (its fingerprint) or "${position}" to ddl_skip ` +
          '(docs/OPERATIONS.md) and make the replica match by hand',
        { cause: err },
      );
    }
  }
}

/** DDL events of one transaction starting at `tx`, as messages; their cursors count from `firstXoffset`. */
export function ddlMessages(
  events: DdlEventFields[],
  tx: BinlogPosition,
  next: BinlogPosition,
  o: OutputOptions,
  { endsTransaction = true, firstXoffset = 0 } = {},
): StreamMessage[] {
  return events.map((e, i) => ({
    key: ddlKey(),
    partitionKey: ddlPartitionString(e.database, e.table ?? null, o),
    value: encodeDdlEvent(e),
    database: e.database,
    table: e.table ?? null,
    cursor: { tx, xoffset: firstXoffset + i, commit: endsTransaction && i === events.length - 1, next },
  }));
}
