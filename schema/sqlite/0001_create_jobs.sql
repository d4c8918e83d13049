-- Concordia jobs table, SQLite 3.35+.
-- Times are INTEGER milliseconds since the Unix epoch (UTC), so they compare as numbers.
CREATE TABLE IF NOT EXISTS concordia_jobs (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  queue            TEXT NOT NULL DEFAULT 'default',
  kind             TEXT NOT NULL,
  args             TEXT NOT NULL,
  state            TEXT NOT NULL DEFAULT 'available',
  priority         INTEGER NOT NULL DEFAULT 0,
  attempt          INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL DEFAULT 20,
  run_at           INTEGER NOT NULL,
  attempted_at     INTEGER,
  finalized_at     INTEGER,
  created_at       INTEGER NOT NULL,
  lease_token      TEXT,
  locked_by        TEXT,
  lease_expires_at INTEGER,
  errors           TEXT,
  metadata         TEXT
);

CREATE INDEX IF NOT EXISTS concordia_jobs_claim_idx ON concordia_jobs (state, queue, priority, run_at, id);
CREATE INDEX IF NOT EXISTS concordia_jobs_lease_idx ON concordia_jobs (state, lease_expires_at);
