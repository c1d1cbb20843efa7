-- durastore main schema for MySQL 8 / MariaDB 10.11, version 1.1: Nexus endpoints (Temporal's
-- tables). Endpoints by id (16 UUID bytes) with a per-row version; the table version lives in the
-- single row (id = 0) of nexus_endpoints_partition_status. Guarded so the update can be re-run.

CREATE TABLE IF NOT EXISTS nexus_endpoints (
  id BINARY(16) NOT NULL,
  data MEDIUMBLOB NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS nexus_endpoints_partition_status (
  id INT NOT NULL DEFAULT 0 CHECK (id = 0),
  version BIGINT NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
