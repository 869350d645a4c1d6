//! `lore revert ID [--db PATH] [--json]`: undo a commit with a new one, or say why not.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use lore::versioning::{Error, log, revert};

use super::Ctx;
use super::db::{DbArg, Mode, in_transaction};
use super::output::{BOLD, WARN, print_json};

#[derive(Args)]
pub struct RevertArgs {
    /// The commit id, or any unique beginning of it.
    id: String,
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    json: super::output::JsonArg,
}

pub fn run(ctx: &Ctx, args: RevertArgs) -> anyhow::Result<ExitCode> {
    let mut conn = args.db.open(ctx, Mode::Update)?;
    let result = in_transaction(&mut conn, |c| Ok(revert::revert(c, &args.id)?));
    let err = match result {
        Ok(summary) => {
            if args.json.json {
                print_json(
                    &json!({"ok": true, "commit": super::output::db_commit_summary(&summary)}),
                )?;
            } else {
                println!("{}", summary.commit_id);
            }
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => e,
    };
    let Some(Error::Conflicts { commit, conflicts }) = err.downcast_ref::<Error>() else {
        return Err(err);
    };
    let mut groups: BTreeMap<&str, Vec<&revert::Conflict>> = BTreeMap::new();
    for c in conflicts {
        groups.entry(c.kind.as_str()).or_default().push(c);
    }
    if args.json.json {
        let grouped: serde_json::Map<String, serde_json::Value> = groups
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!({"count": v.len(), "conflicts": v})))
            .collect();
        print_json(&json!({
            "ok": false, "commit_id": commit, "conflict_count": conflicts.len(), "conflicts": grouped,
        }))?;
    } else {
        let mut out = anstream::stdout().lock();
        writeln!(
            out,
            "{WARN}Cannot revert {}{WARN:#}: {} conflict(s). Nothing was written.",
            log::short(commit),
            conflicts.len()
        )?;
        for (kind, list) in &groups {
            writeln!(out, "\n{BOLD}{kind}{BOLD:#} ({})", list.len())?;
            for c in list {
                let key = c
                    .key
                    .as_ref()
                    .map(|k| format!(" key {}", serde_json::Value::Array(k.clone())))
                    .unwrap_or_default();
                let later = if c.later_commits.is_empty() {
                    String::new()
                } else {
                    let ids: Vec<&str> = c.later_commits.iter().map(|s| log::short(s)).collect();
                    format!(" (later: {})", ids.join(", "))
                };
                writeln!(out, "  {}{key}: {}{later}", c.table, c.detail)?;
            }
        }
    }
    Ok(ExitCode::from(1))
}
