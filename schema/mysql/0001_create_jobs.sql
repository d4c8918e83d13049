-- Concordia jobs table, MariaDB 10.6+.
-- Times are DATETIME(3) holding UTC; the engine always writes them explicitly (a DEFAULT
-- CURRENT_TIMESTAMP would follow the session time zone).
CREATE TABLE IF NOT EXISTS concordia_jobs (
  id               BIGINT NOT NULL AUTO_INCREMENT,
  queue            VARCHAR(128) NOT NULL DEFAULT 'default',
  kind             VARCHAR(128) NOT NULL,
  args             JSON NOT NULL,
  state            VARCHAR(16) NOT NULL DEFAULT 'available',
  priority         INT NOT NULL DEFAULT 0,
  attempt          INT NOT NULL DEFAULT 0,
  max_attempts     INT NOT NULL DEFAULT 20,
  run_at           DATETIME(3) NOT NULL,
  attempted_at     DATETIME(3) NULL,
  finalized_at     DATETIME(3) NULL,
  created_at       DATETIME(3) NOT NULL,
  lease_token      VARCHAR(36) NULL,
  locked_by        VARCHAR(128) NULL,
  lease_expires_at DATETIME(3) NULL,
  errors           JSON NULL,
  metadata         JSON NULL,
  PRIMARY KEY (id),
  -- Claim index in ORDER BY order: no filesort, so SKIP LOCKED locks only the rows it returns.
  KEY concordia_jobs_claim_idx (state, queue, priority, run_at, id),
  KEY concordia_jobs_lease_idx (state, lease_expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
