//! `lore show-commit ID [--db PATH] [--json]`: a commit and its effects.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use lore::versioning::{log, value};

use super::Ctx;
use super::db::{DbArg, Mode};
use super::output::{BOLD, DIM, iso, local_time};

#[derive(Args)]
pub struct ShowCommitArgs {
    /// The commit id, or any unique beginning of it.
    id: String,
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    json: super::output::JsonArg,
}

pub fn run(ctx: &Ctx, args: ShowCommitArgs) -> anyhow::Result<ExitCode> {
    let conn = args.db.open(ctx, Mode::Read)?;
    let c = log::resolve(&conn, &args.id)?;
    let schema = log::schema_effects(&conn, c.seq)?;
    let mut out = std::io::stdout().lock();
    if args.json.json {
        // Streamed: a commit may hold many effects.
        let mut head = serde_json::to_value(&c)?;
        // docs/json.md: a lore.db commit's own id is `id`, the one it reverts `reverts_id`.
        if let Some(obj) = head.as_object_mut() {
            let id = obj.remove("commit_id");
            let reverts = obj.remove("reverts_commit_id");
            obj.insert("id".into(), id.unwrap_or_default());
            obj.insert("reverts_id".into(), reverts.unwrap_or_default());
        }
        head["created_at"] = iso(Some(c.created_at));
        head["operations"] = serde_json::from_str(&c.operations)?;
        head["schema_effects"] = schema
            .iter()
            .map(|s| json!({"table": s.table, "idx": s.idx, "before": s.before, "after": s.after, "rows_kept": s.rows_kept}))
            .collect();
        let head = serde_json::to_string_pretty(&head)?;
        write!(
            out,
            "{},\n  \"row_effects\": [",
            head.trim_end().trim_end_matches('}').trim_end()
        )?;
        let mut first = true;
        log::for_each_row_effect(&conn, c.seq, false, |e| {
            let v = json!({
                "idx": e.idx, "table": e.table, "kind": e.kind,
                "key": e.key.iter().map(value::to_json).collect::<Vec<_>>(),
                "before": e.before.as_ref().map(value::row_to_json),
                "after": e.after.as_ref().map(value::row_to_json),
            });
            write!(out, "{}\n    {v}", if first { "" } else { "," })?;
            first = false;
            Ok(())
        })?;
        writeln!(out, "{}]\n}}", if first { "" } else { "\n  " })?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = anstream::stdout().lock();
    writeln!(out, "{BOLD}commit {}{BOLD:#}", c.commit_id)?;
    writeln!(
        out,
        "{DIM}Parent{DIM:#}    {}",
        c.parent_id.as_deref().unwrap_or("-")
    )?;
    writeln!(
        out,
        "{DIM}Kind{DIM:#}      {}{}",
        c.kind,
        c.reverts_commit_id
            .as_deref()
            .map(|r| format!(" of {r}"))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "{DIM}Date{DIM:#}      {}",
        local_time(Some(c.created_at))
    )?;
    writeln!(out, "{DIM}State{DIM:#}     {}", c.state_hash_after)?;
    writeln!(
        out,
        "{DIM}Revertible{DIM:#} {}",
        if c.revertible { "yes" } else { "no" }
    )?;
    writeln!(out, "\n    {}\n", c.message)?;
    for s in &schema {
        let what = match (&s.before, &s.after) {
            (None, Some(_)) => "created",
            (Some(_), None) => "dropped",
            _ => "altered",
        };
        writeln!(out, "table {} {what}", s.table)?;
    }
    log::for_each_row_effect(&conn, c.seq, false, |e| {
        let key: Vec<String> = e
            .key
            .iter()
            .map(|v| value::to_json(v).to_string())
            .collect();
        let row = e
            .after
            .as_ref()
            .or(e.before.as_ref())
            .map(value::row_to_json)
            .unwrap_or_default();
        let mut text = row.to_string();
        if text.len() > 120 {
            text.truncate(
                text.char_indices()
                    .take_while(|(i, _)| *i < 117)
                    .last()
                    .map_or(0, |(i, c)| i + c.len_utf8()),
            );
            text.push('…');
        }
        writeln!(
            out,
            "{:<6} {} [{}] {DIM}{text}{DIM:#}",
            e.kind,
            e.table,
            key.join(", ")
        )?;
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
