//! LORE_HOME is private: created 0700 with lore.db and its -wal and -shm 0600; an existing home
//! or database that others can read is tightened with a notice; `lore doctor` reports it.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{TestEnv, claude_transcript};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// Imports one Claude Code session, so lore.db (and its WAL) exist.
fn import(env: &TestEnv) {
    let dir = env.path("t/projects/x");
    std::fs::create_dir_all(&dir).unwrap();
    let id = "33333333-3333-4333-8333-333333333333";
    std::fs::write(
        dir.join(format!("{id}.jsonl")),
        claude_transcript(id, 2, "private"),
    )
    .unwrap();
    env.lore()
        .args(["import", env.path("t").to_str().unwrap()])
        .assert()
        .success();
}

#[test]
fn a_new_home_and_database_are_private() {
    let env = TestEnv::new();
    // Under the usual umask (022), SQLite alone would create lore.db 0644.
    import(&env);
    assert_eq!(mode(&env.lore_home), 0o700);
    for name in ["lore.db", "lore.db-wal", "lore.db-shm"] {
        let p = env.lore_home.join(name);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{name}");
        }
    }
    assert!(env.lore_home.join("lore.db").exists());
    let out = env.lore().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("ok") && l.contains("home") && l.contains("private")),
        "{text}"
    );
}

#[test]
fn an_open_home_is_tightened_with_a_notice() {
    let env = TestEnv::new();
    import(&env);
    let db = env.lore_home.join("lore.db");
    chmod(&env.lore_home, 0o755);
    chmod(&db, 0o644);

    let out = env.lore().args(["sessions", "-n", "1"]).output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "lore: {} was mode 0755, open to other users; it holds your unredacted sessions, so lore made it 0700.",
            env.lore_home.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("lore: {} was mode 0644", db.display())),
        "{err}"
    );
    assert_eq!(mode(&env.lore_home), 0o700);
    assert_eq!(mode(&db), 0o600);

    // Once is enough: the next command says nothing.
    let out = env.lore().args(["sessions", "-n", "1"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
