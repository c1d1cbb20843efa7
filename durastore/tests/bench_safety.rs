//! `durastore bench` never takes over shards that exist: on a database that holds the shards
//! of its range it refuses (exit 2, nothing written) unless told `--scratch`, and it runs on a
//! free `--first-shard` range beside them.

use std::path::Path;
use std::process::{Command, Output};

use durastore_api::{ErrorKind, GetOrCreateShardRequest, ShardId};

fn bench(url: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_durastore"))
        .args(["bench", "--url", url, "--count", "2", "--shards", "2"])
        .args(["--concurrency", "1", "--no-visibility", "--json"])
        .args(extra)
        .env_remove("DURASTORE_URL")
        .output()
        .expect("the durastore binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The range id of shard `id`, `None` when it has no row.
async fn range_id(url: &str, id: i32) -> Option<i64> {
    let stores = durastore::open(url)
        .await
        .expect("the bench database opens");
    let shards = stores.shard.clone().expect("SQLite has a shard store");
    let got = shards
        .get_or_create_shard(GetOrCreateShardRequest {
            shard_id: ShardId(id),
            create_if_missing: None,
        })
        .await;
    let _ = stores.backend.close().await;
    match got {
        Ok(info) => Some(info.range_id),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => panic!("reading shard {id}: {e}"),
    }
}

fn url_of(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("bench.db").display())
}

#[tokio::test]
async fn bench_refuses_shards_that_exist_unless_scratch_or_a_free_range() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = url_of(dir.path());

    // A fresh database: shards 1 and 2 are free.
    let first = bench(&url, &[]);
    assert!(first.status.success(), "fresh database: {}", stderr(&first));
    let report: serde_json::Value =
        serde_json::from_slice(&first.stdout).expect("the report is JSON");
    assert_eq!(report["units"], 2, "{report}");
    let before = range_id(&url, 1).await.expect("the bench made shard 1");

    // Now they exist: refused with exit 2, and shard 1 is untouched.
    let again = bench(&url, &[]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    let msg = stderr(&again);
    assert!(msg.contains("refusing to bench"), "{msg}");
    assert!(msg.contains("shard 1 exists"), "{msg}");
    assert!(
        msg.contains("--scratch") && msg.contains("--first-shard"),
        "{msg}"
    );
    assert!(again.stdout.is_empty(), "a refused bench printed a report");
    assert_eq!(
        range_id(&url, 1).await,
        Some(before),
        "the refused bench wrote"
    );

    // `--scratch`: the database is disposable, the bench takes the shards over.
    let scratch = bench(&url, &["--scratch"]);
    assert!(scratch.status.success(), "--scratch: {}", stderr(&scratch));
    let after = range_id(&url, 1).await.expect("shard 1 is still there");
    assert!(
        after > before,
        "--scratch did not acquire shard 1 ({before} -> {after})"
    );

    // A free range beside them runs and leaves shards 1 and 2 alone.
    assert_eq!(range_id(&url, 3).await, None);
    let beside = bench(&url, &["--first-shard", "3"]);
    assert!(
        beside.status.success(),
        "--first-shard 3: {}",
        stderr(&beside)
    );
    assert!(range_id(&url, 3).await.is_some() && range_id(&url, 4).await.is_some());
    assert_eq!(
        range_id(&url, 1).await,
        Some(after),
        "a free range touched shard 1"
    );
    assert_eq!(range_id(&url, 5).await, None, "the range is two shards");

    // A range that overlaps a shard in use is refused, naming it.
    let overlap = bench(&url, &["--first-shard", "4"]);
    assert_eq!(overlap.status.code(), Some(2), "{}", stderr(&overlap));
    let msg = stderr(&overlap);
    assert!(msg.contains("shard 4 exists"), "{msg}");
    assert!(msg.contains("choose a --first-shard"), "{msg}");
    assert_eq!(
        range_id(&url, 5).await,
        None,
        "the refused bench wrote shard 5"
    );

    // A range past the largest shard id is bad input.
    let past = bench(&url, &["--first-shard", &i32::MAX.to_string()]);
    assert_eq!(past.status.code(), Some(2), "{}", stderr(&past));
    assert!(
        stderr(&past).contains("largest shard id"),
        "{}",
        stderr(&past)
    );
}
