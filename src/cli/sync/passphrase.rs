//! `lore sync [--global] passphrase`: a new passphrase for the store. The data key stays, so
//! members already set up keep working; the header is rewrapped and pushed by the next sync.

use std::process::ExitCode;

use anyhow::bail;

use lore::keys::KeyStore;

use super::{PassphraseSource, Place, SecretArgs};
use crate::cli::Ctx;

pub(super) fn run(ctx: &Ctx, place: &Place, args: SecretArgs) -> anyhow::Result<ExitCode> {
    let local = &place.local;
    let Some(header) = local.header()? else {
        bail!(
            "{} has no lore store here yet: run '{}' and '{}' first",
            place.what(),
            place.command("setup"),
            place.command("")
        );
    };
    let keys = KeyStore::new(ctx.home.keys_dir());
    let key = match keys.load(header.store_id_hex())? {
        Some(k) if header.verify_key(&k).is_ok() => k,
        _ => bail!(
            "no key for this store on this machine: run '{}' first",
            place.command("setup")
        ),
    };
    let mut source = PassphraseSource::new(args.passphrase_stdin);
    let pass = source.new_passphrase("New passphrase: ", "nothing was changed")?;
    let new_header = header.rewrap(&key, pass.as_bytes())?;
    local.write_header(&new_header, "lore: change the passphrase")?;
    println!(
        "Passphrase changed. Run '{}' to push it; members already set up keep working, \
         new members use the new passphrase.",
        place.command("")
    );
    Ok(ExitCode::SUCCESS)
}
