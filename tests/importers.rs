//! Every importer through the real binary, on fixtures in each tool's real format and layout;
//! the default locations; idempotent re-import, growth, and transcripts that vanish.

mod common;

use common::{TestEnv, claude_line, copy_tree, fixtures};
use predicates::prelude::*;

const CLAUDE: &str = "5b1f3c9e-2a4d-4f8b-9c61-7e0d2a3b4c5d";
const CLAUDE_AGENT: &str = "5b1f3c9e-2a4d-4f8b-9c61-7e0d2a3b4c5d-agent-a7f3e21";
const CODEX: &str = "019cd2a4-7e1b-7c30-8f2d-4a6b8c0d1e2f";
const GEMINI: &str = "8d3f1c2a-4b5e-4f6a-9c7d-0e1f2a3b4c5d";
const GEMINI_LEGACY: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5e";

/// A home whose ~/.claude, ~/.codex and ~/.gemini hold the fixtures, as the tools lay them out.
fn env_with_tool_homes() -> TestEnv {
    let env = TestEnv::new();
    let t = fixtures().join("transcripts");
    copy_tree(&t.join("claude"), &env.home.join(".claude"));
    copy_tree(&t.join("codex"), &env.home.join(".codex"));
    copy_tree(&t.join("gemini"), &env.home.join(".gemini"));
    env
}

fn kinds(session: &serde_json::Value) -> Vec<String> {
    session["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}:{}",
                m["role"].as_str().unwrap(),
                m["kind"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn plain_import_scans_every_default_location() {
    let env = env_with_tool_homes();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 5 new sessions, updated 0 (claude-code: 2 new, 0 updated; codex: 1 new, 0 updated; gemini: 2 new, 0 updated)",
        ));
    let mut ids: Vec<String> = env
        .sessions()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![CODEX, GEMINI_LEGACY, CLAUDE, CLAUDE_AGENT, GEMINI]
    );
}

#[test]
fn the_tools_own_variables_move_their_default_locations() {
    let env = TestEnv::new();
    let t = fixtures().join("transcripts");
    let claude = env.path("elsewhere/claude");
    let codex = env.path("elsewhere/codex");
    copy_tree(&t.join("claude"), &claude);
    copy_tree(&t.join("codex"), &codex);
    env.lore()
        .arg("import")
        .env("CLAUDE_CONFIG_DIR", &claude)
        .env("CODEX_HOME", &codex)
        .assert()
        .success()
        .stdout(predicate::str::contains("Imported 3 new sessions"));
    // And the config can name them too; --tool narrows a default scan to one tool.
    let env = TestEnv::new();
    copy_tree(&t.join("codex"), &env.path("cx"));
    copy_tree(&t.join("claude"), &env.home.join(".claude"));
    env.lore()
        .args(["config", "set", "codex_dir"])
        .arg(env.path("cx"))
        .assert()
        .success();
    env.lore()
        .args(["import", "--tool", "codex"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 1 new session, updated 0 (codex: 1 new",
        ));
}

#[test]
fn claude_codes_xdg_folder_is_read_beside_dot_claude() {
    // Some Claude Code 1.0 releases kept transcripts in ~/.config/claude/projects.
    let env = TestEnv::new();
    let t = fixtures().join("transcripts");
    copy_tree(&t.join("claude"), &env.home.join(".config/claude"));
    let other = "0f0f0f0f-1111-4222-8333-444455556666";
    let dir = env.home.join(".claude/projects/-home-dev-other");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{other}.jsonl")),
        format!("{}\n", claude_line(other, 0, "user", "from dot claude")),
    )
    .unwrap();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("Imported 3 new sessions"));
    let mut ids: Vec<String> = env
        .sessions()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![other, CLAUDE, CLAUDE_AGENT]);
    // CLAUDE_CONFIG_DIR, where set, is the only Claude Code folder read.
    let env2 = TestEnv::new();
    copy_tree(&t.join("claude"), &env2.home.join(".config/claude"));
    std::fs::create_dir_all(env2.path("empty")).unwrap();
    env2.lore()
        .arg("import")
        .env("CLAUDE_CONFIG_DIR", env2.path("empty"))
        .assert()
        .success()
        .stderr(predicate::str::contains("No transcripts found"));
}

#[test]
fn a_session_with_no_messages_is_listed_with_a_placeholder_title() {
    let env = TestEnv::new();
    let id = "019d0000-0000-7000-8000-00000000abcd";
    let path = env.path(&format!("rollout-2026-03-11T10-00-00-{id}.jsonl"));
    let meta = serde_json::json!({"timestamp":"2026-03-11T09:00:00.120Z","type":"session_meta",
        "payload":{"id": id,"timestamp":"2026-03-11T09:00:00.100Z","cwd":"/home/dev/acme",
        "originator":"codex_cli_rs","cli_version":"0.139.0"}});
    std::fs::write(&path, format!("{meta}\n")).unwrap();
    env.lore().arg("import").arg(&path).assert().success();
    let listed = env.lore().arg("sessions").assert().success();
    let out = String::from_utf8_lossy(&listed.get_output().stdout).into_owned();
    let line = out.lines().find(|l| l.starts_with("019d0000")).unwrap();
    assert!(line.trim_end().ends_with("(no messages)"), "{out}");
    // JSON keeps the truth: no title.
    assert_eq!(env.sessions()[0]["title"], serde_json::Value::Null);
}

#[test]
fn show_json_keeps_every_character_through_a_pipe() {
    let env = TestEnv::new();
    let id = "0e0e0e0e-1111-4222-8333-444455556666";
    let path = env.path(&format!("{id}.jsonl"));
    let prompt = claude_line(id, 0, "user", "fix it \u{7f} (a DEL)");
    std::fs::write(&path, format!("{prompt}\n")).unwrap();
    env.lore().arg("import").arg(&path).assert().success();
    // assert_cmd's stdout is a pipe: U+007F (which JSON need not escape) must survive it.
    let s = env.show(id);
    assert_eq!(s["messages"][0]["content"], "fix it \u{7f} (a DEL)");
}

#[test]
fn no_transcripts_anywhere_says_where_it_looked() {
    let env = TestEnv::new();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stderr(predicate::str::contains("No transcripts found in"))
        .stderr(predicate::str::contains(".claude"));
}

#[test]
fn claude_code_sessions_and_sub_agents() {
    let env = env_with_tool_homes();
    env.lore().arg("import").assert().success();
    let s = env.show(CLAUDE);
    assert_eq!(s["tool"], "claude-code");
    assert_eq!(
        s["title"], "Add --json to acme status",
        "ai-title gives the title"
    );
    assert_eq!(s["cwd"], "/home/dev/acme");
    assert_eq!(s["git_branch"], "feat/json-status");
    assert_eq!(s["model"], "claude-opus-4-6");
    assert_eq!(s["started_at"], "2026-03-11T10:00:00Z");
    // Streaming-split assistant lines are one turn; tool results are not prompts.
    assert_eq!(s["message_count"], 6);
    let k = kinds(&s);
    assert_eq!(k[0], "user:text");
    assert!(k.contains(&"assistant:thinking".to_owned()));
    assert!(k.contains(&"tool:tool_result".to_owned()));
    assert_eq!(k.iter().filter(|k| *k == "user:text").count(), 3);

    let a = env.show(CLAUDE_AGENT);
    assert_eq!(a["parent_id"], CLAUDE);
    assert_eq!(a["model"], "claude-haiku-4-5");
    // Listings show the sub-agent with its parent's short id, and `show` accepts that form.
    env.lore()
        .args(["sessions", "--color", "never"])
        .assert()
        .success()
        .stdout(predicate::str::contains("5b1f3c9e…agent-a7f3e21"));
    assert_eq!(env.show("5b1f3c9e…agent-a7f3e21")["id"], CLAUDE_AGENT);
    // The parent's short id names the parent, though its sub-agents' ids extend it.
    assert_eq!(env.show("5b1f3c9e")["id"], CLAUDE);
}

#[test]
fn codex_sessions_count_from_one_source_and_link_their_commit() {
    let env = env_with_tool_homes();
    env.lore().arg("import").assert().success();
    let s = env.show(CODEX);
    assert_eq!(s["tool"], "codex");
    assert_eq!(s["cwd"], "/home/dev/acme");
    assert_eq!(s["git_branch"], "feat/json-status");
    assert_eq!(s["model"], "gpt-5.2-codex");
    assert_eq!(s["message_count"], 7);
    let k = kinds(&s);
    // Injected <environment_context> / <user_instructions> turns are system, not prompts,
    // and the event_msg copies of prompts and replies are not counted again.
    assert_eq!(&k[..3], &["system:text", "system:text", "system:text"]);
    assert_eq!(k.iter().filter(|k| *k == "user:text").count(), 2);
    // git.commit_hash is the commit the session started from: not a link (issue 16).
    assert_eq!(s["links"], serde_json::json!([]));
}

#[test]
fn gemini_sessions_last_write_wins_and_cwd_from_project_root() {
    let env = env_with_tool_homes();
    env.lore().arg("import").assert().success();
    let s = env.show(GEMINI);
    assert_eq!(s["tool"], "gemini");
    assert_eq!(
        s["cwd"], "/home/dev/acme",
        "from .project_root, not the folder name"
    );
    assert_eq!(s["model"], "gemini-2.5-flash");
    assert_eq!(s["message_count"], 5);
    let legacy = env.show(GEMINI_LEGACY);
    assert_eq!(legacy["message_count"], 3);
    assert_eq!(legacy["model"], "gemini-2.5-pro");
}

#[test]
fn aider_histories_split_into_sessions_with_commit_links() {
    let env = TestEnv::new();
    let repo = env.path("repo");
    copy_tree(&fixtures().join("transcripts/aider"), &repo);
    env.lore()
        .arg("import")
        .arg(repo.join(".aider.chat.history.md"))
        .assert()
        .success()
        .stdout(predicate::str::contains("aider: 2 new"));
    let sessions = env.sessions();
    assert_eq!(sessions.len(), 2);
    let canonical = std::fs::canonicalize(&repo).unwrap();
    for s in &sessions {
        assert_eq!(
            s["cwd"],
            canonical.to_str().unwrap(),
            "cwd is the repository holding the file"
        );
        assert!(s["id"].as_str().unwrap().starts_with("aider-"));
    }
    let first = sessions
        .iter()
        .find(|s| s["started_at"] == "2026-03-02T10:15:42Z")
        .expect("the first block's session");
    let shown = env.show(first["id"].as_str().unwrap());
    let commits: Vec<&str> = shown["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sha"].as_str().unwrap())
        .collect();
    assert_eq!(commits, vec!["1a2b3c4", "5d6e7f8a9b"]);

    // The same history read from another path (a moved or cloned repository) is the same
    // sessions: ids come from the history's text, not its path.
    let moved = env.path("moved");
    copy_tree(&fixtures().join("transcripts/aider"), &moved);
    env.lore()
        .arg("import")
        .arg(moved.join(".aider.chat.history.md"))
        .assert()
        .success();
    let after = env.sessions();
    assert_eq!(after.len(), 2, "{after:#?}");
    let mut before_ids: Vec<&str> = sessions.iter().map(|s| s["id"].as_str().unwrap()).collect();
    let mut after_ids: Vec<&str> = after.iter().map(|s| s["id"].as_str().unwrap()).collect();
    before_ids.sort();
    after_ids.sort();
    assert_eq!(before_ids, after_ids);
    // A slash command is not a title: the second session is named by its first prompt.
    let second = after
        .iter()
        .find(|s| s["started_at"] == "2026-03-03T08:00:05Z")
        .unwrap();
    assert_eq!(second["title"], "Why is `status_json` flaky?");

    // Configured aider paths are part of a plain `lore import`.
    let env2 = TestEnv::new();
    env2.lore()
        .args(["config", "set", "aider_paths"])
        .arg(&repo)
        .assert()
        .success();
    env2.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("aider: 2 new"));
}

#[test]
fn reimport_is_idempotent_and_skips_unchanged_files_unread() {
    let env = env_with_tool_homes();
    env.lore().arg("import").assert().success();
    let digest = env.digest();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 0 new sessions, updated 0.",
        ))
        .stdout(predicate::str::contains(
            "5 files unchanged since the last import",
        ));
    assert_eq!(digest, env.digest());

    // Touching a file without changing it: lore hashes it, finds the bytes it read last
    // time, and leaves it (and the history) alone.
    let f = env.home.join(format!(
        ".codex/sessions/2026/03/11/rollout-2026-03-11T10-00-00-{CODEX}.jsonl"
    ));
    let body = std::fs::read(&f).unwrap();
    std::fs::write(&f, &body).unwrap();
    let t = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(t)
        .unwrap();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "5 files unchanged since the last import",
        ));
    assert_eq!(digest, env.digest());
}

#[test]
fn a_grown_transcript_updates_its_session_and_moves_updated_at_forward() {
    let env = env_with_tool_homes();
    env.lore().arg("import").assert().success();
    let before = env.show(CLAUDE);
    let f = env
        .home
        .join(format!(".claude/projects/-home-dev-acme/{CLAUDE}.jsonl"));
    let mut body = std::fs::read_to_string(&f).unwrap();
    body.push_str(
        &claude_line(CLAUDE, 3000, "user", "one more thing: add a test")
            .replace("2026-03-11T10:50:00.000Z", "2026-03-12T09:00:00.000Z"),
    );
    body.push('\n');
    std::fs::write(&f, body).unwrap();

    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 0 new sessions, updated 1",
        ));
    let after = env.show(CLAUDE);
    assert_eq!(after["id"], CLAUDE);
    assert_eq!(after["updated_at"], "2026-03-12T09:00:00Z");
    assert_eq!(
        after["message_count"],
        before["message_count"].as_i64().unwrap() + 1
    );
    let n = before["messages"].as_array().unwrap().len();
    assert_eq!(after["messages"].as_array().unwrap().len(), n + 1);
    assert_eq!(
        after["messages"][n]["content"],
        "one more thing: add a test"
    );
    // Earlier messages are as they were.
    assert_eq!(after["messages"][0], before["messages"][0]);
    env.lore()
        .args(["search", "add a test", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains(CLAUDE));
}

#[test]
fn a_vanished_transcript_keeps_its_session() {
    let env = env_with_tool_homes();
    env.lore().arg("import").assert().success();
    let digest = env.digest();
    // The tool cleans up after 30 days.
    std::fs::remove_dir_all(env.home.join(".claude/projects")).unwrap();
    env.lore().arg("import").assert().success();
    assert_eq!(digest, env.digest());
    assert_eq!(env.show(CLAUDE)["message_count"], 6);
}

#[test]
fn detection_reads_each_format_without_being_told() {
    let env = TestEnv::new();
    env.lore()
        .arg("import")
        .arg(fixtures().join("transcripts"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 7 new sessions, updated 0 (claude-code: 2 new, 0 updated; codex: 1 new, 0 updated; gemini: 2 new, 0 updated; aider: 2 new, 0 updated)",
        ));
    // --tool forces a format: a Codex file read as Claude Code is no Claude Code transcript.
    let env = TestEnv::new();
    let codex = fixtures().join(format!(
        "transcripts/codex/sessions/2026/03/11/rollout-2026-03-11T10-00-00-{CODEX}.jsonl"
    ));
    env.lore()
        .args(["import", "--tool", "claude-code"])
        .arg(&codex)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a claude-code transcript"));
}
