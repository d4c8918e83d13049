-- Concordia 0002: unique jobs, PostgreSQL 13+. Apply after 0001_create_jobs.sql.
-- unique_key is NULL for ordinary jobs; NULLs never conflict in a unique index, so one plain
-- (non-partial) index serves every database and lets INSERT … ON CONFLICT (unique_key) name it.
-- unique_states is the bitmask of states the key covers (available 1, running 2, completed 4,
-- cancelled 8, discarded 16): a transition out of them sets unique_key to NULL.
ALTER TABLE concordia_jobs ADD COLUMN IF NOT EXISTS unique_key TEXT;
ALTER TABLE concordia_jobs ADD COLUMN IF NOT EXISTS unique_states SMALLINT;

CREATE UNIQUE INDEX IF NOT EXISTS concordia_jobs_unique_idx ON concordia_jobs (unique_key);
