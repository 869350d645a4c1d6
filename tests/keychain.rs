//! Sync keys in a real OS keychain: each user gets a D-Bus session bus of their own with GNOME
//! Keyring on it (the Secret Service most Linux desktops run), as a machine of their own
//! would. The key goes into the keychain instead of a file, the helper and the sync read it
//! from there, and the fallbacks (a keychain that refuses, a locked one, LORE_KEYCHAIN=off)
//! do what docs/sync.md says.
//!
//! Without dbus-daemon and gnome-keyring-daemon a test says so on stderr and passes; with
//! `LORE_REQUIRE_KEYCHAIN_TESTS=1` (as .ci/run sets) it fails instead.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{User, World, write_transcript};

const PASS: &str = "a passphrase for the team";
const S1: &str = "a1a1a1a1-0000-4000-8000-00000000c001";
const S2: &str = "a1a1a1a1-0000-4000-8000-00000000c002";
const S3: &str = "a1a1a1a1-0000-4000-8000-00000000c003";
const S4: &str = "a1a1a1a1-0000-4000-8000-00000000c004";
const REQUIRE_ENV: &str = "LORE_REQUIRE_KEYCHAIN_TESTS";

/// A session bus with GNOME Keyring on it, for one user; stopped on drop (the keyring daemon
/// leaves with its bus).
struct Keyring {
    bus_pid: i32,
    address: String,
}

impl Keyring {
    /// The programs this needs that are not installed.
    fn missing() -> Vec<&'static str> {
        ["dbus-daemon", "gnome-keyring-daemon", "dbus-send"]
            .into_iter()
            .filter(|p| find_program(p).is_none())
            .collect()
    }

    /// Starts a session bus for `user`. With `login_password`, GNOME Keyring is started on it
    /// with a login keyring unlocked by that password, as a desktop login does; without, the
    /// keyring daemon is only started when a client asks for it, and has no keyring to write
    /// to and no way to ask for one: it refuses.
    fn start(user: &User, login_password: Option<&str>) -> Keyring {
        let out = Command::new("dbus-daemon")
            .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &user.home)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .expect("start dbus-daemon");
        assert!(out.status.success(), "dbus-daemon failed: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        let address = lines.next().expect("bus address").trim().to_owned();
        let bus_pid: i32 = lines.next().expect("bus pid").trim().parse().unwrap();
        let keyring = Keyring { bus_pid, address };
        if let Some(password) = login_password {
            keyring.unlock_login(user, &[], password);
        }
        keyring
    }

    /// Runs `gnome-keyring-daemon --unlock` (with `extra` arguments) on this bus, the login
    /// keyring's password on its standard input, as a desktop login does.
    fn unlock_login(&self, user: &User, extra: &[&str], password: &str) {
        let mut child = self
            .command(user, "gnome-keyring-daemon")
            .args(extra)
            .args(["--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gnome-keyring-daemon");
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(password.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    }

    /// The environment that puts a user's commands on this bus, with the keychain allowed.
    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone()),
            ("LORE_KEYCHAIN".into(), "on".into()),
        ]
    }

    fn command(&self, user: &User, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &user.home)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        c
    }

    /// Unlocks the login keyring again with its password, as logging in does: a new keyring
    /// daemon replaces the one on the bus. Returns once the keyring says it is unlocked.
    fn unlock(&self, user: &User, password: &str) {
        self.unlock_login(user, &["--replace"], password);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let out = self
                .command(user, "dbus-send")
                .args([
                    "--session",
                    "--dest=org.freedesktop.secrets",
                    "--print-reply",
                    "/org/freedesktop/secrets/collection/login",
                    "org.freedesktop.DBus.Properties.Get",
                    "string:org.freedesktop.Secret.Collection",
                    "string:Locked",
                ])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).contains("boolean false") {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the login keyring stayed locked: {out:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Locks the login keyring, as a screen lock or a timeout would.
    fn lock(&self, user: &User) {
        let out = self
            .command(user, "dbus-send")
            .args([
                "--session",
                "--dest=org.freedesktop.secrets",
                "--type=method_call",
                "--print-reply",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "lock: {out:?}");
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        // SAFETY: kill(2) with a pid this test started and a constant signal.
        unsafe {
            libc::kill(self.bus_pid, libc::SIGTERM);
        }
    }
}

fn find_program(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Whether the keychain tests can run; with [`REQUIRE_ENV`]=1 a missing program is a failure.
fn ready(test: &str) -> bool {
    let missing = Keyring::missing();
    if missing.is_empty() {
        return true;
    }
    let what = missing.join(", ");
    let how = "install dbus-daemon, dbus-bin and gnome-keyring (Debian's packages)";
    if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
        panic!("{test}: {REQUIRE_ENV}=1 but {what} not installed; {how}");
    }
    eprintln!(
        "!!! SKIPPED {test}: {what} not installed; {how} (set {REQUIRE_ENV}=1 to fail instead)"
    );
    false
}

/// A user with a clone of the remote (or the first commit of it) and, when given, a keychain.
struct Member {
    user: User,
    repo: PathBuf,
}

impl Member {
    fn founder(world: &World, remote: &Path) -> Member {
        let user = world.user("alice");
        let repo = user.first_repo(remote);
        Member { user, repo }
    }

    fn joiner(world: &World, remote: &Path, name: &str) -> Member {
        let user = world.user(name);
        let repo = user.clone(remote.to_str().unwrap(), "repo");
        Member { user, repo }
    }

    fn work(&self, id: &str, word: &str) {
        let dir = self.user.root.join("transcripts").join(id);
        let cwd = std::fs::canonicalize(&self.repo).unwrap();
        write_transcript(&dir, id, word, cwd.to_str().unwrap());
        self.user
            .lore(&self.repo, &["import", dir.to_str().unwrap()])
            .assert_ok();
    }

    fn lore(&self, args: &[&str]) -> common::Run {
        self.user.lore(&self.repo, args)
    }

    fn lore_with(&self, vars: &[(&str, &str)], args: &[&str]) -> common::Run {
        self.user.lore_with(&self.repo, vars, args)
    }

    fn ids(&self) -> Vec<String> {
        let r = self.lore(&["sessions", "--json", "-n", "0"]);
        r.assert_ok();
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let v = v["sessions"].as_array().unwrap();
        let mut ids: Vec<String> = v
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    }

    /// The files in LORE_HOME/keys (none when the folder does not exist).
    fn key_files(&self) -> Vec<String> {
        match std::fs::read_dir(self.user.lore_home.join("keys")) {
            Ok(dir) => {
                let mut names: Vec<String> = dir
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                names.sort();
                names
            }
            Err(_) => Vec::new(),
        }
    }

    fn key_line(&self) -> String {
        let r = self.lore(&["sync", "status"]);
        r.assert_ok();
        r.stdout
            .lines()
            .find(|l| l.starts_with("Key: "))
            .unwrap_or_default()
            .to_owned()
    }

    fn refs(&self) -> String {
        self.user
            .git(&self.repo, &["for-each-ref", "refs/lore"])
            .stdout
    }
}

fn list(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn sync_keys_live_in_the_keychain_and_never_in_a_file() {
    if !ready("sync_keys_live_in_the_keychain_and_never_in_a_file") {
        return;
    }
    let world = World::new();
    let remote = world.bare("remote.git");

    // Alice first set up without a keychain: the key is in a 0600 file.
    let mut alice = Member::founder(&world, &remote);
    let alice_keyring = Keyring::start(&alice.user, Some("alice's login password"));
    alice.work(S1, "keychain-first");
    let r = alice.user.setup(&alice.repo, PASS);
    r.assert_ok();
    assert!(r.stdout.contains("Store created."), "{}", r.stdout);
    assert_eq!(alice.key_files().len(), 1, "{:?}", alice.key_files());
    assert_eq!(alice.key_line(), "Key: stored (key file)");

    // Now with her keychain: setting up again moves the key there, and the file goes.
    alice.user.env.extend(alice_keyring.env());
    let r = alice.user.setup(&alice.repo, PASS);
    r.assert_ok();
    assert!(r.stdout.contains("Already set up"), "{}", r.stdout);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    assert_eq!(alice.key_files(), Vec::<String>::new());
    assert_eq!(alice.key_line(), "Key: stored (keychain)");
    let r = alice.lore(&["sync", "status", "--json"]);
    r.assert_ok();
    let status: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(status["key"], "stored", "{status}");
    assert_eq!(status["key_location"], "keychain", "{status}");

    // Sync encrypts with the key from the keychain (in lore and in git-remote-lore).
    let r = alice.lore(&["sync"]);
    r.assert_ok();
    assert!(r.stdout.contains("pushed 1 session"), "{}", r.stdout);
    let r = alice.lore(&["doctor"]);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("ok") && l.contains("keychain") && l.contains("reachable")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("ok") && l.contains("in the OS keychain")),
        "{}",
        r.stdout
    );
    // Without the keychain there is no key: it is nowhere else.
    let r = alice.lore_with(&[("LORE_KEYCHAIN", "off")], &["sync", "status"]);
    r.assert_ok();
    assert!(r.stdout.contains("Key: missing"), "{}", r.stdout);
    let r = alice.lore_with(&[("LORE_KEYCHAIN", "maybe")], &["sync", "status"]);
    r.assert_fails();
    assert!(
        r.stderr.contains("LORE_KEYCHAIN") && r.stderr.contains("on or off"),
        "{}",
        r.stderr
    );
    // The keyring on disk is GNOME Keyring's, encrypted: the key file's JSON is not in it.
    let keyrings = alice.user.home.join(".local/share/keyrings");
    let mut files = 0;
    for entry in std::fs::read_dir(&keyrings).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        files += 1;
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("\"key_id\""), "a key in the clear");
    }
    assert!(files > 0, "no keyring written in {}", keyrings.display());

    // Bob, on his own machine with his own keychain, joins and reads Alice's session.
    let mut bob = Member::joiner(&world, &remote, "bob");
    let bob_keyring = Keyring::start(&bob.user, Some("bob's login password"));
    bob.user.env.extend(bob_keyring.env());
    let r = bob.user.setup(&bob.repo, PASS);
    r.assert_ok();
    assert!(r.stdout.contains("An existing Lore store"), "{}", r.stdout);
    assert_eq!(bob.key_files(), Vec::<String>::new());
    assert_eq!(bob.key_line(), "Key: stored (keychain)");
    bob.lore(&["sync"]).assert_ok();
    assert_eq!(bob.ids(), list(&[S1]));

    // Alice rotates: the new key and the earlier one both go to her keychain.
    let r = alice.user.lore_input(
        &alice.repo,
        &["sync", "rotate", "--passphrase-stdin"],
        "the passphrase after the rotation\n",
    );
    r.assert_ok();
    assert!(r.stdout.contains("Data key rotated."), "{}", r.stdout);
    assert_eq!(alice.key_files(), Vec::<String>::new());
    alice.work(S2, "after-rotation");
    let r = alice.lore(&["sync"]);
    r.assert_ok();
    assert!(r.stdout.contains("pushed"), "{}", r.stdout);
    // Bob's keychain holds the old key: sync says to set up again, then he reads everything.
    let r = bob.lore(&["sync"]);
    r.assert_fails();
    assert!(r.stderr.contains("lore sync setup"), "{}", r.stderr);
    let r = bob
        .user
        .setup(&bob.repo, "the passphrase after the rotation");
    r.assert_ok();
    bob.lore(&["sync"]).assert_ok();
    assert_eq!(bob.ids(), list(&[S1, S2]));
    assert_eq!(bob.key_files(), Vec::<String>::new());
}

#[test]
fn a_keychain_that_refuses_or_is_locked_leaves_the_key_in_a_file_and_says_so() {
    if !ready("a_keychain_that_refuses_or_is_locked_leaves_the_key_in_a_file_and_says_so") {
        return;
    }
    let world = World::new();
    let remote = world.bare("remote.git");

    // A keyring daemon with no login keyring and nobody to ask for one: it refuses to store.
    let mut alice = Member::founder(&world, &remote);
    let keyring = Keyring::start(&alice.user, None);
    alice.user.env.extend(keyring.env());
    alice.work(S1, "refused-keychain");
    let r = alice.user.setup(&alice.repo, PASS);
    r.assert_ok();
    assert!(r.stdout.contains("Store created."), "{}", r.stdout);
    let warning = r
        .stderr
        .lines()
        .find(|l| l.starts_with("warning: "))
        .unwrap_or_else(|| panic!("no warning: {}", r.stderr));
    assert!(warning.contains("the OS keychain refused"), "{warning}");
    assert!(warning.contains(".lore/keys/"), "{warning}");
    let files = alice.key_files();
    assert_eq!(files.len(), 1, "{files:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(alice.user.lore_home.join("keys").join(&files[0]))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(alice.key_line(), "Key: stored (key file)");
    let r = alice.lore(&["sync"]);
    r.assert_ok();
    assert!(r.stdout.contains("pushed 1 session"), "{}", r.stdout);

    // Dave's keychain holds his key, then locks: sync says what to do, the remote is as it was.
    let mut dave = Member::joiner(&world, &remote, "dave");
    let dave_keyring = Keyring::start(&dave.user, Some("dave's login password"));
    dave.user.env.extend(dave_keyring.env());
    dave.user.setup(&dave.repo, PASS).assert_ok();
    assert_eq!(dave.key_line(), "Key: stored (keychain)");
    dave.lore(&["sync"]).assert_ok();
    assert_eq!(dave.ids(), list(&[S1]));
    dave.work(S3, "locked-keychain");
    dave_keyring.lock(&dave.user);
    let remote_before = alice.user.git(&remote, &["for-each-ref"]).stdout;
    let refs_before = dave.refs();
    let db_before = common::digest_db(&dave.user.lore_home.join("lore.db"));
    let r = dave.lore(&["sync"]);
    r.assert_fails();
    let error: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(error.len(), 1, "{}", r.stderr);
    assert!(error[0].contains("the OS keychain refused"), "{}", error[0]);
    assert!(error[0].contains("unlock the keychain"), "{}", error[0]);
    assert_eq!(
        alice.user.git(&remote, &["for-each-ref"]).stdout,
        remote_before
    );
    assert_eq!(dave.refs(), refs_before, "the sync wrote before it failed");
    assert_eq!(
        common::digest_db(&dave.user.lore_home.join("lore.db")),
        db_before
    );
    let r = dave.lore(&["sync", "status"]);
    r.assert_ok();
    assert!(
        r.stdout
            .contains("Key: not readable (the OS keychain refused"),
        "{}",
        r.stdout
    );
    // LORE_PASSPHRASE still works with the keychain locked.
    let r = dave.lore_with(&[("LORE_PASSPHRASE", PASS)], &["sync"]);
    r.assert_ok();
    assert!(r.stdout.contains("pushed 1 session"), "{}", r.stdout);

    // Setting up again while it is locked keeps the key in a file, with a warning; the syncs
    // that follow find it there without asking the keychain.
    let r = dave.user.setup(&dave.repo, PASS);
    r.assert_ok();
    assert!(
        r.stderr.contains("warning: the OS keychain refused"),
        "{}",
        r.stderr
    );
    assert_eq!(dave.key_files().len(), 1);
    dave.lore(&["sync"]).assert_ok();
    alice.lore(&["sync"]).assert_ok();
    assert_eq!(alice.ids(), list(&[S1, S3]));

    // A rotation while it is locked: the new key goes to a file, the keychain keeps the old
    // one under the same name. Once unlocked, the newer file is what counts.
    let new_pass = "the passphrase after the rotation";
    let r = dave.user.lore_input(
        &dave.repo,
        &["sync", "rotate", "--passphrase-stdin"],
        &format!("{new_pass}\n"),
    );
    r.assert_ok();
    assert!(r.stdout.contains("Data key rotated."), "{}", r.stdout);
    assert!(
        r.stderr.contains("warning: the OS keychain refused"),
        "{}",
        r.stderr
    );
    assert_eq!(dave.key_files().len(), 2, "{:?}", dave.key_files());
    dave_keyring.unlock(&dave.user, "dave's login password");
    dave.work(S4, "after-unlocking");
    let r = dave.lore(&["sync"]);
    r.assert_ok();
    assert!(r.stdout.contains("pushed"), "{}", r.stdout);
    assert_eq!(dave.key_line(), "Key: stored (key file)");
    // Alice sets up with the new passphrase and reads everything.
    alice.lore(&["sync"]).assert_fails();
    alice.user.setup(&alice.repo, new_pass).assert_ok();
    alice.lore(&["sync"]).assert_ok();
    assert_eq!(alice.ids(), list(&[S1, S3, S4]));

    // The other way out the error gives: no keychain at all, keys in files.
    dave.user
        .env
        .push(("LORE_KEYCHAIN".to_owned(), "off".to_owned()));
    assert_eq!(dave.key_line(), "Key: stored (key file)");
    dave.lore(&["sync"]).assert_ok();
}
