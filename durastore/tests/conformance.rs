//! The conformance suite under `cargo test`: one libtest-mimic trial per backend × case, named
//! `<backend>::<case id>` so `cargo test -p durastore --test conformance -- sqlite::shard` filters.
//! (Minimal bootstrap harness: SQLite only; provisioning of server backends comes later.)

use std::sync::{Arc, OnceLock};

use durastore_conformance::{Ctx, all_cases};
use libtest_mimic::{Arguments, Failed, Trial};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

fn sqlite_ctx() -> &'static Ctx {
    static CTX: OnceLock<Ctx> = OnceLock::new();
    CTX.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("durastore-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}", dir.join("conformance.db").display());
        let stores = runtime()
            .block_on(durastore_sqlite::open(&url))
            .expect("open sqlite");
        let u = url.clone();
        let opener: durastore_conformance::Opener =
            Arc::new(move || {
                let u = u.clone();
                Box::pin(async move { durastore_sqlite::open(&u).await })
            });
        Ctx::new(stores, Some(opener))
    })
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for case in all_cases() {
        trials.push(Trial::test(format!("sqlite::{}", case.id), move || {
            let ctx = sqlite_ctx();
            let cap = ctx.stores.capability();
            let missing: Vec<&str> = case
                .requires
                .iter()
                .copied()
                .filter(|r| cap.has(r) != Some(true))
                .collect();
            if !missing.is_empty() {
                println!("skipped: missing capability {}", missing.join(", "));
                return Ok(());
            }
            runtime()
                .block_on((case.run)(ctx))
                .map_err(|e| Failed::from(e.to_string()))
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}
