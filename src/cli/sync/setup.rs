//! `lore sync [--global] setup [--passphrase-stdin | --generate]`: create the store, or join the remote's.

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
    let mut source = PassphraseSource::new(&args);
    let sync = place.command("");
    if on_remote.is_some() || here.is_some() {
        source.no_generate("this store exists already and is joined with its passphrase")?;
    }
    // A key this machine holds already (set up before, or in another clone of the store)
    // needs no passphrase: it is checked against the store's header and saved again (which
    // moves a key file into the keychain when one answers now).
    let known = on_remote.clone().or_else(|| here.clone());
    if let Some(header) = &known
        && let Ok(Some(key)) = keys.load_id(header.store_id_hex(), header.key_id_hex())
        && header.verify_key(&key).is_ok()
    {
        save_keys(&keys, header, &key)?;
        if on_remote.is_some() {
            lore::sync::mark_joined(local, remote, header.store_id_hex())?;
        }
        let already = here
            .as_ref()
            .is_some_and(|h| h.store_id() == header.store_id());
        if already {
            println!("Already set up: this machine holds the store's key. Run '{sync}' to sync.");
        } else {
            println!(
                "This machine already holds the key of this store (set up in another clone): no passphrase needed. Run '{sync}' to fetch reasoning history."
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    match (on_remote, here) {
        (Some(header), _) => {
            println!("An existing Lore store was found on the remote.");
            let pass = source.read("Enter passphrase: ")?;
            let key = unlock(place, &header, &pass)?;
            save_keys(&keys, &header, &key)?;
            lore::sync::mark_joined(local, remote, header.store_id_hex())?;
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
                &format!(
                    "nothing was created: run '{}' again",
                    place.command("setup")
                ),
                &|_| false,
            )?;
            let (header, key) = StoreHeader::create(pass.as_bytes())?;
            warn_if_refused(&keys.save(header.store_id_hex(), &key)?);
            record_epoch(&keys, &header)?;
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
    record_epoch(keys, header)
}

/// Records the header's key epoch as the newest this machine has seen of the store (a
/// format-2 header, whose epoch the key check binds to the key just verified): from now on
/// nothing sealed under an older key is accepted from the remote.
pub(super) fn record_epoch(keys: &KeyStore, header: &StoreHeader) -> anyhow::Result<()> {
    if header.is_format2() {
        keys.epochs()
            .raise(header.store_id_hex(), header.epoch(), header.key_id())?;
    }
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
