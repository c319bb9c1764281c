// Refuses a source server whose binlog cannot give us full row images with column metadata
// (docs/OPERATIONS.md "Source prerequisites"), naming each setting to change.

import type { Connection } from 'mysql2/promise';
import { My2pgError } from '../core/errors.js';

const REQUIRED: Array<[variable: string, expected: string]> = [
  ['log_bin', 'ON'],
  ['binlog_format', 'ROW'],
  ['binlog_row_image', 'FULL'],
  ['binlog_row_metadata', 'FULL'],
];

export interface ServerInfo {
  version: string;
  isMariaDb: boolean;
  serverId: number;
}

export async function checkSourceServer(conn: Connection): Promise<ServerInfo> {
  const [rows] = await conn.query("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin','binlog_format','binlog_row_image','binlog_row_metadata','server_id','version')");
  const vars = new Map((rows as Array<{ Variable_name: string; Value: string }>).map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  const problems: string[] = [];
  for (const [name, expected] of REQUIRED) {
    const actual = vars.get(name);
    if (actual === undefined) {
      problems.push(`${name} is not available on this server (needs MySQL 8.0.1+ or MariaDB 10.5+)`);
    } else if (actual.toUpperCase() !== expected) {
      problems.push(`${name} is ${actual}, must be ${expected}`);
    }
  }
  const serverId = Number(vars.get('server_id') ?? 0);
  if (serverId === 0) problems.push('server_id is 0, must be a non-zero value unique among replicas');
  if (problems.length > 0) {
    const fix = REQUIRED.filter(([n]) => n !== 'log_bin').map(([n, v]) => `${n}=${v}`);
    throw new My2pgError(
      'SOURCE_SETTINGS',
      `the source server cannot be replicated as configured:\n  - ${problems.join('\n  - ')}\n` +
        `Set in my.cnf under [mysqld]: log_bin, server_id=<n>, ${fix.join(', ')}, and restart the server ` +
        `(the binlog_* settings can also be changed with SET GLOBAL, but only new sessions see them).`,
    );
  }
  const version = vars.get('version') ?? '';
  return { version, isMariaDb: /mariadb/i.test(version), serverId };
}
