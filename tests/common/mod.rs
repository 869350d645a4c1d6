//! Shared test harness: a throw-away home per test, the built binaries, and a digest of the
//! database's content so tests can prove that nothing stored changed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sha2::{Digest, Sha256};

/// A throw-away world: `HOME`, `LORE_HOME` and `GIT_CONFIG_GLOBAL` inside one temp folder.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
    pub lore_home: PathBuf,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let lore_home = home.join(".lore");
        TestEnv {
            dir,
            home,
            lore_home,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `lore` with this environment and nothing of the developer's.
    pub fn lore(&self) -> Command {
        let mut c = Command::cargo_bin("lore").expect("lore binary");
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("LORE_HOME", &self.lore_home)
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("TZ", "UTC")
            // Never the developer's own keychain: tests/keychain.rs brings a keychain of its own.
            .env("LORE_KEYCHAIN", "off")
            .current_dir(self.dir.path());
        c
    }

    pub fn db(&self) -> PathBuf {
        self.lore_home.join("lore.db")
    }

    /// A digest of every stored session, message, link, tag, annotation and tombstone (all but
    /// the bookkeeping column `source_fingerprint`).
    pub fn digest(&self) -> String {
        digest_db(&self.db())
    }

    /// `lore sessions --json -n 0`, parsed.
    pub fn sessions(&self) -> Vec<serde_json::Value> {
        let out = self
            .lore()
            .args(["sessions", "--json", "-n", "0"])
            .output()
            .expect("run lore");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v["sessions"].as_array().expect("sessions").clone()
    }

    /// `lore search QUERY --json`: the hits.
    pub fn search(&self, query: &str) -> Vec<serde_json::Value> {
        let out = self
            .lore()
            .args(["search", query, "--json"])
            .output()
            .expect("run lore");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v["hits"].as_array().expect("hits").clone()
    }

    /// `lore show ID --json`, parsed.
    pub fn show(&self, id: &str) -> serde_json::Value {
        let out = self
            .lore()
            .args(["show", id, "--json"])
            .output()
            .expect("run lore");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    }
}

pub fn digest_db(path: &Path) -> String {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open db");
    let mut h = Sha256::new();
    for (table, order) in [
        ("sessions", "id"),
        ("messages", "session_id, ordinal"),
        ("links", "session_id, commit_id"),
        ("tags", "session_id, tag"),
        ("annotations", "id"),
        ("tombstones", "session_id"),
    ] {
        h.update(table.as_bytes());
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))
            .expect("prepare");
        // Where a session was last read from is bookkeeping, not content.
        let columns: Vec<usize> = (0..stmt.column_count())
            .filter(|&i| stmt.column_name(i).is_ok_and(|n| n != "source_fingerprint"))
            .collect();
        let mut rows = stmt.query([]).expect("query");
        while let Some(r) = rows.next().expect("row") {
            for &i in &columns {
                let v: rusqlite::types::Value = r.get(i).expect("value");
                h.update(format!("{v:?}\u{1f}").as_bytes());
            }
            h.update(b"\n");
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The repository's `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let rel = entry.path().strip_prefix(from).expect("prefix");
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

/// One Claude Code transcript line.
pub fn claude_line(session: &str, n: u32, kind: &str, text: &str) -> String {
    let ts = format!("2026-03-11T10:{:02}:{:02}.000Z", (n / 60) % 60, n % 60);
    let message = match kind {
        "user" => serde_json::json!({"role": "user", "content": text}),
        _ => serde_json::json!({
            "role": "assistant", "id": format!("msg_{n}"), "type": "message",
            "model": "claude-opus-4-6",
            "content": [{"type": "text", "text": text}],
        }),
    };
    serde_json::json!({
        "parentUuid": null, "isSidechain": false, "userType": "external",
        "cwd": "/home/dev/acme", "sessionId": session, "version": "2.1.72",
        "gitBranch": "main", "type": kind, "message": message,
        "uuid": format!("{session}-{n}"), "timestamp": ts,
    })
    .to_string()
}

/// One Claude Code transcript line: the assistant's `Write` tool call writing `content` to
/// `file_path` (a writing tool call: evidence for the commits that carry those lines).
pub fn claude_write_line(session: &str, n: u32, file_path: &str, content: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&claude_line(session, n, "assistant", "")).expect("json");
    v["message"]["content"] = serde_json::json!([{"type": "tool_use", "id": format!("t-{n}"),
        "name": "Write", "input": {"file_path": file_path, "content": content}}]);
    v.to_string()
}

/// A small, complete Claude Code transcript of `turns` prompt/reply pairs.
pub fn claude_transcript(session: &str, turns: u32, word: &str) -> String {
    let mut s = String::new();
    for t in 0..turns {
        s.push_str(&claude_line(
            session,
            2 * t,
            "user",
            &format!("please look at {word} number {t}"),
        ));
        s.push('\n');
        s.push_str(&claude_line(
            session,
            2 * t + 1,
            "assistant",
            &format!("I looked at {word} {t}; it is fine"),
        ));
        s.push('\n');
    }
    s
}

/// Makes `path` (a folder, and everything in it) impossible to write, even for root.
/// Undone when the guard drops.
pub struct ReadOnly {
    paths: Vec<PathBuf>,
    chattr: bool,
}

impl ReadOnly {
    pub fn make(dir: &Path) -> ReadOnly {
        use std::os::unix::fs::PermissionsExt;
        let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(dir)
            .into_iter()
            .map(|e| e.expect("walk").path().to_path_buf())
            .collect();
        paths.reverse(); // files before their folder
        for p in &paths {
            let mode = if p.is_dir() { 0o555 } else { 0o444 };
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        // Root ignores permission bits; the immutable attribute binds root too.
        let is_root = unsafe { libc::geteuid() } == 0;
        if is_root {
            let ok = std::process::Command::new("chattr")
                .arg("+i")
                .args(&paths)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(
                ok,
                "running as root and chattr +i failed: cannot make a read-only folder"
            );
        }
        // Prove it: a write must fail, or the test would prove nothing.
        assert!(
            std::fs::write(dir.join(".probe"), b"x").is_err(),
            "{} is still writable",
            dir.display()
        );
        ReadOnly {
            paths,
            chattr: is_root,
        }
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.chattr {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .args(&self.paths)
                .status();
        }
        for p in &self.paths {
            let mode = if p.is_dir() { 0o755 } else { 0o644 };
            let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
        }
    }
}

/// Several people, each with their own HOME, LORE_HOME and git config, sharing one temp folder
/// (and so one bare remote). The built `lore` and `git-remote-lore` come first on PATH, as
/// they would after `cargo install`.
pub struct World {
    pub dir: tempfile::TempDir,
}

/// One person in a [`World`].
pub struct User {
    pub name: String,
    pub home: PathBuf,
    pub lore_home: PathBuf,
    pub root: PathBuf,
    /// Extra environment for every command this user runs.
    pub env: Vec<(String, String)>,
}

/// The folder holding the built binaries.
pub fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_git-remote-lore"))
        .parent()
        .expect("bin dir")
        .to_path_buf()
}

/// PATH with the built binaries first.
pub fn test_path() -> std::ffi::OsString {
    let mut parts = vec![bin_dir()];
    parts.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(parts).expect("PATH")
}

/// What a finished command said.
#[derive(Debug)]
pub struct Run {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl World {
    pub fn new() -> World {
        World {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A new user with an empty home and a git identity.
    pub fn user(&self, name: &str) -> User {
        let root = self.path(name);
        let home = root.join("home");
        std::fs::create_dir_all(&home).expect("home");
        let u = User {
            name: name.to_owned(),
            lore_home: home.join(".lore"),
            home,
            root,
            env: Vec::new(),
        };
        for (k, v) in [
            ("user.name", name),
            ("user.email", &format!("{name}@example.com")),
            ("init.defaultBranch", "main"),
            ("protocol.file.allow", "always"),
        ] {
            u.git(&u.root, &["config", "--global", k, v]).assert_ok();
        }
        u
    }

    /// A bare repository to act as the shared remote.
    pub fn bare(&self, name: &str) -> PathBuf {
        let p = self.path(name);
        let out = std::process::Command::new("git")
            .args(["init", "-q", "--bare", "-b", "main"])
            .arg(&p)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("git init");
        assert!(out.status.success());
        p
    }
}

impl User {
    fn command(&self, program: &str, cwd: &Path, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(program);
        c.args(args)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", test_path())
            .env("HOME", &self.home)
            .env("LORE_HOME", &self.lore_home)
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("TZ", "UTC")
            // Never the developer's own keychain: tests/keychain.rs brings a keychain of its own.
            .env("LORE_KEYCHAIN", "off")
            .stdin(std::process::Stdio::null());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    fn run(mut c: std::process::Command, input: Option<&str>) -> Run {
        use std::io::Write as _;
        let out = match input {
            None => c.output().expect("spawn"),
            Some(text) => {
                c.stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped());
                let mut child = c.spawn().expect("spawn");
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(text.as_bytes())
                    .expect("write stdin");
                child.wait_with_output().expect("wait")
            }
        };
        Run {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `git ARGS` in `cwd`.
    pub fn git(&self, cwd: &Path, args: &[&str]) -> Run {
        User::run(self.command("git", cwd, args), None)
    }

    /// `git ARGS` in `cwd` with `vars` added to the environment.
    pub fn git_with(&self, cwd: &Path, vars: &[(&str, &str)], args: &[&str]) -> Run {
        let mut c = self.command("git", cwd, args);
        for (k, v) in vars {
            c.env(k, v);
        }
        User::run(c, None)
    }

    /// `sh SCRIPT` in `cwd` with `vars` added to the environment.
    pub fn sh(&self, cwd: &Path, script: &Path, vars: &[(&str, &str)]) -> Run {
        let mut c = self.command("sh", cwd, &[script.to_str().expect("utf-8")]);
        for (k, v) in vars {
            c.env(k, v);
        }
        User::run(c, None)
    }

    /// `lore ARGS` in `cwd`.
    pub fn lore(&self, cwd: &Path, args: &[&str]) -> Run {
        User::run(self.command("lore", cwd, args), None)
    }

    /// `lore ARGS` in `cwd` with `vars` added to the environment.
    pub fn lore_with(&self, cwd: &Path, vars: &[(&str, &str)], args: &[&str]) -> Run {
        let mut c = self.command("lore", cwd, args);
        for (k, v) in vars {
            c.env(k, v);
        }
        User::run(c, None)
    }

    /// `lore ARGS` in `cwd`, started and left running (its output discarded).
    pub fn spawn_lore(&self, cwd: &Path, args: &[&str]) -> std::process::Child {
        let mut c = self.command("lore", cwd, args);
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c.spawn().expect("spawn lore")
    }

    /// `lore ARGS` in `cwd` with `input` on stdin.
    pub fn lore_input(&self, cwd: &Path, args: &[&str], input: &str) -> Run {
        User::run(self.command("lore", cwd, args), Some(input))
    }

    /// A clone of `remote` (a plain path or URL) at `<user>/<name>`.
    pub fn clone(&self, remote: &str, name: &str) -> PathBuf {
        let dest = self.root.join(name);
        self.git(
            &self.root,
            &["clone", "-q", remote, dest.to_str().expect("utf-8")],
        )
        .assert_ok();
        dest
    }

    /// `<user>/repo`: a new repository with one commit (a README), whose `origin` is the bare
    /// repository `remote`, pushed there with `main` tracking `origin/main`.
    pub fn first_repo(&self, remote: &Path) -> PathBuf {
        let repo = self.root.join("repo");
        self.git(&self.root, &["init", "-q", "repo"]).assert_ok();
        std::fs::write(repo.join("README"), "code\n").expect("write README");
        self.git(&repo, &["add", "README"]).assert_ok();
        self.git(&repo, &["commit", "-qm", "first"]).assert_ok();
        self.git(
            &repo,
            &["remote", "add", "origin", remote.to_str().expect("utf-8")],
        )
        .assert_ok();
        self.git(&repo, &["push", "-q", "-u", "origin", "main"])
            .assert_ok();
        repo
    }

    /// `lore sync setup --passphrase-stdin` in `repo`.
    pub fn setup(&self, repo: &Path, passphrase: &str) -> Run {
        self.lore_input(
            repo,
            &["sync", "setup", "--passphrase-stdin"],
            &format!("{passphrase}\n"),
        )
    }

    /// The object id `rev` names in `repo`, if any.
    pub fn rev(&self, repo: &Path, rev: &str) -> Option<String> {
        let r = self.git(repo, &["rev-parse", "--verify", "-q", rev]);
        r.ok.then(|| r.stdout.trim().to_owned())
    }
}

impl Run {
    #[track_caller]
    pub fn assert_ok(&self) -> &Run {
        assert!(
            self.ok,
            "command failed ({:?}):\n{}\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn assert_fails(&self) -> &Run {
        assert!(
            !self.ok,
            "command should have failed:\n{}\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Writes a Claude Code transcript for session `id` whose prompts carry `word`, with `cwd` as
/// its working directory, under `<dir>/projects/x/<id>.jsonl`; returns the file.
pub fn write_transcript(dir: &Path, id: &str, word: &str, cwd: &str) -> PathBuf {
    let folder = dir.join("projects").join("x");
    std::fs::create_dir_all(&folder).expect("mkdir");
    let path = folder.join(format!("{id}.jsonl"));
    let text = claude_transcript(id, 2, word).replace("/home/dev/acme", cwd);
    std::fs::write(&path, text).expect("write transcript");
    path
}

/// Every object in the bare repository `bare`, decompressed, must be free of `canaries`.
#[track_caller]
pub fn assert_no_plaintext(bare: &Path, canaries: &[&str]) {
    let all = std::process::Command::new("git")
        .args(["cat-file", "--batch-all-objects", "--batch"])
        .current_dir(bare)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(all.status.success());
    assert!(all.stdout.len() > 1000, "the remote holds almost nothing");
    let text = String::from_utf8_lossy(&all.stdout);
    for canary in canaries {
        assert!(!text.contains(canary), "{canary} reached the remote");
    }
}

/// Runs `cmd` with `input` on its standard input (as an agent runs a hook) and waits for it.
pub fn run_with_stdin(mut cmd: std::process::Command, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}
