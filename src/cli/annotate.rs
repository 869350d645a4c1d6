//! `lore annotate SESSION TEXT`: add a note to a session, as one revertible commit in `lore
//! history`. Refuses empty text (or only whitespace), text over 10,000 characters, and an
//! unknown session (docs/links.md, "Tags and annotations"; issue 16). Annotations travel
//! with the session through `lore sync`, and `lore show` prints them.

use std::process::ExitCode;

use anstream::println;
use clap::Args;

use lore::versioning::now_ms;

use super::Ctx;

/// The longest annotation, in characters.
const MAX_NOTE: usize = 10_000;

#[derive(Args)]
pub struct AnnotateArgs {
    /// The session: its id, or any unique beginning of it.
    session: String,
    /// The note (quote it; several words are joined with spaces).
    #[arg(required = true, num_args = 1..)]
    text: Vec<String>,
}

pub fn run(ctx: &Ctx, args: AnnotateArgs) -> anyhow::Result<ExitCode> {
    let text = args.text.join(" ");
    let body = text.trim();
    if body.is_empty() {
        anyhow::bail!(
            "the annotation is empty: give the note as text, such as 'lore annotate SESSION \"why we chose X\"'"
        );
    }
    let n = body.chars().count();
    if n > MAX_NOTE {
        anyhow::bail!(
            "the annotation has {n} characters, more than {MAX_NOTE}: shorten it, or split it in several"
        );
    }
    let Some(mut store) = ctx.home.open_db_readable()? else {
        anyhow::bail!(
            "no session matches '{}': nothing has been imported yet; run 'lore import'",
            args.session
        );
    };
    let session = store.session(&args.session)?;
    let message = format!("annotate: session {}", session.id);
    let at = now_ms();
    store.write(&message, |w| w.add_annotation(&session.id, body, at))?;
    println!("Annotated session {}.", session.id);
    Ok(ExitCode::SUCCESS)
}
