//! The commands of the foundation: listing, showing, searching, deleting, configuration,
//! status, completions, exit codes and colour.

mod common;

use common::{TestEnv, claude_line, claude_transcript};
use predicates::prelude::*;

const A: &str = "a1a1a1a1-0000-4000-8000-000000000001";
const B: &str = "b2b2b2b2-0000-4000-8000-000000000002";

/// Two sessions: A in /home/dev/acme on main, B in /home/dev/other on a branch.
fn two_sessions() -> TestEnv {
    let env = TestEnv::new();
    let dir = env.path("t");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{A}.jsonl")),
        claude_transcript(A, 2, "flamingo"),
    )
    .unwrap();
    let b = claude_transcript(B, 1, "pelican")
        .replace("/home/dev/acme", "/home/dev/other")
        .replace("\"gitBranch\":\"main\"", "\"gitBranch\":\"feat/x\"")
        .replace("2026-03-11", "2026-04-02");
    std::fs::write(dir.join(format!("{B}.jsonl")), b).unwrap();
    env.lore().arg("import").arg(&dir).assert().success();
    env
}

fn ids(v: &[serde_json::Value]) -> Vec<&str> {
    v.iter().map(|s| s["id"].as_str().unwrap()).collect()
}

#[test]
fn sessions_lists_newest_first_and_filters() {
    let env = two_sessions();
    assert_eq!(ids(&env.sessions()), vec![B, A]);

    let json = |args: &[&str]| -> Vec<serde_json::Value> {
        let out = env
            .lore()
            .arg("sessions")
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["sessions"].as_array().unwrap().clone()
    };
    assert_eq!(ids(&json(&["--branch", "feat/x"])), vec![B]);
    assert_eq!(ids(&json(&["--tool", "claude-code"])).len(), 2);
    assert!(json(&["--tool", "codex"]).is_empty());
    assert_eq!(ids(&json(&["--since", "2026-04-01"])), vec![B]);
    assert_eq!(ids(&json(&["--until", "2026-03-31"])), vec![A]);
    assert_eq!(ids(&json(&["-n", "1"])), vec![B]);

    // --repo matches the session's working directory and everything below it.
    std::fs::create_dir_all(env.path("home-dev")).unwrap();
    let acme = env.path("acme");
    std::fs::create_dir_all(acme.join(".git")).unwrap();
    std::fs::create_dir_all(acme.join("src")).unwrap();
    let id = "c3c3c3c3-0000-4000-8000-000000000003";
    let body = claude_transcript(id, 1, "heron")
        .replace("/home/dev/acme", &acme.join("src").to_string_lossy());
    let f = env.path(&format!("{id}.jsonl"));
    std::fs::write(&f, body).unwrap();
    env.lore().arg("import").arg(&f).assert().success();
    let inside = json(&["--repo", acme.join("src").to_str().unwrap()]);
    assert_eq!(
        ids(&inside),
        vec![id],
        "a path inside the repo means the whole repo"
    );

    let text = env.lore().arg("sessions").assert().success();
    text.stdout(predicate::str::contains("a1a1a1a1").and(predicate::str::contains("feat/x")));
}

#[test]
fn show_accepts_unique_prefixes_and_renders_three_ways() {
    let env = two_sessions();
    let s = env.show("a1a1");
    assert_eq!(s["id"], A);
    assert_eq!(s["tool"], "claude-code");
    assert_eq!(s["cwd"], "/home/dev/acme");
    assert_eq!(s["git_branch"], "main");
    assert_eq!(s["message_count"], 4);
    let m = s["messages"].as_array().unwrap();
    assert_eq!(m.len(), 4);
    assert_eq!(m[0]["role"], "user");
    assert_eq!(m[0]["content"], "please look at flamingo number 0");
    assert_eq!(m[0]["created_at"], "2026-03-11T10:00:00Z");
    assert_eq!(m[0]["ordinal"], 0);
    assert_eq!(m[3]["ordinal"], 3);

    env.lore()
        .args(["show", "a1a1a1a1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("please look at flamingo number 1"))
        .stdout(predicate::str::contains("── #0 user"));
    env.lore()
        .args(["show", A, "--markdown"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "# please look at flamingo number 0",
        ))
        .stdout(predicate::str::contains("## assistant"));

    env.lore()
        .args(["show", "zzzz"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no session matches 'zzzz'; run 'lore sessions'",
        ));
}

#[test]
fn an_ambiguous_prefix_says_how_many_match() {
    let env = TestEnv::new();
    for id in [
        "abcd0001-0000-4000-8000-000000000000",
        "abcd0002-0000-4000-8000-000000000000",
    ] {
        let f = env.path(&format!("{id}.jsonl"));
        std::fs::write(&f, claude_transcript(id, 1, "x")).unwrap();
        env.lore().arg("import").arg(&f).assert().success();
    }
    env.lore()
        .args(["show", "abcd"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "'abcd' matches 2 sessions; give more characters",
        ));
}

#[test]
fn search_finds_words_filters_and_highlights() {
    let env = two_sessions();
    env.lore()
        .args(["search", "flamingo", "--color", "never"])
        .assert()
        .success()
        .stdout(predicate::str::contains("a1a1a1a1"))
        .stdout(predicate::str::contains("flamingo"))
        .stdout(predicate::str::contains("pelican").not());

    let out = env
        .lore()
        .args(["search", "pelican", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 2, "prompt and reply both mention it");
    assert!(hits.iter().all(|h| h["session"]["id"] == B));
    let h = &hits[0];
    let snippet = h["snippet"].as_str().unwrap();
    let [start, end] = [
        h["highlights"][0][0].as_u64().unwrap() as usize,
        h["highlights"][0][1].as_u64().unwrap() as usize,
    ];
    let matched: String = snippet.chars().skip(start).take(end - start).collect();
    assert_eq!(matched, "pelican");

    // Filters apply to search too; punctuation in plain words is fine.
    let out = env
        .lore()
        .args(["search", "flamingo", "--branch", "feat/x", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hits"].as_array().unwrap().len(), 0);
    env.lore()
        .args(["search", "flamingo;", "number-1"])
        .assert()
        .success();
    env.lore()
        .args(["search", "nothing-like-this"])
        .assert()
        .success()
        .stdout(predicate::str::contains("No messages match"));
    env.lore()
        .args(["search", "\"unbalanced"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("invalid search syntax"));
}

#[test]
fn highlighting_uses_colour_only_when_asked_or_on_a_terminal() {
    let env = two_sessions();
    // Not a terminal: no escapes.
    env.lore()
        .args(["search", "flamingo"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\u{1b}[").not());
    env.lore()
        .args(["search", "flamingo", "--color", "always"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\u{1b}["));
    // NO_COLOR wins over the config's auto; config can force it on.
    env.lore()
        .args(["config", "set", "color", "always"])
        .assert()
        .success();
    env.lore()
        .args(["sessions"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\u{1b}["));
    env.lore()
        .args(["sessions", "--color", "never"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\u{1b}[").not());
    env.lore()
        .args(["config", "set", "color", "auto"])
        .assert()
        .success();
    env.lore()
        .env("NO_COLOR", "1")
        .args(["sessions"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn delete_removes_a_session_for_good() {
    let env = two_sessions();
    env.lore()
        .args(["delete", "b2b2"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("Deleted session {B}")));
    assert_eq!(ids(&env.sessions()), vec![A]);
    env.lore()
        .args(["search", "pelican", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"hits\": []"));

    // Re-importing the transcript, even grown, does not bring it back.
    let f = env.path(&format!("t/{B}.jsonl"));
    let mut body = std::fs::read_to_string(&f).unwrap();
    body.push_str(&claude_line(B, 50, "user", "one more"));
    body.push('\n');
    std::fs::write(&f, body).unwrap();
    env.lore()
        .arg("import")
        .arg(env.path("t"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "1 deleted session not brought back",
        ));
    assert_eq!(ids(&env.sessions()), vec![A]);

    env.lore()
        .args(["delete", B])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no session matches"));
}

#[test]
fn config_get_set_list_and_unknown_keys() {
    let env = TestEnv::new();
    env.lore()
        .args(["config", "get", "color"])
        .assert()
        .success()
        .stdout("auto\n");
    env.lore()
        .args(["config", "set", "color", "never"])
        .assert()
        .success();
    env.lore()
        .args(["config", "get", "color"])
        .assert()
        .success()
        .stdout("never\n");
    env.lore()
        .args(["config", "set", "color", "purple"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "invalid value 'purple' for color: expected auto, always, never",
        ));
    env.lore()
        .args(["config", "set", "colour", "never"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "unknown config key 'colour'; run 'lore config list'",
        ));
    env.lore()
        .args(["config", "get", "nope"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown config key 'nope'"));
    env.lore()
        .args(["config", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("color = never"))
        .stdout(predicate::str::contains("aider_paths = "));
    env.lore()
        .args(["config", "unset", "color"])
        .assert()
        .success();
    env.lore()
        .args(["config", "get", "color"])
        .assert()
        .success()
        .stdout("auto\n");
    let text = std::fs::read_to_string(env.lore_home.join("config.toml")).unwrap();
    assert!(!text.contains("color"));

    // A config file broken by hand is named, with what to do.
    std::fs::write(env.lore_home.join("config.toml"), "color = [\n").unwrap();
    env.lore()
        .args(["config", "list"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("config.toml is not valid TOML"));
}

#[test]
fn status_reports_counts_and_a_fresh_home() {
    let env = TestEnv::new();
    env.lore()
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains("none yet"));
    assert!(!env.lore_home.exists(), "status alone creates nothing");

    let env = two_sessions();
    let out = env.lore().args(["status", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["session_count"], 2);
    assert_eq!(v["message_count"], 6);
    assert_eq!(v["sessions_by_tool"]["claude-code"], 2);
    assert_eq!(v["schema_version"], 9);
    let machine = std::fs::read_to_string(env.lore_home.join("machine-id")).unwrap();
    assert_eq!(v["machine_id"], machine.trim());
    let s = env.show(A);
    assert_eq!(s["machine_id"], machine.trim());
    env.lore()
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains("Sessions     2 (claude-code 2)"));
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let env = TestEnv::new();
    env.lore().arg("frobnicate").assert().code(2);
    env.lore().args(["sessions", "--bogus"]).assert().code(2);
    env.lore()
        .args(["import", "--tool", "windsurf", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown tool 'windsurf'"));
    env.lore()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("import"));
    env.lore().arg("--version").assert().code(0);
    env.lore()
        .args(["sessions", "--since", "whenever"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "--since: cannot read 'whenever' as a time",
        ));
    env.lore()
        .args(["import", "/no/such/path"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/no/such/path"));
}

#[test]
fn completions_are_generated_for_each_shell() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish"] {
        env.lore()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("sessions").and(predicate::str::contains("search")));
    }
}

#[test]
fn output_to_a_closed_pipe_is_not_an_error() {
    use std::io::Read;
    let env = TestEnv::new();
    let id = "d4d4d4d4-0000-4000-8000-000000000004";
    let f = env.path(&format!("{id}.jsonl"));
    std::fs::write(&f, claude_transcript(id, 400, &"long words ".repeat(40))).unwrap();
    env.lore().arg("import").arg(&f).assert().success();
    // `lore show ID | head -c 100`: the reader goes away long before lore is done.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("lore"))
        .args(["show", id])
        .env("HOME", &env.home)
        .env("LORE_HOME", &env.lore_home)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit {:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn the_remote_helper_answers_capabilities() {
    let mut c = assert_cmd::Command::cargo_bin("git-remote-lore").unwrap();
    c.args(["origin", "/tmp/x"])
        .write_stdin("capabilities\n\n")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("fetch\npush\noption\n\n"));
}

#[test]
fn search_finds_chinese_japanese_and_korean_words_inside_sentences() {
    let env = TestEnv::new();
    let dir = env.path("cjk");
    std::fs::create_dir_all(&dir).unwrap();
    let id = "c1c1c1c1-0000-4000-8000-000000000001";
    let lines = [
        common::claude_line(id, 0, "user", "我们需要修复数据库连接的问题"),
        common::claude_line(id, 1, "assistant", "我已经把缓存配置改好了，请再试一次"),
        common::claude_line(id, 2, "user", "データベースの接続がタイムアウトします"),
        common::claude_line(
            id,
            3,
            "assistant",
            "設定ファイルを直しました。もう一度 deploy してください",
        ),
        common::claude_line(id, 4, "user", "데이터베이스를 다시 시작해 주세요"),
        common::claude_line(id, 5, "assistant", "plain English about a database"),
    ];
    std::fs::write(dir.join(format!("{id}.jsonl")), lines.join("\n") + "\n").unwrap();
    env.lore()
        .args(["import", "--quiet"])
        .arg(&dir)
        .assert()
        .success();
    let hits = |q: &str| env.search(q);
    // Two-character Chinese words, Japanese katakana and kanji, a Korean word with its particle
    // attached: each inside a sentence, found and marked.
    for (q, ordinal) in [
        ("数据库", 0),
        ("缓存", 1),
        ("タイムアウト", 2),
        ("設定", 3),
        ("데이터베이스", 4),
        ("接続", 2),
    ] {
        let h = hits(q);
        assert_eq!(h.len(), 1, "{q}: {h:?}");
        assert_eq!(h[0]["ordinal"], ordinal, "{q}");
        let snippet = h[0]["snippet"].as_str().unwrap();
        let [s, e] = [
            h[0]["highlights"][0][0].as_u64().unwrap() as usize,
            h[0]["highlights"][0][1].as_u64().unwrap() as usize,
        ];
        let marked: String = snippet.chars().skip(s).take(e - s).collect();
        assert_eq!(marked, q);
    }
    // Every word must be there; a Latin word beside CJK ones counts too.
    assert_eq!(hits("設定 deploy").len(), 1);
    assert_eq!(hits("設定 nowhere").len(), 0);
    assert_eq!(hits("数据库 缓存").len(), 0, "not in one message");
    // Ordinary search is unchanged.
    assert_eq!(hits("database").len(), 1);
    // The CJK index follows deletions (its triggers), like the ordinary one.
    env.lore().args(["delete", id]).assert().success();
    assert_eq!(hits("数据库").len(), 0);
}

#[test]
fn lore_alone_prints_a_start_here_and_exits_0() {
    let env = TestEnv::new();
    let out = env.lore().output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "lore keeps the reasoning",
        "lore init",
        "lore search",
        "lore blame",
        "lore --help",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    // Short: a start, not the whole help.
    assert!(text.lines().count() < 20, "{text}");
    assert!(!text.contains("show-commit"), "{text}");
    // Nothing was made.
    assert!(!env.lore_home.exists());
}

#[test]
fn read_sql_queries_lore_db_as_text_and_json() {
    let env = two_sessions();
    let out = env
        .lore()
        .args([
            "read",
            "--sql",
            "SELECT id, tool, message_count FROM sessions ORDER BY id",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "id\ttool\tmessage_count");
    assert!(
        lines[1].starts_with(&format!("{A}\tclaude-code\t")),
        "{text}"
    );
    assert!(
        lines[2].starts_with(&format!("{B}\tclaude-code\t")),
        "{text}"
    );
    assert_eq!(lines.len(), 3);

    let out = env
        .lore()
        .args([
            "read",
            "--json",
            "--sql",
            "SELECT id, NULL AS missing, x'00ff' AS bytes, 1.5 AS r FROM sessions ORDER BY id",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"columns": ["id", "missing", "bytes", "r"], "rows": [
            {"id": A, "missing": null, "bytes": "x'00ff'", "r": 1.5},
            {"id": B, "missing": null, "bytes": "x'00ff'", "r": 1.5},
        ]})
    );
    // No rows: an empty list.
    let out = env
        .lore()
        .args(["read", "--json", "--sql", "SELECT id FROM sessions WHERE 0"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!({"columns": ["id"], "rows": []}));
}

#[test]
fn read_sql_refuses_every_write_with_its_reason_and_changes_nothing() {
    let env = two_sessions();
    let before = env.digest();
    let other = env.path("user.db");
    {
        let c = rusqlite::Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE t(a); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    let other_before = std::fs::read(&other).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--sql", "DELETE FROM sessions"],
            "refused: DELETE writes to sessions",
        ),
        (
            &["--sql", "UPDATE sessions SET title = 'x'"],
            "refused: UPDATE writes to sessions",
        ),
        (
            &[
                "--sql",
                "INSERT INTO tags(session_id, tag) VALUES ('a', 'b')",
            ],
            "refused: INSERT writes to tags",
        ),
        (
            &["--sql", "DROP TABLE sessions"],
            "refused: the statement changes the database or its schema",
        ),
        (
            &["--sql", "ATTACH DATABASE 'x.db' AS x"],
            "refused: ATTACH opens another database",
        ),
        (
            &["--sql", "PRAGMA user_version = 99"],
            "refused: PRAGMA user_version = 99 sets a value",
        ),
        (&["--sql", "PRAGMA journal_mode = DELETE"], "sets a value"),
        (
            &["--sql", "PRAGMA wal_checkpoint"],
            "refused: PRAGMA wal_checkpoint acts on the database",
        ),
        (
            &["--sql", "BEGIN IMMEDIATE"],
            "refused: a transaction statement is not a query",
        ),
        (
            &["--sql", "SELECT 1; DELETE FROM sessions"],
            "several statements given",
        ),
        (&["--sql", "VACUUM"], "refused"),
        (&["--sql", "SELEKT 1"], "syntax error"),
        (&["--sql", ""], "the SQL is empty"),
        (
            &["--db", "user.db", "--sql", "DELETE FROM t"],
            "refused: DELETE writes to t",
        ),
        (
            &["--db", "missing.db", "--sql", "SELECT 1"],
            "no database at missing.db",
        ),
    ];
    for (args, want) in cases {
        let out = env.lore().arg("read").args(*args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(env.digest(), before);
    assert_eq!(std::fs::read(&other).unwrap(), other_before);
    // A user's database reads as well.
    env.lore()
        .args(["read", "--db", "user.db", "--sql", "SELECT a FROM t"])
        .assert()
        .success()
        .stdout("a\n1\n");
}
