//! `lore plan [-f FILE|-] [--db PATH] [--json]`: what a plan would do, without writing.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use lore::versioning::{apply, log, plan::Plan, value};

use super::Ctx;
use super::db::{DbArg, Mode, read_plan};
use super::output::print_json;

#[derive(Args)]
pub struct PlanArgs {
    /// The plan file; `-` or nothing reads standard input.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    json: crate::cli::output::JsonArg,
}

pub fn run(ctx: &Ctx, args: PlanArgs) -> anyhow::Result<ExitCode> {
    let plan = Plan::parse(&read_plan(args.file.as_ref())?)?;
    let mut conn = args.db.open(ctx, Mode::Write)?;
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| -> anyhow::Result<(serde_json::Value, Vec<String>)> {
        let counts = apply::preview(&mut conn, &plan)?;
        // The predicted commit exists only inside this transaction: read its effects, then
        // roll everything back.
        let seq: i64 =
            conn.query_row("SELECT coalesce(max(seq), 0) FROM _lore_commit", [], |r| {
                r.get(0)
            })?;
        let mut effects = Vec::new();
        let mut lines = Vec::new();
        log::for_each_row_effect(&conn, seq, false, |e| {
            let key: Vec<serde_json::Value> = e.key.iter().map(value::to_json).collect();
            lines.push(format!(
                "{:<6} {} {}",
                e.kind,
                e.table,
                serde_json::Value::Array(key.clone())
            ));
            effects.push(json!({
                "table": e.table, "key": key, "kind": e.kind,
                "before": e.before.as_ref().map(value::row_to_json),
                "after": e.after.as_ref().map(value::row_to_json),
            }));
            Ok(())
        })?;
        let schema: Vec<serde_json::Value> = log::schema_effects(&conn, seq)?
            .iter()
            .map(|s| {
                let what = match (&s.before, &s.after) {
                    (None, Some(_)) => "create",
                    (Some(_), None) => "drop",
                    _ => "alter",
                };
                lines.push(format!("{what:<6} table {}", s.table));
                json!({"table": s.table, "change": what})
            })
            .collect();
        Ok((
            json!({"counts": counts, "row_effects": effects, "schema_effects": schema}),
            lines,
        ))
    })();
    let _ = conn.execute_batch("ROLLBACK");
    let (report, lines) = result?;
    if args.json.json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = anstream::stdout().lock();
    let c = &report["counts"];
    writeln!(
        out,
        "Would write: {} inserted, {} updated, {} deleted, {} table(s) changed. Nothing was written.",
        c["inserted"], c["updated"], c["deleted"], c["schema"]
    )?;
    for l in lines {
        writeln!(out, "  {l}")?;
    }
    Ok(ExitCode::SUCCESS)
}
