//! Importers for the agents of issue 18 (GitHub Copilot CLI, …), each driven through the built
//! binary on fixtures of our own under fixtures/formats/<tool>/ (never users' real files).

mod common;

use common::{TestEnv, copy_tree, fixtures};
use predicates::prelude::*;

const COPILOT_A: &str = "5f0e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b";
const COPILOT_B: &str = "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";

fn copilot_env() -> TestEnv {
    let env = TestEnv::new();
    copy_tree(
        &fixtures().join("formats/copilot"),
        &env.home.join(".copilot"),
    );
    env
}

fn rows(s: &serde_json::Value) -> Vec<(String, String, String, String)> {
    s["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap_or("").to_owned(),
                m["kind"].as_str().unwrap_or("").to_owned(),
                m["tool_name"].as_str().unwrap_or("").to_owned(),
                m["content"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn history_len(env: &TestEnv) -> usize {
    let out = env
        .lore()
        .args(["history", "--json"])
        .output()
        .expect("run lore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["commits"].as_array().expect("commits").len()
}

#[test]
fn copilot_events_become_prompts_replies_thinking_tools_and_notices() {
    let env = copilot_env();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("copilot: 2 new, 0 updated"));
    let s = env.show(COPILOT_A);
    assert_eq!(s["tool"], "copilot");
    assert_eq!(s["tool_version"], "1.0.61");
    // The last model the session used (a model_change, then the replies' own model).
    assert_eq!(s["model"], "claude-sonnet-4.6");
    assert_eq!(s["cwd"], "/home/dev/orchard");
    assert_eq!(s["git_branch"], "feature/pears");
    assert_eq!(s["started_at"], "2026-05-04T09:00:00Z");
    assert_eq!(s["ended_at"], "2026-05-04T09:01:05Z");
    assert_eq!(s["updated_at"], "2026-05-04T09:02:00Z");
    // Prompts plus assistant turns (a tool result ends a turn): 2 + 3.
    assert_eq!(s["message_count"], 5);
    assert_eq!(s["title"], "Count the pear varieties in data/pears.csv");
    let got = rows(&s);
    let want: Vec<(&str, &str, &str, &str)> = vec![
        (
            "system",
            "text",
            "",
            "Folder /home/dev/orchard has been added to trusted folders.",
        ),
        (
            "user",
            "text",
            "",
            "Count the pear varieties in data/pears.csv\n[attachment: data/pears.csv]",
        ),
        (
            "assistant",
            "thinking",
            "",
            "The user wants a count; reading the CSV header tells me the columns.",
        ),
        ("assistant", "text", "", "I will read the file first."),
        (
            "assistant",
            "tool_use",
            "view",
            r#"view: {"path":"/home/dev/orchard/data/pears.csv"}"#,
        ),
        (
            "assistant",
            "tool_use",
            "bash",
            r#"bash: {"command":"wc -l data/pears.csv","description":"count lines"}"#,
        ),
        (
            "tool",
            "tool_result",
            "view",
            "1. name,origin\n2. Conference,England\n3. Williams,England\n4. Nashi,Japan",
        ),
        (
            "tool",
            "tool_result",
            "bash",
            "error: <exited with error: wc is not available in this sandbox>",
        ),
        (
            "assistant",
            "tool_use",
            "report_intent",
            r#"report_intent: {"intent":"Counting varieties"}"#,
        ),
        ("tool", "tool_result", "report_intent", "Intent logged"),
        (
            "assistant",
            "text",
            "",
            "There are 3 pear varieties: Conference, Williams and Nashi.",
        ),
        (
            "user",
            "text",
            "",
            "Now sort them by origin and write sorted.csv",
        ),
        ("system", "text", "", "[turn aborted: user_initiated]"),
        (
            "system",
            "text",
            "",
            "[rate_limit error] Too many requests; try again in 30 seconds",
        ),
        (
            "system",
            "text",
            "",
            "[conversation compacted; summary]\n<overview>The user counted pear varieties (3) and asked for a sorted copy.</overview>",
        ),
    ];
    let got_ref: Vec<(&str, &str, &str, &str)> = got
        .iter()
        .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
        .collect();
    assert_eq!(got_ref, want);
    // The injected context and the CLI's system prompt are not prompts.
    let all = s["messages"].to_string();
    assert!(!all.contains("current_datetime"), "{all}");
    assert!(!all.contains("system prompt of the CLI"), "{all}");

    // A resumed session: the branch and model it resumed with; both halves kept.
    let b = env.show(COPILOT_B);
    assert_eq!(b["tool_version"], "1.0.40");
    assert_eq!(b["git_branch"], "rename-fence");
    assert_eq!(b["model"], "claude-haiku-4.5");
    assert_eq!(b["cwd"], r"C:\Users\dev\garden");
    assert_eq!(b["message_count"], 4);
    assert_eq!(b["started_at"], "2026-04-01T08:00:00Z");
    assert_eq!(b["ended_at"], "2026-04-02T10:00:20Z");

    env.lore()
        .args(["search", "Nashi", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains(COPILOT_A));
}

#[test]
fn copilot_reimport_changes_nothing_and_a_grown_file_adds_only_its_new_events() {
    let env = copilot_env();
    env.lore().arg("import").assert().success();
    let digest = env.digest();
    let commits = history_len(&env);
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 files unchanged since the last import",
        ));
    assert_eq!(
        commits,
        history_len(&env),
        "an unchanged import writes no commit"
    );
    // Touched, so read again: same content, nothing changes.
    let f = env
        .home
        .join(format!(".copilot/session-state/{COPILOT_B}/events.jsonl"));
    let body = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, &body).unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(later)
        .unwrap();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 0 new sessions, updated 0.",
        ));
    assert_eq!(digest, env.digest());
    // (A touched file still writes an empty "import: no sessions" commit: issue 14's, not
    // Copilot's; so commits are counted from here.)
    let commits = history_len(&env);

    // The CLI appends a turn (and a line it is still writing).
    let before = env.show(COPILOT_B);
    let grown = format!(
        "{body}{}\n{}\n{}",
        r#"{"type":"user.message","data":{"content":"And the changelog","attachments":[]},"id":"b0000008","timestamp":"2026-04-02T10:05:00.000Z","parentId":"b0000007"}"#,
        r#"{"type":"assistant.message","data":{"messageId":"n-3","content":"Changelog updated.","toolRequests":[]},"id":"b0000009","timestamp":"2026-04-02T10:05:09.000Z","parentId":"b0000008"}"#,
        r#"{"type":"assistant.turn_end","data":{"tu"#,
    );
    std::fs::write(&f, grown).unwrap();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 0 new sessions, updated 1",
        ));
    let after = env.show(COPILOT_B);
    let n = before["messages"].as_array().unwrap().len();
    assert_eq!(after["messages"].as_array().unwrap().len(), n + 2);
    assert_eq!(after["messages"][n]["content"], "And the changelog");
    assert_eq!(
        after["messages"].as_array().unwrap()[..n],
        before["messages"].as_array().unwrap()[..n]
    );
    assert_eq!(after["message_count"], 6);
    assert_eq!(after["updated_at"], "2026-04-02T10:05:09Z");
    assert_eq!(commits + 1, history_len(&env));
}

#[test]
fn an_older_shorter_copy_of_a_copilot_session_never_shrinks_it() {
    let env = copilot_env();
    env.lore().arg("import").assert().success();
    let full = env.show(COPILOT_A);
    // A backup taken before the second prompt, somewhere else.
    let src = env
        .home
        .join(format!(".copilot/session-state/{COPILOT_A}/events.jsonl"));
    let body = std::fs::read_to_string(&src).unwrap();
    let head: String = body.lines().take(12).map(|l| format!("{l}\n")).collect();
    let backup = env.path("backup/events.jsonl");
    std::fs::create_dir_all(backup.parent().unwrap()).unwrap();
    std::fs::write(&backup, head).unwrap();
    env.lore().arg("import").arg(&backup).assert().success();
    let after = env.show(COPILOT_A);
    assert_eq!(after["messages"], full["messages"]);
    assert_eq!(after["ended_at"], full["ended_at"]);
    assert_eq!(after["message_count"], full["message_count"]);
}

#[test]
fn copilot_home_moves_the_default_location_and_detection_needs_no_tool_flag() {
    let env = TestEnv::new();
    let elsewhere = env.path("copilot-state");
    copy_tree(&fixtures().join("formats/copilot"), &elsewhere);
    env.lore()
        .arg("import")
        .env("COPILOT_HOME", &elsewhere)
        .assert()
        .success()
        .stdout(predicate::str::contains("copilot: 2 new, 0 updated"));

    // A file named by the user: recognised by its content.
    let env = TestEnv::new();
    env.lore()
        .arg("import")
        .arg(
            fixtures()
                .join("formats/copilot/session-state")
                .join(COPILOT_B)
                .join("events.jsonl"),
        )
        .assert()
        .success()
        .stdout(predicate::str::contains("copilot: 1 new, 0 updated"));
}

#[test]
fn a_file_that_is_no_copilot_log_is_refused_in_one_line_and_nothing_changes() {
    let env = copilot_env();
    env.lore().arg("import").assert().success();
    let digest = env.digest();
    let other = env.path("other.jsonl");
    std::fs::write(
        &other,
        "{\"type\":\"user\",\"sessionId\":\"x\",\"message\":{\"content\":\"hi\"}}\n",
    )
    .unwrap();
    let out = env
        .lore()
        .args(["import", "--tool", "copilot"])
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a copilot transcript: no Copilot CLI event"),
        "{err}"
    );
    assert!(
        err.trim().lines().last().unwrap().starts_with("error: "),
        "{err}"
    );
    assert_eq!(digest, env.digest());
}

#[test]
fn init_doctor_and_the_no_agent_message_know_copilot() {
    let env = copilot_env();
    let out = env.lore().args(["init", "--yes"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.lines()
            .any(|l| l.contains("copilot") && l.contains("2 transcripts")),
        "{text}"
    );
    assert!(env.sessions().iter().any(|s| s["id"] == COPILOT_A));

    let out = env.lore().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("copilot (2 transcripts, lore's hook)"),
        "{text}"
    );

    let empty = TestEnv::new();
    let out = empty.lore().args(["init", "--yes"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(".copilot (copilot)"), "{text}");
}

const CURSOR_A: &str = "a1b2c3d4-0000-4a00-8000-000000000001";
const CURSOR_B: &str = "b2c3d4e5-0000-4a00-8000-000000000002";

fn cursor_env() -> TestEnv {
    let env = TestEnv::new();
    copy_tree(
        &fixtures().join("formats/cursor"),
        &env.home.join(".cursor"),
    );
    env
}

#[test]
fn cursor_agent_transcripts_split_the_query_from_the_attached_context() {
    let env = cursor_env();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("cursor: 2 new, 0 updated"));
    let s = env.show(CURSOR_A);
    assert_eq!(s["tool"], "cursor");
    assert_eq!(s["title"], "Make count return the number of pears");
    // Nothing the format does not record is invented: no cwd from the folder's slug, no times.
    assert!(s["cwd"].is_null(), "{s}");
    assert!(s["model"].is_null(), "{s}");
    // 2 prompts + 2 assistant turns.
    assert_eq!(s["message_count"], 4);
    let got = rows(&s);
    assert_eq!(got.len(), 8, "{got:?}");
    assert_eq!(got[0].0, "system");
    assert!(got[0].3.starts_with("<attached_files>"), "{}", got[0].3);
    assert!(got[0].3.contains("<git_diff_from_branch_to_main>"));
    assert!(!got[0].3.contains("user_query"));
    assert_eq!(
        (got[1].0.as_str(), got[1].3.as_str()),
        ("user", "Make count return the number of pears")
    );
    assert_eq!(
        (got[2].0.as_str(), got[2].1.as_str(), got[2].3.as_str()),
        ("assistant", "text", "Reading the module first.")
    );
    assert_eq!(
        (got[3].1.as_str(), got[3].2.as_str(), got[3].3.as_str()),
        (
            "tool_use",
            "ReadFile",
            r#"ReadFile: {"path":"/home/dev/orchard/src/pears.rs"}"#
        )
    );
    assert_eq!(got[4].2, "StrReplace");
    assert!(
        got[4]
            .3
            .contains(r#""new_string":"fn count() -> usize { PEARS.len() }""#)
    );
    assert_eq!(got[5].3, "count now returns PEARS.len().");
    assert_eq!(
        (got[6].0.as_str(), got[6].3.as_str()),
        ("user", "thanks, add a test")
    );
    assert_eq!(got[7].3, "Added a test for count.");
    // The IDE's nested layout, and a prompt without tags.
    let b = rows(&env.show(CURSOR_B));
    assert_eq!(b[0].0, "user");
    assert_eq!(b[0].3, "plain prompt without tags");
}

#[test]
fn cursor_reimport_changes_nothing_growth_appends_and_a_shorter_copy_shrinks_nothing() {
    let env = cursor_env();
    env.lore().arg("import").assert().success();
    let digest = env.digest();
    let commits = history_len(&env);
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 0 new sessions, updated 0.",
        ));
    assert_eq!(digest, env.digest());
    assert_eq!(commits, history_len(&env));

    let f = env.home.join(format!(
        ".cursor/projects/home-dev-orchard/agent-transcripts/{CURSOR_A}.jsonl"
    ));
    let body = std::fs::read_to_string(&f).unwrap();
    // A shorter copy elsewhere (the first two lines): the session keeps every message.
    let full = env.show(CURSOR_A);
    let head: String = body.lines().take(2).map(|l| format!("{l}\n")).collect();
    let copy = env.path(format!("old/{CURSOR_A}.jsonl").as_str());
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::write(&copy, head).unwrap();
    env.lore().arg("import").arg(&copy).assert().success();
    assert_eq!(env.show(CURSOR_A)["messages"], full["messages"]);

    // The agent appends a turn.
    let grown = format!(
        "{body}{}\n",
        r#"{"role":"user","message":{"content":[{"type":"text","text":"<user_query>\nand a doc comment\n</user_query>"}]}}"#
    );
    std::fs::write(&f, grown).unwrap();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("updated 1"));
    let after = env.show(CURSOR_A);
    let n = full["messages"].as_array().unwrap().len();
    assert_eq!(after["messages"].as_array().unwrap().len(), n + 1);
    assert_eq!(after["messages"][n]["content"], "and a doc comment");
    assert_eq!(after["message_count"], 5);
}
