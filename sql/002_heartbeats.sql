-- Heartbeats seen by apply, per stream and part: lag = now() - ts, even on an idle source.
CREATE TABLE IF NOT EXISTS _my2pg.heartbeats (
  stream     text        NOT NULL,
  part       text        NOT NULL,
  ts         timestamptz NOT NULL,
  position   text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, part)
);
