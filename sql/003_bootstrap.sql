-- my2pg control schema, version 3: bootstrap progress (docs/BOOTSTRAP.md).
-- One row per source table being (or once) bootstrapped; its chunks below.
CREATE TABLE IF NOT EXISTS _my2pg.bootstrap_tables (
  source_db      text        NOT NULL,
  source_table   text        NOT NULL,
  target_schema  text        NOT NULL,
  target_table   text        NOT NULL,
  -- 'copying' while chunks are planned and copied, then 'done' ('dropped': the source table went away first).
  state          text        NOT NULL,
  -- Source columns the chunks are ranged on (primary key, else a NOT NULL unique key; [] = one pass).
  key_columns    text        NOT NULL,
  where_clause   text,
  chunk_rows     integer     NOT NULL,
  rows_estimated bigint      NOT NULL DEFAULT 0,
  -- Upper bound of the last planned chunk (JSON array), and whether planning reached the end.
  planned_upto   text,
  planned_all    boolean     NOT NULL DEFAULT false,
  started_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  PRIMARY KEY (source_db, source_table)
);

CREATE TABLE IF NOT EXISTS _my2pg.bootstrap_chunks (
  source_db    text        NOT NULL,
  source_table text        NOT NULL,
  chunk_no     integer     NOT NULL,
  -- Exclusive lower and inclusive upper key bounds as JSON arrays; NULL = unbounded.
  lower_key    text,
  upper_key    text,
  state        text        NOT NULL DEFAULT 'pending',
  rows_copied  bigint      NOT NULL DEFAULT 0,
  worker       text,
  done_at      timestamptz,
  PRIMARY KEY (source_db, source_table, chunk_no)
);
