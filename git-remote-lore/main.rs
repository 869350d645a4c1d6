//! `git-remote-lore`: the helper git runs for `lore::` remotes (gitremote-helpers(7)).
//!
//! Git starts it as `git-remote-lore <alias> <address>` and talks over stdin/stdout. This
//! first version answers `capabilities` only; fetching and pushing the encrypted session store
//! come with the helper issue. Run by hand on a terminal, it explains what it is.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

const CAPABILITIES: &[&str] = &["fetch", "push", "option"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if std::io::stdin().is_terminal() || args.is_empty() {
        eprintln!(
            "git-remote-lore is the helper git runs for lore:: remotes; you do not run it yourself.\n\
             Use it through git, e.g. 'git push lore::origin refs/lore/sessions' or 'lore sync'."
        );
        return ExitCode::from(if args.is_empty() { 2 } else { 0 });
    }
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else {
            return ExitCode::from(1);
        };
        match line.trim_end() {
            "" => break,
            "capabilities" => {
                for c in CAPABILITIES {
                    let _ = writeln!(out, "{c}");
                }
                let _ = writeln!(out);
                let _ = out.flush();
            }
            other => {
                eprintln!(
                    "git-remote-lore: '{other}' is not supported by this version yet; upgrade lore"
                );
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
