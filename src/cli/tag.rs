//! `lore tag SESSION LABEL [--remove]`: add a tag to a session, or take it off, as one
//! revertible commit in `lore history`. Refuses an empty label, one with whitespace or a
//! control character, or one over 64 characters, and an unknown session (docs/links.md,
//! "Tags and annotations"; issue 16). Tags travel with the session through `lore sync`.

use std::process::ExitCode;

use anstream::println;
use clap::Args;

use super::Ctx;

/// The longest tag, in characters.
const MAX_TAG: usize = 64;

#[derive(Args)]
pub struct TagArgs {
    /// The session: its id, or any unique beginning of it.
    session: String,
    /// The tag: one word (letters, digits, punctuation; no spaces), at most 64 characters.
    label: String,
    /// Take the tag off instead.
    #[arg(long)]
    remove: bool,
}

/// Why a label cannot be a tag, if it cannot.
fn bad_label(label: &str) -> Option<String> {
    if label.is_empty() {
        return Some("a tag cannot be empty: give a word such as 'bugfix'".to_owned());
    }
    if label.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!(
            "tag '{}' has a space or a control character: use one word, such as 'needs-review'",
            label.escape_debug()
        ));
    }
    if label.chars().count() > MAX_TAG {
        return Some(format!(
            "tag '{label}' is longer than {MAX_TAG} characters: use a shorter one"
        ));
    }
    None
}

pub fn run(ctx: &Ctx, args: TagArgs) -> anyhow::Result<ExitCode> {
    if let Some(why) = bad_label(&args.label) {
        anyhow::bail!(why);
    }
    let Some(mut store) = ctx.home.open_db_readable()? else {
        anyhow::bail!(
            "no session matches '{}': nothing has been imported yet; run 'lore import'",
            args.session
        );
    };
    let session = store.session(&args.session)?;
    let has = store.tags(&session.id)?.contains(&args.label);
    let label = &args.label;
    if args.remove {
        if !has {
            println!(
                "Session {} has no tag '{label}'; nothing changed.",
                session.id
            );
            return Ok(ExitCode::SUCCESS);
        }
        let message = format!("tag: remove '{label}' from session {}", session.id);
        store.write(&message, |w| w.remove_tag(&session.id, label))?;
        println!("Removed tag '{label}' from session {}.", session.id);
        return Ok(ExitCode::SUCCESS);
    }
    if has {
        println!("Session {} has the tag '{label}' already.", session.id);
        return Ok(ExitCode::SUCCESS);
    }
    let message = format!("tag: '{label}' on session {}", session.id);
    store.write(&message, |w| w.add_tag(&session.id, label))?;
    println!("Tagged session {} '{label}'.", session.id);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_one_short_word() {
        assert!(bad_label("bugfix").is_none());
        assert!(bad_label("needs-review/v2").is_none());
        assert!(bad_label("").is_some());
        assert!(bad_label("two words").is_some());
        assert!(bad_label("tab\there").is_some());
        assert!(bad_label(&"x".repeat(65)).is_some());
    }
}
