//! The sync-transport workloads (`remote` command): `git push` / `git clone` through
//! `git-remote-lore` beside plain git moving the same plaintext store, unencrypted, in the same
//! run, both against local bare repositories.
//!
//! - first push of a store of 2,000 and of 10,000 sessions (records of ~70 KB, the generated
//!   corpus's mean), from a packed repository to an empty bare remote;
//! - push of one new session into stores of 1,000, 10,000 and 100,000 sessions (small records,
//!   ~4 KB: the size of the store, not of the records, is what is measured);
//! - a fresh clone of the 10,000-session store.
//!
//! Stores are written in-process with lore's own library (the same code `lore sync export`
//! runs), so building a 100,000-session store does not need 100,000 transcripts.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use lore::crypto::StoreHeader;
use lore::gitstore::LocalStore;
use lore::gitstore::record::{RecordKind, RecordMessage, RecordSession, SessionRecord};
use lore::keys::KeyStore;

use crate::measure;
use crate::report::{self, Row};

const PASS: &str = "benchmark passphrase";

/// What the workloads need.
pub struct Config {
    pub bulk: Vec<usize>,
    pub incremental: Vec<usize>,
    pub clone_at: Option<usize>,
    pub runs: usize,
    pub bin_dir: PathBuf,
    pub dir: PathBuf,
}

/// A deterministic pseudo-random source (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

const WORDS: &[&str] = &[
    "the",
    "function",
    "returns",
    "error",
    "when",
    "parser",
    "reads",
    "a",
    "line",
    "that",
    "is",
    "not",
    "valid",
    "we",
    "should",
    "check",
    "config",
    "before",
    "writing",
    "file",
    "test",
    "passes",
    "now",
    "cache",
    "invalidated",
    "after",
    "merge",
    "commit",
    "branch",
    "refactor",
    "module",
    "into",
    "two",
    "parts",
    "because",
    "lock",
    "held",
    "too",
    "long",
];

/// The canonical record of session number `n` with about `bytes` of message text.
fn record(n: usize, bytes: usize) -> (String, Vec<u8>) {
    let id = format!("{:08x}-0000-4000-8000-{:012x}", n as u32, n);
    let mut rng = Rng(n as u64 ^ 0x5eed);
    let mut messages = Vec::new();
    let per = 2_000;
    let count = bytes.div_ceil(per).max(1);
    for i in 0..count {
        let mut text = String::with_capacity(per + 16);
        while text.len() < per {
            text.push_str(WORDS[(rng.next() % WORDS.len() as u64) as usize]);
            text.push(' ');
        }
        messages.push(RecordMessage {
            ordinal: i as i64,
            role: if i % 2 == 0 { "user" } else { "assistant" }.into(),
            kind: "text".into(),
            content: text,
            timestamp: Some(1_770_000_000_000 + i as i64 * 1000),
            tool_name: None,
        });
    }
    let rec = SessionRecord {
        format: 1,
        kind: RecordKind::Session,
        session: RecordSession {
            id: id.clone(),
            parent_id: None,
            tool: "claude-code".into(),
            tool_version: Some("2.1.72".into()),
            model: Some("claude-opus-4-6".into()),
            title: Some(format!("session {n}")),
            started_at: Some(1_770_000_000_000),
            updated_at: Some(1_770_000_000_000 + count as i64 * 1000),
            ended_at: None,
            cwd: Some("/home/dev/project".into()),
            git_branch: Some("main".into()),
            machine_id: "00000000-0000-4000-8000-000000000000".into(),
            message_count: count as i64,
        },
        messages,
        links: vec![],
        tags: vec![],
        removed_tags: vec![],
        annotations: vec![],
    };
    (
        id,
        serde_json_canonicalizer::to_vec(&rec).expect("canonical JSON"),
    )
}

/// A throw-away environment: HOME, LORE_HOME (with the store's key), git config, and a gpg
/// key for git-remote-gcrypt when it is installed.
pub(crate) struct Env {
    pub(crate) home: PathBuf,
    path: std::ffi::OsString,
    /// Whether git-remote-gcrypt can be measured beside lore.
    gcrypt: bool,
}

impl Env {
    pub(crate) fn new(dir: &Path, bin_dir: &Path) -> Env {
        let home = dir.join("home");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::write(
            home.join(".gitconfig"),
            "[user]\n\tname = bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n",
        )
        .expect("gitconfig");
        let mut parts = vec![bin_dir.to_path_buf()];
        parts.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let path = std::env::join_paths(parts).expect("PATH");
        let gcrypt = std::env::split_paths(&path).any(|d| d.join("git-remote-gcrypt").is_file())
            && {
                let gnupg = home.join(".gnupg");
                let _ = std::fs::create_dir_all(&gnupg);
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700));
                Command::new("gpg")
                    .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
                    .args([
                        "--quick-gen-key",
                        "bench <bench@example.com>",
                        "default",
                        "default",
                        "never",
                    ])
                    .env("GNUPGHOME", &gnupg)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
        if !gcrypt {
            eprintln!("remote: git-remote-gcrypt (or gpg) not available; its rows are skipped");
        }
        Env { home, path, gcrypt }
    }

    pub(crate) fn git(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut c = self.command(Path::new("git"), cwd);
        c.args(args);
        c
    }

    /// `program` in `cwd` with this environment's variables and nothing else.
    pub(crate) fn command(&self, program: &Path, cwd: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(cwd)
            .env_clear()
            .env("PATH", &self.path)
            .env("HOME", &self.home)
            .env("LORE_HOME", self.home.join(".lore"))
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GNUPGHOME", self.home.join(".gnupg"))
            // Keys in files, as on a machine without a keychain, and none left in the
            // developer's own keychain.
            .env("LORE_KEYCHAIN", "off");
        c
    }

    /// Runs git and measures it; panics with git's words on failure.
    pub(crate) fn timed(&self, cwd: &Path, args: &[&str]) -> f64 {
        let p = measure::run(&mut self.git(cwd, args), Stdio::null()).expect("spawn git");
        assert!(p.ok(), "git {} failed: {}", args.join(" "), p.failure());
        p.wall.as_secs_f64()
    }

    pub(crate) fn ok(&self, cwd: &Path, args: &[&str]) {
        let out = self.git(cwd, args).output().expect("spawn git");
        assert!(
            out.status.success(),
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

pub(crate) fn fresh_dir(p: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(p);
    std::fs::create_dir_all(p).expect("mkdir");
    p.to_path_buf()
}

/// A bare repository holding a code commit on main and a plaintext store of `n` sessions of
/// about `bytes` each, in packs. Returns its path and the records' total size.
fn build_store(env: &Env, dir: &Path, n: usize, bytes: usize) -> (PathBuf, u64) {
    let repo = dir.join(format!("src-{n}.git"));
    let _ = std::fs::remove_dir_all(&repo);
    env.ok(
        dir,
        &["init", "-q", "--bare", repo.to_str().expect("utf-8")],
    );
    let local = LocalStore::open(&repo).expect("open store repo");
    let (header, key) = StoreHeader::create(PASS.as_bytes()).expect("header");
    KeyStore::new(env.home.join(".lore/keys"))
        .save(header.store_id_hex(), &key)
        .expect("save key");
    local
        .write_header(&header, "lore: create store")
        .expect("header commit");
    let mut total = 0u64;
    let batch = 5_000;
    for start in (0..n).step_by(batch) {
        let end = (start + batch).min(n);
        let records = (start..end).map(|i| {
            let (id, rec) = record(i, bytes);
            total += rec.len() as u64;
            Ok((id, rec))
        });
        local
            .write_records(records, |o| format!("lore: sync {} sessions", o.written))
            .expect("write records");
    }
    // A code commit, so a clone checks out main rather than the sessions.
    let tree = env
        .git(&repo, &["mktree"])
        .stdin(Stdio::null())
        .output()
        .expect("mktree");
    let tree = String::from_utf8_lossy(&tree.stdout).trim().to_owned();
    let commit = env
        .git(&repo, &["commit-tree", &tree, "-m", "code"])
        .output()
        .expect("commit-tree");
    let commit = String::from_utf8_lossy(&commit.stdout).trim().to_owned();
    env.ok(&repo, &["update-ref", "refs/heads/main", &commit]);
    // lore writes each batch as one pack already; nothing to repack.
    (repo, total)
}

/// Copies a (packed) repository.
fn copy_repo(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    let status = Command::new("cp")
        .args([
            "-a",
            from.to_str().expect("utf-8"),
            to.to_str().expect("utf-8"),
        ])
        .status()
        .expect("cp");
    assert!(status.success());
}

pub(crate) fn ratio(lore: f64, base: f64) -> String {
    if base > 0.0 {
        format!("{:.2}×", lore / base)
    } else {
        "–".into()
    }
}

pub(crate) fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

/// Runs every workload and returns the report's rows.
pub fn run(cfg: &Config) -> Vec<Row> {
    let dir = fresh_dir(&cfg.dir);
    let env = Env::new(&dir, &cfg.bin_dir);
    let mut rows = Vec::new();

    // First push of a whole store.
    for &n in &cfg.bulk {
        eprintln!("remote: building a store of {n} sessions (~70 KB each)");
        let (src, bytes) = build_store(&env, &dir, n, 70_000);
        let (mut lore_t, mut git_t) = (Vec::new(), Vec::new());
        for run in 0..cfg.runs {
            eprintln!("remote: first push of {n}, run {}", run + 1);
            let work = dir.join("work.git");
            let remote = dir.join("remote.git");
            for (times, url) in [(&mut lore_t, true), (&mut git_t, false)] {
                copy_repo(&src, &work);
                let _ = std::fs::remove_dir_all(&remote);
                env.ok(
                    &dir,
                    &["init", "-q", "--bare", remote.to_str().expect("utf-8")],
                );
                let target = if url {
                    format!("lore::{}", remote.display())
                } else {
                    remote.display().to_string()
                };
                times.push(env.timed(&work, &["push", "-q", &target, "refs/lore/sessions"]));
            }
        }
        let mut gcrypt_t = Vec::new();
        if env.gcrypt {
            for run in 0..cfg.runs {
                eprintln!(
                    "remote: first push of {n} with git-remote-gcrypt, run {}",
                    run + 1
                );
                let work = dir.join("work.git");
                let remote = dir.join("remote.git");
                copy_repo(&src, &work);
                let _ = std::fs::remove_dir_all(&remote);
                env.ok(
                    &dir,
                    &["init", "-q", "--bare", remote.to_str().expect("utf-8")],
                );
                let target = format!("gcrypt::{}", remote.display());
                gcrypt_t.push(env.timed(&work, &["push", "-q", &target, "refs/lore/sessions"]));
            }
        }
        let (l, g) = (measure::median(&lore_t), measure::median(&git_t));
        let mbs = |t: f64| bytes as f64 / t / 1e6;
        if !gcrypt_t.is_empty() {
            let c = measure::median(&gcrypt_t);
            rows.push(Row {
                workload: format!(
                    "First push, {} sessions: lore beside git-remote-gcrypt",
                    report::thousands(n as u64)
                ),
                lore: format!("{} ({:.1} MB/s)", secs(l), mbs(l)),
                baseline: format!("git-remote-gcrypt 1.5: {} ({:.1} MB/s)", secs(c), mbs(c)),
                ratio: ratio(l, c),
                note: "gpg over whole packs".into(),
            });
        }
        rows.push(Row {
            workload: format!(
                "First push, {} sessions ({})",
                report::thousands(n as u64),
                report::mb(bytes)
            ),
            lore: format!("{} ({:.1} MB/s)", secs(l), mbs(l)),
            baseline: format!("plain git push: {} ({:.1} MB/s)", secs(g), mbs(g)),
            ratio: ratio(l, g),
            note: "target ≤ 1.5×".into(),
        });
        if cfg.clone_at == Some(n) {
            // Leave a lore remote and a plain remote of this store for the clone workload.
            let lore_remote = dir.join(format!("lore-remote-{n}.git"));
            let plain_remote = dir.join(format!("plain-remote-{n}.git"));
            for (remote, lore) in [(&lore_remote, true), (&plain_remote, false)] {
                let work = dir.join("work.git");
                copy_repo(&src, &work);
                let _ = std::fs::remove_dir_all(remote);
                env.ok(
                    &dir,
                    &["init", "-q", "--bare", remote.to_str().expect("utf-8")],
                );
                let target = if lore {
                    format!("lore::{}", remote.display())
                } else {
                    remote.display().to_string()
                };
                env.ok(
                    &work,
                    &["push", "-q", &target, "main", "refs/lore/sessions"],
                );
            }
            let (mut lore_t, mut git_t) = (Vec::new(), Vec::new());
            for run in 0..cfg.runs {
                eprintln!("remote: fresh clone of {n}, run {}", run + 1);
                let dest = dir.join("clone");
                let _ = std::fs::remove_dir_all(&dest);
                lore_t.push(env.timed(
                    &dir,
                    &[
                        "clone",
                        "-q",
                        "--no-checkout",
                        &format!("lore::{}", lore_remote.display()),
                        dest.to_str().expect("utf-8"),
                    ],
                ));
                let _ = std::fs::remove_dir_all(&dest);
                git_t.push(env.timed(
                    &dir,
                    &[
                        "clone",
                        "-q",
                        "--mirror",
                        "--no-local",
                        plain_remote.to_str().expect("utf-8"),
                        dest.to_str().expect("utf-8"),
                    ],
                ));
            }
            let (l, g) = (measure::median(&lore_t), measure::median(&git_t));
            rows.push(Row {
                workload: format!("Fresh clone, {} sessions", report::thousands(n as u64)),
                lore: secs(l),
                baseline: format!("plain git clone --mirror --no-local: {}", secs(g)),
                ratio: ratio(l, g),
                note: "lore decrypts every session".into(),
            });
        }
        let _ = std::fs::remove_dir_all(&src);
    }

    // One new session into stores of growing size.
    let mut incremental = Vec::new();
    for &n in &cfg.incremental {
        eprintln!("remote: building a store of {n} sessions (~4 KB each)");
        let (src, _) = build_store(&env, &dir, n, 4_000);
        let lore_remote = fresh_dir(&dir.join("inc-lore-remote.git"));
        let plain_remote = fresh_dir(&dir.join("inc-plain-remote.git"));
        env.ok(
            &dir,
            &["init", "-q", "--bare", lore_remote.to_str().expect("utf-8")],
        );
        env.ok(
            &dir,
            &[
                "init",
                "-q",
                "--bare",
                plain_remote.to_str().expect("utf-8"),
            ],
        );
        let lore_work = dir.join("inc-lore-work.git");
        let plain_work = dir.join("inc-plain-work.git");
        copy_repo(&src, &lore_work);
        copy_repo(&src, &plain_work);
        let lore_url = format!("lore::{}", lore_remote.display());
        eprintln!("remote: initial push of {n} (not measured)");
        env.ok(&lore_work, &["push", "-q", &lore_url, "refs/lore/sessions"]);
        env.ok(
            &plain_work,
            &[
                "push",
                "-q",
                plain_remote.to_str().expect("utf-8"),
                "refs/lore/sessions",
            ],
        );
        let gcrypt_remote = dir.join("inc-gcrypt-remote.git");
        let gcrypt_work = dir.join("inc-gcrypt-work.git");
        let gcrypt_url = format!("gcrypt::{}", gcrypt_remote.display());
        if env.gcrypt {
            let _ = std::fs::remove_dir_all(&gcrypt_remote);
            env.ok(
                &dir,
                &[
                    "init",
                    "-q",
                    "--bare",
                    gcrypt_remote.to_str().expect("utf-8"),
                ],
            );
            copy_repo(&src, &gcrypt_work);
            eprintln!("remote: initial git-remote-gcrypt push of {n} (not measured)");
            env.ok(
                &gcrypt_work,
                &["push", "-q", &gcrypt_url, "refs/lore/sessions"],
            );
        }
        let (mut lore_t, mut git_t, mut gcrypt_t) = (Vec::new(), Vec::new(), Vec::new());
        for run in 0..cfg.runs {
            let (id, rec) = record(10_000_000 + run, 4_000);
            let mut targets = vec![
                (&lore_work, &mut lore_t, lore_url.clone()),
                (&plain_work, &mut git_t, plain_remote.display().to_string()),
            ];
            if env.gcrypt {
                targets.push((&gcrypt_work, &mut gcrypt_t, gcrypt_url.clone()));
            }
            for (work, times, target) in targets {
                let local = LocalStore::open(work).expect("open");
                local
                    .write_records([Ok((id.clone(), rec.clone()))], |_| {
                        "lore: sync 1 session".into()
                    })
                    .expect("write");
                times.push(env.timed(work, &["push", "-q", &target, "refs/lore/sessions"]));
            }
        }
        let (l, g) = (measure::median(&lore_t), measure::median(&git_t));
        incremental.push((n, l, g));
        // One more push, traced, to show where lore's time goes.
        let (id, rec) = record(20_000_000, 4_000);
        LocalStore::open(&lore_work)
            .expect("open")
            .write_records([Ok((id, rec))], |_| "lore: sync 1 session".into())
            .expect("write");
        let traced = env
            .git(&lore_work, &["push", "-q", &lore_url, "refs/lore/sessions"])
            .env("LORE_TRACE", "1")
            .output()
            .expect("traced push");
        let trace = String::from_utf8_lossy(&traced.stderr);
        let step = |name: &str| -> String {
            trace
                .lines()
                .find_map(|l| l.strip_prefix(&format!("git-remote-lore: {name}: ")))
                .unwrap_or("–")
                .to_owned()
        };
        rows.push(Row {
            workload: format!(
                "Push 1 new session into a store of {}",
                report::thousands(n as u64)
            ),
            lore: secs(l),
            baseline: format!("plain git push: {}", secs(g)),
            ratio: ratio(l, g),
            note: format!(
                "target ≤ 2×; inside lore: ls-remote {}, encrypt {}, git push {}",
                step("git ls-remote"),
                step("encrypt"),
                step("git push")
            ),
        });
        if !gcrypt_t.is_empty() {
            let c = measure::median(&gcrypt_t);
            rows.push(Row {
                workload: format!(
                    "Push 1 new session into a store of {}: lore beside git-remote-gcrypt",
                    report::thousands(n as u64)
                ),
                lore: secs(l),
                baseline: format!("git-remote-gcrypt 1.5: {}", secs(c)),
                ratio: ratio(l, c),
                note: String::new(),
            });
        }
        for p in [
            &src,
            &lore_remote,
            &plain_remote,
            &lore_work,
            &plain_work,
            &gcrypt_remote,
            &gcrypt_work,
        ] {
            let _ = std::fs::remove_dir_all(p);
        }
    }
    if let (Some(first), Some(last)) = (incremental.first(), incremental.last())
        && incremental.len() > 1
    {
        rows.push(Row {
            workload: format!(
                "Flatness: 1 new session at {} ÷ at {}",
                report::thousands(last.0 as u64),
                report::thousands(first.0 as u64)
            ),
            lore: format!("{:.2}×", last.1 / first.1),
            baseline: format!("plain git push: {:.2}×", last.2 / first.2),
            ratio: "–".into(),
            note: "target ≤ 1.5×".into(),
        });
    }
    rows
}
