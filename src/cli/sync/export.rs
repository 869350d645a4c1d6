//! `lore sync [--global] export [--all | IDS]`: write sessions from lore.db into the local
//! refs/lore/sessions, without the network.

use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use lore::sync::record::export;

use super::Place;
use crate::cli::Ctx;

#[derive(Args)]
pub(super) struct ExportArgs {
    /// Every session in lore.db, not only this repository's.
    #[arg(long, conflicts_with = "ids")]
    all: bool,
    /// Only these sessions (ids or unique beginnings).
    ids: Vec<String>,
}

pub(super) fn run(ctx: &Ctx, place: &Place, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let local = &place.local;
    if local.header()?.is_none() {
        bail!(
            "{} has no lore store yet: run '{}' first",
            place.what(),
            place.command("setup")
        );
    }
    let Some(db) = ctx.home.open_db_readable()? else {
        println!("Nothing to export: lore.db is empty (run 'lore import').");
        return Ok(ExitCode::SUCCESS);
    };
    let ids: Vec<String> = if args.all {
        lore::sync::Scope::Everything.session_ids(&db)?
    } else if !args.ids.is_empty() {
        args.ids
            .iter()
            .map(|i| db.resolve_id(i))
            .collect::<Result<_, _>>()?
    } else {
        place.scope.session_ids(&db)?
    };
    let redactor = ctx.redactor()?;
    // This machine's id as the store shows it (docs/store-format.md, "The metadata").
    let alias = match local.header()? {
        Some(h) => Some(lore::sync::record::MachineAlias::derive(
            &ctx.home.machine_id()?,
            &*ctx.home.machine_secret()?,
            &h.store_id(),
        )),
        None => None,
    };
    let outcome = export(&db, local, ids, &redactor, alias.as_ref())?;
    println!(
        "Wrote {} session{} to refs/lore/sessions ({} unchanged).",
        outcome.written,
        super::plural(outcome.written),
        outcome.unchanged
    );
    Ok(ExitCode::SUCCESS)
}
