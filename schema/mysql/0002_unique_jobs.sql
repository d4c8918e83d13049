-- Concordia 0002: unique jobs, MariaDB 10.6+. Apply after 0001_create_jobs.sql.
-- unique_key is NULL for ordinary jobs; NULLs never conflict in a UNIQUE key. Binary collation
-- like the rest of the table, so keys compare byte for byte. unique_states is the bitmask of
-- states the key covers (available 1, running 2, completed 4, cancelled 8, discarded 16).
ALTER TABLE concordia_jobs
  ADD COLUMN IF NOT EXISTS unique_key VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  ADD COLUMN IF NOT EXISTS unique_states SMALLINT NULL,
  ADD UNIQUE KEY IF NOT EXISTS concordia_jobs_unique_idx (unique_key);
