//! `lore delete ID`

use std::process::ExitCode;

use clap::Args;

use lore::versioning::now_ms;

use super::Ctx;

#[derive(Args)]
pub struct DeleteArgs {
    /// The session id, or any unique beginning of it.
    id: String,
    /// Delete it from the shared store too (every member's lore.db drops it at their next
    /// sync, except its author's); without this, it is hidden on this machine only.
    #[arg(long)]
    everywhere: bool,
}

pub fn run(ctx: &Ctx, args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let Some(mut store) = ctx.home.open_db_readable()? else {
        anyhow::bail!(
            "no session matches '{}': nothing has been imported yet",
            args.id
        );
    };
    let row = store.session(&args.id)?;
    let message = format!(
        "delete: session {}{}",
        row.id,
        if args.everywhere { " everywhere" } else { "" }
    );
    if args.everywhere {
        eprintln!(
            "warning: session {} will be deleted from the shared store at the next 'lore sync': \
             every member's lore.db drops it then (its author keeps their own copy), and \
             anyone who fetched it before keeps what they have.",
            row.id
        );
    }
    store.write(&message, |w| {
        w.delete_session(&row.id, now_ms(), args.everywhere)
    })?;
    println!(
        "Deleted session {} ({}). Importing its transcript again will not bring it back.",
        row.id,
        row.title.as_deref().unwrap_or("untitled")
    );
    if !args.everywhere {
        println!(
            "It is hidden on this machine only; a shared store keeps it. To delete it there too: \
             lore delete --everywhere {}",
            row.id
        );
    }
    Ok(ExitCode::SUCCESS)
}
