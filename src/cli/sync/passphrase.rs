//! `lore sync [--global] passphrase`: a new passphrase for the store. The data key stays, so
//! members already set up keep working; the header is rewrapped and pushed by the next sync.

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
    Ok(ExitCode::SUCCESS)
}
