//! `lore search QUERY [filters] [-n N] [--json]`
//!
//! Each hit's line gives the session's short id and the message's number (`#N`): `lore show ID
//! --around N` opens it there.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use lore::db::query::{HIT_END, HIT_START};

use super::output::{DIM, HIT, ID, JsonArg, LimitArg, fit, local_time, print_json, short_id};
use super::{Ctx, FilterArgs};

#[derive(Args)]
pub struct SearchArgs {
    /// Words to find (all of them). FTS5 syntax works too: "exact phrase", prefix*, OR, NOT.
    #[arg(required = true, num_args = 1..)]
    query: Vec<String>,
    #[command(flatten)]
    filter: FilterArgs,
    #[command(flatten)]
    limit: LimitArg<20>,
    #[command(flatten)]
    json: JsonArg,
}

pub fn run(ctx: &Ctx, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let mut filter = args.filter.to_filter()?;
    let query = args.query.join(" ");
    let Some(store) = ctx.home.open_db_readable()? else {
        if args.json.json {
            print_json(&lore::answer::hits_json(&query, &[], false))?;
        } else {
            println!("No sessions yet. Import some with: lore import");
        }
        return Ok(ExitCode::SUCCESS);
    };
    args.filter.add_identity(&mut filter, &store)?;
    let limit = args.limit.or_all();
    let mut hits = store.search(&query, &filter, limit.saturating_add(1))?;
    let more = hits.len() > limit;
    hits.truncate(limit);
    if args.json.json {
        print_json(&lore::answer::hits_json(&query, &hits, more))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = anstream::stdout().lock();
    if hits.is_empty() {
        writeln!(out, "No messages match '{query}'.")?;
        return Ok(ExitCode::SUCCESS);
    }
    for h in &hits {
        writeln!(
            out,
            "{ID}{}{ID:#} {DIM}#{} {} {} {}{DIM:#}  {}",
            // A hit in a sub-agent names the sub-agent, not its parent.
            short_id(&h.session_id, h.parent_id.as_deref()),
            h.ordinal,
            h.tool,
            local_time(h.timestamp),
            h.role,
            fit(h.title.as_deref().unwrap_or(""), 60)
        )?;
        let text = h
            .snippet
            .replace(['\n', '\r', '\t'], " ")
            .replace(HIT_START, &format!("{HIT}"))
            .replace(HIT_END, &format!("{HIT:#}"));
        writeln!(out, "    {text}")?;
    }
    if more {
        writeln!(
            out,
            "{DIM}… more messages match; use -n N to see more, -n 0 for all{DIM:#}"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
