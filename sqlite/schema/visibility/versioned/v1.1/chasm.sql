-- durastore visibility schema for SQLite, version 1.1: CHASM visibility.
-- * archetype_id: whose record a row is (0: a workflow; else the CHASM archetype id). Every list
--   and count is scoped to one archetype. Temporal keeps the id as decimal text in
--   TemporalNamespaceDivision; a column of its own keeps the scope independent of what a
--   caller writes into that attribute. Rows of a 1.0 database are workflows (DEFAULT 0).
-- * chasm_info, chasm_info_encoding: the CHASM execution's visibility info blob (Temporal's
--   ChasmExecutionInfo memo), stored like memo/encoding.
-- * Temporal's pre-allocated CHASM search attribute columns (its names, durastore's encodings as
--   in 1.0): TemporalBool01-02, TemporalDatetime01-02, TemporalDouble01-02, TemporalInt01-02,
--   TemporalKeyword01-04, TemporalLowCardinalityKeyword01, TemporalKeywordList01-02.
-- Re-runnable: a column that exists already is reported as already applied by the schema driver
-- ("duplicate column name"), indexes are guarded.

ALTER TABLE executions_visibility ADD COLUMN archetype_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE executions_visibility ADD COLUMN chasm_info BLOB;
ALTER TABLE executions_visibility ADD COLUMN chasm_info_encoding VARCHAR(64);
ALTER TABLE executions_visibility ADD COLUMN TemporalBool01 BOOLEAN;
ALTER TABLE executions_visibility ADD COLUMN TemporalBool02 BOOLEAN;
ALTER TABLE executions_visibility ADD COLUMN TemporalDatetime01 VARCHAR(30);
ALTER TABLE executions_visibility ADD COLUMN TemporalDatetime02 VARCHAR(30);
ALTER TABLE executions_visibility ADD COLUMN TemporalDouble01 DOUBLE;
ALTER TABLE executions_visibility ADD COLUMN TemporalDouble02 DOUBLE;
ALTER TABLE executions_visibility ADD COLUMN TemporalInt01 BIGINT;
ALTER TABLE executions_visibility ADD COLUMN TemporalInt02 BIGINT;
ALTER TABLE executions_visibility ADD COLUMN TemporalKeyword01 VARCHAR(2048);
ALTER TABLE executions_visibility ADD COLUMN TemporalKeyword02 VARCHAR(2048);
ALTER TABLE executions_visibility ADD COLUMN TemporalKeyword03 VARCHAR(2048);
ALTER TABLE executions_visibility ADD COLUMN TemporalKeyword04 VARCHAR(2048);
ALTER TABLE executions_visibility ADD COLUMN TemporalLowCardinalityKeyword01 VARCHAR(2048);
ALTER TABLE executions_visibility ADD COLUMN TemporalKeywordList01 TEXT;
ALTER TABLE executions_visibility ADD COLUMN TemporalKeywordList02 TEXT;

-- The archetype scope: the list order within one archetype, and its (status) counts.
CREATE INDEX IF NOT EXISTS by_archetype ON executions_visibility (namespace_id, archetype_id, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_archetype_status_count ON executions_visibility (namespace_id, archetype_id, status);
CREATE INDEX IF NOT EXISTS by_temporal_bool_01 ON executions_visibility (namespace_id, TemporalBool01, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_bool_02 ON executions_visibility (namespace_id, TemporalBool02, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_datetime_01 ON executions_visibility (namespace_id, TemporalDatetime01, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_datetime_02 ON executions_visibility (namespace_id, TemporalDatetime02, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_double_01 ON executions_visibility (namespace_id, TemporalDouble01, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_double_02 ON executions_visibility (namespace_id, TemporalDouble02, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_int_01 ON executions_visibility (namespace_id, TemporalInt01, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_int_02 ON executions_visibility (namespace_id, TemporalInt02, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_keyword_01 ON executions_visibility (namespace_id, TemporalKeyword01, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_keyword_02 ON executions_visibility (namespace_id, TemporalKeyword02, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_keyword_03 ON executions_visibility (namespace_id, TemporalKeyword03, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_keyword_04 ON executions_visibility (namespace_id, TemporalKeyword04, close_time_order DESC, start_time DESC, run_id);
CREATE INDEX IF NOT EXISTS by_temporal_low_cardinality_keyword_01 ON executions_visibility (namespace_id, TemporalLowCardinalityKeyword01, close_time_order DESC, start_time DESC, run_id);
