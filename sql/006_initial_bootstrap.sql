-- `my2pg run`'s first-start copy (docs/BOOTSTRAP.md): recorded before anything streams, done once
-- every table that existed when capture fixed its start position has been copied. A restart in
-- between does it again.
CREATE TABLE IF NOT EXISTS _my2pg.initial_bootstraps (
  stream      text        PRIMARY KEY,
  state       text        NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
