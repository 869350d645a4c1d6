//! `lore sessions [filters] [-n N] [--json]`

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use lore::db::SessionRow;

use super::output::{DIM, ID, JsonArg, LimitArg, fit, local_time, print_json, short_id};
use super::{Ctx, FilterArgs};

#[derive(Args)]
pub struct SessionsArgs {
    #[command(flatten)]
    filter: FilterArgs,
    #[command(flatten)]
    limit: LimitArg<50>,
    #[command(flatten)]
    json: JsonArg,
}

pub fn run(ctx: &Ctx, args: SessionsArgs) -> anyhow::Result<ExitCode> {
    let mut filter = args.filter.to_filter()?;
    let Some(store) = ctx.home.open_db_readable()? else {
        if args.json.json {
            print_json(&lore::answer::sessions_json(&[], false))?;
        } else {
            println!("No sessions yet. Import some with: lore import");
        }
        return Ok(ExitCode::SUCCESS);
    };
    args.filter.add_identity(&mut filter, &store)?;
    let limit = args.limit.or_all();
    let mut rows = store.sessions(&filter, limit + 1)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    if args.json.json {
        print_json(&lore::answer::sessions_json(&rows, more))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = anstream::stdout().lock();
    if rows.is_empty() {
        writeln!(out, "No sessions match.")?;
        return Ok(ExitCode::SUCCESS);
    }
    // The id column is as wide as its widest id (a sub-agent's is longer), so columns line up.
    let ids: Vec<String> = rows
        .iter()
        .map(|r| short_id(&r.id, r.parent_id.as_deref()))
        .collect();
    let w = ids
        .iter()
        .map(|i| i.chars().count())
        .max()
        .unwrap_or(0)
        .max(14);
    writeln!(
        out,
        "{DIM}{:<w$} {:<11} {:<16} {:>5}  {:<14} TITLE{DIM:#}",
        "ID", "TOOL", "UPDATED", "MSGS", "BRANCH"
    )?;
    for (r, id) in rows.iter().zip(&ids) {
        writeln!(
            out,
            "{ID}{:<w$}{ID:#} {:<11} {:<16} {:>5}  {:<14} {}",
            id,
            r.tool,
            local_time(r.updated_at.or(r.started_at)),
            r.message_count,
            fit(r.git_branch.as_deref().unwrap_or("-"), 14),
            fit(&shown_title(r), 60),
        )?;
    }
    if more {
        writeln!(
            out,
            "{DIM}… more sessions match; use -n N to see more, -n 0 for all{DIM:#}"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The title a listing shows: the session's, or a placeholder saying why there is none (a
/// session with no message at all: an interrupted start, a sub-agent that never ran). JSON
/// keeps `null`.
fn shown_title(r: &SessionRow) -> String {
    match r.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ if r.message_count == 0 => "(no messages)".to_owned(),
        _ => "(untitled)".to_owned(),
    }
}

/// A session as JSON (shared with `show --json`).
pub fn session_json(r: &SessionRow) -> serde_json::Value {
    lore::answer::session(r)
}
