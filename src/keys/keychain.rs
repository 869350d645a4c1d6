//! The OS keychain, reached through the `keyring-core` crate and the store crate of each
//! platform: the Secret Service (GNOME Keyring, KWallet, KeePassXC) over D-Bus on Linux and the
//! BSDs, the login Keychain on macOS, the Credential Manager on Windows.
//!
//! Connecting costs a D-Bus round trip and a key exchange on Linux (about 20 ms), so it happens
//! at the first use, once per process, and only when a key is actually read or written.
//! Entries are generic passwords named by a service (`lore`) and an account (lore passes the
//! path of the key file the entry stands in for, so each lore home has its own entries).

use std::sync::{Arc, OnceLock};

use keyring_core::{CredentialStore, Entry, Error};
use zeroize::Zeroizing;

/// The service name of every entry lore writes.
pub const SERVICE: &str = "lore";

/// Why the keychain could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KeychainError {
    /// There is no keychain to talk to (no Secret Service on the session bus, no session bus,
    /// a platform without one). Keys then live in files, which is not a failure.
    #[error("no OS keychain is reachable: {0}")]
    Unavailable(String),
    /// The keychain is there but refused the operation (locked and not unlocked, access
    /// denied, no default collection to write to, ...).
    #[error("the OS keychain refused: {0}")]
    Refused(String),
}

/// A connection to the OS keychain, made at first use and shared by clones.
#[derive(Clone, Default)]
pub struct Keychain {
    store: Arc<OnceLock<Result<Arc<CredentialStore>, String>>>,
}

impl std::fmt::Debug for Keychain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.store.get() {
            None => "not connected yet",
            Some(Ok(_)) => "connected",
            Some(Err(_)) => "unavailable",
        };
        f.debug_struct("Keychain").field("state", &state).finish()
    }
}

impl Keychain {
    /// The keychain of the platform this runs on; nothing is contacted yet.
    pub fn system() -> Keychain {
        Keychain::default()
    }

    /// A keychain that is never reachable, for tests of the fallback to files.
    #[cfg(test)]
    pub(crate) fn unavailable(why: &str) -> Keychain {
        let store = OnceLock::new();
        let _ = store.set(Err(why.to_owned()));
        Keychain {
            store: Arc::new(store),
        }
    }

    /// Connects (once) and says whether a keychain is there.
    pub fn check(&self) -> Result<(), KeychainError> {
        self.store().map(|_| ())
    }

    fn store(&self) -> Result<&Arc<CredentialStore>, KeychainError> {
        self.store
            .get_or_init(platform_store)
            .as_ref()
            .map_err(|why| KeychainError::Unavailable(why.clone()))
    }

    fn entry(&self, account: &str) -> Result<Entry, KeychainError> {
        // Windows would otherwise give the credential "enterprise" persistence, which roaming
        // profiles copy to other machines: a key stays on the machine that unlocked it.
        #[cfg(windows)]
        let modifiers = Some(std::collections::HashMap::from([("persistence", "local")]));
        #[cfg(not(windows))]
        let modifiers: Option<std::collections::HashMap<&str, &str>> = None;
        self.store()?
            .build(SERVICE, account, modifiers.as_ref())
            .map_err(|e| KeychainError::Refused(describe(&e)))
    }

    /// The secret of entry `account`; `None` when there is no such entry.
    pub fn get(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeychainError> {
        match self.entry(account)?.get_secret() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(Error::NoEntry) => Ok(None),
            Err(e) => Err(KeychainError::Refused(describe(&e))),
        }
    }

    /// Creates or replaces entry `account` with `secret`.
    pub fn set(&self, account: &str, secret: &[u8]) -> Result<(), KeychainError> {
        self.entry(account)?
            .set_secret(secret)
            .map_err(|e| KeychainError::Refused(describe(&e)))
    }

    /// Deletes entry `account`; `false` when there was none.
    pub fn delete(&self, account: &str) -> Result<bool, KeychainError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(Error::NoEntry) => Ok(false),
            Err(e) => Err(KeychainError::Refused(describe(&e))),
        }
    }
}

/// An error of the keyring crates in one line. Their `Ambiguous` error lists the entries it
/// found, which can be long; the rest are short.
fn describe(e: &Error) -> String {
    match e {
        Error::Ambiguous(entries) => format!(
            "{} entries match; remove the extra ones with the keychain's own tool",
            entries.len()
        ),
        other => other.to_string().replace('\n', " "),
    }
}

#[cfg(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
fn platform_store() -> Result<Arc<CredentialStore>, String> {
    match zbus_secret_service_keyring_store::Store::new() {
        Ok(store) => Ok(store as Arc<CredentialStore>),
        Err(e) => Err(describe(&e)),
    }
}

#[cfg(target_os = "macos")]
fn platform_store() -> Result<Arc<CredentialStore>, String> {
    match apple_native_keyring_store::keychain::Store::new() {
        Ok(store) => Ok(store as Arc<CredentialStore>),
        Err(e) => Err(describe(&e)),
    }
}

#[cfg(windows)]
fn platform_store() -> Result<Arc<CredentialStore>, String> {
    match windows_native_keyring_store::Db::new() {
        Ok(store) => Ok(store as Arc<CredentialStore>),
        Err(e) => Err(describe(&e)),
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly",
    target_os = "macos",
    windows
)))]
fn platform_store() -> Result<Arc<CredentialStore>, String> {
    Err("lore knows no OS keychain on this platform".into())
}
