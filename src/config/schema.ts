// The one schema for every my2pg option (docs/CONFIG.md). Keys are snake_case in YAML files,
// MY2PG_<KEY> in the environment and --kebab-case on the command line.

import { z } from 'zod';

const mysqlUrl = z
  .string()
  .url()
  .refine((u) => /^mysql:\/\//.test(u), 'must be a mysql://user:pass@host:port URL');
const postgresUrl = z
  .string()
  .url()
  .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must be a postgres://user:pass@host:port/db URL');
const list = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)),
);
const int = (min: number) => z.coerce.number().int().min(min);
const bool = z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean());

export const configSchema = z
  .object({
    source: mysqlUrl.optional(),
    target: postgresUrl.optional(),
    source_ssl_mode: z.preprocess(
      (v) => (typeof v === 'string' ? v.toUpperCase() : v),
      z.enum(['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY']),
    ).default('PREFERRED'),
    source_ssl_ca: z.string().min(1).optional(),
    source_ssl_cert: z.string().min(1).optional(),
    source_ssl_key: z.string().min(1).optional(),
    source_rsa_public_key: z.string().min(1).optional(),
    kafka: list.optional(),
    topic: z.string().min(1).default('maxwell'),
    topic_partitions: int(1).default(1),
    group: z.string().min(1).default('my2pg'),
    include: list.default([]),
    exclude: list.default([]),
    filter: z.string().default(''),
    client_id: z.string().min(1).default('my2pg'),
    /** Unset: derived from the pipeline (src/cli/stages.ts pipelineServerId), so two pipelines on one source never share one. */
    server_id: int(1).max(4294967295).optional(),
    use_gtid: bool.default(true),
    init_position: z
      .string()
      .regex(/^[^:\s]+:\d+$/, 'must be a binlog file and offset, e.g. mysql-bin.000003:4')
      .optional(),
    heartbeat_interval_ms: int(0).default(1000),
    retry_max_ms: int(0).default(300_000),
    output_binlog_position: bool.default(false),
    output_gtid_position: bool.default(false),
    output_server_id: bool.default(false),
    output_thread_id: bool.default(false),
    output_primary_keys: bool.default(false),
    output_primary_key_columns: bool.default(false),
    output_nulls: bool.default(true),
    output_commit_info: bool.default(true),
    output_xoffset: bool.default(true),
    kafka_key_format: z.enum(['hash', 'array']).default('hash'),
    producer_partition_by: z.enum(['database', 'table', 'primary_key', 'transaction_id', 'thread_id', 'column', 'random']).default('database'),
    producer_partition_columns: list.default([]),
    producer_partition_by_fallback: z.enum(['database', 'table', 'primary_key', 'transaction_id']).default('database'),
    kafka_partition_hash: z.enum(['default', 'murmur3']).default('default'),
    batch_max_rows: int(1).default(20000),
    batch_max_wait_ms: int(0).default(200),
    dialect: z.enum(['postgres', 'greenplum']).default('postgres'),
    keep_case: bool.default(false),
    type_overrides: z
      .preprocess((v) => (typeof v === 'string' ? parseJsonOption(v) : v), z.record(z.string(), z.string().min(1)))
      .default({}),
    redis: z
      .string()
      .url()
      .refine((u) => /^rediss?:\/\//.test(u), 'must be a redis://[:pass@]host:port[/db] URL')
      .optional(),
    where: z.string().min(1).optional(),
    bootstrap_chunk_rows: int(1).default(20000),
    bootstrap_concurrency: int(0).default(2),
    bootstrap_queue: z.string().regex(/^[^:]+$/, 'must not contain ":"').default('my2pg-bootstrap'),
    initial_bootstrap: bool.default(true),
    ddl_skip: list
      .pipe(z.array(z.string().regex(/^(sha256:[0-9a-f]{16}|[^:\s]+:\d+)$/, 'must be a fingerprint sha256:<16 hex digits> or a binlog position file:pos')))
      .default([]),
    ddl_indexes: bool.default(true),
    log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
    if (c.producer_partition_by === 'column' && c.producer_partition_columns.length === 0) {
      problem('producer_partition_columns', 'producer_partition_by: column needs producer_partition_columns');
    }
    if ((c.source_ssl_mode === 'VERIFY_CA' || c.source_ssl_mode === 'VERIFY_IDENTITY') && c.source_ssl_ca === undefined) {
      problem('source_ssl_ca', `source_ssl_mode ${c.source_ssl_mode} needs source_ssl_ca (the CA that signed the server's certificate)`);
    }
    if ((c.source_ssl_cert === undefined) !== (c.source_ssl_key === undefined)) {
      problem(c.source_ssl_cert === undefined ? 'source_ssl_cert' : 'source_ssl_key', 'source_ssl_cert and source_ssl_key go together (a client certificate and its key)');
    }
  });

/** Map options given as text (environment, flags) are JSON objects. */
function parseJsonOption(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v; // reported by the schema as "expected object"
  }
}

export type Config = z.infer<typeof configSchema>;
export const CONFIG_KEYS = Object.keys(configSchema.innerType().shape) as Array<keyof Config>;
