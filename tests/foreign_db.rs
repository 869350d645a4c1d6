//! A `lore.db` made by another tool named Lore (varalys/lore, lore-sh/lore), or by anything
//! else, is refused with one line and stays byte-identical; lore's own databases, old and new,
//! carry lore's application id (docs/database.md, "Whose database").

mod common;

use common::{TestEnv, claude_transcript, fixtures};
use predicates::prelude::*;

/// A database in varalys/lore's schema (tools-and-peers-2026.md §1.3), in rollback-journal mode
/// as varalys leaves it, with a session in it.
pub const VARALYS_SQL: &str = "
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (7);
CREATE TABLE sessions (id TEXT PRIMARY KEY, tool TEXT NOT NULL, tool_version TEXT,
    started_at TEXT NOT NULL, ended_at TEXT, model TEXT, working_directory TEXT NOT NULL,
    git_branch TEXT, source_path TEXT, message_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, machine_id TEXT, synced_at TEXT, global_synced_at TEXT);
CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, parent_id TEXT,
    idx INTEGER NOT NULL, timestamp TEXT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,
    model TEXT, git_branch TEXT, cwd TEXT);
CREATE TABLE session_links (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, link_type TEXT NOT NULL,
    commit_sha TEXT, branch TEXT, remote TEXT, created_at TEXT NOT NULL, created_by TEXT NOT NULL,
    confidence REAL);
CREATE TABLE tags (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, label TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE annotations (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE summaries (id TEXT PRIMARY KEY, session_id TEXT NOT NULL UNIQUE, content TEXT NOT NULL, generated_at TEXT NOT NULL);
CREATE TABLE machines (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
INSERT INTO sessions VALUES ('11111111-2222-4333-8444-555555555555', 'claude-code', '2.0.1',
    '2026-01-02T03:04:05Z', '2026-01-02T04:00:00Z', 'claude-sonnet-4-5', '/home/dev/varalys',
    'main', '/home/dev/.claude/projects/x/s.jsonl', 2, '2026-01-02T03:04:05Z', 'm1', NULL, NULL);
INSERT INTO messages VALUES ('m-1', '11111111-2222-4333-8444-555555555555', NULL, 0,
    '2026-01-02T03:04:05Z', 'user', '\"Add retries to the uploader\"', NULL, 'main', '/home/dev/varalys');
";

/// A database in lore-sh/lore's schema (tools-and-peers-2026.md §1.6): its engine tables and
/// drizzle's migration table, plus a user table.
pub const LORE_SH_SQL: &str = "
CREATE TABLE __drizzle_migrations (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, created_at NUMERIC);
INSERT INTO __drizzle_migrations VALUES (1, 'abc', 1767225600000);
CREATE TABLE _lore_commit (commit_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, kind TEXT NOT NULL,
    message TEXT NOT NULL, created_at INTEGER NOT NULL, parent_count INTEGER NOT NULL,
    schema_hash_before TEXT, schema_hash_after TEXT, state_hash_after TEXT, plan_hash TEXT,
    revertible INTEGER, revert_target_id TEXT);
CREATE TABLE _lore_commit_parent (commit_id TEXT NOT NULL, parent_id TEXT NOT NULL, ord INTEGER NOT NULL);
CREATE TABLE _lore_op (commit_id TEXT NOT NULL, ord INTEGER NOT NULL, op_json TEXT NOT NULL);
CREATE TABLE _lore_ref (name TEXT PRIMARY KEY, commit_id TEXT);
CREATE TABLE _lore_meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE todos (id INTEGER PRIMARY KEY, title TEXT NOT NULL);
INSERT INTO todos VALUES (1, 'ship it');
";

fn make_db(env: &TestEnv, sql: &str) -> Vec<u8> {
    std::fs::create_dir_all(&env.lore_home).expect("home");
    let conn = rusqlite::Connection::open(env.db()).expect("open");
    conn.execute_batch(sql).expect("schema");
    drop(conn);
    std::fs::read(env.db()).expect("read")
}

/// Every command that opens lore.db, run against a foreign database.
fn assert_refused_untouched(env: &TestEnv, bytes: &[u8], looks_like: &str) {
    let transcript = env.path("t.jsonl");
    std::fs::write(
        &transcript,
        claude_transcript("9e9e9e9e-0000-4000-8000-000000000001", 1, "x"),
    )
    .expect("write");
    let db = env.db().display().to_string();
    let runs: Vec<Vec<&str>> = vec![
        vec!["import", transcript.to_str().expect("utf-8")],
        vec!["sessions"],
        vec!["search", "retries"],
        vec!["status"],
        vec!["history"],
        vec!["delete", "11111111"],
    ];
    for args in runs {
        let out = env.lore().args(&args).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(stderr.contains(&db), "{args:?} names the file: {stderr}");
        assert!(stderr.contains(looks_like), "{args:?}: {stderr}");
        assert!(stderr.contains("LORE_HOME"), "{args:?}: {stderr}");
        assert_eq!(std::fs::read(env.db()).expect("read"), bytes, "{args:?}");
        assert!(!env.lore_home.join("lore.db-wal").exists(), "{args:?}");
    }
    // lore doctor reports it, and changes nothing either.
    env.lore()
        .arg("doctor")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(looks_like));
    assert_eq!(std::fs::read(env.db()).expect("read"), bytes);
}

#[test]
fn a_varalys_database_is_refused_and_left_byte_identical() {
    let env = TestEnv::new();
    let bytes = make_db(&env, VARALYS_SQL);
    assert_refused_untouched(&env, &bytes, "varalys/lore");
    env.lore()
        .arg("sessions")
        .assert()
        .stderr(predicate::str::contains("lore migrate --from varalys"));
}

#[test]
fn a_lore_sh_database_is_refused_and_left_byte_identical() {
    let env = TestEnv::new();
    let bytes = make_db(&env, LORE_SH_SQL);
    assert_refused_untouched(&env, &bytes, "lore-sh/lore");
}

#[test]
fn an_unknown_database_is_refused_and_left_byte_identical() {
    let env = TestEnv::new();
    let bytes = make_db(
        &env,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);",
    );
    assert_refused_untouched(&env, &bytes, "lore did not create");
}

fn application_id(env: &TestEnv) -> i64 {
    let conn = rusqlite::Connection::open(env.db()).expect("open");
    conn.pragma_query_value(None, "application_id", |r| r.get(0))
        .expect("pragma")
}

#[test]
fn lore_marks_its_databases_old_and_new() {
    let env = TestEnv::new();
    let t = env.path("t.jsonl");
    std::fs::write(
        &t,
        claude_transcript("9e9e9e9e-0000-4000-8000-000000000002", 1, "x"),
    )
    .expect("write");
    env.lore().arg("import").arg(&t).assert().success();
    assert_eq!(application_id(&env), 0x6c6f_7265);
    env.lore()
        .arg("doctor")
        .assert()
        .stdout(predicate::str::contains("lore's own"));

    // A lore.db made before the mark existed is recognised by its schema and marked.
    let env = TestEnv::new();
    std::fs::create_dir_all(&env.lore_home).expect("home");
    std::fs::copy(fixtures().join("db/lore-v1.db"), env.db()).expect("copy");
    assert_eq!(application_id(&env), 0);
    env.lore().arg("sessions").assert().success();
    assert_eq!(application_id(&env), 0x6c6f_7265);
}
