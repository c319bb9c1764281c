-- my2pg control schema, version 1: positions committed with the data, and rejected messages.
CREATE TABLE IF NOT EXISTS _my2pg.checkpoints (
  stream     text        NOT NULL,
  part       text        NOT NULL,
  position   text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, part)
);

CREATE TABLE IF NOT EXISTS _my2pg.dead_letters (
  stream      text        NOT NULL,
  part        text        NOT NULL,
  position    text        NOT NULL,
  error       text        NOT NULL,
  message     text        NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
