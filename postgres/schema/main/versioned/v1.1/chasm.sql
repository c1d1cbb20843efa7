-- CHASM: the current-run rows of every non-workflow archetype, one id space per archetype
-- (Temporal's current_chasm_executions). Workflows keep theirs in current_executions, so a 1.0
-- database needs no data migration. archetype_id holds Temporal's uint32 ArchetypeID (BIGINT,
-- as Temporal's PostgreSQL schema has it).
CREATE TABLE IF NOT EXISTS current_chasm_executions (
  shard_id INTEGER NOT NULL,
  namespace_id BYTEA NOT NULL,
  business_id VARCHAR(255) NOT NULL,
  archetype_id BIGINT NOT NULL,
  run_id BYTEA NOT NULL,
  create_request_id VARCHAR(255) NOT NULL,
  state INTEGER NOT NULL,
  status INTEGER NOT NULL,
  start_version BIGINT NOT NULL DEFAULT 0,
  start_time TIMESTAMP,
  last_write_version BIGINT NOT NULL,
  data BYTEA,
  data_encoding VARCHAR(16) NOT NULL DEFAULT '',
  PRIMARY KEY (shard_id, namespace_id, business_id, archetype_id)
);
