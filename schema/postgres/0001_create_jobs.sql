-- Concordia jobs table, PostgreSQL 13+.
-- The canonical definition: every ORM artifact in schema/ must produce this same table.
CREATE TABLE IF NOT EXISTS concordia_jobs (
  id               BIGSERIAL PRIMARY KEY,
  queue            TEXT NOT NULL DEFAULT 'default',
  kind             TEXT NOT NULL,
  args             JSONB NOT NULL,
  state            TEXT NOT NULL DEFAULT 'available',
  priority         INTEGER NOT NULL DEFAULT 0,
  attempt          INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL DEFAULT 20,
  run_at           TIMESTAMPTZ(3) NOT NULL,
  attempted_at     TIMESTAMPTZ(3),
  finalized_at     TIMESTAMPTZ(3),
  created_at       TIMESTAMPTZ(3) NOT NULL,
  lease_token      TEXT,
  locked_by        TEXT,
  lease_expires_at TIMESTAMPTZ(3),
  errors           JSONB,
  metadata         JSONB
);

-- Serves the claim: state = 'available' AND queue = … AND run_at <= now ORDER BY priority, run_at, id.
-- Finished rows sit in other `state` ranges, so the claim path stays flat as history grows.
CREATE INDEX IF NOT EXISTS concordia_jobs_claim_idx ON concordia_jobs (state, queue, priority, run_at, id);
-- Serves the rescuer: state = 'running' AND lease_expires_at < now.
CREATE INDEX IF NOT EXISTS concordia_jobs_lease_idx ON concordia_jobs (state, lease_expires_at);
