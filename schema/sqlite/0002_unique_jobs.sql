-- Concordia 0002: unique jobs, SQLite 3.35+. Apply once, after 0001_create_jobs.sql (SQLite has
-- no ADD COLUMN IF NOT EXISTS). NULLs never conflict in a unique index. unique_states is the
-- bitmask of states the key covers (available 1, running 2, completed 4, cancelled 8,
-- discarded 16); it is INTEGER here because every ORM declares small integers that way on SQLite.
ALTER TABLE concordia_jobs ADD COLUMN unique_key TEXT;
ALTER TABLE concordia_jobs ADD COLUMN unique_states INTEGER;

CREATE UNIQUE INDEX IF NOT EXISTS concordia_jobs_unique_idx ON concordia_jobs (unique_key);
