// How MySQL names become Postgres names: database → schema, lower-cased unless keepCase
// (docs/TYPES.md "Identifiers").

import { My2pgError } from '../core/errors.js';

export class Naming {
  constructor(readonly keepCase = false) {}

  name(mysqlName: string): string {
    return this.keepCase ? mysqlName : mysqlName.toLowerCase();
  }

  /** Maps a column list, refusing two MySQL names that would become one Postgres name. */
  columns(table: string, names: string[]): string[] {
    const seen = new Map<string, string>();
    return names.map((n) => {
      const mapped = this.name(n);
      const prev = seen.get(mapped);
      if (prev !== undefined) {
        throw new My2pgError(
          'UNSUPPORTED_DDL',
          `table ${table}: columns "${prev}" and "${n}" both become "${mapped}" in Postgres; set target.keep_case: true`,
        );
      }
      seen.set(mapped, n);
      return mapped;
    });
  }
}
