// The DDL path a statement takes in production, without servers: capture's schema tracker turns
// it into DDL events, they are encoded as on the wire and decoded as apply decodes them, and
// apply's translator makes the replica statements. The golden DDL tests run through it.

import { SchemaTracker } from '../../src/capture/schema-tracker.js';
import type { DdlEvent } from '../../src/core/events.js';
import { decodeEvent, encodeDdlEvent } from '../../src/core/maxwell.js';
import { TableFilter } from '../../src/core/table-filter.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { translateDdlEvent } from '../../src/ddl/translate.js';
import type { TranslateOptions } from '../../src/ddl/pg-ddl.js';
import type { Dialect } from '../../src/target/dialect.js';
import { Naming } from '../../src/target/naming.js';

export interface StreamedStatement {
  statements: string[];
  notes: string[];
}

export class DdlStream {
  private readonly tracker = new SchemaTracker(new TableFilter([]));
  private seq = 0;

  constructor(
    private readonly dialect: Dialect,
    private readonly naming = new Naming(),
    private readonly defaultDatabase = 'shop',
  ) {}

  /** One statement of the binlog, as apply translates the events capture publishes for it. */
  async statement(sql: string, options: Omit<TranslateOptions, 'overrides'> = {}): Promise<StreamedStatement> {
    const op = this.tracker.parse(sql, this.defaultDatabase);
    const position = `mysql-bin.000001:${4 + this.seq++}`;
    // No source to read from: a statement whose columns only the server knows has no event.
    const { events } = await this.tracker.apply(op, { ts: 1_700_000_000_000, sql, position }, async () => null);
    const out: StreamedStatement = { statements: [], notes: [] };
    for (const fields of events) {
      const ev = decodeEvent(encodeDdlEvent(fields)) as DdlEvent;
      const t = translateDdlEvent(ev, this.dialect, this.naming, {}, options);
      out.statements.push(...t.statements);
      out.notes.push(...t.notes);
    }
    return out;
  }

  /** The tracked definitions after the statements so far. */
  schemas(): TableSchema[] {
    return this.tracker.all();
  }
}
