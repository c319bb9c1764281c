// What a bootstrap is given: its options, and where its events go for other consumers.

import type { Logger } from '../core/logger.js';
import type { SourceTls } from '../source/connect.js';
import type { TypeOverrides } from '../ddl/type-overrides.js';
import type { Dialect } from '../target/dialect.js';
import type { Naming } from '../target/naming.js';
import type { ChunkEvents } from './chunk-copier.js';
import type { SourceTable } from './source-table.js';

/** Receives bootstrap events for other consumers (Maxwell's bootstrap-* on Kafka). */
export interface BootstrapEvents {
  start(db: string, table: string): Promise<void>;
  /** The events of one chunk's rows, sent before the chunk counts as done. */
  chunk(src: SourceTable, chunkNo: number): ChunkEvents;
  complete(db: string, table: string): Promise<void>;
}

export interface BootstrapOptions {
  sourceUrl: string;
  /** TLS and authentication of the source connections (default: PREFERRED). */
  sourceTls?: SourceTls;
  targetUrl: string;
  dialect: Dialect;
  naming: Naming;
  typeOverrides?: TypeOverrides;
  where?: string | null;
  chunkRows: number;
  /** Chunks copied at once by this process. */
  concurrency: number;
  /** With Redis, chunk jobs go through bullmq and other `bootstrap --worker` processes help. */
  redisUrl?: string;
  queueName: string;
  /**
   * Wait for the stream to create a missing replica table (for `run`, whose capture creates it
   * after fixing its start position) instead of creating it here.
   */
  waitForTables?: boolean;
  events?: BootstrapEvents;
  log: Logger;
}
