//! The `lore sync` workloads (`sync` command), against a local bare repository as the remote,
//! each beside plain git doing the corresponding transfer in the same run:
//!
//! - `lore sync` with nothing to do, in a repository whose store holds N sessions, beside a
//!   plain `git fetch` that finds everything up to date;
//! - `lore sync` after one new session was imported, beside a plain `git fetch` plus a
//!   `git push` of one small commit;
//!   and, as a second baseline, plain git committing one new file into a checkout of the same
//!   store unencrypted and fetching and pushing it (the same shape of tree);
//! - the same with the key in GNOME Keyring on a session bus of the run's own (when
//!   dbus-daemon and gnome-keyring-daemon are installed), to show what the keychain costs;
//! - a new member joining: `lore sync` in a fresh clone with an empty lore.db (the key already
//!   set up), until all N sessions are in lore.db, beside a plain `git fetch` of the same store
//!   unencrypted.
//!
//! Alice's sessions are real transcripts (small Claude Code ones, generated here) imported with
//! `lore import`, whose working directory is her clone, so the repository's store holds them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::measure;
use crate::remote::{Env, fresh_dir, ratio, secs};
use crate::report::{self, Row};

const PASS: &str = "benchmark passphrase";

/// What the workloads need.
pub struct Config {
    /// Sessions in the store.
    pub sessions: usize,
    pub runs: usize,
    pub bin_dir: PathBuf,
    pub dir: PathBuf,
}

/// One small Claude Code transcript (three prompt/reply pairs) for session `id` in `cwd`.
fn transcript(id: &str, n: usize, cwd: &Path) -> String {
    let mut out = String::new();
    for t in 0..6u32 {
        let kind = if t % 2 == 0 { "user" } else { "assistant" };
        let text = format!(
            "{} {n}: the parser reads line {t} before the cache is invalidated",
            if t % 2 == 0 {
                "please check"
            } else {
                "I checked"
            }
        );
        let message = if kind == "user" {
            serde_json::json!({"role": "user", "content": text})
        } else {
            serde_json::json!({"role": "assistant", "id": format!("msg_{n}_{t}"),
                "type": "message", "model": "claude-opus-4-6",
                "content": [{"type": "text", "text": text}]})
        };
        let line = serde_json::json!({
            "parentUuid": null, "isSidechain": false, "userType": "external",
            "cwd": cwd, "sessionId": id, "version": "2.1.72", "gitBranch": "main",
            "type": kind, "message": message, "uuid": format!("{id}-{t}"),
            "timestamp": format!("2026-03-11T10:{:02}:{:02}.000Z", (n / 60) % 60, t),
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

fn session_id(n: usize) -> String {
    format!("{:08x}-1111-4000-8000-{:012x}", n as u32, n)
}

/// Writes transcripts `range` for sessions in `cwd` under `dir`.
fn write_transcripts(dir: &Path, range: std::ops::Range<usize>, cwd: &Path) {
    let folder = dir.join("projects").join("bench");
    std::fs::create_dir_all(&folder).expect("mkdir");
    for n in range {
        let id = session_id(n);
        std::fs::write(folder.join(format!("{id}.jsonl")), transcript(&id, n, cwd))
            .expect("write transcript");
    }
}

/// A member: a lore home and a clone.
struct Member {
    lore_home: PathBuf,
    repo: PathBuf,
}

impl Member {
    fn lore(&self, env: &Env, bin_dir: &Path, args: &[&str]) -> Command {
        let mut c = env.command(&bin_dir.join("lore"), &self.repo);
        c.args(args)
            .env("LORE_HOME", &self.lore_home)
            .env("NO_COLOR", "1");
        c
    }
}

/// What one round of the one-new-session workload needs.
struct Round<'a> {
    env: &'a Env,
    bin: &'a Path,
    alice: &'a Member,
    dir: &'a Path,
    /// A clone of the plain remote, for the baseline's small commit.
    plain: &'a Path,
}

impl Round<'_> {
    /// Imports session number `at` into Alice's lore and times her `lore sync` (`prepare` adds
    /// to its environment); then times plain git committing, fetching and pushing one small
    /// commit. Returns both times in seconds.
    fn one_new_session(&self, at: usize, tag: &str, prepare: impl Fn(&mut Command)) -> (f64, f64) {
        let (env, bin, alice) = (self.env, self.bin, self.alice);
        let extra = self.dir.join(format!("extra-{tag}"));
        write_transcripts(&extra, at..at + 1, &alice.repo);
        ok(
            &mut alice.lore(env, bin, &["import", extra.to_str().expect("utf-8")]),
            "lore import",
        );
        let mut sync = alice.lore(env, bin, &["sync", "--quiet"]);
        prepare(&mut sync);
        let lore = timed(&mut sync, "lore sync");
        std::fs::write(self.plain.join("note.txt"), format!("run {tag}\n")).expect("write");
        env.ok(self.plain, &["add", "note.txt"]);
        env.ok(self.plain, &["commit", "-q", "-m", &format!("run {tag}")]);
        let fetch = env.timed(self.plain, &["fetch", "-q", "origin"]);
        let push = env.timed(
            self.plain,
            &["push", "-q", "origin", "HEAD:refs/heads/bench"],
        );
        (lore, fetch + push)
    }
}

fn ok(cmd: &mut Command, what: &str) -> std::process::Output {
    let out = cmd.stdin(Stdio::null()).output().expect("spawn");
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `cmd` with `input` on its stdin (a new passphrase never comes from the environment).
fn ok_input(cmd: &mut Command, input: &str, what: &str) -> std::process::Output {
    use std::io::Write as _;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn timed(cmd: &mut Command, what: &str) -> f64 {
    let p = measure::run(cmd, Stdio::null()).expect("spawn");
    assert!(p.ok(), "{what} failed: {}", p.failure());
    p.wall.as_secs_f64()
}

/// Runs every workload and returns the report's rows.
pub fn run(cfg: &Config) -> Vec<Row> {
    let dir = fresh_dir(&cfg.dir);
    let env = Env::new(&dir, &cfg.bin_dir);
    let bin = &cfg.bin_dir;
    let n = cfg.sessions;
    let nn = report::thousands(n as u64);
    let mut rows = Vec::new();

    // The remote: a bare repository with one code commit.
    let remote = dir.join("remote.git");
    env.ok(&dir, &["init", "-q", "--bare", "remote.git"]);
    let seed = dir.join("seed");
    env.ok(&dir, &["init", "-q", "seed"]);
    std::fs::write(seed.join("README"), "bench\n").expect("write");
    env.ok(&seed, &["add", "README"]);
    env.ok(&seed, &["commit", "-q", "-m", "code"]);
    env.ok(
        &seed,
        &["push", "-q", remote.to_str().expect("utf-8"), "main"],
    );

    let clone = |name: &str| -> PathBuf {
        env.ok(
            &dir,
            &["clone", "-q", remote.to_str().expect("utf-8"), name],
        );
        dir.join(name)
    };
    let alice = Member {
        lore_home: dir.join("alice-lore"),
        repo: clone("alice"),
    };
    let transcripts = dir.join("alice-transcripts");
    eprintln!("sync: writing {n} transcripts and importing them (not measured)");
    write_transcripts(&transcripts, 0..n, &alice.repo);
    ok(
        &mut alice.lore(&env, bin, &["import", transcripts.to_str().expect("utf-8")]),
        "lore import",
    );
    ok_input(
        &mut alice.lore(&env, bin, &["sync", "setup", "--passphrase-stdin"]),
        &format!("{PASS}\n"),
        "lore sync setup",
    );
    eprintln!("sync: first sync of {n} (measured once)");
    let first = timed(
        &mut alice.lore(&env, bin, &["sync", "--quiet"]),
        "first lore sync",
    );

    // The same store, unencrypted, on a plain remote: what plain git's transfers move.
    let plain_remote = dir.join("plain.git");
    env.ok(&dir, &["init", "-q", "--bare", "plain.git"]);
    let plain_url = plain_remote.to_str().expect("utf-8").to_owned();
    let first_git = env.timed(
        &alice.repo,
        &["push", "-q", &plain_url, "main", "refs/lore/sessions"],
    );
    rows.push(Row {
        workload: format!("First `lore sync` of {nn} sessions (export, encrypt, push)"),
        lore: secs(first),
        baseline: format!("plain git push of the store: {}", secs(first_git)),
        ratio: ratio(first, first_git),
        note: "once; lore builds every record from lore.db".into(),
    });

    // Nothing to do.
    let (mut lore_t, mut git_t) = (Vec::new(), Vec::new());
    for run in 0..cfg.runs {
        eprintln!("sync: nothing to do, run {}", run + 1);
        lore_t.push(timed(
            &mut alice.lore(&env, bin, &["sync", "--quiet"]),
            "lore sync",
        ));
        git_t.push(env.timed(&alice.repo, &["fetch", "-q", "origin"]));
    }
    let (l, g) = (measure::median(&lore_t), measure::median(&git_t));
    rows.push(Row {
        workload: format!("`lore sync` with nothing to do, {nn} sessions"),
        lore: secs(l),
        baseline: format!("plain git fetch, up to date: {}", secs(g)),
        ratio: ratio(l, g),
        note: "target ≤ 1.5×".into(),
    });

    // One new session.
    let plain = dir.join("plain-work");
    env.ok(&dir, &["clone", "-q", &plain_url, "plain-work"]);
    // The same change in plain git on the same shape of data: one new file committed into a
    // checkout of the unencrypted store, fetched and pushed to its refs/lore/sessions.
    let plain_store = dir.join("plain-store");
    env.ok(
        &dir,
        &["clone", "-q", "--no-checkout", &plain_url, "plain-store"],
    );
    env.ok(
        &plain_store,
        &[
            "fetch",
            "-q",
            "origin",
            "refs/lore/sessions:refs/lore/sessions",
        ],
    );
    env.ok(
        &plain_store,
        &["checkout", "-q", "-b", "store", "refs/lore/sessions"],
    );
    let round = Round {
        env: &env,
        bin,
        alice: &alice,
        dir: &dir,
        plain: &plain,
    };
    let (mut lore_t, mut git_t, mut store_t) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..cfg.runs {
        eprintln!("sync: one new session, run {}", run + 1);
        let (lore, git) = round.one_new_session(n + run, &run.to_string(), |_| {});
        lore_t.push(lore);
        git_t.push(git);
        let shard = plain_store.join("sessions/be/nc");
        std::fs::create_dir_all(&shard).expect("mkdir");
        std::fs::write(
            shard.join(format!("bench-{run}.json")),
            format!(
                "{{\"id\":\"bench-{run}\",\"text\":\"{}\"}}\n",
                "x".repeat(500)
            ),
        )
        .expect("write");
        env.ok(&plain_store, &["add", "sessions"]);
        env.ok(&plain_store, &["commit", "-q", "-m", &format!("run {run}")]);
        let fetch = env.timed(
            &plain_store,
            &["fetch", "-q", "origin", "refs/lore/sessions"],
        );
        let push = env.timed(
            &plain_store,
            &["push", "-q", "origin", "HEAD:refs/lore/sessions"],
        );
        store_t.push(fetch + push);
    }
    let (l, g) = (measure::median(&lore_t), measure::median(&git_t));
    let st = measure::median(&store_t);
    rows.push(Row {
        workload: format!("`lore sync` with 1 new session, {nn} sessions"),
        lore: secs(l),
        baseline: format!("plain git fetch + push of 1 small commit: {}", secs(g)),
        ratio: ratio(l, g),
        note: "target ≤ 2×".into(),
    });
    rows.push(Row {
        workload: format!(
            "The same `lore sync` runs, against plain git moving 1 new session in a {nn}-session store"
        ),
        lore: secs(l),
        baseline: format!(
            "plain git fetch + push of 1 new file in the unencrypted store: {}",
            secs(st)
        ),
        ratio: ratio(l, st),
        note: "same shape of data: git's own push into a tree of N sessions".into(),
    });

    // One new session again, with the key in GNOME Keyring: what reaching the keychain costs.
    match Keyring::start(&env, &dir) {
        None => eprintln!(
            "sync: dbus-daemon or gnome-keyring-daemon missing; the keychain row is left out"
        ),
        Some(keyring) => {
            let with_keychain = |c: &mut Command| {
                c.env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
                    .env("LORE_KEYCHAIN", "on");
            };
            // Setting up again with the keychain on moves the key out of its file.
            let mut setup = alice.lore(&env, bin, &["sync", "setup"]);
            with_keychain(&mut setup);
            ok(
                setup.env("LORE_PASSPHRASE", PASS),
                "lore sync setup (keychain)",
            );
            let mut status = alice.lore(&env, bin, &["sync", "status", "--json"]);
            with_keychain(&mut status);
            let out = ok(&mut status, "lore sync status --json");
            let status: serde_json::Value =
                serde_json::from_slice(&out.stdout).expect("status JSON");
            assert_eq!(status["key_location"], "keychain", "{status}");
            let (mut lore_t, mut git_t) = (Vec::new(), Vec::new());
            for run in 0..cfg.runs {
                eprintln!(
                    "sync: one new session, key in the keychain, run {}",
                    run + 1
                );
                let (lore, git) = round.one_new_session(
                    n + cfg.runs + run,
                    &format!("keychain-{run}"),
                    with_keychain,
                );
                lore_t.push(lore);
                git_t.push(git);
            }
            let (l, g) = (measure::median(&lore_t), measure::median(&git_t));
            rows.push(Row {
                workload: format!(
                    "`lore sync` with 1 new session, {nn} sessions, key in GNOME Keyring"
                ),
                lore: secs(l),
                baseline: format!("plain git fetch + push of 1 small commit: {}", secs(g)),
                ratio: ratio(l, g),
                note: "the row above with the key read over D-Bus".into(),
            });
        }
    }

    // A new member joins.
    let (mut lore_t, mut git_t) = (Vec::new(), Vec::new());
    for run in 0..cfg.runs {
        eprintln!("sync: a new member joins, run {}", run + 1);
        let name = format!("bob-{run}");
        let bob = Member {
            lore_home: dir.join(format!("{name}-lore")),
            repo: clone(&name),
        };
        ok(
            bob.lore(&env, bin, &["sync", "setup"])
                .env("LORE_PASSPHRASE", PASS),
            "lore sync setup (join)",
        );
        lore_t.push(timed(
            &mut bob.lore(&env, bin, &["sync", "--quiet"]),
            "lore sync",
        ));
        let out = ok(
            &mut bob.lore(&env, bin, &["status", "--json"]),
            "lore status --json",
        );
        let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
        let have = status["session_count"].as_u64().unwrap_or(0);
        assert!(
            have as usize >= n,
            "the new member has {have} sessions, expected at least {n}"
        );
        let fresh = dir.join(format!("plain-join-{run}"));
        env.ok(&dir, &["init", "-q", fresh.to_str().expect("utf-8")]);
        git_t.push(env.timed(
            &fresh,
            &[
                "fetch",
                "-q",
                "--no-tags",
                &plain_url,
                "refs/lore/sessions:refs/lore/sessions",
            ],
        ));
        let _ = std::fs::remove_dir_all(&bob.repo);
        let _ = std::fs::remove_dir_all(&bob.lore_home);
        let _ = std::fs::remove_dir_all(&fresh);
    }
    let (l, g) = (measure::median(&lore_t), measure::median(&git_t));
    rows.push(Row {
        workload: format!("A new member joins: {nn} sessions into an empty lore.db"),
        lore: secs(l),
        baseline: format!("plain git fetch of the store, unencrypted: {}", secs(g)),
        ratio: ratio(l, g),
        note: "lore fetches, decrypts, merges into lore.db".into(),
    });
    rows
}

/// A D-Bus session bus with GNOME Keyring unlocked on it, in the run's HOME; stopped on drop.
struct Keyring {
    pid: u32,
    address: String,
}

impl Keyring {
    /// `None` when dbus-daemon or gnome-keyring-daemon is not installed.
    fn start(env: &Env, dir: &Path) -> Option<Keyring> {
        let out = env
            .command(Path::new("dbus-daemon"), dir)
            .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut lines = text.lines();
        let address = lines.next()?.trim().to_owned();
        let pid = lines.next()?.trim().parse().ok()?;
        let keyring = Keyring { pid, address };
        let mut child = env
            .command(Path::new("gnome-keyring-daemon"), dir)
            .args(["--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        use std::io::Write as _;
        child.stdin.take()?.write_all(b"benchmark login").ok()?;
        child.wait().ok()?.success().then_some(keyring)
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}
