//! The `lore` command line. Domain logic lives in the `lore` library; this binary parses
//! arguments, renders output and picks exit codes: 0 success, 1 a user error (one line saying
//! what to fix), 2 a usage error.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
