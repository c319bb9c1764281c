// Where the source's binlog is: its current end, a given file:offset checked against the
// binlogs the server still has, and the GTID state at an offset.

import type { Connection } from 'mysql2/promise';
import { My2pgError } from '../core/errors.js';
import type { BinlogPosition } from '../core/position.js';
import { GtidSet } from './zongji.js';

/** The current end of the binlog, with the GTID state at exactly that point when there is one. */
export async function currentBinlogEnd(conn: Connection, isMariaDb: boolean): Promise<BinlogPosition> {
  let rows: unknown;
  try {
    [rows] = await conn.query('SHOW MASTER STATUS');
  } catch {
    [rows] = await conn.query('SHOW BINARY LOG STATUS');
  }
  const r = (rows as Array<{ File: string; Position: number | string; Executed_Gtid_Set?: string }>)[0];
  if (!r) throw new My2pgError('SOURCE_SETTINGS', 'SHOW MASTER STATUS returned nothing: is log_bin enabled?');
  const pos: BinlogPosition = { file: r.File, pos: Number(r.Position) };
  if (isMariaDb) {
    await addMariaDbGtid(conn, pos);
  } else if (r.Executed_Gtid_Set !== undefined) {
    const [m] = await conn.query('SELECT @@GLOBAL.gtid_mode AS mode');
    if ((m as Array<{ mode: string }>)[0]?.mode === 'ON') pos.gtid = r.Executed_Gtid_Set.replace(/\s+/g, '');
  }
  return pos;
}

/** MariaDB knows the GTID state at any binlog offset. */
async function addMariaDbGtid(conn: Connection, pos: BinlogPosition): Promise<void> {
  const [g] = await conn.query('SELECT BINLOG_GTID_POS(?, ?) AS gtid', [pos.file, pos.pos]);
  const gtid = (g as Array<{ gtid: string | null }>)[0]?.gtid;
  if (gtid !== null && gtid !== undefined) pos.gtid = gtid;
}

/**
 * MySQL (with gtid_mode=ON) has no function for the GTID set at an offset: it is the file's
 * Previous_gtids plus the GTID of every transaction that starts in the file before the offset.
 */
async function addMysqlGtid(conn: Connection, pos: BinlogPosition): Promise<void> {
  const [m] = await conn.query('SELECT @@GLOBAL.gtid_mode AS mode');
  if ((m as Array<{ mode: string }>)[0]?.mode !== 'ON') return;
  const PAGE = 1000;
  let set: GtidSet | null = null;
  const after: string[] = [];
  for (let from = 4; ; ) {
    const [rows] = await conn.query(`SHOW BINLOG EVENTS IN ${conn.escape(pos.file)} FROM ${from} LIMIT ${PAGE}`);
    const events = rows as Array<{ Pos: number | string; End_log_pos: number | string; Event_type: string; Info: string }>;
    for (const e of events) {
      if (Number(e.Pos) >= pos.pos) break;
      if (e.Event_type === 'Previous_gtids') set = GtidSet.parse(e.Info);
      const gtid = e.Event_type.startsWith('Gtid') ? /GTID_NEXT\s*=\s*'([^']+)'/.exec(e.Info)?.[1] : undefined;
      if (gtid) after.push(gtid);
    }
    const last = events.at(-1);
    if (events.length < PAGE || !last || Number(last.Pos) >= pos.pos) break;
    from = Number(last.End_log_pos);
  }
  if (!set) return;
  for (const g of after) set.add(g);
  pos.gtid = set.toString();
}

/**
 * `init_position` (file:offset) checked against the server's binlogs. The position gets its
 * GTID state (MariaDB: BINLOG_GTID_POS; MySQL with GTIDs: read from the file), so it resumes by
 * GTID like any other (docs/CONFIG.md).
 */
export async function binlogPositionAt(conn: Connection, isMariaDb: boolean, spec: string): Promise<BinlogPosition> {
  const at = spec.lastIndexOf(':');
  const pos: BinlogPosition = { file: spec.slice(0, at), pos: Number(spec.slice(at + 1)) };
  const [rows] = await conn.query('SHOW BINARY LOGS');
  const logs = rows as Array<{ Log_name: string; File_size: number | string }>;
  const log = logs.find((l) => l.Log_name === pos.file);
  if (!log || pos.pos < 4 || pos.pos > Number(log.File_size)) {
    throw new My2pgError(
      'CONFIG',
      `init_position ${spec} is not in the source's binlogs (${logs.map((l) => `${l.Log_name}: 4…${l.File_size}`).join(', ')}); ` +
        'give a file SHOW BINARY LOGS lists and an event offset inside it, or leave init_position out to start at the end of the binlog',
    );
  }
  if (isMariaDb) await addMariaDbGtid(conn, pos);
  else await addMysqlGtid(conn, pos);
  return pos;
}
