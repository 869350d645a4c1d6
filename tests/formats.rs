//! Format features found in real transcripts (../shared/realworld), each reproduced by a small
//! fixture of our own under fixtures/formats/ and imported through the real binary from the
//! tools' default locations.

mod common;

use common::{TestEnv, copy_tree, fixtures};

fn env_with(tool_dir: &str, home_dir: &str) -> TestEnv {
    let env = TestEnv::new();
    copy_tree(
        &fixtures().join("formats").join(tool_dir),
        &env.home.join(home_dir),
    );
    env.lore().arg("import").assert().success();
    env
}

fn messages(s: &serde_json::Value) -> Vec<(String, String)> {
    s["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap_or("").to_owned(),
                m["content"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn ids(env: &TestEnv) -> Vec<String> {
    let mut ids: Vec<String> = env
        .sessions()
        .iter()
        .map(|s| s["id"].as_str().unwrap_or("").to_owned())
        .collect();
    ids.sort();
    ids
}

const CLAUDE: &str = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f";

#[test]
fn claude_sidechains_summaries_persisted_output_and_sub_agent_meta() {
    let env = env_with("claude", ".claude");
    assert_eq!(
        ids(&env),
        vec![
            CLAUDE.to_owned(),
            format!("{CLAUDE}-agent-a1b2c3d4e5f6a7b8c"),
            format!("{CLAUDE}-sidechain-s1"),
        ]
    );
    let main = env.show(CLAUDE);
    // The summary of another conversation (its leafUuid is not in the file) is not the title.
    assert_eq!(main["title"], "Find the cart total");
    let m = messages(&main);
    // The sub-agent's prompt is not a human prompt of the parent.
    assert_eq!(m.iter().filter(|(r, _)| r == "user").count(), 1, "{m:?}");
    // (Only the Task call that started it names it.)
    assert!(
        !m.iter()
            .any(|(r, c)| r != "assistant" && c.contains("Search the repository"))
    );
    // The full output beside the transcript, not the 2 KB preview.
    let full = m
        .iter()
        .find(|(_, c)| c.starts_with("line 1\n"))
        .expect("full");
    assert!(full.1.contains("line 400"));
    let side = env.show(&format!("{CLAUDE}-sidechain-s1"));
    assert_eq!(side["parent_id"], CLAUDE);
    assert_eq!(
        messages(&side),
        vec![
            (
                "user".into(),
                "Search the repository for the cart total".into()
            ),
            (
                "assistant".into(),
                "It is in cart.py, function total().".into()
            ),
        ]
    );
    // A sub-agent's .meta.json description titles it; its Warmup is not a prompt.
    let warm = env.show(&format!("{CLAUDE}-agent-a1b2c3d4e5f6a7b8c"));
    assert_eq!(warm["title"], "Warm the cache");
    assert_eq!(messages(&warm)[0], ("system".into(), "Warmup".into()));
}

#[test]
fn codex_2025_layouts_events_only_output_and_recorded_start() {
    let env = env_with("codex", ".codex");
    assert_eq!(ids(&env).len(), 3);
    // The single-document rollout.
    let doc = env.show("0418aaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
    assert_eq!(
        messages(&doc),
        vec![
            ("user".into(), "why does the stream test fail?".into()),
            ("assistant".into(), "The fixture path is wrong.".into()),
        ]
    );
    assert_eq!(doc["started_at"], "2025-08-23T11:03:20.415Z");
    // The early JSONL rollout: bare header, state markers; cwd from <environment_context>.
    let early = env.show("16853d29-aaaa-4bbb-8ccc-dddddddddddd");
    assert_eq!(early["cwd"], "/home/dev/site");
    assert_eq!(early["git_branch"], "main");
    assert_eq!(early["message_count"], 2);
    // A reply that exists only as its event, and an error event, are kept; a reply recorded
    // both ways is kept once. started_at is session_meta's, not the first line's.
    let late = env.show("019d4c8e-aaaa-7bbb-8ccc-dddddddddddd");
    assert_eq!(
        messages(&late),
        vec![
            ("user".into(), "rename the handler".into()),
            ("assistant".into(), "Renaming it now.".into()),
            (
                "assistant".into(),
                "I was about to run the tests when".into()
            ),
            (
                "system".into(),
                "stream disconnected before completion".into()
            ),
        ]
    );
    assert_eq!(late["started_at"], "2026-04-02T05:10:00Z");
    // Detected without --tool when named on the command line.
    let env2 = TestEnv::new();
    env2.lore()
        .arg("import")
        .arg(fixtures().join("formats/codex"))
        .assert()
        .success();
    assert_eq!(ids(&env2).len(), 3);
}

#[test]
fn gemini_logs_and_saved_conversations() {
    let env = env_with("gemini", ".gemini");
    let all = ids(&env);
    assert_eq!(all.len(), 3, "{all:?}");
    // logs.json: only the session chats/ does not hold; slash commands are not prompts.
    let logged = env.show("aaaa1111-2222-4333-8444-555555555555");
    assert_eq!(
        messages(&logged),
        vec![
            ("system".into(), "/model set".into()),
            ("user".into(), "explain the build script".into()),
            ("user".into(), "数据库的连接池在哪里配置".into()),
        ]
    );
    assert_eq!(logged["cwd"], "/home/dev/tool");
    assert_eq!(logged["message_count"], 2);
    let chat = env.show("bbbb2222-3333-4444-8555-666666666666");
    assert_eq!(chat["messages"].as_array().map(Vec::len), Some(2));
    // checkpoint-<tag>.json: a /chat save conversation.
    let saved = all
        .iter()
        .find(|i| i.starts_with("gemini-checkpoint-"))
        .expect("checkpoint session");
    let s = env.show(saved);
    assert_eq!(s["title"], "/chat save refactor");
    let m = messages(&s);
    assert_eq!(m[0].0, "system", "Gemini CLI's own context");
    assert_eq!(m[2], ("user".into(), "list the modules".into()));
    assert!(
        m.iter()
            .any(|(r, c)| r == "tool" && c.contains("src/lib.rs"))
    );
    assert_eq!(s["message_count"], 4);
}

#[test]
fn aider_models_banner_gives_the_model() {
    let env = TestEnv::new();
    let repo = env.path("repo");
    copy_tree(&fixtures().join("formats/aider"), &repo);
    env.lore()
        .arg("import")
        .arg(repo.join(".aider.chat.history.md"))
        .assert()
        .success();
    let s = &env.sessions()[0];
    assert_eq!(s["model"], "gpt-4o");
}

#[test]
fn codex_fork_starts_at_its_own_first_prompt() {
    // A sub-agent forked with its parent's context repeats the parent's meta and history.
    let env = env_with("codex-fork", ".codex");
    let all = ids(&env);
    assert_eq!(all, vec!["019ce181-b4e0-7c01-8abc-def012345678"]);
    let listed = env.sessions();
    assert_eq!(
        listed[0]["title"],
        "Inspect src/config.rs and report its entry points."
    );
    let s = env.show(&all[0]);
    assert_eq!(s["parent_id"], "019ce17d-2100-7a01-8abc-def012345678");
    let texts = messages(&s);
    assert_eq!(
        texts[1],
        (
            "user".into(),
            "Inspect src/config.rs and report its entry points.".into()
        )
    );
    assert!(
        texts
            .iter()
            .all(|(_, t)| !t.contains("Review the config parser")),
        "{texts:?}"
    );
    assert_eq!(s["message_count"], 3);
}
