-- durastore main schema for PostgreSQL, version 1.0.
-- Table, column, key and type choices follow Temporal's PostgreSQL v12 schema (UUIDs as 16-byte
-- BYTEA, blobs BYTEA, TIMESTAMP in UTC without zone). Every statement is guarded so a crashed
-- setup can simply be re-run.

CREATE TABLE IF NOT EXISTS namespaces (
  partition_id INTEGER NOT NULL,
  id BYTEA NOT NULL,
  name VARCHAR(255) UNIQUE NOT NULL,
  notification_version BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  is_global BOOLEAN NOT NULL,
  PRIMARY KEY (partition_id, id)
);

CREATE TABLE IF NOT EXISTS namespace_metadata (
  partition_id INTEGER NOT NULL,
  notification_version BIGINT NOT NULL,
  PRIMARY KEY (partition_id)
);

INSERT INTO namespace_metadata (partition_id, notification_version) VALUES (54321, 1) ON CONFLICT (partition_id) DO NOTHING;

CREATE TABLE IF NOT EXISTS shards (
  shard_id INTEGER NOT NULL,
  range_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (shard_id)
);

-- checksum/checksum_encoding are durastore's addition: the mutable-state checksum the server
-- passes with every snapshot and mutation.
CREATE TABLE IF NOT EXISTS executions (
  shard_id INTEGER NOT NULL,
  namespace_id BYTEA NOT NULL,
  workflow_id VARCHAR(255) NOT NULL,
  run_id BYTEA NOT NULL,
  next_event_id BIGINT NOT NULL,
  last_write_version BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  state BYTEA NOT NULL,
  state_encoding VARCHAR(16) NOT NULL,
  db_record_version BIGINT NOT NULL DEFAULT 0,
  checksum BYTEA,
  checksum_encoding VARCHAR(16),
  PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id)
);

CREATE TABLE IF NOT EXISTS current_executions (
  shard_id INTEGER NOT NULL,
  namespace_id BYTEA NOT NULL,
  workflow_id VARCHAR(255) NOT NULL,
  run_id BYTEA NOT NULL,
  create_request_id VARCHAR(255) NOT NULL,
  state INTEGER NOT NULL,
  status INTEGER NOT NULL,
  start_version BIGINT NOT NULL DEFAULT 0,
  start_time TIMESTAMP,
  last_write_version BIGINT NOT NULL,
  data BYTEA,
  data_encoding VARCHAR(16) NOT NULL DEFAULT '',
  PRIMARY KEY (shard_id, namespace_id, workflow_id)
);

CREATE TABLE IF NOT EXISTS buffered_events (
  shard_id INTEGER NOT NULL,
  namespace_id BYTEA NOT NULL,
  workflow_id VARCHAR(255) NOT NULL,
  run_id BYTEA NOT NULL,
  id BIGSERIAL NOT NULL UNIQUE,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id, id)
);

CREATE TABLE IF NOT EXISTS activity_info_maps (
  shard_id INTEGER NOT NULL,
  namespace_id BYTEA NOT NULL,
  workflow_id VARCHAR(255) NOT NULL,
  run_id BYTEA NOT NULL,
  schedule_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16),
  PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id, schedule_id)
);

CREATE TABLE IF NOT EXISTS timer_info_maps (
  shard_id INTEGER NOT NULL,
  namespace_id BYTEA NOT NULL,
  workflow_id VARCHAR(255) NOT NULL,
  run_id BYTEA NOT NULL,
  timer_id VARCHAR(255) NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16),
  PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id, timer_id)
);

CREATE TABLE IF NOT EXISTS child_execution_info_maps (
  shard_id INTEGER NOT NULL,
  namespace_id BYTEA NOT NULL,
  workflow_id VARCHAR(255) NOT NULL,
  run_id BYTEA NOT NULL,
  initiated_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16),
  PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id, initiated_id)
);

CREATE TABLE IF NOT EXISTS request_cancel_info_maps (
  shard_id INTEGER NOT NULL,
  namespace_id BYTEA NOT NULL,
  workflow_id VARCHAR(255) NOT NULL,
  run_id BYTEA NOT NULL,
  initiated_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16),
  PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id, initiated_id)
);

CREATE TABLE IF NOT EXISTS signal_info_maps (
  shard_id INTEGER NOT NULL,
  namespace_id BYTEA NOT NULL,
  workflow_id VARCHAR(255) NOT NULL,
  run_id BYTEA NOT NULL,
  initiated_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16),
  PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id, initiated_id)
);

CREATE TABLE IF NOT EXISTS signals_requested_sets (
  shard_id INTEGER NOT NULL,
  namespace_id BYTEA NOT NULL,
  workflow_id VARCHAR(255) NOT NULL,
  run_id BYTEA NOT NULL,
  signal_id VARCHAR(255) NOT NULL,
  PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id, signal_id)
);

CREATE TABLE IF NOT EXISTS chasm_node_maps (
  shard_id INTEGER NOT NULL,
  namespace_id BYTEA NOT NULL,
  workflow_id VARCHAR(255) NOT NULL,
  run_id BYTEA NOT NULL,
  chasm_path BYTEA NOT NULL,
  metadata BYTEA NOT NULL,
  metadata_encoding VARCHAR(16) NOT NULL,
  data BYTEA,
  data_encoding VARCHAR(16) NOT NULL DEFAULT '',
  PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id, chasm_path)
);

-- History nodes: txn_id is stored negated so that the ascending primary key yields the highest
-- transaction first for each node (Temporal's convention).
CREATE TABLE IF NOT EXISTS history_node (
  shard_id INTEGER NOT NULL,
  tree_id BYTEA NOT NULL,
  branch_id BYTEA NOT NULL,
  node_id BIGINT NOT NULL,
  txn_id BIGINT NOT NULL,
  prev_txn_id BIGINT NOT NULL DEFAULT 0,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (shard_id, tree_id, branch_id, node_id, txn_id)
);

-- branch_ancestors is durastore's addition: the branch's ancestor ranges, so that branch
-- deletion can reference-count ranges without decoding the opaque tree-info blob.
CREATE TABLE IF NOT EXISTS history_tree (
  shard_id INTEGER NOT NULL,
  tree_id BYTEA NOT NULL,
  branch_id BYTEA NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  branch_ancestors BYTEA,
  PRIMARY KEY (shard_id, tree_id, branch_id)
);

CREATE TABLE IF NOT EXISTS transfer_tasks (
  shard_id INTEGER NOT NULL,
  task_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (shard_id, task_id)
);

CREATE TABLE IF NOT EXISTS timer_tasks (
  shard_id INTEGER NOT NULL,
  visibility_timestamp TIMESTAMP NOT NULL,
  task_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (shard_id, visibility_timestamp, task_id)
);

CREATE TABLE IF NOT EXISTS replication_tasks (
  shard_id INTEGER NOT NULL,
  task_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (shard_id, task_id)
);

CREATE TABLE IF NOT EXISTS replication_tasks_dlq (
  source_cluster_name VARCHAR(255) NOT NULL,
  shard_id INTEGER NOT NULL,
  task_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (source_cluster_name, shard_id, task_id)
);

CREATE TABLE IF NOT EXISTS visibility_tasks (
  shard_id INTEGER NOT NULL,
  task_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (shard_id, task_id)
);

CREATE TABLE IF NOT EXISTS history_immediate_tasks (
  shard_id INTEGER NOT NULL,
  category_id INTEGER NOT NULL,
  task_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (shard_id, category_id, task_id)
);

CREATE TABLE IF NOT EXISTS history_scheduled_tasks (
  shard_id INTEGER NOT NULL,
  category_id INTEGER NOT NULL,
  visibility_timestamp TIMESTAMP NOT NULL,
  task_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (shard_id, category_id, visibility_timestamp, task_id)
);

CREATE TABLE IF NOT EXISTS task_queues (
  range_hash BIGINT NOT NULL,
  task_queue_id BYTEA NOT NULL,
  range_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (range_hash, task_queue_id)
);

CREATE TABLE IF NOT EXISTS tasks (
  range_hash BIGINT NOT NULL,
  task_queue_id BYTEA NOT NULL,
  task_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (range_hash, task_queue_id, task_id)
);

CREATE TABLE IF NOT EXISTS task_queues_v2 (
  range_hash BIGINT NOT NULL,
  task_queue_id BYTEA NOT NULL,
  range_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (range_hash, task_queue_id)
);

CREATE TABLE IF NOT EXISTS tasks_v2 (
  range_hash BIGINT NOT NULL,
  task_queue_id BYTEA NOT NULL,
  pass BIGINT NOT NULL,
  task_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (range_hash, task_queue_id, pass, task_id)
);

CREATE TABLE IF NOT EXISTS task_queue_user_data (
  namespace_id BYTEA NOT NULL,
  task_queue_name VARCHAR(255) NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (namespace_id, task_queue_name)
);

CREATE TABLE IF NOT EXISTS build_id_to_task_queue (
  namespace_id BYTEA NOT NULL,
  build_id VARCHAR(255) NOT NULL,
  task_queue_name VARCHAR(255) NOT NULL,
  PRIMARY KEY (namespace_id, build_id, task_queue_name)
);

CREATE TABLE IF NOT EXISTS queue (
  queue_type INTEGER NOT NULL,
  message_id BIGINT NOT NULL,
  message_payload BYTEA NOT NULL,
  message_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (queue_type, message_id)
);

CREATE TABLE IF NOT EXISTS queue_metadata (
  queue_type INTEGER NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (queue_type)
);

CREATE TABLE IF NOT EXISTS queues (
  queue_type INTEGER NOT NULL,
  queue_name VARCHAR(255) NOT NULL,
  metadata_payload BYTEA NOT NULL,
  metadata_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (queue_type, queue_name)
);

CREATE TABLE IF NOT EXISTS queue_messages (
  queue_type INTEGER NOT NULL,
  queue_name VARCHAR(255) NOT NULL,
  queue_partition BIGINT NOT NULL,
  message_id BIGINT NOT NULL,
  message_payload BYTEA NOT NULL,
  message_encoding VARCHAR(16) NOT NULL,
  PRIMARY KEY (queue_type, queue_name, queue_partition, message_id)
);

CREATE TABLE IF NOT EXISTS cluster_metadata_info (
  metadata_partition INTEGER NOT NULL,
  cluster_name VARCHAR(255) NOT NULL,
  data BYTEA NOT NULL,
  data_encoding VARCHAR(16) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (metadata_partition, cluster_name)
);

CREATE TABLE IF NOT EXISTS cluster_membership (
  membership_partition INTEGER NOT NULL,
  host_id BYTEA NOT NULL,
  rpc_address VARCHAR(128) NOT NULL,
  rpc_port SMALLINT NOT NULL,
  role SMALLINT NOT NULL,
  session_start TIMESTAMP DEFAULT '1970-01-01 00:00:01',
  last_heartbeat TIMESTAMP DEFAULT '1970-01-01 00:00:01',
  record_expiry TIMESTAMP DEFAULT '1970-01-01 00:00:01',
  PRIMARY KEY (membership_partition, host_id)
);

CREATE UNIQUE INDEX IF NOT EXISTS cm_idx_rolehost ON cluster_membership (role, host_id);
CREATE INDEX IF NOT EXISTS cm_idx_rolelasthb ON cluster_membership (role, last_heartbeat);
CREATE INDEX IF NOT EXISTS cm_idx_rpchost ON cluster_membership (rpc_address, role);
CREATE INDEX IF NOT EXISTS cm_idx_lasthb ON cluster_membership (last_heartbeat);
CREATE INDEX IF NOT EXISTS cm_idx_recordexpiry ON cluster_membership (record_expiry);
