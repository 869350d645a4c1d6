//! `lore migrate --from varalys`: a database in varalys/lore's schema, built here with data of
//! our own, carried into lore as one commit, reverted, and left byte-identical throughout.

mod common;

use std::path::Path;

use common::TestEnv;

const SESSION_A: &str = "11111111-2222-4333-8444-555555555555";
const SESSION_B: &str = "66666666-7777-4888-8999-000000000000";
const SESSION_AMP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// varalys/lore's tables (src/storage/db.rs of varalys/lore, as described in
/// docs/migrate.md), filled with two sessions lore can take and one it cannot.
fn varalys_db(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        r#"
        CREATE TABLE schema_version (version INTEGER PRIMARY KEY);
        INSERT INTO schema_version VALUES (3);
        CREATE TABLE sessions (id TEXT PRIMARY KEY, tool TEXT NOT NULL, tool_version TEXT,
            started_at TEXT NOT NULL, ended_at TEXT, model TEXT, working_directory TEXT NOT NULL,
            git_branch TEXT, source_path TEXT, message_count INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL DEFAULT (datetime('now')), machine_id TEXT,
            synced_at TEXT, global_synced_at TEXT);
        CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, parent_id TEXT,
            idx INTEGER NOT NULL, timestamp TEXT NOT NULL, role TEXT NOT NULL,
            content TEXT NOT NULL, model TEXT, git_branch TEXT, cwd TEXT);
        CREATE TABLE session_links (id TEXT PRIMARY KEY, session_id TEXT NOT NULL,
            link_type TEXT NOT NULL, commit_sha TEXT, branch TEXT, remote TEXT,
            created_at TEXT NOT NULL, created_by TEXT NOT NULL, confidence REAL);
        CREATE TABLE repositories (id TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL, remote_url TEXT, created_at TEXT NOT NULL DEFAULT (datetime('now')),
            last_session_at TEXT);
        CREATE TABLE annotations (id TEXT PRIMARY KEY, session_id TEXT NOT NULL,
            content TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE TABLE tags (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, label TEXT NOT NULL,
            created_at TEXT NOT NULL, UNIQUE(session_id, label));
        CREATE TABLE summaries (id TEXT PRIMARY KEY, session_id TEXT NOT NULL UNIQUE,
            content TEXT NOT NULL, generated_at TEXT NOT NULL);
        CREATE TABLE machines (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE VIRTUAL TABLE messages_fts USING fts5(message_id, text_content,
            tokenize='porter unicode61');

        INSERT INTO machines VALUES ('m-1', 'workbench', '2026-01-01T00:00:00Z');
        INSERT INTO repositories (id, path, name) VALUES ('r1', '/src/kettle', 'kettle');
        INSERT INTO sessions (id, tool, tool_version, started_at, ended_at, model,
            working_directory, git_branch, source_path, message_count, machine_id)
        VALUES
          ('11111111-2222-4333-8444-555555555555', 'claude-code', '2.0.1',
           '2026-02-01T10:00:00+00:00', '2026-02-01T10:05:00+00:00', 'claude-sonnet-4',
           '/src/kettle', 'main', '/nowhere/a.jsonl', 2, 'm-1'),
          ('66666666-7777-4888-8999-000000000000', 'codex', NULL,
           '2026-02-02T09:00:00+00:00', NULL, 'gpt-5', '/src/kettle', NULL, NULL, 2, NULL),
          ('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', 'windsurf', NULL,
           '2026-02-03T09:00:00+00:00', NULL, NULL, '/src/kettle', NULL, NULL, 1, 'm-1');
        INSERT INTO messages VALUES
          ('a1', '11111111-2222-4333-8444-555555555555', NULL, 0, '2026-02-01T10:00:00+00:00',
           'user', '"Why does the kettle whistle twice?"', NULL, 'main', '/src/kettle'),
          ('a2', '11111111-2222-4333-8444-555555555555', 'a1', 1, '2026-02-01T10:00:05+00:00',
           'assistant', '[{"type":"thinking","thinking":"Check the boiler loop."},{"type":"text","text":"The thermostat bounces; I will debounce it."},{"type":"tool_use","id":"t1","name":"Edit","input":{"file_path":"boil.rs","old_string":"a","new_string":"b"}}]',
           'claude-sonnet-4', 'main', '/src/kettle'),
          ('a3', '11111111-2222-4333-8444-555555555555', 'a2', 2, '2026-02-01T10:00:09+00:00',
           'user', '[{"type":"tool_result","tool_use_id":"t1","content":"edited boil.rs","is_error":false}]',
           NULL, 'main', '/src/kettle'),
          ('b1', '66666666-7777-4888-8999-000000000000', NULL, 0, '2026-02-02T09:00:00+00:00',
           'user', '"Rename the spout module"', NULL, NULL, NULL),
          ('b2', '66666666-7777-4888-8999-000000000000', NULL, 1, '2026-02-02T09:00:03+00:00',
           'assistant', '[{"type":"text","text":"Renamed spout to nozzle."},{"type":"image","source":{"type":"base64"}}]',
           NULL, NULL, NULL),
          ('c1', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', NULL, 0, '2026-02-03T09:00:00+00:00',
           'user', '"windsurf prompt"', NULL, NULL, NULL);
        INSERT INTO session_links VALUES
          ('l1', '11111111-2222-4333-8444-555555555555', 'commit',
           '0123456789abcdef0123456789abcdef01234567', 'main', NULL,
           '2026-02-01T10:06:00+00:00', 'user', 1.0),
          ('l2', '66666666-7777-4888-8999-000000000000', 'branch', NULL, 'feature', NULL,
           '2026-02-02T09:01:00+00:00', 'auto', 0.4);
        INSERT INTO tags VALUES
          ('t1', '11111111-2222-4333-8444-555555555555', 'hardware', '2026-02-01T10:07:00+00:00'),
          ('t2', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', 'windsurf-only', '2026-02-03T10:07:00+00:00');
        INSERT INTO annotations VALUES
          ('n1', '11111111-2222-4333-8444-555555555555', 'Debounce fixed it.',
           '2026-02-01T10:08:00+00:00');
        INSERT INTO summaries VALUES
          ('s1', '66666666-7777-4888-8999-000000000000', 'Renamed the spout module.',
           '2026-02-02T09:30:00+00:00');
        "#,
    )
    .unwrap();
}

#[test]
fn a_varalys_database_migrates_as_one_revertible_commit_and_stays_untouched() {
    let env = TestEnv::new();
    let src = env.path("varalys/lore.db");
    std::fs::create_dir_all(src.parent().unwrap()).unwrap();
    varalys_db(&src);
    let before = std::fs::read(&src).unwrap();
    let files_before: Vec<_> = std::fs::read_dir(src.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();

    let out = env
        .lore()
        .args([
            "migrate",
            "--from",
            "varalys",
            src.to_str().unwrap(),
            "--json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["new_session_count"], 2, "{report}");
    assert_eq!(report["tag_count"], 1);
    assert_eq!(report["annotation_count"], 1);
    assert_eq!(report["summary_count"], 1);
    assert_eq!(report["link_count"], 1);
    let commit = report["commit_id"].as_str().expect("a commit").to_owned();
    let not_carried = report["not_carried"].to_string();
    for what in [
        "sessions of windsurf",
        "branch links",
        "message blocks of type image",
        "machines rows",
        "repositories rows",
        "tags of sessions not carried",
    ] {
        assert!(not_carried.contains(what), "{what} missing: {not_carried}");
    }
    // The source is byte-identical, with no journal or log left beside it.
    assert_eq!(std::fs::read(&src).unwrap(), before);
    let files_after: Vec<_> = std::fs::read_dir(src.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files_after, files_before);

    // Sessions, messages, links, tags, annotations as lore shows them.
    let sessions = env.sessions();
    let ids: Vec<&str> = sessions.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids.len(), 2, "{sessions:?}");
    assert!(ids.contains(&SESSION_A) && ids.contains(&SESSION_B));
    assert!(!ids.contains(&SESSION_AMP));
    let a = env.show(SESSION_A);
    let text = a.to_string();
    for piece in [
        "Why does the kettle whistle twice?",
        "Check the boiler loop.",
        "The thermostat bounces",
        "edited boil.rs",
        "hardware",
        COMMIT,
        "/src/kettle",
    ] {
        assert!(text.contains(piece), "{piece} missing from {text}");
    }
    let kinds: Vec<&str> = a["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        vec!["text", "thinking", "text", "tool_use", "tool_result"]
    );
    assert!(
        env.show(SESSION_B)
            .to_string()
            .contains("Renamed spout to nozzle.")
    );
    // Annotations, and the summary as one (show does not print annotations).
    let db = rusqlite::Connection::open(env.db()).unwrap();
    let mut stmt = db
        .prepare("SELECT session_id, body FROM annotations ORDER BY session_id")
        .unwrap();
    let notes: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        notes,
        vec![
            (SESSION_A.to_owned(), "Debounce fixed it.".to_owned()),
            (
                SESSION_B.to_owned(),
                "Summary (from varalys/lore): Renamed the spout module.".to_owned()
            ),
        ]
    );
    drop(stmt);
    drop(db);
    // Search finds migrated text.
    let out = env.lore().args(["search", "thermostat"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&SESSION_A[..8]));

    // A second run changes nothing and writes no commit.
    let digest = env.digest();
    let again = env
        .lore()
        .args([
            "migrate",
            "--from",
            "varalys",
            src.to_str().unwrap(),
            "--json",
        ])
        .output()
        .unwrap();
    assert!(again.status.success());
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["commit_id"], serde_json::Value::Null, "{again}");
    assert_eq!(again["unchanged_session_count"], 2);
    assert_eq!(env.digest(), digest);

    // Reverting the commit leaves lore as before the migration.
    let out = env.lore().args(["revert", &commit]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.sessions().is_empty());
    assert_eq!(std::fs::read(&src).unwrap(), before);
}

#[test]
fn migrating_into_a_session_lore_holds_adds_only_what_is_missing() {
    let env = TestEnv::new();
    let src = env.path("v.db");
    varalys_db(&src);
    // lore holds session A already, with its first prompt (as Claude Code's importer read it).
    let dir = env.path("t");
    std::fs::create_dir_all(&dir).unwrap();
    let line = serde_json::json!({
        "type": "user", "sessionId": SESSION_A, "uuid": "u-1",
        "timestamp": "2026-02-01T10:00:00Z", "cwd": "/src/kettle",
        "message": {"role": "user", "content": "Why does the kettle whistle twice?"}
    });
    std::fs::write(dir.join(format!("{SESSION_A}.jsonl")), format!("{line}\n")).unwrap();
    env.lore()
        .args(["import", "--quiet"])
        .arg(&dir)
        .assert()
        .success();
    assert_eq!(env.show(SESSION_A)["messages"].as_array().unwrap().len(), 1);

    env.lore()
        .args(["migrate", "--from", "varalys"])
        .arg(&src)
        .assert()
        .success();
    let msgs = env.show(SESSION_A)["messages"].as_array().unwrap().clone();
    let prompts = msgs
        .iter()
        .filter(|m| m["content"] == "Why does the kettle whistle twice?")
        .count();
    assert_eq!(prompts, 1, "the prompt lore had is not doubled: {msgs:?}");
    assert_eq!(msgs.len(), 5, "{msgs:?}");
}

#[test]
fn what_is_not_a_varalys_database_is_refused_and_nothing_is_created() {
    let env = TestEnv::new();
    let junk = env.path("junk.db");
    std::fs::write(&junk, b"not a database at all\n".repeat(100)).unwrap();
    let out = env
        .lore()
        .args(["migrate", "--from", "varalys"])
        .arg(&junk)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a SQLite database"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let other = env.path("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY);")
        .unwrap();
    let before = std::fs::read(&other).unwrap();
    let out = env
        .lore()
        .args(["migrate", "--from", "varalys"])
        .arg(&other)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a varalys/lore database"));
    assert_eq!(std::fs::read(&other).unwrap(), before);

    let out = env
        .lore()
        .args(["migrate", "--from", "varalys"])
        .arg(env.path("missing.db"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
    assert!(!env.lore_home.join("lore.db").exists());
}

#[test]
fn a_database_with_changes_still_in_its_write_ahead_log_is_read_whole_and_left_alone() {
    let env = TestEnv::new();
    let src = env.path("wal/lore.db");
    std::fs::create_dir_all(src.parent().unwrap()).unwrap();
    varalys_db(&src);
    // varalys still running: its last change sits in the -wal, not yet in the main file.
    let live = rusqlite::Connection::open(&src).unwrap();
    live.pragma_update(None, "journal_mode", "wal").unwrap();
    live.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    live.execute(
        "INSERT INTO tags VALUES ('t9', ?1, 'late-tag', '2026-02-04T00:00:00Z')",
        [SESSION_B],
    )
    .unwrap();
    let side = |ext: &str| src.with_file_name(format!("lore.db{ext}"));
    let before: Vec<Vec<u8>> = ["", "-wal"]
        .iter()
        .map(|e| std::fs::read(side(e)).unwrap())
        .collect();
    assert!(!before[1].is_empty());

    env.lore()
        .args(["migrate", "--from", "varalys"])
        .arg(&src)
        .assert()
        .success();
    let after: Vec<Vec<u8>> = ["", "-wal"]
        .iter()
        .map(|e| std::fs::read(side(e)).unwrap())
        .collect();
    assert!(after == before, "the source or its log changed");
    let tags = env.show(SESSION_B)["tags"].to_string();
    assert!(tags.contains("late-tag"), "{tags}");
    drop(live);
}
