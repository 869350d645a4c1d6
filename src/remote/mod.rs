//! `git-remote-lore`: the remote helper behind `lore::` URLs (gitremote-helpers(7)).
//!
//! Git runs the helper for `git fetch/push/clone lore::<remote>`. The helper lists the
//! underlying remote's refs, decrypting `refs/lore/sessions` into the local plaintext store
//! and passing every other ref through unchanged; it pushes by encrypting the plaintext
//! commits one for one and running the user's own `git push`, as a compare-and-swap.
//!
//! - [`protocol`]: the lines git sends, parsed.
//! - [`wire`]: the user's git, which carries everything over the network.
//! - [`cache`]: what the helper remembers between runs (rebuildable from the remote).
//! - [`conversation`]: one conversation with git, from `capabilities` to the final blank line;
//!   [`Conversation`] is also what `lore sync` pushes with, in process.

pub mod cache;
pub mod conversation;
pub mod protocol;
pub mod wire;

pub use conversation::{Conversation, HelperConfig, PushOutcome, Rejected, run};

use sha2::{Digest, Sha256};

use crate::gitstore::GitStoreError;

/// Why the helper stopped.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error(
        "GIT_DIR is not set: lore:: remotes work inside a git repository; run git fetch, push or clone from one"
    )]
    NoGitDir,
    #[error(
        "{0} is itself a lore:: remote, so it already goes through lore: use plain 'git fetch {0}' / 'git push {0}', or point lore:: at a remote with an ordinary URL"
    )]
    Recursion(String),
    #[error("no remote named {0:?} and no repository at that path")]
    NoSuchRemote(String),
    #[error("{0}")]
    Protocol(#[from] protocol::ProtocolError),
    #[error("{what} failed{}", code.map(|c| format!(" (exit {c})")).unwrap_or_default())]
    Git { what: String, code: Option<i32> },
    #[error(
        "refs/lore/sessions on the remote went back from {old} to {new}, an older commit: someone rolled it back; nothing was changed here. If that was intended, run again with 'git -c lore.allowRollback=true'"
    )]
    Rollback { old: String, new: String },
    #[error(
        "refs/lore/sessions on the remote moved from {old} to {new}, which does not descend from it: the store's history was rewritten or replaced; nothing was changed here. If that was intended, run again with 'git -c lore.allowRollback=true'"
    )]
    Rewritten { old: String, new: String },
    #[error("{0}")]
    Store(#[from] GitStoreError),
    /// What a remote served that lore refuses (a forged, altered or rolled-back store).
    #[error("{remote}: {source}; nothing was changed here")]
    Served {
        remote: String,
        source: GitStoreError,
    },
    #[error("helper cache: {0}")]
    Cache(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(String),
    /// A line from git longer than [`conversation::MAX_LINE`].
    #[error("a line from git is longer than {} KiB; nothing was done", .0 >> 10)]
    LineTooLong(usize),
}

/// The name under which the helper keeps a remote's refs and state: the remote's name when it
/// can be one component of a ref name, else `name-<hash>`.
pub fn namespace(name: &str) -> String {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && !name.ends_with(".lock")
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        name.to_owned()
    } else {
        format!("name-{}", short_hash(name))
    }
}

/// 16 hex digits of SHA-256(`s`).
pub(crate) fn short_hash(s: &str) -> String {
    Sha256::digest(s.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `refs/lore/wire/<ns>/sessions`: the remote's ciphertext tip, kept so that later fetches
/// transfer only what is new.
pub fn wire_ref(ns: &str) -> String {
    format!("refs/lore/wire/{ns}/sessions")
}

/// `refs/lore/wire/<ns>/incoming`: the remote's ciphertext tip as last fetched, before it is
/// verified (the helper's own refs move only once it is).
pub fn incoming_ref(ns: &str) -> String {
    format!("refs/lore/wire/{ns}/incoming")
}

/// `refs/lore/remotes/<ns>/sessions`: the remote's tip, decrypted.
pub fn tracking_ref(ns: &str) -> String {
    format!("refs/lore/remotes/{ns}/sessions")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces() {
        assert_eq!(namespace("origin"), "origin");
        assert!(namespace("a/b").starts_with("name-"));
        assert!(namespace("..").starts_with("name-"));
    }
}
