//! Every kind of bad input the foundation issue lists: a clear message naming the file (and
//! line), a skip, the import going on, and nothing stored before changing.

mod common;

use std::io::Write;

use common::{ReadOnly, TestEnv, claude_line, claude_transcript};
use predicates::prelude::*;

const GOOD: &str = "11111111-1111-4111-8111-111111111111";

/// A home with one good session imported, and the digest of what it stores.
fn with_one_session() -> (TestEnv, String) {
    let env = TestEnv::new();
    let dir = env.path("good");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{GOOD}.jsonl")),
        claude_transcript(GOOD, 2, "widget"),
    )
    .unwrap();
    env.lore().arg("import").arg(&dir).assert().success();
    let digest = env.digest();
    (env, digest)
}

#[test]
fn truncated_last_line_is_left_for_later_and_read_once_complete() {
    let env = TestEnv::new();
    let id = "22222222-2222-4222-8222-222222222222";
    let path = env.path(&format!("{id}.jsonl"));
    let complete = claude_transcript(id, 1, "gadget");
    let last = claude_line(id, 9, "user", "a prompt still being typed");
    let (head, _) = last.split_at(last.len() / 2);
    std::fs::write(&path, format!("{complete}{head}")).unwrap();

    env.lore()
        .arg("import")
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("1 new session"))
        .stdout(predicate::str::contains("still being written"))
        .stderr(predicate::str::contains("warning").not());
    let s = env.show(id);
    assert_eq!(s["messages"].as_array().unwrap().len(), 2);

    // The tool finishes the line: the next import reads it.
    std::fs::write(&path, format!("{complete}{last}\n")).unwrap();
    env.lore().arg("import").arg(&path).assert().success();
    let s = env.show(id);
    let messages = s["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[2]["content"], "a prompt still being typed");
}

#[test]
fn non_utf8_bytes_are_replaced_and_reported_with_the_line() {
    let (env, _) = with_one_session();
    let id = "33333333-3333-4333-8333-333333333333";
    let path = env.path(&format!("{id}.jsonl"));
    // Line 2 carries a raw 0xFF byte inside a JSON string.
    let line2 = claude_line(id, 1, "assistant", "broken XX bytes");
    let (before, after) = line2.split_once("XX").unwrap();
    let mut bytes = Vec::new();
    writeln!(bytes, "{}", claude_line(id, 0, "user", "first prompt")).unwrap();
    bytes.extend_from_slice(before.as_bytes());
    bytes.push(0xff);
    bytes.extend_from_slice(after.as_bytes());
    bytes.push(b'\n');
    std::fs::write(&path, &bytes).unwrap();

    env.lore()
        .arg("import")
        .arg(&path)
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "{}:2: invalid UTF-8",
            path.display()
        )));
    let s = env.show(id);
    let messages = s["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["content"], "broken \u{fffd} bytes");
}

#[test]
fn a_50_mb_single_line_is_imported_with_bounded_content() {
    let env = TestEnv::new();
    let id = "44444444-4444-4444-8444-444444444444";
    let path = env.path(&format!("{id}.jsonl"));
    let big = "0123456789abcdef\n".repeat(50 * 1024 * 1024 / 17);
    let line = serde_json::json!({
        "parentUuid": null, "cwd": "/home/dev/acme", "sessionId": id, "version": "2.1.72",
        "type": "user", "uuid": "u-big", "timestamp": "2026-03-11T10:00:05.000Z",
        "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": big}
        ]},
        "toolUseResult": {"stdout": "(see content)", "stderr": ""},
    })
    .to_string();
    assert!(line.len() > 50_000_000);
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "{}", claude_line(id, 0, "user", "run the big command")).unwrap();
    writeln!(f, "{line}").unwrap();
    writeln!(
        f,
        "{}",
        claude_line(id, 9, "assistant", "that printed a lot")
    )
    .unwrap();
    drop(f);

    env.lore().arg("import").arg(&path).assert().success();
    let s = env.show(id);
    let messages = s["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[1]["kind"], "tool_result");
    let kept = messages[1]["content"].as_str().unwrap();
    assert!(
        kept.len() < 300 * 1024,
        "tool output is capped, kept {}",
        kept.len()
    );
    assert!(kept.contains("more bytes not kept by lore"));
    assert_eq!(messages[2]["content"], "that printed a lot");
}

#[test]
fn unknown_line_types_never_break_parsing() {
    let env = TestEnv::new();
    let id = "55555555-5555-4555-8555-555555555555";
    let path = env.path(&format!("{id}.jsonl"));
    let body = format!(
        "{}\n{}\n{}\n{}\n{}\n",
        r#"{"type":"file-history-snapshot","messageId":"x","snapshot":{}}"#,
        claude_line(id, 0, "user", "hello"),
        r#"{"type":"some-future-thing","sessionId":"55555555-5555-4555-8555-555555555555","payload":[1,2,3]}"#,
        r#"{"type":"queue-operation","operation":"enqueue","content":"x"}"#,
        claude_line(id, 1, "assistant", "hi there"),
    );
    std::fs::write(&path, body).unwrap();
    env.lore()
        .arg("import")
        .arg(&path)
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
    let s = env.show(id);
    assert_eq!(s["messages"].as_array().unwrap().len(), 2);
    assert_eq!(s["message_count"], 2);
}

#[test]
fn an_empty_file_is_reported_and_skipped_and_the_import_goes_on() {
    let (env, before) = with_one_session();
    let dir = env.path("mixed");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("empty.jsonl"), b"").unwrap();
    let id = "66666666-6666-4666-8666-666666666666";
    std::fs::write(
        dir.join(format!("{id}.jsonl")),
        claude_transcript(id, 1, "thing"),
    )
    .unwrap();

    env.lore()
        .arg("import")
        .arg(&dir)
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "{}: empty file; skipped",
            dir.join("empty.jsonl").display()
        )))
        .stdout(predicate::str::contains("1 new session"));
    assert_eq!(env.sessions().len(), 2);
    // What was stored before is untouched: the good session's content is as it was.
    let s = env.show(GOOD);
    assert_eq!(s["messages"].as_array().unwrap().len(), 4);
    assert_ne!(before, env.digest(), "the new session was added");
}

#[test]
fn a_file_that_is_not_a_transcript_is_reported_and_nothing_changes() {
    let (env, before) = with_one_session();
    let notes = env.path("notes.jsonl");
    std::fs::write(
        &notes,
        "{\"shopping\":[\"eggs\",\"milk\"]}\n{\"todo\":\"call mum\"}\n",
    )
    .unwrap();
    let readme = env.path("README.md");
    std::fs::write(&readme, "# My project\n\nNothing to see.\n").unwrap();

    env.lore()
        .arg("import")
        .arg(&notes)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "{}: not a transcript",
            notes.display()
        )))
        .stderr(predicate::str::contains("error: nothing imported"));
    // Forcing a format says which format it is not.
    env.lore()
        .args(["import", "--tool", "aider"])
        .arg(&readme)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("not a aider transcript")
                .or(predicate::str::contains("not an aider transcript")),
        );
    assert_eq!(before, env.digest());
}

#[test]
fn a_folder_of_ten_thousand_files_imports_and_reimports_fast() {
    let env = TestEnv::new();
    let dir = env.path("many");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..10_000u32 {
        let id = format!("{i:08x}-0000-4000-8000-000000000000");
        let body = if i % 1000 == 999 {
            "this file is junk\n".to_owned() // a few bad apples
        } else {
            claude_transcript(&id, 1, &format!("w{i}"))
        };
        std::fs::write(dir.join(format!("{id}.jsonl")), body).unwrap();
    }
    let start = std::time::Instant::now();
    env.lore()
        .args(["import", "--quiet"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let first = start.elapsed();
    assert_eq!(env.sessions().len(), 9_990);

    let digest = env.digest();
    let start = std::time::Instant::now();
    env.lore()
        .arg("import")
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 0 new sessions, updated 0",
        ))
        // The ten junk files are not remembered (they hold nothing, so they change nothing):
        // they are looked at, and reported, again.
        .stdout(predicate::str::contains("9990 files unchanged"))
        .stderr(predicate::str::contains("not a transcript").count(10));
    let second = start.elapsed();
    assert_eq!(digest, env.digest());
    eprintln!("10,000 files: first import {first:?}, unchanged re-import {second:?}");
}

#[test]
fn a_database_file_that_is_not_sqlite_is_refused_and_kept() {
    let env = TestEnv::new();
    std::fs::create_dir_all(&env.lore_home).unwrap();
    let junk = b"PK\x03\x04 definitely a zip file, not a database".repeat(100);
    std::fs::write(env.db(), &junk).unwrap();
    let id = "77777777-7777-4777-8777-777777777777";
    let path = env.path(&format!("{id}.jsonl"));
    std::fs::write(&path, claude_transcript(id, 1, "x")).unwrap();

    for args in [
        vec!["import", path.to_str().unwrap()],
        vec!["sessions"],
        vec!["search", "x"],
    ] {
        env.lore()
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "error: {} is not a SQLite database; move it aside",
                env.db().display()
            )));
    }
    assert_eq!(std::fs::read(env.db()).unwrap(), junk);
    let names: Vec<_> = std::fs::read_dir(&env.lore_home)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["lore.db"],
        "no -wal/-shm or other files were created"
    );
}

/// `lore history --json`, parsed.
fn commits_json(env: &TestEnv) -> Vec<serde_json::Value> {
    let out = env.lore().args(["history", "--json"]).assert().success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    v["commits"].as_array().unwrap().clone()
}

/// The commits in history, newest first (their messages).
fn commits(env: &TestEnv) -> Vec<String> {
    commits_json(env)
        .iter()
        .map(|c| c["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_import_that_changes_nothing_writes_no_commit() {
    let (env, before) = with_one_session();
    let history = commits(&env);
    let good = env.path("good").join(format!("{GOOD}.jsonl"));
    let db = std::fs::read(env.db()).unwrap();

    // A rejected file: reported, and no commit (`import: no sessions (1 files checked)`).
    let notes = env.path("notes.jsonl");
    std::fs::write(&notes, "{\"shopping\":[\"eggs\"]}\n").unwrap();
    for _ in 0..2 {
        env.lore()
            .arg("import")
            .arg(&notes)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("not a transcript"));
    }
    assert_eq!(commits(&env), history);

    // Touched transcripts (new modification time, same bytes): read, no commit, twice.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&good)
        .unwrap()
        .set_modified(later)
        .unwrap();
    for _ in 0..2 {
        env.lore()
            .arg("import")
            .arg(env.path("good"))
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "Imported 0 new sessions, updated 0",
            ));
    }
    assert_eq!(commits(&env), history);
    assert_eq!(before, env.digest());
    // Not a byte of lore.db changed (its WAL was checkpointed when the last writer closed).
    assert_eq!(std::fs::read(env.db()).unwrap(), db);

    // A real change still is one.
    std::fs::write(&good, claude_transcript(GOOD, 3, "widget")).unwrap();
    env.lore().arg("import").arg(&good).assert().success();
    let now = commits(&env);
    assert_eq!(now.len(), history.len() + 1);
    assert_eq!(now[0], "import: 1 session from claude-code");
}

#[test]
fn binary_garbage_without_a_newline_is_not_a_transcript() {
    let (env, before) = with_one_session();
    let id = "77777777-7777-4777-8777-777777777777";
    let junk = env.path(&format!("{id}.jsonl"));
    let mut bytes = b"\x89PNG\r\n\x1a".to_vec();
    bytes.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80));
    std::fs::write(&junk, &bytes).unwrap();
    // Read as Claude Code (as a file in its projects folder would be).
    env.lore()
        .args(["import", "--tool", "claude-code"])
        .arg(&junk)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("still being written").not())
        .stderr(predicate::str::contains(format!(
            "{}: not a claude-code transcript",
            junk.display()
        )));
    assert_eq!(before, env.digest());
}

/// Every reading command, with what its output must hold, on a home with session [`GOOD`].
fn reading_commands() -> Vec<(Vec<&'static str>, &'static str)> {
    vec![
        (vec!["sessions"], "11111111"),
        (vec!["sessions", "--json"], GOOD),
        (vec!["search", "widget"], "widget"),
        (vec!["show", GOOD], "widget"),
        (vec!["show", "--json", GOOD], GOOD),
        (vec!["history"], "import: 1 session"),
        (vec!["history", "--json"], "import: 1 session"),
        (vec!["reflog"], "import"),
        (vec!["verify"], "ok"),
        (vec!["verify", "--full"], "ok"),
        (vec!["schema"], "messages"),
        (vec!["status"], "Sessions     1"),
        (vec!["doctor"], "integrity ok"),
        (vec!["config", "get", "link_auto_threshold"], "0.6"),
        (vec!["config", "list"], "link_auto_threshold"),
    ]
}

#[test]
fn a_read_only_lore_home_refuses_writes_but_still_reads() {
    read_only_home(false);
}

/// The same with no `-wal` and `-shm` beside lore.db (closed cleanly by its last writer): a
/// reader cannot create the `-shm` SQLite wants, so lore must open the file as it is.
#[test]
fn a_read_only_lore_home_without_wal_files_still_reads() {
    read_only_home(true);
}

fn read_only_home(checkpointed: bool) {
    let (env, before) = with_one_session();
    if checkpointed {
        // The last connection to close removes -wal and -shm.
        let c = rusqlite::Connection::open(env.db()).unwrap();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        drop(c);
        for name in ["lore.db-wal", "lore.db-shm"] {
            assert!(!env.lore_home.join(name).exists(), "{name} is still there");
        }
    }
    let id = "88888888-8888-4888-8888-888888888888";
    let path = env.path(&format!("{id}.jsonl"));
    std::fs::write(&path, claude_transcript(id, 1, "sprocket")).unwrap();
    let db_bytes = std::fs::read(env.db()).unwrap();
    {
        let _guard = ReadOnly::make(&env.lore_home);
        env.lore()
            .arg("import")
            .arg(&path)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("cannot be written"))
            .stderr(predicate::str::contains(
                "point LORE_HOME at a writable folder",
            ));
        env.lore()
            .args(["delete", GOOD])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("cannot be written"));
        // Reading still works.
        env.lore()
            .arg("sessions")
            .assert()
            .success()
            .stdout(predicate::str::contains("11111111"));
        env.lore()
            .args(["search", "widget"])
            .assert()
            .success()
            .stdout(predicate::str::contains("widget"));
        let head = commits_json(&env)[0]["id"].as_str().unwrap().to_owned();
        let mut commands = reading_commands();
        commands.push((vec!["show-commit", &head], "sessions"));
        for (args, expect) in commands {
            let out = env.lore().args(&args).output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            // doctor fails here for reasons of its own (the home is 0555, the helper is not
            // on PATH); what matters is that it read lore.db.
            let ok = out.status.success() || args == ["doctor"];
            assert!(
                ok && stdout.contains(expect),
                "lore {args:?} in a read-only home: {}\n{stdout}\n{stderr}",
                out.status
            );
        }
        // Writing commands fail with one error line saying why. (A warning may come first:
        // this test's read-only home is 0555, open to others, and lore cannot tighten it.)
        for (args, why) in [
            (vec!["tag", GOOD, "x"], "cannot be written"),
            (vec!["annotate", GOOD, "a note"], "cannot be written"),
            (
                vec!["config", "set", "link_auto_threshold", "0.7"],
                "config.toml",
            ),
        ] {
            let out = env.lore().args(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "lore {args:?} succeeded read-only");
            let errors: Vec<&str> = stderr
                .lines()
                .filter(|l| !l.starts_with("lore: warning: cannot make"))
                .collect();
            assert_eq!(errors.len(), 1, "lore {args:?}: {stderr}");
            assert!(
                errors[0].starts_with("error: ") && errors[0].contains(why),
                "lore {args:?}: {stderr}"
            );
        }
        assert_eq!(std::fs::read(env.db()).unwrap(), db_bytes);
    }
    assert_eq!(before, env.digest());
}

#[test]
fn a_read_only_home_with_no_database_yet_says_so() {
    let env = TestEnv::new();
    std::fs::create_dir_all(&env.lore_home).unwrap();
    let id = "99999999-9999-4999-8999-999999999999";
    let path = env.path(&format!("{id}.jsonl"));
    std::fs::write(&path, claude_transcript(id, 1, "x")).unwrap();
    let _guard = ReadOnly::make(&env.lore_home);
    env.lore()
        .arg("import")
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "point LORE_HOME at a writable folder",
        ));
}

#[test]
fn a_bad_line_in_the_middle_is_reported_with_its_number_and_the_rest_is_kept() {
    let env = TestEnv::new();
    let id = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
    let path = env.path(&format!("{id}.jsonl"));
    let body = format!(
        "{}\n{{\"type\": \"user\", broken json\n{}\n",
        claude_line(id, 0, "user", "before"),
        claude_line(id, 2, "assistant", "after")
    );
    std::fs::write(&path, body).unwrap();
    env.lore()
        .arg("import")
        .arg(&path)
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "{}:2: not valid JSON",
            path.display()
        )));
    let s = env.show(id);
    let contents: Vec<&str> = s["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, vec!["before", "after"]);
}

/// `lore blame` is a reading command too: in a git repository whose commit is linked to a
/// session, it reads lore.db in a read-only home and writes nothing.
#[test]
fn blame_reads_a_read_only_lore_home() {
    let (env, _) = with_one_session();
    let repo = env.path("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.com"])
            .args(args)
            .current_dir(&repo)
            .env("HOME", &env.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", env.home.join(".gitconfig"))
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    git(&["init", "-q"]);
    std::fs::write(repo.join("widget.rs"), "fn widget() {}\n").unwrap();
    git(&["add", "widget.rs"]);
    git(&["commit", "-q", "-m", "widget"]);
    let head = git(&["rev-parse", "HEAD"]);
    env.lore()
        .current_dir(&repo)
        .args(["link", GOOD, "--commit", &head])
        .assert()
        .success();
    let before = env.digest();
    let db_bytes = std::fs::read(env.db()).unwrap();
    {
        let _guard = ReadOnly::make(&env.lore_home);
        let out = env
            .lore()
            .current_dir(&repo)
            .args(["blame", "widget.rs:1"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains(&GOOD[..8]) && stdout.contains(&head[..12]),
            "lore blame in a read-only home: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(std::fs::read(env.db()).unwrap(), db_bytes);
    }
    assert_eq!(before, env.digest());
}
