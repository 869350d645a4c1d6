//! `lore delete ID`

use std::process::ExitCode;

use clap::Args;

use lore::store::now_ms;

use super::Ctx;

#[derive(Args)]
pub struct DeleteArgs {
    /// The session id, or any unique beginning of it.
    id: String,
}

pub fn run(ctx: &Ctx, args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let Some(mut store) = ctx.home.open_store_readable()? else {
        anyhow::bail!(
            "no session matches '{}': nothing has been imported yet",
            args.id
        );
    };
    let row = store.session(&args.id)?;
    let message = format!("delete: session {}", row.id);
    store.write(&message, |w| w.delete_session(&row.id, now_ms()))?;
    println!(
        "Deleted session {} ({}). Importing its transcript again will not bring it back.",
        row.id,
        row.title.as_deref().unwrap_or("untitled")
    );
    Ok(ExitCode::SUCCESS)
}
