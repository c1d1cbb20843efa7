//! Rewriting the ids of a recorded unit of work per iteration, for the floors of
//! `durastore bench --floor`: each backend records what its store logic sent for one unit (SQL
//! statements, CQL batches, HTTP requests), and replays it many times without the store logic.
//!
//! Two recorded units of the same workload differ only where one workflow differs from the
//! next (ids, task ids). Those values become per-iteration variables; an iteration `it`
//! rewrites each one deterministically from its recorded value, so a value that appears in
//! several requests (a run id in a row and in its tasks) stays one value within an iteration,
//! and two iterations never collide. Everything else is replayed as recorded.

use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// How far apart two iterations put an integer variable. Larger than the spread of the task ids
/// one recorded unit uses, so `orig_a + it_a * STRIDE` never equals `orig_b + it_b * STRIDE`
/// for two different iterations.
pub const INT_STRIDE: i64 = 1 << 20;

/// The largest iteration number: `INT_STRIDE * MAX_ITERATION` plus a task id (the shard's
/// range id shifted by 32) stays well inside an `i64`.
pub const MAX_ITERATION: u64 = 1 << 39;

/// A random first iteration in the lower half of the range, so a second replay on the same
/// database does not meet the rows of the first.
pub fn random_first_iteration() -> u64 {
    let b = uuid::Uuid::new_v4();
    let x = u64::from_le_bytes(b.as_bytes()[..8].try_into().unwrap_or_default());
    1 + x % (MAX_ITERATION / 2)
}

/// Whether `s` is a UUID in its hyphenated text form.
pub fn is_uuid_text(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Text that reads as an identifier (not JSON, not a datetime, not empty): safe to extend
/// with a suffix.
pub fn is_plain_id(s: &str) -> bool {
    let json = s.starts_with(['{', '[']);
    let datetime =
        s.len() >= 20 && s.as_bytes()[..4].iter().all(u8::is_ascii_digit) && s.ends_with('Z');
    !(s.is_empty() || json || datetime)
}

/// Whether two different texts are ids worth rewriting per iteration.
pub fn is_varying_text(s: &str) -> bool {
    is_uuid_text(s) || is_plain_id(s)
}

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// An integer id in iteration `it`.
pub fn vary_int(x: i64, it: u64) -> i64 {
    x.wrapping_add((it as i64).wrapping_mul(INT_STRIDE))
}

/// A 16-byte id (a UUID's bytes) in iteration `it`.
pub fn vary_id_bytes(b: &[u8], it: u64) -> [u8; 16] {
    let d = digest(&[b, b"~", it.to_string().as_bytes()]);
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

/// A UUID in iteration `it`.
pub fn vary_uuid(u: uuid::Uuid, it: u64) -> uuid::Uuid {
    uuid::Uuid::from_bytes(vary_id_bytes(u.as_bytes(), it))
}

/// A text id in iteration `it`: a UUID stays a UUID (columns and fields may require the
/// form), any other id gets the suffix `~it`.
pub fn vary_text(s: &str, it: u64) -> String {
    if is_uuid_text(s) {
        uuid::Uuid::from_bytes(vary_id_bytes(s.as_bytes(), it))
            .hyphenated()
            .to_string()
    } else {
        format!("{s}~{it}")
    }
}

/// The error of a floor whose two recorded units differ in more than values: `what` says where.
pub fn shape_error(what: String) -> crate::StoreError {
    crate::StoreError::internal(format!(
        "the two recorded units do not send the same requests, so no floor can be derived \
         from them: {what}"
    ))
}

/// The log a recording layer appends requests to, in order; the floor takes a unit's worth
/// at a time.
#[derive(Debug)]
pub struct Log<T> {
    items: Mutex<Vec<T>>,
}

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log {
            items: Mutex::new(Vec::new()),
        }
    }
}

impl<T> Log<T> {
    /// Takes everything recorded so far, leaving the log empty.
    pub fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.lock())
    }

    /// Appends one request.
    pub fn push(&self, item: T) {
        self.lock().push(item);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<T>> {
        // Pushes and takes are single operations; a panic cannot leave the log half-written.
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_vary_per_iteration_and_stay_stable_within_one() {
        let run = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(vary_text(run, 3), vary_text(run, 3));
        assert_ne!(vary_text(run, 3), vary_text(run, 4));
        assert!(is_uuid_text(&vary_text(run, 3)));
        assert_eq!(vary_text("wf-1", 9), "wf-1~9");
        assert_eq!(vary_int(5, 2), 5 + 2 * INT_STRIDE);
        let u = uuid::Uuid::new_v4();
        assert_ne!(vary_uuid(u, 1), vary_uuid(u, 2));
        assert_eq!(vary_uuid(u, 1), vary_uuid(u, 1));
        assert!(!is_varying_text("2026-01-01T00:00:00.000Z"));
        assert!(!is_varying_text("{\"a\":1}"));
        assert!(!is_varying_text(""));
        let first = random_first_iteration();
        assert!((1..=MAX_ITERATION / 2).contains(&first));
    }
}
