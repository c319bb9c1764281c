// Tracks the executed GTID state as transactions commit, so every stored position also names
// its place as a MySQL GTID set or a MariaDB domain-server-seq list. Resuming by GTID works on
// any server of the same replication topology, which is what survives a failover.

import { GtidSet, MariadbGtidPosition } from '../source/zongji.js';

export class GtidTracker {
  private readonly mysql: GtidSet | null;
  private readonly mariadb: MariadbGtidPosition | null;
  private current: { mysql?: string; mariadb?: { domainId: number; serverId: number; seqNo: number | string } } | null = null;

  constructor(flavor: 'mysql' | 'mariadb', seed: string) {
    this.mysql = flavor === 'mysql' ? GtidSet.parse(seed) : null;
    this.mariadb = flavor === 'mariadb' ? MariadbGtidPosition.parse(seed) : null;
  }

  /** A MySQL GTID event began a transaction. */
  beginMysql(gtid: string): void {
    this.current = { mysql: gtid };
  }

  /** A MariaDB GTID event began a transaction (or a standalone DDL group). */
  beginMariadb(domainId: number, serverId: number, seqNo: number | string): void {
    this.current = { mariadb: { domainId, serverId, seqNo } };
  }

  /** The transaction began by the last GTID event committed. */
  commit(): void {
    if (this.current?.mysql && this.mysql) this.mysql.add(this.current.mysql);
    if (this.current?.mariadb && this.mariadb) this.mariadb.add(this.current.mariadb);
    this.current = null;
  }

  /** The GTID of the open transaction, as Maxwell's `gtid` field shows it. */
  get currentGtid(): string | undefined {
    const c = this.current;
    if (c?.mysql) return c.mysql;
    if (c?.mariadb) return `${c.mariadb.domainId}-${c.mariadb.serverId}-${c.mariadb.seqNo}`;
    return undefined;
  }

  toString(): string {
    return (this.mysql ?? this.mariadb)?.toString() ?? '';
  }
}
