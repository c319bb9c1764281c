-- Schema evolution (docs/OPERATIONS.md "Schema changes").
-- The source-side definition of every replicated table, as of the position stored with the data
-- (embedded mode resumes its schema tracker from here), written from the DDL events.
CREATE TABLE IF NOT EXISTS _my2pg.source_schemas (
  stream       text        NOT NULL,
  source_db    text        NOT NULL,
  source_table text        NOT NULL,
  position     text        NOT NULL,
  def          text        NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, source_db, source_table)
);

-- Tables whose DDL the replica could not take: apply skips their events until the row is deleted.
CREATE TABLE IF NOT EXISTS _my2pg.stopped_tables (
  source_db      text        NOT NULL,
  source_table   text        NOT NULL,
  stream         text        NOT NULL,
  position       text        NOT NULL,
  statement      text        NOT NULL,
  error          text        NOT NULL,
  skipped_events bigint      NOT NULL DEFAULT 0,
  stopped_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_db, source_table)
);

-- Every DDL event apply ran, with the statements it ran for it.
CREATE TABLE IF NOT EXISTS _my2pg.ddl_history (
  stream      text        NOT NULL,
  position    text        NOT NULL,
  source_db   text        NOT NULL,
  source_table text,
  event_type  text        NOT NULL,
  source_sql  text        NOT NULL,
  statements  text        NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now()
);
