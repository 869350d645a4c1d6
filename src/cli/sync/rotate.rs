//! `lore sync [--global] rotate [--passphrase-stdin | --generate]`: a new data key under a new
//! passphrase (not the current one, never from LORE_PASSPHRASE), for when someone leaves the
//! team. The next sync re-encrypts every session under the new key; the earlier keys travel
//! in the header, wrapped under the new one, so history stays readable to the members who hold it. Nothing can take back what was already fetched.

use std::process::ExitCode;

use super::{PassphraseSource, Place, SecretArgs};
use crate::cli::Ctx;

pub(super) fn run(ctx: &Ctx, place: &Place, args: SecretArgs) -> anyhow::Result<ExitCode> {
    let local = &place.local;
    let (header, key) = place.current_key(ctx)?;
    let keys = ctx.key_store()?;
    let mut source = PassphraseSource::new(&args);
    // The current passphrase opens the current header: a "new" one that does is no change.
    let pass = source.new_passphrase("nothing was changed", &|p| {
        header.unlock(p.as_bytes()).is_ok()
    })?;
    let (new_header, new_key) = header.rotate(&key, pass.as_bytes())?;
    // The earlier keys first, then the new one: a crash in between leaves the old key current.
    for k in std::iter::once(&key).chain(header.previous_keys(&key)?.iter()) {
        keys.save_previous(header.store_id_hex(), k)?;
    }
    super::setup::warn_if_refused(&keys.save(new_header.store_id_hex(), &new_key)?);
    // The new epoch is recorded once the sync has pushed it: until then, what others push
    // under the current key is still accepted (and merged under the new one).
    local.write_header(&new_header, "lore: rotate the data key")?;
    println!(
        "Data key rotated. Run '{}' to push the store re-encrypted under the new key; every \
         member then runs '{}' once with the new passphrase.",
        place.command(""),
        place.command("setup")
    );
    println!(
        "Sessions someone already fetched stay readable to them: rotation protects what is \
         written from now on."
    );
    Ok(ExitCode::SUCCESS)
}
