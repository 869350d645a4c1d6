//! A faithful archive: a session read from several copies of its transcript holds the union of
//! their messages, and no copy (older, shorter, elsewhere) ever shrinks it or moves its times
//! back (docs/importers.md, "Merge, never replace").

mod common;

use common::{TestEnv, claude_line, claude_transcript};
use predicates::prelude::*;

const S: &str = "7a1e0c52-3b6d-4e8f-9a01-2c3d4e5f6a7b";

fn contents(s: &serde_json::Value) -> Vec<String> {
    s["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["content"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn write(path: &std::path::Path, body: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, body).expect("write");
}

/// The first `lines` lines of `body`.
fn prefix(body: &str, lines: usize) -> String {
    body.lines().take(lines).map(|l| format!("{l}\n")).collect()
}

#[test]
fn an_older_shorter_copy_never_shrinks_a_session_nor_moves_it() {
    let env = TestEnv::new();
    let full = claude_transcript(S, 6, "widget");
    let original = env
        .home
        .join(format!(".claude/projects/-home-dev-acme/{S}.jsonl"));
    write(&original, &full);
    env.lore().arg("import").assert().success();
    let before = env.show(S);
    assert_eq!(before["messages"].as_array().unwrap().len(), 12);

    // A backup holding the first half, imported from elsewhere.
    let backup = env.path("backup/old-copy.jsonl");
    write(&backup, &prefix(&full, 5));
    env.lore()
        .arg("import")
        .arg(&backup)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 0 new sessions, updated 0",
        ));
    let after = env.show(S);
    assert_eq!(contents(&after), contents(&before));
    assert_eq!(after["ended_at"], before["ended_at"]);
    assert_eq!(after["updated_at"], before["updated_at"]);
    assert_eq!(after["message_count"], before["message_count"]);
    assert_eq!(after["source_path"], before["source_path"]);

    // The other way round: the short copy first, then the whole transcript.
    let env2 = TestEnv::new();
    write(&env2.path("a/short.jsonl"), &prefix(&full, 5));
    write(&env2.path("b/long.jsonl"), &full);
    env2.lore()
        .arg("import")
        .arg(env2.path("a/short.jsonl"))
        .assert()
        .success();
    env2.lore()
        .arg("import")
        .arg(env2.path("b/long.jsonl"))
        .assert()
        .success()
        .stdout(predicate::str::contains("updated 1"));
    let s = env2.show(S);
    assert_eq!(contents(&s), contents(&before));
    assert_eq!(s["message_count"], before["message_count"]);
    assert!(
        s["source_path"].as_str().unwrap().ends_with("b/long.jsonl"),
        "the copy that reaches furthest is the source: {}",
        s["source_path"]
    );
    env2.lore().args(["verify", "--full"]).assert().success();
}

#[test]
fn a_resumed_sessions_file_adds_to_the_session_it_names() {
    let env = TestEnv::new();
    let dir = env.home.join(".claude/projects/-home-dev-acme");
    // The first file: two turns.
    let mut first = String::new();
    for n in 0..4 {
        let kind = if n % 2 == 0 { "user" } else { "assistant" };
        first.push_str(&claude_line(S, n, kind, &format!("first part {n}")));
        first.push('\n');
    }
    write(&dir.join(format!("{S}.jsonl")), &first);
    env.lore().arg("import").assert().success();
    // A later file named after another id whose lines carry only the earlier session id: the
    // first turn again, then two new turns.
    let other = "0b0e5c1d-1111-4222-8333-944455566677";
    let mut resumed = prefix(&first, 2);
    for n in 10..14 {
        let kind = if n % 2 == 0 { "user" } else { "assistant" };
        resumed.push_str(&claude_line(S, n, kind, &format!("second part {n}")));
        resumed.push('\n');
    }
    write(&dir.join(format!("{other}.jsonl")), &resumed);
    env.lore().arg("import").assert().success();
    let s = env.show(S);
    assert_eq!(
        contents(&s),
        vec![
            "first part 0",
            "first part 1",
            "first part 2",
            "first part 3",
            "second part 10",
            "second part 11",
            "second part 12",
            "second part 13",
        ]
    );
    assert_eq!(s["message_count"], 8);
    // Importing both again changes nothing.
    let digest = env.digest();
    env.lore().arg("import").assert().success();
    assert_eq!(digest, env.digest());
}

#[test]
fn codex_and_gemini_copies_merge_too() {
    let env = TestEnv::new();
    let id = "019d0000-aaaa-7bbb-8ccc-dddddddddddd";
    let mut rollout = format!(
        "{}\n",
        serde_json::json!({"timestamp": "2026-03-11T10:00:00.000Z", "type": "session_meta",
            "payload": {"id": id, "timestamp": "2026-03-11T10:00:00.000Z", "cwd": "/w", "cli_version": "0.120.0"}})
    );
    for n in 0..6 {
        let role = if n % 2 == 0 { "user" } else { "assistant" };
        let part = if n % 2 == 0 {
            "input_text"
        } else {
            "output_text"
        };
        rollout.push_str(&format!(
            "{}\n",
            serde_json::json!({"timestamp": format!("2026-03-11T10:00:0{n}.000Z"), "type": "response_item",
                "payload": {"type": "message", "role": role, "content": [{"type": part, "text": format!("codex {n}")}]}})
        ));
    }
    let name = format!("rollout-2026-03-11T10-00-00-{id}.jsonl");
    write(
        &env.home.join(".codex/sessions/2026/03/11").join(&name),
        &rollout,
    );
    env.lore().arg("import").assert().success();
    write(&env.path("old").join(&name), &prefix(&rollout, 3));
    env.lore()
        .arg("import")
        .arg(env.path("old"))
        .assert()
        .success();
    assert_eq!(env.show(id)["messages"].as_array().unwrap().len(), 6);

    let gid = "5e5e5e5e-6f6f-4a4a-8b8b-9c9c9c9c9c9c";
    let mut chat = format!(
        "{}\n",
        serde_json::json!({"sessionId": gid, "projectHash": "h", "startTime": "2026-05-01T09:00:00.000Z", "lastUpdated": "2026-05-01T09:00:00.000Z"})
    );
    for n in 0..6 {
        let ty = if n % 2 == 0 { "user" } else { "gemini" };
        chat.push_str(&format!(
            "{}\n",
            serde_json::json!({"id": format!("r{n}"), "timestamp": format!("2026-05-01T09:00:0{n}.000Z"), "type": ty, "content": format!("gemini {n}")})
        ));
    }
    let gname = "session-2026-05-01T09-00-5e5e5e5e.jsonl";
    write(&env.home.join(".gemini/tmp/p/chats").join(gname), &chat);
    env.lore().arg("import").assert().success();
    write(&env.path("oldg/chats").join(gname), &prefix(&chat, 3));
    env.lore()
        .arg("import")
        .arg(env.path("oldg"))
        .assert()
        .success();
    assert_eq!(
        contents(&env.show(gid)),
        (0..6).map(|n| format!("gemini {n}")).collect::<Vec<_>>()
    );
    env.lore().args(["verify", "--full"]).assert().success();
}

/// A copy cut in the middle of an assistant turn: the turn's stored rest continues it, and the
/// session's message count (prompts plus assistant turns) stays what the whole transcript gives.
#[test]
fn a_copy_cut_mid_turn_does_not_count_the_turn_twice() {
    let env = TestEnv::new();
    let mut full = String::new();
    for (n, kind) in ["user", "assistant", "assistant", "user", "assistant"]
        .iter()
        .enumerate()
    {
        let mut line: serde_json::Value =
            serde_json::from_str(&claude_line(S, n as u32, kind, &format!("line {n}"))).unwrap();
        if n == 2 {
            // The turn's second line: the same API message as the first.
            line["message"]["id"] = "msg_1".into();
        }
        full.push_str(&line.to_string());
        full.push('\n');
    }
    let original = env
        .home
        .join(format!(".claude/projects/-home-dev-acme/{S}.jsonl"));
    write(&original, &full);
    env.lore().arg("import").assert().success();
    let before = env.show(S);
    assert_eq!(before["message_count"], 4, "{before}");

    // The first prompt and half of the turn, from a backup.
    let backup = env.path("backup/cut.jsonl");
    write(&backup, &prefix(&full, 2));
    env.lore().arg("import").arg(&backup).assert().success();
    let after = env.show(S);
    assert_eq!(contents(&after), contents(&before));
    assert_eq!(after["message_count"], 4, "{after}");
}
