//! `lore migrate --from varalys [PATH] [--json]`: bring another tool's database into lore.db
//! as one revertible commit, leaving the source untouched. Spec: docs/migrate.md.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::json;

use super::Ctx;
use super::output::{DIM, WARN, print_json};

#[derive(Args)]
pub struct MigrateArgs {
    /// The tool whose database to read.
    #[arg(long, value_name = "TOOL")]
    from: From,
    /// Its database; default ~/.lore/lore.db.
    path: Option<PathBuf>,
    #[command(flatten)]
    json: crate::cli::output::JsonArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum From {
    /// varalys/lore (another session-capture tool named Lore).
    Varalys,
}

pub fn run(ctx: &Ctx, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let From::Varalys = args.from;
    let path = match args.path {
        Some(p) => p,
        None => match &ctx.user_home {
            Some(h) => h.join(".lore").join("lore.db"),
            None => anyhow::bail!("HOME is not set; give the path of varalys's lore.db"),
        },
    };
    let own = ctx.home.db_path();
    let same = match (std::fs::canonicalize(&path), std::fs::canonicalize(&own)) {
        (Ok(a), Ok(b)) => a == b,
        _ => path == own,
    };
    if same {
        anyhow::bail!(
            "{} is where lore keeps its own database (LORE_HOME); set LORE_HOME to another folder, then run 'lore migrate --from varalys {}'",
            path.display(),
            path.display()
        );
    }
    // Check the source before creating anything in LORE_HOME.
    lore::migrate_varalys::check(&path)?;
    let mut store = ctx.home.open_db()?;
    let machine_id = ctx.home.machine_id()?;
    let report = lore::migrate_varalys::migrate(&mut store, &path, &machine_id)?;

    if args.json.json {
        print_json(&json!({
            "source": path,
            "commit_id": report.commit,
            "new_session_count": report.sessions_new,
            "merged_session_count": report.sessions_merged,
            "unchanged_session_count": report.sessions_unchanged,
            "message_count": report.messages,
            "tag_count": report.tags,
            "annotation_count": report.annotations,
            "summary_count": report.summaries,
            "link_count": report.links,
            "not_carried": report.not_carried,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = anstream::stdout().lock();
    writeln!(
        out,
        "Migrated from {}: {} new sessions, {} merged, {} already here; {} messages, {} tags, {} annotations, {} summaries (as annotations), {} links.",
        path.display(),
        report.sessions_new,
        report.sessions_merged,
        report.sessions_unchanged,
        report.messages,
        report.tags,
        report.annotations,
        report.summaries,
        report.links
    )?;
    match &report.commit {
        Some(c) => writeln!(
            out,
            "{DIM}Commit {c}; undo it with 'lore revert {c}'. The source was not changed.{DIM:#}"
        )?,
        None => writeln!(out, "Nothing to change: lore holds all of it already.")?,
    }
    let mut err = anstream::stderr();
    for n in &report.not_carried {
        writeln!(
            err,
            "{WARN}not carried:{WARN:#} {} {} ({})",
            n.count, n.what, n.why
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
