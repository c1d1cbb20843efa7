//! `durastore schema setup|update|version|verify|create-database|drop-database`.

use clap::{Args, Subcommand};
use durastore::StoreRole;
use durastore::factory::{self, Created, SchemaOpen, SchemaTarget, open_schema};
use durastore_api::StoreError;
use durastore_api::schema::{self, ApplyOptions, ApplyReport, SET_MAIN, SET_VISIBILITY, Version};

use super::{print_json, resolve_url, to_json};
use crate::{CliError, CliResult, TargetArgs};

/// Options shared by the schema subcommands.
#[derive(Debug, Clone, Args)]
pub struct SchemaArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Schema set: main or visibility (default: main, or the only set the backend has, e.g.
    /// visibility on Elasticsearch/OpenSearch)
    #[arg(long, value_parser = [SET_MAIN, SET_VISIBILITY])]
    set: Option<String>,
    /// Print a JSON document instead of text
    #[arg(long)]
    json: bool,
}

/// Options of setup and update.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    common: SchemaArgs,
    /// Stop at this version (default: the newest embedded one)
    #[arg(long, value_name = "VERSION")]
    target: Option<String>,
    /// Print the statements that would run; write nothing
    #[arg(long)]
    dry_run: bool,
}

/// The schema subcommands.
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Create the version tables and apply every version (safe to re-run)
    Setup(ApplyArgs),
    /// Apply the versions after the database's current one, in order
    Update(ApplyArgs),
    /// Show the database's schema version, the newest embedded one, and a half-applied one
    Version(SchemaArgs),
    /// Compare the live schema with the embedded files; exit 1 and list the drift if any
    Verify(SchemaArgs),
    /// Create the database the URL names (a no-op when it exists)
    CreateDatabase(DatabaseArgs),
    /// Drop the database the URL names (needs --force)
    DropDatabase(DropDatabaseArgs),
}

/// Options of create-database.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Print a JSON document instead of text
    #[arg(long)]
    json: bool,
}

/// Options of drop-database.
#[derive(Debug, Clone, Args)]
pub struct DropDatabaseArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Really drop it
    #[arg(long)]
    force: bool,
    /// Print a JSON document instead of text
    #[arg(long)]
    json: bool,
}

/// A URL with its password replaced, for printing.
fn redact_url(url: &str) -> String {
    durastore::factory::redact_url(url)
}

fn role(set: &str) -> StoreRole {
    if set == SET_VISIBILITY {
        StoreRole::Visibility
    } else {
        StoreRole::Default
    }
}

async fn target(a: &SchemaArgs, mode: SchemaOpen) -> Result<(String, SchemaTarget), CliError> {
    let set = match &a.set {
        Some(s) => s.clone(),
        None => {
            let url = resolve_url(&a.target, StoreRole::Default)?;
            let sets = durastore::factory::schema_sets(&url)?;
            if sets.contains(&SET_MAIN) {
                SET_MAIN.to_string()
            } else {
                sets.first().copied().unwrap_or(SET_MAIN).to_string()
            }
        }
    };
    let url = resolve_url(&a.target, role(&set))?;
    let t = open_schema(&url, &set, mode).await?;
    // The URL is only shown from here on: never print a password.
    Ok((redact_url(&url), t))
}

/// Runs a schema subcommand.
pub async fn run(cmd: SchemaCommand) -> CliResult {
    match cmd {
        SchemaCommand::Setup(a) => apply(a, true).await,
        SchemaCommand::Update(a) => apply(a, false).await,
        SchemaCommand::Version(a) => version(a).await,
        SchemaCommand::Verify(a) => verify(a).await,
        SchemaCommand::CreateDatabase(a) => {
            let url = resolve_url(&a.target, StoreRole::Default)?;
            let shown = redact_url(&url);
            let created = factory::create_database(&url).await?;
            if a.json {
                let outcome = match created {
                    Created::New => "created",
                    Created::Existed => "existed",
                    Created::BySchemaSetup => "by_schema_setup",
                };
                print_json(&serde_json::json!({
                    "url": shown,
                    "created": created == Created::New,
                    "existed": created == Created::Existed,
                    "outcome": outcome,
                }));
            } else {
                match created {
                    Created::New => outln!("created the database of {shown}"),
                    Created::Existed => outln!("the database of {shown} already exists"),
                    Created::BySchemaSetup => outln!(
                        "{shown} has no database apart from its schema: `durastore schema setup` \
                         creates it"
                    ),
                }
            }
            Ok(())
        }
        SchemaCommand::DropDatabase(a) => {
            let url = resolve_url(&a.target, StoreRole::Default)?;
            if !a.force {
                return Err(StoreError::invalid_argument(
                    "drop-database deletes every table and row: add --force",
                )
                .into());
            }
            factory::drop_database(&url).await?;
            if a.json {
                print_json(&serde_json::json!({ "url": redact_url(&url), "dropped": true }));
            } else {
                outln!("dropped the database of {}", redact_url(&url));
            }
            Ok(())
        }
    }
}

fn opt(v: &Option<Version>) -> String {
    v.as_ref()
        .map_or_else(|| "none".to_string(), ToString::to_string)
}

async fn apply(a: ApplyArgs, is_setup: bool) -> CliResult {
    let target_version = a.target.as_deref().map(Version::parse).transpose()?;
    let mode = if a.dry_run {
        SchemaOpen::EmptyIfMissing
    } else if is_setup {
        SchemaOpen::Create
    } else {
        SchemaOpen::MustExist
    };
    let (url, t) = target(&a.common, mode).await?;
    let opts = ApplyOptions {
        target: target_version,
        dry_run: a.dry_run,
    };
    let report = if is_setup {
        schema::setup(&t.set, t.driver.as_ref(), &opts).await?
    } else {
        schema::update(&t.set, t.driver.as_ref(), &opts).await?
    };
    if a.common.json {
        let mut v = to_json(&report);
        v["up_to_date"] = serde_json::Value::Bool(report.up_to_date());
        v["url"] = serde_json::Value::String(url);
        print_json(&v);
    } else if a.dry_run {
        print_dry_run(&url, &report);
    } else {
        print_applied(&report);
    }
    Ok(())
}

fn print_dry_run(url: &str, r: &ApplyReport) {
    if r.up_to_date() {
        outln!(
            "-- dry run: the {} schema at {url} is already up to date at {}; nothing would run",
            r.set,
            opt(&r.from)
        );
        return;
    }
    outln!(
        "-- dry run on {url}: {} schema from {} to {}; nothing was written",
        r.set,
        opt(&r.from),
        opt(&r.to)
    );
    if !r.version_table_statements.is_empty() {
        outln!("\n-- version tables");
        for s in &r.version_table_statements {
            outln!("{s};");
        }
    }
    for v in &r.applied {
        outln!(
            "\n-- version {}{}: {}",
            v.version,
            if v.reapplied {
                " (half-applied before; re-applied)"
            } else {
                ""
            },
            v.description
        );
        for s in &v.statements {
            outln!("{s};");
        }
        for step in &v.data_steps {
            outln!("-- data step (run by durastore, not SQL): {step}");
        }
        outln!(
            "-- then: schema_version.curr_version = {}, schema_update_history row with checksum {}",
            v.version,
            v.checksum
        );
    }
}

fn print_applied(r: &ApplyReport) {
    if r.up_to_date() {
        outln!("{} schema is already up to date at {}", r.set, opt(&r.from));
        return;
    }
    if !r.version_table_statements.is_empty() {
        outln!("created the version tables");
    }
    for v in &r.applied {
        let extra = if v.already_applied.is_empty() {
            String::new()
        } else {
            format!(", {} already present", v.already_applied.len())
        };
        outln!(
            "applied {} schema {}{} ({} statements{extra}): {}",
            r.set,
            v.version,
            if v.reapplied { " again" } else { "" },
            v.statements.len(),
            v.description
        );
        for report in &v.data_step_reports {
            outln!("  data step {report}");
        }
    }
    outln!("{} schema is now at {}", r.set, opt(&r.to));
}

async fn version(a: SchemaArgs) -> CliResult {
    let (url, t) = target(&a, SchemaOpen::MustExist).await?;
    let st = schema::status(&t.set, t.driver.as_ref()).await?;
    if a.json {
        let mut v = to_json(&st);
        v["url"] = serde_json::Value::String(url);
        // `dirty` answers the question the text answers (yes/no); the half-applied version, if
        // any, is `dirty_version`.
        v["dirty_version"] = v["dirty"].take();
        v["dirty"] = serde_json::Value::Bool(st.dirty.is_some());
        print_json(&v);
        return Ok(());
    }
    let current = match &st.current {
        None => "not set up (run `durastore schema setup`)".to_string(),
        Some(c) if st.newer_than_binary => format!(
            "{c} (newer than this binary's {}; upgrade durastore)",
            st.latest
        ),
        Some(c) => c.to_string(),
    };
    outln!("database:        {url}");
    outln!("schema set:      {} ({})", st.set, st.backend);
    outln!("current version: {current}");
    outln!("latest version:  {}", st.latest);
    outln!("min compatible:  {}", opt(&st.min_compatible));
    outln!(
        "dirty:           {}",
        st.dirty.as_ref().map_or_else(
            || "no".to_string(),
            |d| format!("{d} was left half-applied; run `durastore schema update`")
        )
    );
    outln!(
        "pending:         {}",
        if st.pending.is_empty() {
            "none".to_string()
        } else {
            st.pending
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    Ok(())
}

async fn verify(a: SchemaArgs) -> CliResult {
    let (url, t) = target(&a, SchemaOpen::MustExist).await?;
    let scratch = t.scratch().await?;
    let rep = schema::verify(&t.set, t.driver.as_ref(), scratch.as_ref()).await;
    // The scratch database goes away whether or not verify succeeded.
    let disposed = scratch.dispose().await;
    let rep = rep?;
    disposed?;
    if a.json {
        let mut v = to_json(&rep);
        v["clean"] = serde_json::Value::Bool(rep.is_clean());
        v["url"] = serde_json::Value::String(url);
        print_json(&v);
    } else {
        if rep.is_clean() {
            outln!(
                "{} schema {} at {url}: no drift",
                rep.set,
                opt(&rep.version)
            );
        } else {
            outln!(
                "{} schema {} at {url}: {} difference{} from the expected schema:",
                rep.set,
                opt(&rep.version),
                rep.drift.len(),
                if rep.drift.len() == 1 { "" } else { "s" }
            );
            for d in &rep.drift {
                outln!("  {d}");
            }
        }
        for n in &rep.notes {
            outln!("note: {n}");
        }
    }
    if rep.is_clean() {
        Ok(())
    } else {
        Err(CliError::CheckFailed)
    }
}
