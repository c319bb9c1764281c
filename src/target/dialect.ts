// Target dialects: the one place where Postgres and Greenplum statement shapes differ.

import { quoteIdent } from './quote.js';

export interface Dialect {
  readonly name: 'postgres' | 'greenplum';
  /** Clause appended to CREATE TABLE (Greenplum's distribution policy), or ''. */
  tableSuffix(primaryKey: string[]): string;
  /**
   * System columns that name one physical row, used to delete exactly one duplicate from a
   * table without a primary key.
   */
  readonly rowIdentity: string[];
}

export const postgresDialect: Dialect = {
  name: 'postgres',
  tableSuffix: () => '',
  rowIdentity: ['ctid'],
};

export const greenplumDialect: Dialect = {
  name: 'greenplum',
  tableSuffix: (pk) =>
    pk.length > 0 ? ` DISTRIBUTED BY (${pk.map(quoteIdent).join(', ')})` : ' DISTRIBUTED RANDOMLY',
  // ctid is only unique within a segment on Greenplum.
  rowIdentity: ['gp_segment_id', 'ctid'],
};

export function dialectFor(name: string): Dialect {
  return name === 'greenplum' ? greenplumDialect : postgresDialect;
}
