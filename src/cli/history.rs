//! `lore history [--verbose] [-n N] [--db PATH] [--json]`

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use lore::versioning::log;

use super::Ctx;
use super::db::{DbArg, Mode};
use super::output::{DIM, ID, local_time, print_json};

#[derive(Args)]
pub struct HistoryArgs {
    /// Show at most N commits.
    #[arg(short = 'n', long, default_value_t = 20, value_name = "N")]
    limit: usize,
    /// Also show the parent, the reverted commit, the state hash and whether it can be reverted.
    #[arg(short, long)]
    verbose: bool,
    #[command(flatten)]
    db: DbArg,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let conn = args.db.open(ctx, Mode::Read)?;
    let commits = log::history(&conn, args.limit)?;
    if args.json {
        let v: Vec<serde_json::Value> = commits
            .iter()
            .map(|c| {
                serde_json::json!({
                    "commit_id": c.commit_id, "seq": c.seq, "parent_id": c.parent_id,
                    "kind": c.kind, "message": c.message,
                    "created_at": super::output::iso(Some(c.created_at)),
                    "state_hash_after": c.state_hash_after, "revertible": c.revertible,
                    "reverts_commit_id": c.reverts_commit_id,
                })
            })
            .collect();
        print_json(&serde_json::Value::Array(v))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = anstream::stdout().lock();
    if commits.is_empty() {
        writeln!(out, "No commits yet.")?;
    }
    for c in &commits {
        writeln!(
            out,
            "{ID}{}{ID:#} {DIM}{} {:<6}{DIM:#} {}",
            log::short(&c.commit_id),
            local_time(Some(c.created_at)),
            c.kind,
            c.message
        )?;
        if args.verbose {
            writeln!(
                out,
                "    {DIM}parents {}  reverts {}  state {}  {}{DIM:#}",
                usize::from(c.parent_id.is_some()),
                c.reverts_commit_id
                    .as_deref()
                    .map(log::short)
                    .unwrap_or("-"),
                log::short(&c.state_hash_after),
                if c.revertible {
                    "revertible"
                } else {
                    "not revertible"
                }
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
