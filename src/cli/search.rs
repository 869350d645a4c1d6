//! `lore search QUERY [filters] [-n N] [--json]`

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use lore::store::query::{HIT_END, HIT_START};

use super::output::{DIM, HIT, ID, fit, iso, local_time, print_json, short_id};
use super::{Ctx, FilterArgs};

#[derive(Args)]
pub struct SearchArgs {
    /// Words to find (all of them). FTS5 syntax works too: "exact phrase", prefix*, OR, NOT.
    #[arg(required = true, num_args = 1..)]
    query: Vec<String>,
    #[command(flatten)]
    filter: FilterArgs,
    /// Show at most N matching messages.
    #[arg(short = 'n', long, default_value_t = 20, value_name = "N")]
    limit: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let mut filter = args.filter.to_filter()?;
    let query = args.query.join(" ");
    let Some(store) = ctx.home.open_store_readable()? else {
        if args.json {
            print_json(&json!([]))?;
        } else {
            println!("No sessions yet. Import some with: lore import");
        }
        return Ok(ExitCode::SUCCESS);
    };
    args.filter.add_identity(&mut filter, &store)?;
    let hits = store.search(&query, &filter, args.limit.max(1))?;
    if args.json {
        let v: Vec<serde_json::Value> = hits
            .iter()
            .map(|h| {
                let (snippet, highlights) = split_highlights(&h.snippet);
                json!({
                    "session_id": h.session_id,
                    "tool": h.tool,
                    "title": h.title,
                    "cwd": h.cwd,
                    "ordinal": h.ordinal,
                    "role": h.role,
                    "kind": h.kind,
                    "timestamp": iso(h.timestamp),
                    "snippet": snippet,
                    "highlights": highlights,
                })
            })
            .collect();
        print_json(&serde_json::Value::Array(v))?;
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
            "{ID}{}{ID:#} {DIM}{} {} {}{DIM:#}  {}",
            short_id(&h.session_id, None),
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
    Ok(ExitCode::SUCCESS)
}

/// The snippet without its markers, and the matched spans as character offsets.
fn split_highlights(marked: &str) -> (String, Vec<[usize; 2]>) {
    let mut plain = String::with_capacity(marked.len());
    let mut spans = Vec::new();
    let mut start = None;
    let mut chars = 0usize;
    for c in marked.chars() {
        match c {
            HIT_START => start = Some(chars),
            HIT_END => {
                if let Some(s) = start.take() {
                    spans.push([s, chars]);
                }
            }
            _ => {
                plain.push(c);
                chars += 1;
            }
        }
    }
    (plain, spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_are_character_offsets() {
        let (p, h) = split_highlights("a \u{2}é\u{3} b \u{2}cd\u{3}");
        assert_eq!(p, "a é b cd");
        assert_eq!(h, vec![[2, 3], [6, 8]]);
    }
}
