// Orders two GTID states of one replication topology: a MySQL GTID set
// (`uuid:1-5:7,uuid2[:tag]:1-3`) or a MariaDB position (`domain-server-seq,…`). Binlog file and
// offset mean nothing across servers; the GTID state a transaction started from does, so after
// a failover the cursors of the new server are ordered against those stored from the old one.

/** -1: `a` is contained in `b` (earlier); 0: same state; 1: `b` in `a`; null: neither (diverged). */
export type GtidOrder = -1 | 0 | 1 | null;

type Parsed = { kind: 'mysql'; sets: Map<string, Array<[bigint, bigint]>> } | { kind: 'mariadb'; domains: Map<string, { server: string; seq: bigint }> };

let memo: Array<[string, Parsed]> = [];

export function compareGtidStates(a: string, b: string): GtidOrder {
  if (a === b) return 0;
  const blankA = a.trim() === '';
  const blankB = b.trim() === '';
  if (blankA || blankB) return blankA && blankB ? 0 : blankA ? -1 : 1;
  const pa = parsed(a);
  const pb = parsed(b);
  if (pa.kind !== pb.kind) return null;
  const ab = pa.kind === 'mysql' ? mysqlContains(pb as typeof pa, pa) : mariadbContains(pb as typeof pa, pa);
  const ba = pa.kind === 'mysql' ? mysqlContains(pa, pb as typeof pa) : mariadbContains(pa, pb as typeof pa);
  if (ab && ba) return 0;
  if (ab) return -1;
  if (ba) return 1;
  return null;
}

/** Parses with a memo of the last few texts: the same transaction's state is compared per row. */
function parsed(text: string): Parsed {
  const hit = memo.find(([t]) => t === text);
  if (hit) return hit[1];
  const p = text.includes(':') ? parseMysql(text) : parseMariadb(text);
  memo = [[text, p] as [string, Parsed], ...memo].slice(0, 4);
  return p;
}

function parseMysql(text: string): Parsed {
  const sets = new Map<string, Array<[bigint, bigint]>>();
  for (const block of text.replace(/\s+/g, '').split(',')) {
    if (block === '') continue;
    const [uuid, ...items] = block.split(':');
    let source = uuid.toLowerCase();
    for (const item of items) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(item);
      if (!m) {
        source = `${uuid.toLowerCase()}:${item.toLowerCase()}`;
        continue;
      }
      const list = sets.get(source) ?? [];
      list.push([BigInt(m[1]), BigInt(m[2] ?? m[1])]);
      sets.set(source, list);
    }
  }
  for (const [source, list] of sets) sets.set(source, merged(list));
  return { kind: 'mysql', sets };
}

function merged(list: Array<[bigint, bigint]>): Array<[bigint, bigint]> {
  const sorted = [...list].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const [lo, hi] of sorted) {
    const last = out.at(-1);
    if (last && lo <= last[1] + 1n) last[1] = hi > last[1] ? hi : last[1];
    else out.push([lo, hi]);
  }
  return out;
}

function parseMariadb(text: string): Parsed {
  const domains = new Map<string, { server: string; seq: bigint }>();
  for (const item of text.replace(/\s+/g, '').split(',')) {
    if (item === '') continue;
    const [domain, server, seq] = item.split('-');
    domains.set(domain, { server, seq: BigInt(seq) });
  }
  return { kind: 'mariadb', domains };
}

/** Whether every transaction of `inner` is in `outer`. */
function mysqlContains(outer: Extract<Parsed, { kind: 'mysql' }>, inner: Extract<Parsed, { kind: 'mysql' }>): boolean {
  for (const [source, intervals] of inner.sets) {
    const cover = outer.sets.get(source) ?? [];
    for (const [lo, hi] of intervals) if (!cover.some(([clo, chi]) => clo <= lo && hi <= chi)) return false;
  }
  return true;
}

/**
 * Whether `outer` is at or past `inner` in every domain. The same sequence number from another
 * server is another transaction: the histories diverged there.
 */
function mariadbContains(outer: Extract<Parsed, { kind: 'mariadb' }>, inner: Extract<Parsed, { kind: 'mariadb' }>): boolean {
  for (const [domain, at] of inner.domains) {
    const o = outer.domains.get(domain);
    if (!o || o.seq < at.seq || (o.seq === at.seq && o.server !== at.server)) return false;
  }
  return true;
}
