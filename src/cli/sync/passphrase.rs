//! `lore sync [--global] passphrase [--passphrase-stdin | --generate]`: a new passphrase for the
//! store (not the current one, never from LORE_PASSPHRASE). The data key stays, so members
//! already set up keep working; the header is rewrapped and pushed by the next sync.
//! It is a convenience, not a lock: whoever knew the old passphrase may hold the data key
//! already (and the old header stays in the history), so it says so and points at `rotate`.

use std::process::ExitCode;

use super::{PassphraseSource, Place, SecretArgs};
use crate::cli::Ctx;

pub(super) fn run(ctx: &Ctx, place: &Place, args: SecretArgs) -> anyhow::Result<ExitCode> {
    let local = &place.local;
    let (header, key) = place.current_key(ctx)?;
    let mut source = PassphraseSource::new(&args);
    // The current passphrase opens the current header: a "new" one that does is no change.
    let pass = source.new_passphrase("nothing was changed", &|p| {
        header.unlock(p.as_bytes()).is_ok()
    })?;
    let new_header = header.rewrap(&key, pass.as_bytes())?;
    local.write_header(&new_header, "lore: change the passphrase")?;
    println!(
        "Passphrase changed. Run '{}' to push it; members already set up keep working, \
         new members use the new passphrase.",
        place.command("")
    );
    println!(
        "This does not lock out anyone who knew the old passphrase: they may hold the data key \
         already. If it leaked, or someone left the team, run '{}' instead (a new key).",
        place.command("rotate")
    );
    Ok(ExitCode::SUCCESS)
}
