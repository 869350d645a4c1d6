//! The `lore` command line. Domain logic lives in the `lore` library; this binary parses
//! arguments, renders output and picks exit codes: 0 success, 1 a user error (one line saying
//! what to fix), 2 a usage error.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything reads a passphrase or a key: no core dump may hold one.
    if let Err(e) = lore::harden::disable_core_dumps() {
        eprintln!("lore: warning: cannot turn core dumps off: {e}");
    }
    cli::main()
}
