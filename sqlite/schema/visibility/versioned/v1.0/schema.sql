-- durastore visibility schema for SQLite, version 1.0.
-- Temporal's executions_visibility table (its column names) with durastore's encodings, the same
-- on every backend (see durastore-sql's visibility modules):
--   * Keyword strings in TEXT columns, compared with SQLite's default BINARY collation (exact,
--     case-sensitive, no padding, code-point order);
--   * datetimes as fixed-width UTC text 'YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ' (text order = time order,
--     nanoseconds kept);
--   * KeywordList values and the token sets of Text values as JSON arrays (FTS5 is not used: its
--     tokenizers differ from the query language's);
--   * predefined attributes in columns of their own name, custom attributes in pre-allocated
--     typed columns (Bool01-03, Datetime01-03, Double01-03, Int01-03, Keyword01-10, Text01-03,
--     KeywordList01-03) mapped per namespace by visibility_search_attributes.
-- close_time_order is COALESCE(close_time, '~'): '~' sorts above every datetime, so running
-- executions come first in the list order (close_time_order DESC, start_time DESC, run_id).
-- shard_id is durastore's addition, so a record reads back as written.
-- Every statement is guarded so a crashed setup can simply be re-run.

CREATE TABLE IF NOT EXISTS executions_visibility (
  namespace_id VARCHAR(64) NOT NULL,
  run_id VARCHAR(64) NOT NULL,
  _version BIGINT NOT NULL DEFAULT 0,
  shard_id INTEGER NOT NULL DEFAULT 0,
  start_time VARCHAR(30) NOT NULL,
  execution_time VARCHAR(30) NOT NULL,
  workflow_id VARCHAR(255) NOT NULL,
  workflow_type_name VARCHAR(255) NOT NULL,
  status INTEGER NOT NULL,
  close_time VARCHAR(30),
  history_length BIGINT,
  history_size_bytes BIGINT,
  execution_duration BIGINT,
  state_transition_count BIGINT,
  memo BLOB,
  encoding VARCHAR(64),
  task_queue VARCHAR(255) NOT NULL,
  search_attributes TEXT,
  parent_workflow_id VARCHAR(255),
  parent_run_id VARCHAR(64),
  root_workflow_id VARCHAR(255),
  root_run_id VARCHAR(64),
  close_time_order VARCHAR(30) GENERATED ALWAYS AS (COALESCE(close_time, '~')) STORED,
  -- Temporal's predefined search attributes.
  TemporalChangeVersion TEXT,
  BinaryChecksums TEXT,
  BuildIds TEXT,
  TemporalPauseInfo TEXT,
  TemporalReportedProblems TEXT,
  TemporalUsedWorkerDeploymentVersions TEXT,
  BatcherNamespace VARCHAR(2048),
  BatcherUser VARCHAR(2048),
  TemporalScheduledById VARCHAR(2048),
  TemporalNamespaceDivision VARCHAR(2048),
  TemporalWorkerDeploymentVersion VARCHAR(2048),
  TemporalWorkflowVersioningBehavior VARCHAR(2048),
  TemporalWorkerDeployment VARCHAR(2048),
  TemporalScheduledStartTime VARCHAR(30),
  TemporalSchedulePaused BOOLEAN,
  TemporalExternalPayloadCount BIGINT,
  TemporalExternalPayloadSizeBytes BIGINT,
  -- Pre-allocated custom search attributes (aliases in visibility_search_attributes).
  Bool01 BOOLEAN, Bool02 BOOLEAN, Bool03 BOOLEAN,
  Datetime01 VARCHAR(30), Datetime02 VARCHAR(30), Datetime03 VARCHAR(30),
  Double01 DOUBLE, Double02 DOUBLE, Double03 DOUBLE,
  Int01 BIGINT, Int02 BIGINT, Int03 BIGINT,
  Keyword01 VARCHAR(2048), Keyword02 VARCHAR(2048), Keyword03 VARCHAR(2048), Keyword04 VARCHAR(2048), Keyword05 VARCHAR(2048), Keyword06 VARCHAR(2048), Keyword07 VARCHAR(2048), Keyword08 VARCHAR(2048), Keyword09 VARCHAR(2048), Keyword10 VARCHAR(2048),
  Text01 TEXT, Text02 TEXT, Text03 TEXT,
  KeywordList01 TEXT, KeywordList02 TEXT, KeywordList03 TEXT,
  PRIMARY KEY (namespace_id, run_id)
);

CREATE INDEX IF NOT EXISTS default_idx ON executions_visibility (namespace_id, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_execution_time ON executions_visibility (namespace_id, execution_time, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_workflow_id ON executions_visibility (namespace_id, workflow_id, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_workflow_type ON executions_visibility (namespace_id, workflow_type_name, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_status ON executions_visibility (namespace_id, status, close_time_order DESC, start_time DESC, run_id);
-- Narrow, for count and count GROUP BY ExecutionStatus: an index-only scan of (namespace, status)
-- reads a fraction of what the wide list index or the table holds (1M records: 168 -> 51 ms).
CREATE INDEX IF NOT EXISTS by_status_count ON executions_visibility (namespace_id, status);
CREATE INDEX IF NOT EXISTS by_close_time ON executions_visibility (namespace_id, close_time, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_history_length ON executions_visibility (namespace_id, history_length, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_history_size_bytes ON executions_visibility (namespace_id, history_size_bytes, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_execution_duration ON executions_visibility (namespace_id, execution_duration, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_state_transition_count ON executions_visibility (namespace_id, state_transition_count, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_task_queue ON executions_visibility (namespace_id, task_queue, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_parent_workflow_id ON executions_visibility (namespace_id, parent_workflow_id, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_parent_run_id ON executions_visibility (namespace_id, parent_run_id, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_root_workflow_id ON executions_visibility (namespace_id, root_workflow_id, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_root_run_id ON executions_visibility (namespace_id, root_run_id, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_batcher_user ON executions_visibility (namespace_id, BatcherUser, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_scheduled_by_id ON executions_visibility (namespace_id, TemporalScheduledById, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_namespace_division ON executions_visibility (namespace_id, TemporalNamespaceDivision, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_worker_deployment_version ON executions_visibility (namespace_id, TemporalWorkerDeploymentVersion, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_workflow_versioning_behavior ON executions_visibility (namespace_id, TemporalWorkflowVersioningBehavior, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_worker_deployment ON executions_visibility (namespace_id, TemporalWorkerDeployment, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_scheduled_start_time ON executions_visibility (namespace_id, TemporalScheduledStartTime, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_schedule_paused ON executions_visibility (namespace_id, TemporalSchedulePaused, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_bool_01 ON executions_visibility (namespace_id, Bool01, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_bool_02 ON executions_visibility (namespace_id, Bool02, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_bool_03 ON executions_visibility (namespace_id, Bool03, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_datetime_01 ON executions_visibility (namespace_id, Datetime01, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_datetime_02 ON executions_visibility (namespace_id, Datetime02, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_datetime_03 ON executions_visibility (namespace_id, Datetime03, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_double_01 ON executions_visibility (namespace_id, Double01, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_double_02 ON executions_visibility (namespace_id, Double02, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_double_03 ON executions_visibility (namespace_id, Double03, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_int_01 ON executions_visibility (namespace_id, Int01, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_int_02 ON executions_visibility (namespace_id, Int02, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_int_03 ON executions_visibility (namespace_id, Int03, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_keyword_01 ON executions_visibility (namespace_id, Keyword01, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_keyword_02 ON executions_visibility (namespace_id, Keyword02, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_keyword_03 ON executions_visibility (namespace_id, Keyword03, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_keyword_04 ON executions_visibility (namespace_id, Keyword04, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_keyword_05 ON executions_visibility (namespace_id, Keyword05, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_keyword_06 ON executions_visibility (namespace_id, Keyword06, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_keyword_07 ON executions_visibility (namespace_id, Keyword07, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_keyword_08 ON executions_visibility (namespace_id, Keyword08, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_keyword_09 ON executions_visibility (namespace_id, Keyword09, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_keyword_10 ON executions_visibility (namespace_id, Keyword10, close_time_order DESC, start_time DESC, run_id);

-- Per-namespace custom search attributes: the alias a namespace uses and the pre-allocated
-- column (of the same type) that stores it. Rows are only ever added.
CREATE TABLE IF NOT EXISTS visibility_search_attributes (
  namespace_id VARCHAR(64) NOT NULL,
  alias VARCHAR(255) NOT NULL,
  field_name VARCHAR(32) NOT NULL,
  field_type VARCHAR(16) NOT NULL,
  PRIMARY KEY (namespace_id, alias),
  UNIQUE (namespace_id, field_name)
);
