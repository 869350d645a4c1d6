//! `lore verify [--full] [--db PATH] [--json]`

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use lore::versioning::log;

use super::Ctx;
use super::db::{DbArg, Mode};
use super::output::{WARN, print_json};

#[derive(Args)]
pub struct VerifyArgs {
    /// Also recompute the state hash from every row, naming each table changed behind lore's back.
    #[arg(long)]
    full: bool,
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    json: crate::cli::output::JsonArg,
}

pub fn run(ctx: &Ctx, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let conn = args.db.open(ctx, Mode::Read)?;
    let report = log::verify(&conn, args.full)?;
    let code = if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if args.json.json {
        print_json(&serde_json::json!({
            "ok": report.ok(),
            "full": report.full,
            "commit_count": report.commits,
            "row_effect_count": report.row_effects,
            "head_id": report.head,
            "problems": report.problems,
            "drifted_tables": report.drifted_tables,
            "schema_drift": report.schema_drift,
        }))?;
        return Ok(code);
    }
    let mut out = anstream::stdout().lock();
    for p in &report.problems {
        writeln!(out, "{WARN}damaged:{WARN:#} {p}")?;
    }
    for t in &report.drifted_tables {
        writeln!(
            out,
            "{WARN}drift:{WARN:#} table '{t}' differs from what the history recorded (changed outside lore)"
        )?;
    }
    if report.schema_drift {
        writeln!(
            out,
            "{WARN}drift:{WARN:#} the schema differs from what the history recorded"
        )?;
    }
    if report.ok() {
        writeln!(
            out,
            "ok: {} commits and {} row effects verified{}",
            report.commits,
            report.row_effects,
            if args.full {
                "; the state matches the head's state hash"
            } else {
                ""
            }
        )?;
    }
    Ok(code)
}
