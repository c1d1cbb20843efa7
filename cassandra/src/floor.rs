//! The floor of the Cassandra backend (`durastore bench --floor`): the requests the store logic
//! sent for one unit of work, replayed straight through the scylla driver without it.
//!
//! Stores opened by [`open_recorded`] log every request (statement or batch, with its
//! bound values) to a [`Recorder`]. Two recorded units make a [`CqlTemplate`]: values that
//! differ between the units are ids and vary per iteration ([`durastore_api::replay`]),
//! everything else is sent as recorded. A [`Replayer`] prepares every statement and builds
//! every batch once, then sends an iteration as the adapter did: the same statements, the same
//! logged conditional batches, the same consistency levels and page sizes. No request check, no
//! row mapping, no error mapping beyond "did it apply".

use std::collections::HashMap;
use std::sync::Arc;

use durastore_api::replay::{
    is_varying_text, shape_error, vary_id_bytes, vary_int, vary_text, vary_uuid,
};
use durastore_api::{Result, StoreError, Stores};
use scylla::client::session::Session;
use scylla::response::PagingState;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::{Consistency, SerialConsistency};
use scylla::value::CqlValue;

use crate::CassandraConfig;
use crate::error::{classify, classify_prepare};
use crate::session::{Tap, cas_result, to_rows};

/// Bound values of one statement (`None` binds NULL).
pub type Values = Vec<Option<CqlValue>>;

pub use crate::session::CallKind;

/// One request as the store logic sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCall {
    /// How it was sent.
    pub kind: CallKind,
    /// Its statements (one, or a batch's) with their bound values.
    pub stmts: Vec<(String, Values)>,
    /// The paging state a page read continued from.
    pub token: Option<Vec<u8>>,
}

/// The log of every request of recorded stores.
pub type Recorder = durastore_api::replay::Log<RecordedCall>;

impl Tap for Recorder {
    fn request(&self, kind: CallKind, stmts: &[(&str, &Values)], token: Option<&[u8]>) {
        self.push(RecordedCall {
            kind,
            stmts: stmts
                .iter()
                .map(|(c, v)| (c.to_string(), (*v).clone()))
                .collect(),
            token: token.map(<[u8]>::to_vec),
        });
    }
}

/// [`crate::open`] with every request logged to `recorder`.
pub async fn open_recorded(url: &str, recorder: Arc<Recorder>) -> Result<Stores> {
    let tap: Arc<dyn Tap> = recorder;
    crate::open_inner(&CassandraConfig::from_url(url)?, Some(tap)).await
}

/// One bound value of a template statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// The same in every iteration.
    Const(Option<CqlValue>),
    /// Rewritten per iteration from this recorded value.
    Vary(CqlValue),
}

/// A request of the template.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateCall {
    /// How it is sent.
    pub kind: CallKind,
    /// Statements with their parameters.
    pub stmts: Vec<(String, Vec<Param>)>,
    /// The paging state of a page read (as recorded).
    pub token: Option<Vec<u8>>,
}

/// One unit of work as replayable requests.
#[derive(Debug, Clone, PartialEq)]
pub struct CqlTemplate {
    /// The requests in order.
    pub calls: Vec<TemplateCall>,
}

/// Equal values are constants. Values that differ between two units vary per iteration when
/// rewriting them keeps them valid (ids, task ids, UUIDs); timestamps, blobs and collections
/// that differ keep the first unit's value: they are data, not keys.
fn classify_value(a: &Option<CqlValue>, b: &Option<CqlValue>) -> Param {
    if a == b {
        return Param::Const(a.clone());
    }
    match a {
        Some(v @ (CqlValue::BigInt(_) | CqlValue::Uuid(_) | CqlValue::Timeuuid(_))) => {
            Param::Vary(v.clone())
        }
        Some(v @ CqlValue::Blob(x)) if x.len() == 16 => Param::Vary(v.clone()),
        Some(v @ (CqlValue::Text(s) | CqlValue::Ascii(s))) if is_varying_text(s) => {
            Param::Vary(v.clone())
        }
        _ => Param::Const(a.clone()),
    }
}

/// A variable's value in iteration `it`.
pub fn vary(v: &CqlValue, it: u64) -> CqlValue {
    match v {
        CqlValue::BigInt(x) => CqlValue::BigInt(vary_int(*x, it)),
        CqlValue::Uuid(u) => CqlValue::Uuid(vary_uuid(*u, it)),
        // A rewritten time UUID is no longer time-ordered; keys compare it as bytes only.
        CqlValue::Timeuuid(u) => CqlValue::Uuid(vary_uuid(uuid::Uuid::from(*u), it)),
        CqlValue::Blob(b) => CqlValue::Blob(vary_id_bytes(b, it).to_vec()),
        CqlValue::Text(s) => CqlValue::Text(vary_text(s, it)),
        CqlValue::Ascii(s) => CqlValue::Ascii(vary_text(s, it)),
        other => other.clone(),
    }
}

fn instantiate(params: &[Param], it: u64) -> Values {
    params
        .iter()
        .map(|p| match p {
            Param::Const(v) => v.clone(),
            Param::Vary(v) => Some(vary(v, it)),
        })
        .collect()
}

impl CqlTemplate {
    /// Derives the template from two units of the same workload recorded one after the other.
    /// Fails when they differ in anything but bound values.
    pub fn derive(a: &[RecordedCall], b: &[RecordedCall]) -> Result<Self> {
        if a.len() != b.len() {
            return Err(shape_error(format!("{} vs {} requests", a.len(), b.len())));
        }
        let mut calls = Vec::with_capacity(a.len());
        for (i, (ca, cb)) in a.iter().zip(b).enumerate() {
            if ca.kind != cb.kind || ca.stmts.len() != cb.stmts.len() {
                return Err(shape_error(format!("request {i} differs")));
            }
            if ca.token != cb.token {
                return Err(shape_error(format!(
                    "request {i} continues a page from a different paging state"
                )));
            }
            let mut stmts = Vec::with_capacity(ca.stmts.len());
            for ((qa, va), (qb, vb)) in ca.stmts.iter().zip(&cb.stmts) {
                if qa != qb || va.len() != vb.len() {
                    return Err(shape_error(format!("request {i}: `{qa}` vs `{qb}`")));
                }
                let params = va
                    .iter()
                    .zip(vb)
                    .map(|(x, y)| classify_value(x, y))
                    .collect();
                stmts.push((qa.clone(), params));
            }
            calls.push(TemplateCall {
                kind: ca.kind,
                stmts,
                token: ca.token.clone(),
            });
        }
        Ok(CqlTemplate { calls })
    }

    /// Whether `other` (another recorded unit) sends this template's statements, in order.
    pub fn same_shape(&self, other: &[RecordedCall]) -> bool {
        self.calls.len() == other.len()
            && self.calls.iter().zip(other).all(|(t, o)| {
                t.kind == o.kind
                    && t.stmts.len() == o.stmts.len()
                    && t.stmts.iter().zip(&o.stmts).all(|(s, os)| s.0 == os.0)
            })
    }

    /// Requests per unit.
    pub fn requests(&self) -> usize {
        self.calls.len()
    }

    /// Statements per unit (a batch counts its statements).
    pub fn statements(&self) -> usize {
        self.calls.iter().map(|c| c.stmts.len()).sum()
    }

    /// Conditional requests (Paxos rounds) per unit.
    pub fn conditional(&self) -> usize {
        self.calls
            .iter()
            .filter(|c| {
                matches!(
                    c.kind,
                    CallKind::Cas | CallKind::Batch { conditional: true }
                )
            })
            .count()
    }
}

/// A template call with its statements prepared (and its batch built) once.
enum Ready {
    Single(PreparedStatement),
    Batch(Batch),
}

/// Replays templates through a session of its own: prepared statements and batches are made
/// before the first iteration, so an iteration only binds values and sends.
pub struct Replayer {
    session: Session,
    /// Per template, per call.
    ready: Vec<Vec<Ready>>,
    templates: Vec<CqlTemplate>,
}

impl std::fmt::Debug for Replayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replayer")
            .field("templates", &self.templates.len())
            .finish()
    }
}

impl Replayer {
    /// Connects to the keyspace of `url` (with the adapter's settings) and prepares
    /// `templates`.
    pub async fn new(url: &str, templates: Vec<CqlTemplate>) -> Result<Self> {
        let cfg = CassandraConfig::from_url(url)?;
        let session = cfg.connect(true).await?;
        let serial = match cfg.serial_consistency {
            SerialConsistency::Serial => Consistency::Serial,
            _ => Consistency::LocalSerial,
        };
        let mut cache: HashMap<String, PreparedStatement> = HashMap::new();
        let mut ready = Vec::with_capacity(templates.len());
        for t in &templates {
            let mut calls = Vec::with_capacity(t.calls.len());
            for c in &t.calls {
                let mut prepared = Vec::with_capacity(c.stmts.len());
                for (cql, _) in &c.stmts {
                    let p = match cache.get(cql) {
                        Some(p) => p.clone(),
                        None => {
                            let p = session
                                .prepare(cql.as_str())
                                .await
                                .map_err(classify_prepare)?;
                            cache.insert(cql.clone(), p.clone());
                            p
                        }
                    };
                    prepared.push(p);
                }
                calls.push(match c.kind {
                    CallKind::Batch { .. } => {
                        let mut b = Batch::new(BatchType::Logged);
                        for p in prepared {
                            b.append_statement(p);
                        }
                        Ready::Batch(b)
                    }
                    kind => {
                        let mut p = prepared.into_iter().next().ok_or_else(|| {
                            StoreError::internal("a recorded request without a statement")
                        })?;
                        match kind {
                            CallKind::Serial => p.set_consistency(serial),
                            CallKind::Page { page_size } => p.set_page_size(page_size),
                            _ => {}
                        }
                        Ready::Single(p)
                    }
                });
            }
            ready.push(calls);
        }
        Ok(Replayer {
            session,
            ready,
            templates,
        })
    }

    /// The templates, in the order [`Replayer::run`] indexes them.
    pub fn templates(&self) -> &[CqlTemplate] {
        &self.templates
    }

    /// Runs iteration `it` of template `t`. A conditional request that does not apply ends the
    /// iteration with `ConditionFailed`: the replay is then not doing the adapter's work.
    pub async fn run(&self, t: usize, it: u64) -> Result<()> {
        let (template, ready) = (&self.templates[t], &self.ready[t]);
        for (i, (call, r)) in template.calls.iter().zip(ready).enumerate() {
            let conditional = matches!(
                call.kind,
                CallKind::Cas | CallKind::Batch { conditional: true }
            );
            let res = match (r, call.kind) {
                (Ready::Batch(b), _) => {
                    let values: Vec<Values> =
                        call.stmts.iter().map(|(_, p)| instantiate(p, it)).collect();
                    self.session.batch(b, values).await
                }
                (Ready::Single(p), CallKind::Page { .. }) => {
                    let state = match &call.token {
                        Some(t) if !t.is_empty() => PagingState::new_from_raw_bytes(t.as_slice()),
                        _ => PagingState::start(),
                    };
                    self.session
                        .execute_single_page(p, instantiate(&call.stmts[0].1, it), state)
                        .await
                        .map(|(res, _)| res)
                }
                (Ready::Single(p), _) => {
                    self.session
                        .execute_unpaged(p, instantiate(&call.stmts[0].1, it))
                        .await
                }
            }
            .map_err(|e| classify(e, conditional))?;
            if conditional {
                if !cas_result(res)?.applied {
                    return Err(StoreError::condition_failed(format!(
                        "floor replay: conditional request {i} of the unit did not apply \
                         (iteration {it})"
                    )));
                }
            } else if matches!(
                call.kind,
                CallKind::Rows | CallKind::Serial | CallKind::Page { .. }
            ) {
                // Decode as the adapter does, so both sides pay for reading the rows.
                to_rows(res)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn unit(wf: &str, run: uuid::Uuid, task: i64, at: i64) -> Vec<RecordedCall> {
        vec![
            RecordedCall {
                kind: CallKind::Batch { conditional: true },
                stmts: vec![
                    (
                        "UPDATE executions SET range_id = ? WHERE shard_id = ? IF range_id = ?"
                            .into(),
                        vec![
                            Some(CqlValue::BigInt(4)),
                            Some(CqlValue::Int(1)),
                            Some(CqlValue::BigInt(4)),
                        ],
                    ),
                    (
                        "INSERT INTO executions (wf, run, task, at) VALUES (?, ?, ?, ?)".into(),
                        vec![
                            Some(CqlValue::Text(wf.into())),
                            Some(CqlValue::Uuid(run)),
                            Some(CqlValue::BigInt(task)),
                            Some(CqlValue::Timestamp(scylla::value::CqlTimestamp(at))),
                        ],
                    ),
                ],
                token: None,
            },
            RecordedCall {
                kind: CallKind::Rows,
                stmts: vec![(
                    "SELECT * FROM executions WHERE run = ?".into(),
                    vec![Some(CqlValue::Uuid(run))],
                )],
                token: None,
            },
        ]
    }

    #[test]
    fn derive_varies_ids_and_keeps_conditions_and_data() {
        let (ra, rb) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let t = CqlTemplate::derive(&unit("wf-1", ra, 100, 5), &unit("wf-2", rb, 108, 6)).unwrap();
        let lease = &t.calls[0].stmts[0].1;
        assert!(lease.iter().all(|p| matches!(p, Param::Const(_))));
        let row = &t.calls[0].stmts[1].1;
        assert!(matches!(row[0], Param::Vary(_)));
        assert!(matches!(row[1], Param::Vary(_)));
        assert!(matches!(row[2], Param::Vary(_)));
        // A differing timestamp is data: kept as recorded.
        assert!(matches!(row[3], Param::Const(_)));
        assert_eq!((t.requests(), t.statements(), t.conditional()), (2, 3, 1));
        assert!(t.same_shape(&unit("x", rb, 1, 1)));

        // The run id is one value within an iteration, another in the next.
        let i1 = instantiate(row, 7);
        let read = instantiate(&t.calls[1].stmts[0].1, 7);
        assert_eq!(i1[1], read[0]);
        assert_ne!(instantiate(row, 8)[1], i1[1]);
        assert_eq!(
            i1[2],
            Some(CqlValue::BigInt(
                100 + 7 * durastore_api::replay::INT_STRIDE
            ))
        );
    }

    #[test]
    fn units_of_different_shape_give_no_template() {
        let (ra, rb) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let mut b = unit("wf-2", rb, 108, 6);
        b.pop();
        assert!(CqlTemplate::derive(&unit("wf-1", ra, 100, 5), &b).is_err());
        let mut c = unit("wf-2", rb, 108, 6);
        c[1].token = Some(vec![1, 2]);
        assert!(CqlTemplate::derive(&unit("wf-1", ra, 100, 5), &c).is_err());
    }
}
