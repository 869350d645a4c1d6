//! `lore read --sql "SELECT …" [--db PATH] [--json]`: one read-only query (src/readsql.rs,
//! docs/database.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use lore::readsql::{self, Cell, Out};

use super::Ctx;
use super::output::DIM;

#[derive(Args)]
pub struct ReadArgs {
    /// One query: SELECT, WITH, VALUES, or a PRAGMA that reads. Anything that writes is refused.
    #[arg(long, value_name = "SQL")]
    sql: String,
    /// The SQLite database to read (default: lore.db).
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    #[command(flatten)]
    json: crate::cli::output::JsonArg,
}

pub fn run(ctx: &Ctx, args: ReadArgs) -> anyhow::Result<ExitCode> {
    let path = match &args.db {
        Some(p) => p.clone(),
        None => {
            let p = ctx.home.db_path();
            if !p.exists() {
                anyhow::bail!(
                    "no lore.db at {}: nothing has been imported yet; run 'lore import', or give a database with --db",
                    p.display()
                );
            }
            p
        }
    };
    let mut out = anstream::stdout().lock();
    if args.json.json {
        // Streamed: one object per row, whatever the number of rows.
        let mut names = Vec::new();
        let mut first = true;
        readsql::query::<anyhow::Error>(&path, &args.sql, |o| {
            match o {
                Out::Columns(c) => {
                    names = c.to_vec();
                    write!(
                        out,
                        "{{\n  \"columns\": {},\n  \"rows\": [",
                        serde_json::Value::from(names.clone())
                    )?;
                }
                Out::Row(row) => {
                    let obj: serde_json::Map<String, serde_json::Value> = names
                        .iter()
                        .cloned()
                        .zip(row.iter().map(Cell::to_json))
                        .collect();
                    let sep = if first { "" } else { "," };
                    write!(out, "{sep}\n    {}", serde_json::Value::Object(obj))?;
                    first = false;
                }
            }
            Ok(())
        })?;
        writeln!(out, "{}]\n}}", if first { "" } else { "\n  " })?;
        return Ok(ExitCode::SUCCESS);
    }
    // Text: tab-separated, a header line first (dimmed on a terminal); NULL is empty.
    readsql::query::<anyhow::Error>(&path, &args.sql, |o| {
        match o {
            Out::Columns(c) => writeln!(out, "{DIM}{}{DIM:#}", c.join("\t"))?,
            Out::Row(row) => {
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| c.to_text().replace(['\t', '\n', '\r'], " "))
                    .collect();
                writeln!(out, "{}", cells.join("\t"))?;
            }
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
