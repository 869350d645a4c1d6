//! `lore sync [--global] passphrase`: a new passphrase for the store. The data key stays, so
//! members already set up keep working; the header is rewrapped and pushed by the next sync.
//! It is a convenience, not a lock: whoever knew the old passphrase may hold the data key
//! already (and the old header stays in the history), so it says so and points at `rotate`.

use std::process::ExitCode;

use super::{PassphraseSource, Place, SecretArgs};
use crate::cli::Ctx;

pub(super) fn run(ctx: &Ctx, place: &Place, args: SecretArgs) -> anyhow::Result<ExitCode> {
    let local = &place.local;
    let (header, key) = place.current_key(ctx)?;
    let mut source = PassphraseSource::new(args.passphrase_stdin);
    let pass = source.new_passphrase("New passphrase: ", "nothing was changed")?;
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
