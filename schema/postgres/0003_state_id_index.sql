-- Concordia 0003: the (state, id) index replaces the lease index, PostgreSQL 13+. Apply after 0002_unique_jobs.sql.
-- (state, id) serves the dashboard's lists and counts by state, newest first. The rescuer, which
-- the lease index served alone, finds its few running rows through any index that leads with state.
-- One index in, one out: every state change of every job still writes the same number of indexes.
-- On a large table you may prefer CREATE INDEX CONCURRENTLY, outside a transaction.
CREATE INDEX IF NOT EXISTS concordia_jobs_state_id_idx ON concordia_jobs (state, id);
DROP INDEX IF EXISTS concordia_jobs_lease_idx;
