//! `lore sync [--global] setup [--passphrase-stdin]`: create the store, or join the remote's.

use std::process::ExitCode;

use anyhow::bail;

use lore::crypto::StoreHeader;
use lore::keys::{KeyStore, Saved};
use lore::sync::remote_header;

use super::{PassphraseSource, Place, SecretArgs, unlock};
use crate::cli::Ctx;

pub(super) fn run(ctx: &Ctx, place: &Place, args: SecretArgs) -> anyhow::Result<ExitCode> {
    let (local, remote) = (&place.local, place.remote.as_str());
    let keys = ctx.key_store()?;
    let on_remote = remote_header(&place.git(), local, remote)?;
    let here = local.header()?;
    if let (Some(r), Some(h)) = (&on_remote, &here)
        && r.store_id() != h.store_id()
    {
        bail!(
            "{}'s refs/lore/sessions holds store {} but {remote} holds store {}; \
             delete the local one (git update-ref -d refs/lore/sessions) to join the remote's",
            place.what(),
            h.store_id_hex(),
            r.store_id_hex()
        );
    }
    let mut source = PassphraseSource::new(args.passphrase_stdin);
    let sync = place.command("");
    match (on_remote, here) {
        (Some(header), _) => {
            println!("An existing Lore store was found on the remote.");
            let pass = source.read("Enter passphrase: ")?;
            let key = unlock(place, &header, &pass)?;
            save_keys(&keys, &header, &key)?;
            println!("Passphrase verified. Run '{sync}' to fetch reasoning history.");
        }
        (None, Some(header)) => {
            let pass = source.read("Enter passphrase: ")?;
            let key = unlock(place, &header, &pass)?;
            save_keys(&keys, &header, &key)?;
            println!("Passphrase verified. Run '{sync}' to push your sessions.");
        }
        (None, None) => {
            let pass = source.new_passphrase(
                "Enter passphrase: ",
                &format!(
                    "nothing was created: run '{}' again",
                    place.command("setup")
                ),
            )?;
            let (header, key) = StoreHeader::create(pass.as_bytes())?;
            warn_if_refused(&keys.save(header.store_id_hex(), &key)?);
            local.write_header(&header, "lore: create store")?;
            println!("Store created. Run '{sync}' to push your sessions.");
        }
    }
    if !place.global {
        crate::cli::hooks::offer_install()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Keeps the store's current key and the keys of before its rotations (the header carries
/// them, wrapped under the current one): history sealed under those stays readable.
fn save_keys(
    keys: &KeyStore,
    header: &StoreHeader,
    key: &lore::crypto::DataKey,
) -> anyhow::Result<()> {
    for previous in header.previous_keys(key)? {
        keys.save_previous(header.store_id_hex(), &previous)?;
    }
    warn_if_refused(&keys.save(header.store_id_hex(), key)?);
    Ok(())
}

/// Says so when a reachable OS keychain refused the key and it went to a file instead: the
/// user expected the keychain and may want to unlock it and set up again.
pub(super) fn warn_if_refused(saved: &Saved) {
    if let Some(why) = &saved.keychain_refused {
        eprintln!(
            "warning: {why}; the key was saved to {} (readable by you only) instead",
            saved.location
        );
    }
}
