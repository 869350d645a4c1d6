//! `lore reflog [-n N] [--db PATH] [--json]`: every move of `main`.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use lore::versioning::log;

use super::Ctx;
use super::db::{DbArg, Mode};
use super::output::{DIM, ID, JsonArg, LimitArg, iso, local_time, print_json};

#[derive(Args)]
pub struct ReflogArgs {
    #[command(flatten)]
    limit: LimitArg<20>,
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    json: JsonArg,
}

pub fn run(ctx: &Ctx, args: ReflogArgs) -> anyhow::Result<ExitCode> {
    let conn = args.db.open(ctx, Mode::Read)?;
    let limit = args.limit.or_all();
    let mut entries = log::reflog(&conn, limit.saturating_add(1))?;
    let more = entries.len() > limit;
    entries.truncate(limit);
    if args.json.json {
        let v: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| serde_json::json!({"old_id": e.old_id, "new_id": e.new_id, "reason": e.reason, "created_at": iso(Some(e.created_at))}))
            .collect();
        print_json(&serde_json::json!({"entries": v, "more": more}))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = anstream::stdout().lock();
    for (i, e) in entries.iter().enumerate() {
        writeln!(
            out,
            "{ID}{}{ID:#} main@{{{i}}}: {} {DIM}(from {}, {}){DIM:#}",
            log::short(&e.new_id),
            e.reason,
            e.old_id.as_deref().map(log::short).unwrap_or("nothing"),
            local_time(Some(e.created_at))
        )?;
    }
    if more {
        writeln!(
            out,
            "{DIM}… more entries; use -n N to see more, -n 0 for all{DIM:#}"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
