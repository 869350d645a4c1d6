//! `lore status [--json]`

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::Ctx;
use super::output::{DIM, WARN, ago, iso, print_json};

#[derive(Args)]
pub struct StatusArgs {
    #[command(flatten)]
    json: crate::cli::output::JsonArg,
}

pub fn run(ctx: &Ctx, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let home = &ctx.home;
    let db = home.db_path();
    let store = home.open_db_readable()?;
    let stats = match &store {
        Some(s) => Some(s.stats()?),
        None => None,
    };
    let schema = match &store {
        Some(s) => Some(s.schema_version()?),
        None => None,
    };
    let size = std::fs::metadata(&db).map(|m| m.len()).ok();
    let machine = std::fs::read_to_string(home.machine_id_path())
        .ok()
        .map(|s| s.trim().to_owned());
    let gaps = gaps(ctx, store.as_ref());

    if args.json.json {
        let s = stats.unwrap_or_default();
        print_json(&json!({
            "home": home.root(),
            "database": db,
            "database_bytes": size,
            "schema_version": schema,
            "machine_id": machine,
            "session_count": s.sessions,
            "sessions_by_tool": s.by_tool.iter().map(|(t, n)| (t.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "message_count": s.messages,
            "link_count": s.links,
            "deleted_session_count": s.tombstones,
            "transcript_file_count": s.sources,
            "oldest_session_at": iso(s.oldest),
            "newest_session_at": iso(s.newest),
            "last_import_at": iso(s.last_import),
            "not_imported_count": gaps.as_ref().map(|g| g.not_imported),
            "deleted_soon_count": gaps.as_ref().map(|g| g.deleted_soon),
        }))?;
        return Ok(ExitCode::SUCCESS);
    }

    let mut out = anstream::stdout().lock();
    writeln!(out, "{DIM}Home{DIM:#}         {}", home.root().display())?;
    match (size, schema) {
        (Some(b), Some(v)) => writeln!(
            out,
            "{DIM}Database{DIM:#}     {} ({}, schema {v})",
            db.display(),
            human_bytes(b)
        )?,
        _ => writeln!(
            out,
            "{DIM}Database{DIM:#}     none yet (run 'lore import' to create it)"
        )?,
    }
    if let Some(m) = machine {
        writeln!(out, "{DIM}Machine{DIM:#}      {m}")?;
    }
    if let Some(g) = &gaps {
        for line in gap_lines(g) {
            writeln!(out, "{WARN}{line}{WARN:#}")?;
        }
    }
    let Some(s) = stats else {
        return Ok(ExitCode::SUCCESS);
    };
    let by_tool: Vec<String> = s.by_tool.iter().map(|(t, n)| format!("{t} {n}")).collect();
    if by_tool.is_empty() {
        writeln!(out, "{DIM}Sessions{DIM:#}     0")?;
    } else {
        writeln!(
            out,
            "{DIM}Sessions{DIM:#}     {} ({})",
            s.sessions,
            by_tool.join(", ")
        )?;
    }
    writeln!(out, "{DIM}Messages{DIM:#}     {}", s.messages)?;
    writeln!(out, "{DIM}Links{DIM:#}        {}", s.links)?;
    if s.tombstones > 0 {
        writeln!(out, "{DIM}Deleted{DIM:#}      {}", s.tombstones)?;
    }
    match s.last_import {
        Some(t) => writeln!(out, "{DIM}Last import{DIM:#}  {}", ago(t))?,
        None => writeln!(out, "{DIM}Last import{DIM:#}  never")?,
    }
    Ok(ExitCode::SUCCESS)
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// What is on disk and not in lore; `None` when it cannot be told (a broken config.toml).
pub(super) fn gaps(
    ctx: &Ctx,
    store: Option<&lore::db::Db>,
) -> Option<lore::agents::retention::Gaps> {
    let config = ctx.config().ok()?;
    let env = |k: &str| std::env::var(k).ok();
    let loc = lore::import::default_locations(&config, &env, ctx.user_home.as_deref());
    lore::agents::retention::gaps(store, &loc).ok()
}

/// The warnings for `gaps`, one a line; none when nothing is missing.
pub(super) fn gap_lines(g: &lore::agents::retention::Gaps) -> Vec<String> {
    let mut v = Vec::new();
    if g.not_imported > 0 {
        v.push(format!(
            "{} transcript{} on disk {} not in lore yet: run 'lore import' (or 'lore init' to capture sessions as they end)",
            g.not_imported,
            if g.not_imported == 1 { "" } else { "s" },
            if g.not_imported == 1 { "is" } else { "are" }
        ));
    }
    if g.deleted_soon > 0
        && let Some(r) = g.claude
    {
        v.push(format!(
            "{} of them will be deleted by Claude Code within {} days (cleanupPeriodDays {}{})",
            g.deleted_soon,
            lore::agents::retention::SOON_DAYS,
            r.days,
            if r.explicit { "" } else { ", its default" }
        ));
    }
    v
}
