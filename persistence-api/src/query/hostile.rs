//! Malformed and hostile queries that every backend must reject at parse time.

use super::{MAX_NESTING, MAX_QUERY_BYTES};

/// Queries that [`parse_query`](super::parse_query) rejects with `InvalidArgument` (naming a
/// position), both for List and for Count, given [`SearchAttributes::for_hostile_queries`]
/// (system attributes plus `CustomKeywordField: Keyword`, `CustomIntField: Int`,
/// `CustomTextField: Text`). The conformance suite replays them against live backends: a
/// backend must answer each with `InvalidArgument` and touch no data.
///
/// See also [`hostile_generated_queries`] for the oversized and deeply nested ones.
///
/// [`SearchAttributes::for_hostile_queries`]: super::SearchAttributes::for_hostile_queries
pub const HOSTILE_QUERIES: &[&str] = &[
    // SQL injection fragments
    "WorkflowId = 'a' OR 1=1 --",
    "'; DROP TABLE executions_visibility; --",
    "WorkflowId = 'a'; DROP TABLE executions_visibility",
    "WorkflowId = 'a' UNION SELECT * FROM executions_visibility",
    "WorkflowId = 'a\\' OR 1=1 --'",
    "WorkflowId = '' OR ''=''",
    "WorkflowId = 'x' /* comment */",
    "WorkflowId = 'x' -- comment",
    "WorkflowId = 'x' # comment",
    "WorkflowId IN (SELECT workflow_id FROM executions_visibility)",
    "WorkflowId = 'a' AND sleep(10) = 0",
    "pg_sleep(10) IS NULL",
    "WorkflowId = 'a' LIMIT 1",
    "WorkflowId = 'a' OFFSET 5",
    "WorkflowId = char(65)",
    "SELECT * FROM executions_visibility",
    "WHERE WorkflowId = 'a'",
    "WorkflowId = 'a' XOR RunId = 'b'",
    "WorkflowId = 'a' && RunId = 'b'",
    "WorkflowId = 'a' || RunId = 'b'",
    "WorkflowId LIKE 'a%'",
    "WorkflowId NOT LIKE 'a%'",
    "WorkflowId REGEXP '.*'",
    "WorkflowId = 'a' AND EXISTS (SELECT 1)",
    "WorkflowId = ?",
    "WorkflowId = $1",
    "WorkflowId = @var",
    "WorkflowId = x'41'",
    "WorkflowId = E'\\x41'",
    "CustomKeywordField = 'a' COLLATE utf8mb4_general_ci",
    "CAST(CustomIntField AS TEXT) = '1'",
    "WorkflowId = 'a' OR TRUE",
    "WorkflowId <=> 'a'",
    "WorkflowId = 'a' ; ",
    "WorkflowId = 'a' /",
    "WorkflowId = 'a' AND CustomKeywordField = 'b' ) OR ( 1 = 1",
    // scope and reserved names, unknown names
    "namespace_id = 'x'",
    "NamespaceId = 'x'",
    "`NamespaceId` = 'x'",
    "Memo = 'x'",
    "MemoEncoding = 'x'",
    "VisibilityTaskKey = 'x'",
    "TemporalFoo = 'x'",
    "workflowid = 'a'",
    "WorkflowId = 'a' AND \"CustomKeywordField\" = 'b'",
    // bare columns, column comparisons, literals on the left
    "WorkflowId = RunId",
    "WorkflowId",
    "NOT WorkflowId",
    "WorkflowId AND RunId = 'x'",
    "TRUE",
    "1",
    "'a' = WorkflowId",
    // wrong literal types
    "StartTime = 'yesterday'",
    "StartTime > '2024-01-01'",
    "StartTime > '2024-01-01T00:00:00'",
    "StartTime > '2024-13-01T00:00:00Z'",
    "StartTime > 5.5",
    "StartTime BETWEEN '2024-01-01T00:00:00Z' AND 5.5",
    "CloseTime = 'Running'",
    "CustomIntField = 1.5",
    "CustomIntField = '1'",
    "CustomIntField = 99999999999999999999",
    "CustomIntField = -'5'",
    "CustomIntField = 0x10",
    "CustomIntField = 1e3",
    "HistoryLength > 1.0",
    "CustomKeywordField = 5",
    "CustomKeywordField = true",
    "CustomTextField = '!!!'",
    "ExecutionStatus = 'Bogus'",
    "ExecutionStatus = 'running'",
    "ExecutionStatus = 99",
    "ExecutionStatus IN ('Running', 'Nope')",
    "ExecutionDuration > '1 hour'",
    "ExecutionDuration = '1y'",
    "TemporalSchedulePaused = 1",
    // operators the type lacks
    "CustomTextField > 'a'",
    "CustomTextField STARTS_WITH 'a'",
    "CustomTextField IN ('a')",
    "ExecutionStatus > 'Running'",
    "ExecutionStatus STARTS_WITH 'Run'",
    "ExecutionStatus BETWEEN 'Completed' AND 'Running'",
    "CustomIntField STARTS_WITH '1'",
    "TemporalSchedulePaused > true",
    "BuildIds STARTS_WITH 'a'",
    "BuildIds > 'a'",
    // malformed syntax
    "WorkflowId = NULL",
    "WorkflowId IN ()",
    "WorkflowId IN ('a',)",
    "WorkflowId IN ('a' 'b')",
    "WorkflowId IN 'a'",
    "WorkflowId = 'a' AND",
    "OR WorkflowId = 'a'",
    "(WorkflowId = 'a'",
    "WorkflowId = 'a')",
    "WorkflowId = 'a' AND (RunId = 'b' OR)",
    "WorkflowId = 'a' OR WorkflowId = 'b' OR",
    "WorkflowId = 'a' WorkflowId = 'b'",
    "()",
    "NOT",
    "WorkflowId = 'a' AND NOT NOT",
    "WorkflowId = 'unterminated",
    "WorkflowId = \"unterminated",
    "`WorkflowId = 'a'",
    "`` = 'x'",
    "WorkflowId = 'a' AND `CustomKeywordField",
    "WorkflowId == 'a'",
    "WorkflowId NOT = 'a'",
    "WorkflowId IS 'a'",
    "WorkflowId IS NOT 'a'",
    "WorkflowId BETWEEN 'a'",
    "WorkflowId BETWEEN 'a' OR 'b'",
    "CustomIntField = --5",
    "CustomIntField = - 'x'",
    // ORDER BY / GROUP BY misuse
    "WorkflowId = 'a' ORDER BY StartTime",
    "ORDER BY CustomTextField",
    "WorkflowId = 'a' ORDER BY StartTime DESC LIMIT 10",
    "GROUP BY WorkflowId",
    "GROUP BY ExecutionStatus, WorkflowType",
    "WorkflowId = 'a' GROUP BY",
    "GROUP ExecutionStatus",
    // control characters and unicode tricks
    "WorkflowId = 'a' \0",
    "WorkflowId = 'a\0b'",
    "WorkflowId = 'a'\u{1b}[2J",
    "WorkflowId = 'a\u{7f}'",
    "WorkflowId = 'a\u{85}'",
    "WorkflowId = \u{ff07}a\u{ff07} OR 1=1",
    "WorkflowId\u{202e} = 'a'",
    "Workflow\u{200b}Id = 'a'",
    "W\u{43e}rkflowId = 'a'",
    "`W\u{43e}rkflowId` = 'a'",
    "WorkflowId\u{a0}= 'a'",
    "\u{feff}WorkflowId = 'a'",
    "WorkflowId = 'a' \u{2028}OR RunId = 'b'",
];

/// Hostile queries too large to write as constants: over [`MAX_QUERY_BYTES`] (just over, and
/// 10 MB), nested one level deeper than [`MAX_NESTING`] with parentheses and with `NOT`, 10 000
/// open parentheses, and an unterminated string of 60 000 bytes. Rejected like
/// [`HOSTILE_QUERIES`].
pub fn hostile_generated_queries() -> Vec<String> {
    let over = MAX_NESTING + 1;
    let just_over = {
        let head = "WorkflowId = '";
        let fill = MAX_QUERY_BYTES + 1 - head.len() - 1;
        format!("{head}{}'", "a".repeat(fill))
    };
    vec![
        just_over,
        format!("WorkflowId = '{}'", "x".repeat(10 * 1024 * 1024)),
        format!("{}WorkflowId = 'a'{}", "(".repeat(over), ")".repeat(over)),
        format!("{}WorkflowId = 'a'", "NOT ".repeat(over)),
        format!("{}WorkflowId = 'a'", "NOT (".repeat(over)) + &")".repeat(over),
        "(".repeat(10_000),
        format!("WorkflowId = '{}", "a".repeat(60_000)),
    ]
}
