//! LORE_HOME kept private: on every command, a home or file that group or others can reach is
//! tightened (0700 / 0600) with a notice on stderr; `lore doctor` reports how it stands.
//! The library does the work and says what it changed (`lore::home::Home::tighten`); this file
//! only words it. Spec: docs/redaction.md ("Local files").

use lore::home::Home;

/// Tightens the home and prints one notice per change; a failure is a warning, not an error:
/// the command goes on, and `lore doctor` reports it.
pub(super) fn tighten(home: &Home) {
    match home.tighten() {
        Ok(done) => {
            for t in done {
                eprintln!(
                    "lore: {} was mode {:04o}, open to other users; it holds your unredacted \
                     sessions, so lore made it {:04o}.",
                    t.path.display(),
                    t.was,
                    t.now
                );
            }
        }
        Err(e) => eprintln!("lore: warning: {e}"),
    }
}

/// For `lore doctor`: whether the home is private, and what to say.
pub(super) fn status(home: &Home) -> (bool, String) {
    match home.loose() {
        Ok(loose) if loose.is_empty() => (
            true,
            format!(
                "{}: private (0700; lore.db and its -wal and -shm 0600)",
                home.root().display()
            ),
        ),
        Ok(loose) => (
            false,
            format!(
                "open to other users: {}; run 'chmod 700 {}' and 'chmod 600' on its files",
                loose
                    .iter()
                    .map(|(p, m)| format!("{} ({m:04o})", p.display()))
                    .collect::<Vec<_>>()
                    .join(", "),
                home.root().display()
            ),
        ),
        Err(e) => (false, e.to_string()),
    }
}
