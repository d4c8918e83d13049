-- Concordia 0003: the (state, id) index replaces the lease index, MariaDB 10.6+. Apply after 0002_unique_jobs.sql.
-- (state, id) serves the dashboard's lists and counts by state, newest first. The rescuer, which
-- the lease index served alone, finds its few running rows through any index that leads with state.
-- One index in, one out: every state change of every job still writes the same number of indexes.
-- One ALTER, so InnoDB builds the new index in place while writes go on.
ALTER TABLE concordia_jobs
  ADD INDEX IF NOT EXISTS concordia_jobs_state_id_idx (state, id),
  DROP INDEX IF EXISTS concordia_jobs_lease_idx;
