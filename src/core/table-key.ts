// One string for a (database or schema, table) pair, as the key of maps and sets and in job ids:
// the two names as they are (MySQL's are case-sensitive on Linux) joined by NUL, which no
// identifier holds.

export function tableKey(database: string, table: string): string {
  return `${database}\u0000${table}`;
}
