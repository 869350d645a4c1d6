//! Starting the user's git: the one place lore makes a `git` process.
//!
//! Every git lore runs (links and blame, the remote helper's wire, sync's plumbing, hooks,
//! doctor) starts here, so they all run the same program (`LORE_GIT`, else `git` on PATH) with
//! the same hygiene: nothing on stdin unless the caller says so, and no lore secret in the
//! environment. `LORE_PASSPHRASE` is lore's, not git's: git hands its environment on to ssh,
//! credential helpers and `ProxyCommand`, so it is removed from every git lore starts. The one
//! git that needs it, `lore sync`'s fetch through its own helper, hands it on explicitly
//! ([`crate::remote::wire::Git::fetch_sessions`]).

use std::ffi::{OsStr, OsString};
use std::process::{Command, Stdio};

/// The environment variable naming the git to run (tests, unusual installs).
pub const PROGRAM_ENV: &str = "LORE_GIT";

/// The environment variable that carries a store's passphrase (CI), never handed to git.
pub const PASSPHRASE_ENV: &str = "LORE_PASSPHRASE";

/// The git to run: `LORE_GIT` when set, else `git` on PATH.
pub fn program() -> OsString {
    std::env::var_os(PROGRAM_ENV).unwrap_or_else(|| "git".into())
}

/// A `git` command for `program`: stdin closed, `LORE_PASSPHRASE` removed. The caller adds
/// arguments, working directory and its own settings.
pub fn command(program: &OsStr) -> Command {
    let mut c = Command::new(program);
    c.env_remove(PASSPHRASE_ENV).stdin(Stdio::null());
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_passphrase_is_not_in_gits_environment() {
        let c = command(OsStr::new("git"));
        let removed = c
            .get_envs()
            .any(|(k, v)| k == PASSPHRASE_ENV && v.is_none());
        assert!(removed);
    }
}
