-- Stopped tables keep their events (docs/OPERATIONS.md "Stopped tables"): a table stops on a DDL
-- statement or on data the replica refuses, and every event of it from the failing one on is
-- parked here, in stream order, until the operator resumes the table; apply then replays them.
CREATE TABLE IF NOT EXISTS _my2pg.parked_events (
  seq          bigserial   NOT NULL,
  source_db    text        NOT NULL,
  source_table text        NOT NULL,
  stream       text        NOT NULL,
  part         text        NOT NULL,
  position     text        NOT NULL,
  message      text        NOT NULL,
  parked_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_db, source_table, seq)
);

-- 'ddl' (the replica refused a statement) or 'data' (it refused a row change); for data, the
-- failing row's key.
ALTER TABLE _my2pg.stopped_tables ADD COLUMN kind text NOT NULL DEFAULT 'ddl';
ALTER TABLE _my2pg.stopped_tables ADD COLUMN row_key text;

-- The binlog position of each applied DDL event: an event delivered again is applied once.
ALTER TABLE _my2pg.ddl_history ADD COLUMN source_position text;
