//! `lore sync [--global] [--remote NAME] [--quiet | --json]`: fetch, merge into lore.db, export, push.

use std::process::ExitCode;

use anyhow::bail;
use zeroize::Zeroizing;

use super::{Place, plural};
use crate::cli::Ctx;

pub(super) fn run(ctx: &Ctx, place: &Place, quiet: bool, json: bool) -> anyhow::Result<ExitCode> {
    let (local, remote) = (&place.local, place.remote.as_str());
    // Set up here: a local store, or a remote store joined with `lore sync setup`.
    if local.header()?.is_none() && !lore::sync::joined(local, remote) {
        bail!(
            "{} has no lore store yet: run '{}' first",
            place.what(),
            place.command("setup")
        );
    }
    let mut db = ctx.home.open_db()?;
    let git = place.git();
    let redactor = ctx.redactor()?;
    let mut cycle = lore::sync::cycle::Sync {
        db: &mut db,
        local,
        git: &git,
        remote,
        scope: place.scope.clone(),
        redactor: &redactor,
        keys: ctx.key_store()?,
        // Read from the environment, never from argv.
        passphrase: std::env::var("LORE_PASSPHRASE")
            .ok()
            .filter(|p| !p.is_empty())
            .map(Zeroizing::new),
        machine_id: ctx.home.machine_id()?,
        machine_secret: ctx.home.machine_secret()?,
    };
    let report = cycle.run()?;
    if std::env::var_os("LORE_TRACE").is_some_and(|v| v == "1") {
        for (step, took) in &report.steps {
            eprintln!("lore sync: {step}: {:.1} ms", took.as_secs_f64() * 1e3);
        }
        for line in &report.push_trace {
            eprintln!(
                "lore sync: push: {}",
                line.trim_start_matches("git-remote-lore: ")
            );
        }
    }
    if json {
        crate::cli::output::print_json(&serde_json::json!({
            "remote": remote,
            "new_session_count": report.added,
            "updated_session_count": report.updated,
            "deleted_session_count": report.deleted,
            "pushed_session_count": report.pushed,
            "pushed_commit": report.pushed_commit,
            "kept_session_ids": report.kept,
            "restored_session_ids": report.restored,
        }))?;
    } else if !quiet {
        let pulled = report.added + report.updated + report.deleted;
        println!(
            "Pulled {pulled} session{} from {remote} ({} new, {} updated, {} deleted); pushed {} session{}.",
            plural(pulled),
            report.added,
            report.updated,
            report.deleted,
            report.pushed,
            plural(report.pushed),
        );
        crate::cli::hooks::warn_if_unguarded();
    }
    if !report.kept.is_empty() {
        eprintln!(
            "note: someone deleted {} of your session{} from {remote}'s store ({}); your copy stays here and is not shared again",
            report.kept.len(),
            plural(report.kept.len()),
            report.kept.join(", ")
        );
    }
    if !report.restored.is_empty() {
        // Said even with --quiet: the remote lost sessions that nobody deleted.
        eprintln!(
            "warning: {remote}'s store no longer held {} session{} that nobody deleted ({}); they were written again from this machine",
            report.restored.len(),
            plural(report.restored.len()),
            report.restored.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
