//! `lore reflog [-n N] [--db PATH] [--json]`: every move of `main`.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use lore::versioning::log;

use super::Ctx;
use super::db::{DbArg, Mode};
use super::output::{DIM, ID, iso, local_time, print_json};

#[derive(Args)]
pub struct ReflogArgs {
    /// Show at most N entries.
    #[arg(short = 'n', long, default_value_t = 20, value_name = "N")]
    limit: usize,
    #[command(flatten)]
    db: DbArg,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: ReflogArgs) -> anyhow::Result<ExitCode> {
    let conn = args.db.open(ctx, Mode::Read)?;
    let entries = log::reflog(&conn, args.limit)?;
    if args.json {
        let v: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| serde_json::json!({"old_id": e.old_id, "new_id": e.new_id, "reason": e.reason, "created_at": iso(Some(e.created_at))}))
            .collect();
        print_json(&serde_json::Value::Array(v))?;
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
    Ok(ExitCode::SUCCESS)
}
