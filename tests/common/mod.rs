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
        serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).expect("json")
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
