//! Capture without remembering (issue 15): agents' hooks (`lore import --hook`), `lore init`
//! and its undo, and the warnings before loss. Real binaries, throw-away homes; each agent's
//! hook is fed the JSON that agent documents.

mod common;

use std::path::{Path, PathBuf};

use common::{TestEnv, copy_tree, fixtures};

const CLAUDE_ID: &str = "5b1f3c9e-2a4d-4f8b-9c61-7e0d2a3b4c5d";
const CODEX_ID: &str = "019cd2a4-7e1b-7c30-8f2d-4a6b8c0d1e2f";
const GEMINI_ID: &str = "8d3f1c2a-4b5e-4f6a-9c7d-0e1f2a3b4c5d";

/// A home where Claude Code, Codex and Gemini CLI have each left transcripts.
fn with_agents() -> TestEnv {
    let env = TestEnv::new();
    let t = fixtures().join("transcripts");
    copy_tree(&t.join("claude"), &env.home.join(".claude"));
    copy_tree(&t.join("codex"), &env.home.join(".codex"));
    copy_tree(&t.join("gemini"), &env.home.join(".gemini"));
    env
}

fn claude_transcript(env: &TestEnv) -> PathBuf {
    env.home
        .join(".claude/projects/-home-dev-acme")
        .join(format!("{CLAUDE_ID}.jsonl"))
}

fn gemini_transcript(env: &TestEnv) -> PathBuf {
    env.home
        .join(".gemini/tmp/acme/chats/session-2026-05-17T11-07-8d3f1c2a.jsonl")
}

fn ids(env: &TestEnv) -> Vec<String> {
    if !env.db().exists() {
        return vec![];
    }
    let mut v: Vec<String> = env
        .sessions()
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    v.sort();
    v
}

fn hook_log(env: &TestEnv) -> String {
    std::fs::read_to_string(env.lore_home.join("logs/hooks.log")).unwrap_or_default()
}

/// Runs `lore import --hook AGENT` with `stdin`; asserts what every hook run must do: exit 0
/// and print nothing.
fn hook(env: &TestEnv, agent: &str, stdin: &str, args: &[&str]) {
    let mut cmd = env.lore();
    cmd.args(["import", "--hook", agent]).args(args);
    let out = cmd
        .write_stdin(stdin.to_owned())
        .output()
        .expect("run lore");
    assert!(out.status.success(), "hook exited {:?}", out.status);
    assert!(
        out.stdout.is_empty(),
        "a hook prints nothing on stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stderr.is_empty(),
        "a hook prints nothing on stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn claude_payload(env: &TestEnv, event: &str) -> String {
    serde_json::json!({
        "session_id": CLAUDE_ID,
        "transcript_path": claude_transcript(env),
        "cwd": "/home/dev/acme",
        "permission_mode": "default",
        "hook_event_name": event,
        "reason": "exit",
    })
    .to_string()
}

#[test]
fn claude_codes_session_end_hook_imports_that_session_and_its_subagents() {
    let env = with_agents();
    hook(&env, "claude", &claude_payload(&env, "SessionEnd"), &[]);
    let got = ids(&env);
    assert!(got.contains(&CLAUDE_ID.to_owned()), "{got:?}");
    assert!(
        got.iter()
            .any(|i| i.starts_with(CLAUDE_ID) && i.contains("agent-")),
        "the sub-agent's transcript beside it is imported too: {got:?}"
    );
    assert!(
        !got.iter().any(|i| i == CODEX_ID || i == GEMINI_ID),
        "only the transcript the hook named: {got:?}"
    );
    let log = hook_log(&env);
    assert!(log.contains("hook claude: SessionEnd"), "{log}");
    assert!(log.contains("1 new") || log.contains("2 new"), "{log}");
    // Stop after a later turn: the file grew; the same session is updated, not duplicated.
    let mut text = std::fs::read_to_string(claude_transcript(&env)).unwrap();
    text.push_str(&common::claude_line(
        CLAUDE_ID,
        900,
        "user",
        "one more question about zebras",
    ));
    text.push('\n');
    std::fs::write(claude_transcript(&env), text).unwrap();
    hook(&env, "claude", &claude_payload(&env, "Stop"), &[]);
    assert_eq!(ids(&env), got);
    let shown = env.show(CLAUDE_ID).to_string();
    assert!(shown.contains("zebras"));
}

#[test]
fn codex_notify_argument_finds_the_rollout_by_thread_id() {
    let env = with_agents();
    // Codex runs `notify` with the JSON as the last argument (docs: config.md, "notify").
    let payload = serde_json::json!({
        "type": "agent-turn-complete",
        "thread-id": CODEX_ID,
        "turn-id": "12345",
        "cwd": "/home/dev/acme",
        "input-messages": ["Rename `foo` to `bar` and update the callsites."],
        "last-assistant-message": "Rename complete and verified `cargo build` succeeds.",
    })
    .to_string();
    hook(&env, "codex", "", &[&payload]);
    assert_eq!(ids(&env), vec![CODEX_ID.to_owned()]);
    assert!(hook_log(&env).contains("hook codex: agent-turn-complete"));
}

#[test]
fn gemini_cli_session_end_hook_imports_its_transcript() {
    let env = with_agents();
    let payload = serde_json::json!({
        "session_id": GEMINI_ID,
        "transcript_path": gemini_transcript(&env),
        "cwd": "/home/dev/acme",
        "hook_event_name": "SessionEnd",
        "timestamp": "2026-05-17T11:20:00.000Z",
        "reason": "exit",
    })
    .to_string();
    hook(&env, "gemini", &payload, &[]);
    assert_eq!(ids(&env), vec![GEMINI_ID.to_owned()]);
}

#[test]
fn bad_hook_input_is_logged_and_the_agent_never_sees_a_failure() {
    let env = with_agents();
    hook(&env, "claude", &claude_payload(&env, "SessionEnd"), &[]);
    let before = env.digest();
    let missing = serde_json::json!({
        "session_id": "nope",
        "transcript_path": env.home.join(".claude/projects/x/nope.jsonl"),
        "hook_event_name": "SessionEnd",
    })
    .to_string();
    for input in ["this is not json", "[1, 2]", "", &missing] {
        hook(&env, "claude", input, &[]);
    }
    hook(
        &env,
        "codex",
        "",
        &["{\"type\":\"agent-turn-complete\",\"thread-id\":\"0000\"}"],
    );
    hook(&env, "codex", "", &["{not json"]);
    assert_eq!(env.digest(), before, "bad input changes nothing stored");
    let log = hook_log(&env);
    assert!(log.contains("error: the hook input is not JSON"), "{log}");
    assert!(log.contains("not a JSON object"), "{log}");
    assert!(log.contains("the hook input is empty"), "{log}");
    assert!(log.contains("nope.jsonl does not exist"), "{log}");
    assert!(log.contains("no Codex rollout for thread 0000"), "{log}");
    assert_eq!(log.lines().count(), 7, "one line per run: {log}");
}

#[test]
fn hooks_run_at_once_all_succeed_and_import_once() {
    let env = with_agents();
    // A new home (no lore.db yet): four hooks for the same session at once, each creating and
    // migrating the database if it is first.
    let payload = claude_payload(&env, "Stop");
    let children: Vec<std::process::Child> = (0..4)
        .map(|_| {
            let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("lore"));
            c.env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", &env.home)
                .env("LORE_HOME", &env.lore_home)
                .env("LORE_KEYCHAIN", "off")
                .args(["import", "--hook", "claude"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = c.spawn().expect("spawn");
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(payload.as_bytes())
                .unwrap();
            child
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success());
        assert!(out.stdout.is_empty() && out.stderr.is_empty());
    }
    let log = hook_log(&env);
    assert_eq!(log.lines().count(), 4, "{log}");
    assert!(!log.contains("error"), "{log}");
    let got = ids(&env);
    assert_eq!(
        got.iter().filter(|i| i.as_str() == CLAUDE_ID).count(),
        1,
        "{got:?}"
    );
    // And once more, in sequence: nothing changes.
    let before = env.digest();
    hook(&env, "claude", &payload, &[]);
    assert_eq!(env.digest(), before);
}

#[allow(dead_code)]
fn exists(p: &Path) -> bool {
    p.exists()
}
