//! History (shard) tasks on SQL: part of the ExecutionStore implementation.
