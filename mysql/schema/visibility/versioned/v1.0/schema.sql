-- durastore visibility schema for MySQL 8 / MariaDB 10.11, version 1.0.
-- Temporal's executions_visibility table (its column names) with durastore's encodings, the same
-- on every backend (see durastore-sql's visibility modules):
--   * every string column is VARBINARY: compared as bytes (= code point order), exact and
--     case-sensitive, and without the trailing-space padding of the utf8mb4_bin collation (the
--     NO PAD binary collations are named differently on MySQL and MariaDB);
--   * datetimes as fixed-width UTC text 'YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ' (text order = time order;
--     DATETIME(6) would cut nanoseconds to microseconds);
--   * KeywordList values and the token sets of Text values as JSON arrays, tested with
--     JSON_CONTAINS (FULLTEXT is not used: its parser, stop words and minimum word length differ
--     from the query language's tokens);
--   * Double as DOUBLE (Temporal's DECIMAL(20,5) would round);
--   * one table (no custom_search_attributes side table): predefined attributes in columns of
--     their own name, custom attributes in pre-allocated typed columns (Bool01-03, Datetime01-03,
--     Double01-03, Int01-03, Keyword01-10, Text01-03, KeywordList01-03) mapped per namespace by
--     visibility_search_attributes.
-- close_time_order is COALESCE(close_time, '~'): '~' sorts above every datetime, so running
-- executions come first in the list order (close_time_order DESC, start_time DESC, run_id).
-- shard_id is durastore's addition, so a record reads back as written.
-- Statements are guarded so a crashed setup can simply be re-run (MySQL DDL commits implicitly;
-- see the schema engine's dirty state).

CREATE TABLE IF NOT EXISTS executions_visibility (
  namespace_id VARBINARY(64) NOT NULL,
  run_id VARBINARY(64) NOT NULL,
  _version BIGINT NOT NULL DEFAULT 0,
  shard_id INTEGER NOT NULL DEFAULT 0,
  start_time VARBINARY(30) NOT NULL,
  execution_time VARBINARY(30) NOT NULL,
  workflow_id VARBINARY(255) NOT NULL,
  workflow_type_name VARBINARY(255) NOT NULL,
  status INTEGER NOT NULL,
  close_time VARBINARY(30),
  history_length BIGINT,
  history_size_bytes BIGINT,
  execution_duration BIGINT,
  state_transition_count BIGINT,
  memo MEDIUMBLOB,
  encoding VARCHAR(64),
  task_queue VARBINARY(255) NOT NULL,
  search_attributes JSON,
  parent_workflow_id VARBINARY(255),
  parent_run_id VARBINARY(64),
  root_workflow_id VARBINARY(255),
  root_run_id VARBINARY(64),
  close_time_order VARBINARY(30) GENERATED ALWAYS AS (COALESCE(close_time, '~')) STORED,
  -- Temporal's predefined search attributes.
  TemporalChangeVersion JSON,
  BinaryChecksums JSON,
  BuildIds JSON,
  TemporalPauseInfo JSON,
  TemporalReportedProblems JSON,
  TemporalUsedWorkerDeploymentVersions JSON,
  BatcherNamespace VARBINARY(2048),
  BatcherUser VARBINARY(2048),
  TemporalScheduledById VARBINARY(2048),
  TemporalNamespaceDivision VARBINARY(2048),
  TemporalWorkerDeploymentVersion VARBINARY(2048),
  TemporalWorkflowVersioningBehavior VARBINARY(2048),
  TemporalWorkerDeployment VARBINARY(2048),
  TemporalScheduledStartTime VARBINARY(30),
  TemporalSchedulePaused BOOLEAN,
  TemporalExternalPayloadCount BIGINT,
  TemporalExternalPayloadSizeBytes BIGINT,
  -- Pre-allocated custom search attributes (aliases in visibility_search_attributes).
  Bool01 BOOLEAN, Bool02 BOOLEAN, Bool03 BOOLEAN,
  Datetime01 VARBINARY(30), Datetime02 VARBINARY(30), Datetime03 VARBINARY(30),
  Double01 DOUBLE, Double02 DOUBLE, Double03 DOUBLE,
  Int01 BIGINT, Int02 BIGINT, Int03 BIGINT,
  Keyword01 VARBINARY(2048), Keyword02 VARBINARY(2048), Keyword03 VARBINARY(2048), Keyword04 VARBINARY(2048), Keyword05 VARBINARY(2048), Keyword06 VARBINARY(2048), Keyword07 VARBINARY(2048), Keyword08 VARBINARY(2048), Keyword09 VARBINARY(2048), Keyword10 VARBINARY(2048),
  Text01 JSON, Text02 JSON, Text03 JSON,
  KeywordList01 JSON, KeywordList02 JSON, KeywordList03 JSON,
  PRIMARY KEY (namespace_id, run_id),
  INDEX default_idx (namespace_id, close_time_order DESC, start_time DESC, run_id),
  INDEX by_execution_time (namespace_id, execution_time, close_time_order DESC, start_time DESC, run_id),
  INDEX by_workflow_id (namespace_id, workflow_id, close_time_order DESC, start_time DESC, run_id),
  INDEX by_workflow_type (namespace_id, workflow_type_name, close_time_order DESC, start_time DESC, run_id),
  INDEX by_status (namespace_id, status, close_time_order DESC, start_time DESC, run_id),
  -- Narrow, for count and count GROUP BY ExecutionStatus (an index-only scan).
  INDEX by_status_count (namespace_id, status),
  INDEX by_close_time (namespace_id, close_time, close_time_order DESC, start_time DESC, run_id),
  INDEX by_history_length (namespace_id, history_length, close_time_order DESC, start_time DESC, run_id),
  INDEX by_history_size_bytes (namespace_id, history_size_bytes, close_time_order DESC, start_time DESC, run_id),
  INDEX by_execution_duration (namespace_id, execution_duration, close_time_order DESC, start_time DESC, run_id),
  INDEX by_state_transition_count (namespace_id, state_transition_count, close_time_order DESC, start_time DESC, run_id),
  INDEX by_task_queue (namespace_id, task_queue, close_time_order DESC, start_time DESC, run_id),
  INDEX by_parent_workflow_id (namespace_id, parent_workflow_id, close_time_order DESC, start_time DESC, run_id),
  INDEX by_parent_run_id (namespace_id, parent_run_id, close_time_order DESC, start_time DESC, run_id),
  INDEX by_root_workflow_id (namespace_id, root_workflow_id, close_time_order DESC, start_time DESC, run_id),
  INDEX by_root_run_id (namespace_id, root_run_id, close_time_order DESC, start_time DESC, run_id),
  INDEX by_batcher_user (namespace_id, BatcherUser, close_time_order DESC, start_time DESC, run_id),
  INDEX by_temporal_scheduled_by_id (namespace_id, TemporalScheduledById, close_time_order DESC, start_time DESC, run_id),
  INDEX by_temporal_namespace_division (namespace_id, TemporalNamespaceDivision, close_time_order DESC, start_time DESC, run_id),
  INDEX by_temporal_worker_deployment_version (namespace_id, TemporalWorkerDeploymentVersion, close_time_order DESC, start_time DESC, run_id),
  INDEX by_temporal_workflow_versioning_behavior (namespace_id, TemporalWorkflowVersioningBehavior, close_time_order DESC, start_time DESC, run_id),
  INDEX by_temporal_worker_deployment (namespace_id, TemporalWorkerDeployment, close_time_order DESC, start_time DESC, run_id),
  INDEX by_temporal_scheduled_start_time (namespace_id, TemporalScheduledStartTime, close_time_order DESC, start_time DESC, run_id),
  INDEX by_temporal_schedule_paused (namespace_id, TemporalSchedulePaused, close_time_order DESC, start_time DESC, run_id),
  INDEX by_bool_01 (namespace_id, Bool01, close_time_order DESC, start_time DESC, run_id),
  INDEX by_bool_02 (namespace_id, Bool02, close_time_order DESC, start_time DESC, run_id),
  INDEX by_bool_03 (namespace_id, Bool03, close_time_order DESC, start_time DESC, run_id),
  INDEX by_datetime_01 (namespace_id, Datetime01, close_time_order DESC, start_time DESC, run_id),
  INDEX by_datetime_02 (namespace_id, Datetime02, close_time_order DESC, start_time DESC, run_id),
  INDEX by_datetime_03 (namespace_id, Datetime03, close_time_order DESC, start_time DESC, run_id),
  INDEX by_double_01 (namespace_id, Double01, close_time_order DESC, start_time DESC, run_id),
  INDEX by_double_02 (namespace_id, Double02, close_time_order DESC, start_time DESC, run_id),
  INDEX by_double_03 (namespace_id, Double03, close_time_order DESC, start_time DESC, run_id),
  INDEX by_int_01 (namespace_id, Int01, close_time_order DESC, start_time DESC, run_id),
  INDEX by_int_02 (namespace_id, Int02, close_time_order DESC, start_time DESC, run_id),
  INDEX by_int_03 (namespace_id, Int03, close_time_order DESC, start_time DESC, run_id),
  INDEX by_keyword_01 (namespace_id, Keyword01, close_time_order DESC, start_time DESC, run_id),
  INDEX by_keyword_02 (namespace_id, Keyword02, close_time_order DESC, start_time DESC, run_id),
  INDEX by_keyword_03 (namespace_id, Keyword03, close_time_order DESC, start_time DESC, run_id),
  INDEX by_keyword_04 (namespace_id, Keyword04, close_time_order DESC, start_time DESC, run_id),
  INDEX by_keyword_05 (namespace_id, Keyword05, close_time_order DESC, start_time DESC, run_id),
  INDEX by_keyword_06 (namespace_id, Keyword06, close_time_order DESC, start_time DESC, run_id),
  INDEX by_keyword_07 (namespace_id, Keyword07, close_time_order DESC, start_time DESC, run_id),
  INDEX by_keyword_08 (namespace_id, Keyword08, close_time_order DESC, start_time DESC, run_id),
  INDEX by_keyword_09 (namespace_id, Keyword09, close_time_order DESC, start_time DESC, run_id),
  INDEX by_keyword_10 (namespace_id, Keyword10, close_time_order DESC, start_time DESC, run_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;


-- Per-namespace custom search attributes: the alias a namespace uses and the pre-allocated
-- column (of the same type) that stores it. Rows are only ever added.
CREATE TABLE IF NOT EXISTS visibility_search_attributes (
  namespace_id VARBINARY(64) NOT NULL,
  alias VARBINARY(255) NOT NULL,
  field_name VARCHAR(32) NOT NULL,
  field_type VARCHAR(16) NOT NULL,
  PRIMARY KEY (namespace_id, alias),
  UNIQUE (namespace_id, field_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
