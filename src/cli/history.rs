//! `lore history [--verbose] [-n N] [--db PATH] [--json]`

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use lore::versioning::log;

use super::Ctx;
use super::db::{DbArg, Mode};
use super::output::{DIM, ID, JsonArg, LimitArg, local_time, print_json};

#[derive(Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    limit: LimitArg<20>,
    /// Also show the parent, the reverted commit, the state hash and whether it can be reverted.
    #[arg(short, long)]
    verbose: bool,
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    json: JsonArg,
}

pub fn run(ctx: &Ctx, args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let conn = args.db.open(ctx, Mode::Read)?;
    let limit = args.limit.or_all();
    let mut commits = log::history(&conn, limit.saturating_add(1))?;
    let more = commits.len() > limit;
    commits.truncate(limit);
    if args.json.json {
        let v: Vec<serde_json::Value> = commits
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.commit_id, "seq": c.seq, "parent_id": c.parent_id,
                    "kind": c.kind, "message": c.message,
                    "created_at": super::output::iso(Some(c.created_at)),
                    "state_hash_after": c.state_hash_after, "revertible": c.revertible,
                    "reverts_id": c.reverts_commit_id,
                })
            })
            .collect();
        print_json(&serde_json::json!({"commits": v, "more": more}))?;
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
    if more {
        writeln!(
            out,
            "{DIM}… more commits; use -n N to see more, -n 0 for all{DIM:#}"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
