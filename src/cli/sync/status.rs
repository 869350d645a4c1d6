//! `lore sync [--global] status [--json]`: where the sync stands, without the network.

use std::process::ExitCode;

use clap::Args;

use lore::keys::KeyLocation;
use lore::sync::status::{KeyState, Relation, status};

use super::{Place, plural};
use crate::cli::Ctx;

#[derive(Args)]
pub(super) struct StatusArgs {
    #[command(flatten)]
    json: crate::cli::output::JsonArg,
}

pub(super) fn run(ctx: &Ctx, place: &Place, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let (local, remote) = (&place.local, place.remote.as_str());
    let db = ctx.home.open_db_readable()?;
    let passphrase_set = std::env::var_os("LORE_PASSPHRASE").is_some_and(|p| !p.is_empty());
    let keys = ctx.key_store()?;
    let redactor = ctx.redactor()?;
    // This machine's id in the store, to compare its sessions as an export would write them.
    let machine = match (ctx.home.machine_id(), ctx.home.machine_secret()) {
        (Ok(id), Ok(secret)) => Some((id, secret)),
        _ => None,
    };
    let st = status(
        local,
        db.as_ref(),
        &keys,
        passphrase_set,
        remote,
        &place.scope,
        lore::sync::status::Outgoing {
            redactor: &redactor,
            machine: machine
                .as_ref()
                .map(|(id, secret)| (id.as_str(), &**secret)),
        },
    )?;
    let key = match &st.key {
        KeyState::Stored(KeyLocation::Keychain) => "stored (keychain)",
        KeyState::Stored(KeyLocation::File(_)) => "stored (key file)",
        KeyState::FromEnvironment => "from LORE_PASSPHRASE",
        KeyState::Unreadable(why) => &format!("not readable ({why})"),
        KeyState::Missing => &format!("missing (run '{}')", place.command("setup")),
        KeyState::Rotated => &format!(
            "the store's key was rotated: run '{}' with the new passphrase",
            place.command("setup")
        ),
    };
    let relation = match st.relation {
        Relation::Nothing => "no store yet".to_owned(),
        Relation::NotPushed => format!("not yet pushed to {remote}"),
        Relation::NotFetched => format!(
            "{remote}'s store not fetched yet: run '{}'",
            place.command("")
        ),
        Relation::InSync => format!("in sync with {remote}"),
        Relation::Ahead(n) => format!("ahead of {remote} by {n} commit{}", plural(n)),
        Relation::Behind(n) => format!("behind {remote} by {n} commit{}", plural(n)),
        Relation::Diverged { ahead, behind } => {
            format!("diverged from {remote}: {ahead} ahead, {behind} behind")
        }
    };
    if args.json.json {
        crate::cli::output::print_json(&serde_json::json!({
            "remote": st.remote,
            "store": st.store_id.is_some(),
            "store_id": st.store_id,
            "key": match &st.key {
                KeyState::Stored(_) => "stored",
                KeyState::FromEnvironment => "environment",
                KeyState::Unreadable(_) => "unreadable",
                KeyState::Missing => "missing",
                KeyState::Rotated => "rotated",
            },
            "key_location": match &st.key {
                KeyState::Stored(KeyLocation::Keychain) => serde_json::json!("keychain"),
                KeyState::Stored(KeyLocation::File(path)) => serde_json::json!(path),
                _ => serde_json::Value::Null,
            },
            "pending": st.pending,
            "last_sync_at": st.last_sync.map(|ms| crate::cli::output::iso(Some(ms))),
            "ref": relation,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("Sync status ({})", place.what());
    let not_set_up = format!("not set up (run '{}')", place.command("setup"));
    println!(
        "Store: {}",
        if st.store_id.is_some() {
            "set up"
        } else {
            &not_set_up
        }
    );
    println!("Key: {key}");
    println!(
        "Pending: {} session{} not yet synced",
        st.pending,
        plural(st.pending)
    );
    println!(
        "Last sync: {}",
        st.last_sync
            .map_or_else(|| "never".to_owned(), crate::cli::output::ago)
    );
    println!("Ref: refs/lore/sessions ({relation})");
    Ok(ExitCode::SUCCESS)
}
