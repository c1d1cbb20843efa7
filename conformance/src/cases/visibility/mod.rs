//! Conformance cases for the visibility store: Temporal's visibility suite (start/close, time
//! skew, short workflows, pagination, filters, upsert, delete, get, count, count by status) and
//! what it lacks: out-of-order writes ordered by task id, paging while records arrive, every
//! operator on every search-attribute type, SQL three-valued null logic, namespace isolation,
//! custom search attributes, invalid writes, and CHASM executions (archetype-scoped list and
//! count, the CHASM info blob, the pre-allocated `Temporal<Type>NN` attributes, GROUP BY on a
//! LowCardinalityKeyword attribute).
//!
//! The query corpus over one seeded data set is in `corpus.rs`, the hostile queries in
//! `hostile.rs`. Every case works in a fresh random namespace and
//! registers the custom attributes it queries through `add_search_attributes`; expectations are
//! written by hand from the records the case wrote (the semantics of
//! docs/architecture.md#visibility-query-semantics), never computed by a backend or by the query
//! evaluator.

mod attributes;
mod chasm;
mod corpus;
mod helpers;
mod hostile;
mod invalid;
mod isolation;
mod nulls;
mod operators;
mod out_of_order;
mod paging;
mod refresh;
mod temporal;

pub use attributes::*;
pub use chasm::*;
pub use corpus::*;
pub use hostile::*;
pub use invalid::*;
pub use isolation::*;
pub use nulls::*;
pub use operators::*;
pub use out_of_order::*;
pub use paging::*;
pub use refresh::*;
pub use temporal::*;

use crate::Case;

/// The cases of this store, in order.
pub fn cases() -> Vec<Case> {
    crate::cases![visibility requires(Visibility) =>
        start_get_round_trip,
        close_get_round_trip,
        basic_open_and_closed,
        time_skew_close_before_start,
        time_skew_execution_time,
        short_workflow_closed_only,
        short_workflow_zero_duration,
        get_missing_not_found,
        delete_removes_record,
        delete_missing_is_ok,
        delete_stale_task_id_ignored,
        upsert_replaces_search_attributes,
        upsert_replaces_memo,
        upsert_creates_missing,
        count_basic,
        count_group_by_status,
        filter_by_start_time,
        filter_by_workflow_type,
        filter_by_workflow_id,
        filter_by_status,
        filter_by_close_time,
        page_size_one,
        page_exact_multiple,
        page_empty_result,
        page_size_bounds,
        page_garbage_token,
        page_token_from_other_query,
        page_token_is_stable,
        page_size_changes_between_pages,
        advanced_pagination,
        paging_ties_by_run_id,
        paging_while_records_arrive,
        paging_while_records_upserted,
        paging_concurrent_writers + ConcurrentWriters,
        started_after_closed_ignored,
        upsert_older_task_id_ignored,
        upsert_equal_task_id_ignored,
        closed_older_than_upsert_ignored,
        started_newer_replaces_older,
        highest_task_id_wins_in_every_order,
        concurrent_writes_highest_task_id_wins + ConcurrentWriters,
        keyword_every_operator,
        keyword_equality_is_exact,
        starts_with_is_literal_prefix,
        literal_quotes_and_backslashes,
        keyword_unicode,
        keyword_list_every_operator,
        text_every_operator,
        int_every_operator,
        double_every_operator,
        bool_every_operator,
        datetime_every_operator,
        times_microsecond_precision,
        execution_status_every_operator,
        execution_duration_every_operator,
        system_keyword_attributes,
        system_int_attributes,
        operators_not_on_type_rejected,
        wrong_literal_types_rejected,
        null_three_valued_logic,
        null_every_type,
        empty_keyword_list_is_absent,
        null_system_attributes,
        namespace_isolation_list_count,
        namespace_isolation_get_delete,
        namespace_isolation_same_run_id,
        add_search_attributes_idempotent,
        attribute_registered_through_another_handle + Durable,
        unregistered_attribute_rejected,
        attribute_added_later,
        invalid_write_empty_ids,
        invalid_write_oversized_memo,
        invalid_write_bad_workflow_id,
        invalid_read_nil_ids,
        invalid_write_search_attributes,
        search_attribute_value_size_limit,
        add_search_attributes_rejects_bad_names,
        namespace_isolation_search_attributes,
        // chasm.rs
        chasm_archetype_isolation_list_count,
        chasm_page_token_bound_to_archetype,
        chasm_attributes_every_type,
        chasm_group_by_in_scope,
        chasm_custom_low_cardinality_keyword,
        chasm_bad_input_rejected,
        chasm_info_upsert_and_delete,
        chasm_concurrent_upserts_highest_wins + ConcurrentWriters,
        // corpus.rs
        corpus_keyword,
        corpus_keyword_list,
        corpus_text,
        corpus_int,
        corpus_double,
        corpus_bool_datetime,
        corpus_status_and_system,
        corpus_times,
        corpus_logic,
        corpus_nulls,
        corpus_count_group_by_status,
        corpus_records_round_trip,
        // hostile.rs
        hostile_shared_queries_rejected,
        hostile_extra_queries_rejected,
        hostile_group_by_only_in_count,
        hostile_payloads_as_values,
        // refresh.rs
        refresh_shows_every_acknowledged_write,
        write_batch_orders_by_task_id,
        write_batch_invalid_writes_nothing,
    ]
}
