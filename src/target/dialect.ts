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
  /**
   * The ALTER TABLE clause that redistributes a table by its (new) primary key, or randomly when
   * it has none (Greenplum); null where rows have no distribution (Postgres).
   */
  setDistribution(primaryKey: string[]): string | null;
  /** A unique index must contain the distribution key (Greenplum), else it is created non-unique. */
  readonly uniqueIndexNeedsDistributionKey: boolean;
  /** A distribution-key column cannot change type in place: redistribute randomly first (Greenplum). */
  readonly distributionKeyTypeLocked: boolean;
  /** CREATE INDEX IF NOT EXISTS exists (Postgres 9.5+; Greenplum 6 is based on Postgres 9.4). */
  readonly createIndexIfNotExists: boolean;
}

export const postgresDialect: Dialect = {
  name: 'postgres',
  tableSuffix: () => '',
  rowIdentity: ['ctid'],
  setDistribution: () => null,
  uniqueIndexNeedsDistributionKey: false,
  distributionKeyTypeLocked: false,
  createIndexIfNotExists: true,
};

export const greenplumDialect: Dialect = {
  name: 'greenplum',
  tableSuffix: (pk) =>
    pk.length > 0 ? ` DISTRIBUTED BY (${pk.map(quoteIdent).join(', ')})` : ' DISTRIBUTED RANDOMLY',
  // ctid is only unique within a segment on Greenplum.
  rowIdentity: ['gp_segment_id', 'ctid'],
  setDistribution: (pk) => (pk.length > 0 ? `SET DISTRIBUTED BY (${pk.map(quoteIdent).join(', ')})` : 'SET DISTRIBUTED RANDOMLY'),
  uniqueIndexNeedsDistributionKey: true,
  distributionKeyTypeLocked: true,
  createIndexIfNotExists: false,
};

export function dialectFor(name: string): Dialect {
  return name === 'greenplum' ? greenplumDialect : postgresDialect;
}
