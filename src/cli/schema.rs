//! `lore schema [--db PATH] [--json]`: what an agent reads before writing a plan.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use lore::versioning::{log, schema, tx};

use super::Ctx;
use super::db::{DbArg, Mode};
use super::output::{BOLD, DIM, print_json};

#[derive(Args)]
pub struct SchemaArgs {
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    json: crate::cli::output::JsonArg,
}

pub fn run(ctx: &Ctx, args: SchemaArgs) -> anyhow::Result<ExitCode> {
    let conn = match &args.db.db {
        // A database `lore apply` will create: its schema is an empty database's, whose hash a
        // first plan (lore-sh's `baseSchemaHash`) needs. Nothing is created here.
        Some(path) if !path.exists() => {
            eprintln!(
                "note: {} does not exist yet; 'lore apply --db {}' creates it. The schema below \
                 is an empty database's.",
                path.display(),
                path.display()
            );
            rusqlite::Connection::open_in_memory()?
        }
        _ => args.db.open(ctx, Mode::Read)?,
    };
    let objects = schema::schema_objects(&conn)?;
    let hash = schema::schema_hash(&objects);
    let head = if log::is_versioned(&conn)? {
        tx::head(&conn)?
    } else {
        None
    };
    let mut tables = Vec::new();
    for name in schema::user_tables(&conn)? {
        if let Some(t) = schema::table(&conn, &name)? {
            tables.push(t);
        }
    }
    if args.json.json {
        let v: Vec<serde_json::Value> = tables
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "primary_key": t.key,
                    "columns": t.columns.iter().map(|c| json!({
                        "name": c.name, "type": c.decl_type, "not_null": c.not_null, "primary_key": c.pk > 0,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        print_json(&json!({"schema_hash": hash, "head_id": head, "tables": v}))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = anstream::stdout().lock();
    writeln!(out, "{DIM}schema hash{DIM:#} {hash}")?;
    writeln!(
        out,
        "{DIM}head{DIM:#}        {}",
        head.as_deref().unwrap_or("(no commits)")
    )?;
    for t in &tables {
        writeln!(
            out,
            "\n{BOLD}{}{BOLD:#}{}",
            t.name,
            if t.has_key() {
                String::new()
            } else {
                format!(" {DIM}(no primary key: plans cannot change it){DIM:#}")
            }
        )?;
        for c in &t.columns {
            let mut flags = Vec::new();
            if c.pk > 0 {
                flags.push("primary key".to_owned());
            }
            if c.not_null {
                flags.push("not null".to_owned());
            }
            writeln!(
                out,
                "  {:<24} {:<10} {DIM}{}{DIM:#}",
                c.name,
                c.decl_type,
                flags.join(", ")
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
