//! Capture without remembering (issue 15): agents' hooks (`lore import --hook`), `lore init`
//! and its undo, and the warnings before loss. Real binaries, throw-away homes; each agent's
//! hook is fed the JSON that agent documents.

mod common;

use std::path::{Path, PathBuf};
use std::str::FromStr;

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

// ---- lore init ----

const CLAUDE_SETTINGS: &str = r#"{
  "model": "opus",
  "permissions": {"allow": ["Bash(cargo test:*)"]},
  "hooks": {
    "Stop": [
      {
        "matcher": "",
        "hooks": [{"type": "command", "command": "notify-send done"}]
      }
    ]
  }
}
"#;

const CODEX_CONFIG: &str = "# my Codex settings\nmodel = \"gpt-5.1-codex\"  # the one I like\n\n[profiles.fast]\nmodel = \"o4-mini\"\n";

const GEMINI_SETTINGS: &str =
    "{\n    // Gemini CLI allows comments here\n    \"theme\": \"GitHub\",\n    \"hooks\": {}\n}\n";

/// A home with each agent's settings holding keys, comments and hooks of the user's; Claude
/// Code's settings.json is a symlink into a dotfiles folder (mode 0640).
fn with_settings(env: &TestEnv) -> Vec<PathBuf> {
    let dotfiles = env.home.join("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    let claude = dotfiles.join("claude-settings.json");
    std::fs::write(&claude, CLAUDE_SETTINGS).unwrap();
    set_mode(&claude, 0o640);
    std::os::unix::fs::symlink(&claude, env.home.join(".claude/settings.json")).unwrap();
    let codex = env.home.join(".codex/config.toml");
    std::fs::write(&codex, CODEX_CONFIG).unwrap();
    let gemini = env.home.join(".gemini/settings.json");
    std::fs::write(&gemini, GEMINI_SETTINGS).unwrap();
    set_mode(&gemini, 0o600);
    // Claude Code's own state file, where its user-wide MCP servers live.
    let state = env.home.join(".claude.json");
    std::fs::write(&state, CLAUDE_STATE).unwrap();
    set_mode(&state, 0o600);
    vec![claude, codex, gemini, state]
}

const CLAUDE_STATE: &str = "{\n  \"numStartups\": 12,\n  \"projects\": {\"/work/x\": {\"allowedTools\": []}},\n  \"mcpServers\": {\n    \"github\": {\"type\": \"http\", \"url\": \"https://example.invalid/mcp\"}\n  }\n}\n";

/// Every path under `root` (but `skip`) with its bytes (folders: `None`; links: their target).
fn tree(root: &Path, skip: &Path) -> std::collections::BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p == skip {
                continue;
            }
            let meta = p.symlink_metadata().unwrap();
            if meta.file_type().is_symlink() {
                let t = std::fs::read_link(&p).unwrap();
                out.insert(p, Some(t.to_string_lossy().as_bytes().to_vec()));
            } else if meta.is_dir() {
                out.insert(p.clone(), None);
                stack.push(p);
            } else {
                out.insert(p.clone(), Some(std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

/// Starts the MCP server an agent's configuration names (command, args, env) and lists its
/// tools with rmcp's client, as the agent would.
fn tools_of_registered_server(
    env: &TestEnv,
    command: &str,
    args: &[String],
    vars: &[(String, String)],
) -> Vec<String> {
    use rmcp::ServiceExt;
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .current_dir(env.dir.path());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = ().serve(rmcp::transport::TokioChildProcess::new(cmd).unwrap()).await.unwrap();
        let tools = client.list_all_tools().await.unwrap();
        let _ = client.cancel().await;
        tools.into_iter().map(|t| t.name.to_string()).collect()
    })
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn init(env: &TestEnv, args: &[&str]) -> (bool, String, String) {
    let out = env
        .lore()
        .arg("init")
        .args(args)
        .output()
        .expect("run lore");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn init_yes_imports_registers_every_agent_and_undo_restores_each_file_byte_for_byte() {
    let env = with_agents();
    let files = with_settings(&env);
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let home_before = tree(&env.home, &env.lore_home);
    let (ok, out, err) = init(&env, &["--yes"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("claude-code") && out.contains("codex") && out.contains("gemini"),
        "{out}"
    );

    // Each agent can ask lore: its MCP server registered beside the user's, its skill placed.
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files[3]).unwrap()).unwrap();
    assert_eq!(state["numStartups"], 12, "{state}");
    assert_eq!(state["mcpServers"]["github"]["type"], "http", "{state}");
    let server = &state["mcpServers"]["lore"];
    assert_eq!(server["type"], "stdio", "{state}");
    assert_eq!(
        server["args"],
        serde_json::json!(["mcp", "serve"]),
        "{state}"
    );
    assert_eq!(mode(&files[3]), 0o600);
    let tools = tools_of_registered_server(
        &env,
        server["command"].as_str().unwrap(),
        &["mcp".to_owned(), "serve".to_owned()],
        &[(
            "LORE_HOME".to_owned(),
            server["env"]["LORE_HOME"].as_str().unwrap().to_owned(),
        )],
    );
    assert!(tools.contains(&"why".to_owned()), "{tools:?}");
    let codex_doc: toml_edit::DocumentMut =
        std::fs::read_to_string(&files[1]).unwrap().parse().unwrap();
    assert_eq!(
        codex_doc["mcp_servers"]["lore"]["args"].to_string().trim(),
        "[\"mcp\", \"serve\"]"
    );
    let gemini_text = std::fs::read_to_string(&files[2]).unwrap();
    assert!(gemini_text.contains("\"mcpServers\""), "{gemini_text}");
    for dir in [".claude", ".codex", ".gemini"] {
        let skill = env.home.join(dir).join("skills/lore/SKILL.md");
        let text = std::fs::read_to_string(&skill).unwrap_or_default();
        assert!(
            text.starts_with("---\nname: lore\ndescription: "),
            "{}: {text}",
            skill.display()
        );
    }
    assert!(out.contains("Imported"), "the history is imported: {out}");
    assert!(out.contains("Try next"), "{out}");
    let got = ids(&env);
    for id in [CLAUDE_ID, CODEX_ID, GEMINI_ID] {
        assert!(got.contains(&id.to_owned()), "{id} in {got:?}");
    }

    // Claude Code: lore's hook beside the user's, every other key kept, the link still a link.
    let link = env.home.join(".claude/settings.json");
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    let claude: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(claude["model"], "opus");
    assert_eq!(claude["permissions"]["allow"][0], "Bash(cargo test:*)");
    let stop = claude["hooks"]["Stop"].as_array().unwrap();
    assert_eq!(stop.len(), 2, "{claude}");
    assert_eq!(stop[0]["hooks"][0]["command"], "notify-send done");
    for ev in ["SessionEnd", "Stop", "PreCompact"] {
        assert!(
            claude["hooks"][ev]
                .to_string()
                .contains("import --hook claude"),
            "{ev}: {claude}"
        );
    }
    assert_eq!(mode(&files[0]), 0o640, "the file keeps its permissions");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        text.starts_with(
            "{\n  \"model\": \"opus\",\n  \"permissions\": {\"allow\": [\"Bash(cargo test:*)\"]},"
        ),
        "untouched bytes stay: {text}"
    );
    // Codex: notify added, comments kept.
    let codex = std::fs::read_to_string(&files[1]).unwrap();
    assert!(
        codex.contains("# my Codex settings") && codex.contains("# the one I like"),
        "{codex}"
    );
    let doc: toml_edit::DocumentMut = codex.parse().unwrap();
    assert!(
        doc["notify"].to_string().contains("\"--hook\", \"codex\""),
        "{codex}"
    );
    assert_eq!(doc["profiles"]["fast"]["model"].as_str(), Some("o4-mini"));
    // Gemini: comment kept, hooks registered.
    let gemini = std::fs::read_to_string(&files[2]).unwrap();
    assert!(
        gemini.contains("// Gemini CLI allows comments here"),
        "{gemini}"
    );
    assert!(
        gemini.contains("\"SessionEnd\"") && gemini.contains("import --hook gemini"),
        "{gemini}"
    );
    assert_eq!(mode(&files[2]), 0o600);

    // The command written into Claude Code's settings works as Claude Code runs it: through a
    // shell, with the hook JSON on stdin.
    let command = stop[1]["hooks"][0]["command"].as_str().unwrap().to_owned();
    let mut more = std::fs::read_to_string(claude_transcript(&env)).unwrap();
    more.push_str(&common::claude_line(
        CLAUDE_ID,
        901,
        "user",
        "what about the platypus",
    ));
    more.push('\n');
    std::fs::write(claude_transcript(&env), more).unwrap();
    let run = std::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(claude_payload(&env, "Stop").as_bytes())?;
            c.wait()
        })
        .unwrap();
    assert!(run.success());
    assert!(env.show(CLAUDE_ID).to_string().contains("platypus"));

    // Again: nothing changes, it says what is in place.
    let after: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let (ok, out, _) = init(&env, &["--yes"]);
    assert!(ok);
    assert!(
        out.contains("Claude Code already imports each session"),
        "{out}"
    );
    let again: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(again, after, "a second init changes nothing");

    // Undo: each file exactly as before, permissions too, the link still a link.
    let (ok, out, err) = init(&env, &["--undo"]);
    assert!(ok, "{out}{err}");
    assert_eq!(out.matches("Restored").count(), 4, "{out}");
    assert_eq!(out.matches("Removed").count(), 3, "the three skills: {out}");
    let restored: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(restored, before);
    let home_after = tree(&env.home, &env.lore_home);
    let gained: Vec<_> = home_after
        .keys()
        .filter(|k| !home_before.contains_key(*k))
        .collect();
    assert!(gained.is_empty(), "left behind after undo: {gained:?}");
    let changed: Vec<_> = home_before
        .iter()
        // The test itself grew the Claude transcript above.
        .filter(|(k, v)| home_after.get(*k) != Some(*v) && **k != claude_transcript(&env))
        .map(|(k, _)| k)
        .collect();
    assert!(
        changed.is_empty(),
        "changed or gone after undo: {changed:?}"
    );
    assert_eq!(mode(&files[0]), 0o640);
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    let (ok, out, _) = init(&env, &["--undo"]);
    assert!(
        ok && out.contains("changed nothing that needs undoing"),
        "{out}"
    );
}

#[test]
fn init_refuses_a_settings_file_that_does_not_parse_and_still_does_the_rest() {
    let env = with_agents();
    let claude = env.home.join(".claude/settings.json");
    let broken = "{\n  \"model\": \"opus\",\n  \"hooks\": {\n}\n";
    std::fs::write(&claude, broken).unwrap();
    let codex = env.home.join(".codex/config.toml");
    let broken_toml = "model = \"x\"\nnotify = [\n";
    std::fs::write(&codex, broken_toml).unwrap();
    let (ok, out, err) = init(&env, &["--yes"]);
    assert!(
        !ok,
        "a file that could not be edited makes init exit 1: {out}"
    );
    assert!(
        err.contains(&format!("{}: not valid JSON at line 5", claude.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}: not valid TOML at line", codex.display())),
        "{err}"
    );
    assert!(err.contains("changed nothing"), "{err}");
    assert_eq!(std::fs::read_to_string(&claude).unwrap(), broken);
    assert_eq!(std::fs::read_to_string(&codex).unwrap(), broken_toml);
    // Gemini's settings did not exist: lore created them with its hook, and undo removes them.
    let gemini = env.home.join(".gemini/settings.json");
    assert!(
        std::fs::read_to_string(&gemini)
            .unwrap()
            .contains("import --hook gemini")
    );
    assert_eq!(mode(&gemini), 0o600);
    assert!(
        ids(&env).contains(&CLAUDE_ID.to_owned()),
        "the import still ran"
    );
    let (ok, _, _) = init(&env, &["--undo"]);
    assert!(ok);
    assert!(!gemini.exists());
}

#[test]
fn codex_notify_of_another_program_is_left_alone() {
    let env = with_agents();
    let codex = env.home.join(".codex/config.toml");
    let theirs = "notify = [\"python3\", \"/home/u/notify.py\"]\n";
    std::fs::write(&codex, theirs).unwrap();
    let (ok, out, err) = init(&env, &["--yes"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("left alone") && out.contains("notify.py"),
        "{out}"
    );
    // Their notify stays as it was (lore's MCP server is added after it, in its own table).
    let now = std::fs::read_to_string(&codex).unwrap();
    assert!(now.starts_with(theirs), "{now}");
    let doc: toml_edit::DocumentMut = now.parse().unwrap();
    assert_eq!(
        doc["notify"].to_string(),
        toml_edit::DocumentMut::from_str(theirs).unwrap()["notify"].to_string()
    );
    let (ok, _, _) = init(&env, &["--undo"]);
    assert!(ok);
    assert_eq!(std::fs::read_to_string(&codex).unwrap(), theirs);
}

#[test]
fn undo_after_the_user_changed_the_file_takes_out_only_lores_entries() {
    let env = with_agents();
    let claude = env.home.join(".claude/settings.json");
    std::fs::write(&claude, CLAUDE_SETTINGS).unwrap();
    assert!(init(&env, &["--yes"]).0);
    // The user edits the file after init.
    let text = std::fs::read_to_string(&claude).unwrap();
    let edited = text.replace("\"model\": \"opus\"", "\"model\": \"sonnet\"");
    std::fs::write(&claude, &edited).unwrap();
    let (ok, out, _) = init(&env, &["--undo"]);
    assert!(ok);
    assert!(out.contains("Took lore's entries out"), "{out}");
    let now = std::fs::read_to_string(&claude).unwrap();
    assert_eq!(
        now,
        CLAUDE_SETTINGS.replace("\"model\": \"opus\"", "\"model\": \"sonnet\"")
    );
}

#[test]
fn init_in_a_home_without_agents_says_where_it_looked() {
    let env = TestEnv::new();
    let (ok, out, _) = init(&env, &["--yes"]);
    assert!(ok);
    assert!(out.contains("No coding agents found"), "{out}");
    for place in ["~/.claude", "~/.codex", "~/.gemini"] {
        assert!(out.contains(place), "{place}: {out}");
    }
    assert!(
        !env.home.join(".claude").exists(),
        "nothing is created for an agent not there"
    );
}

#[test]
fn init_without_a_terminal_and_without_yes_refuses_before_changing_anything() {
    let env = with_agents();
    let files = with_settings(&env);
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let (ok, _, err) = init(&env, &[]);
    assert!(!ok);
    assert!(err.contains("lore init --yes"), "{err}");
    assert!(!env.db().exists());
    let after: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(after, before);
}

// ---- lore watch ----

/// `lore watch` as a child process, killed when dropped.
struct Watcher {
    child: std::process::Child,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lore_std(env: &TestEnv) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("lore"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("LORE_HOME", &env.lore_home)
        .env("LORE_KEYCHAIN", "off")
        .env("TZ", "UTC");
    c
}

fn start_watch(env: &TestEnv) -> Watcher {
    let child = lore_std(env)
        .arg("watch")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn lore watch");
    let w = Watcher { child };
    wait_for(env, "the watcher to start", |_| {
        std::fs::read_to_string(env.lore_home.join("logs/watch.log"))
            .is_ok_and(|l| l.contains("started"))
    });
    w
}

/// Polls `check` for up to 30 s.
fn wait_for(env: &TestEnv, what: &str, check: impl Fn(&TestEnv) -> bool) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < until {
        if check(env) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let log = std::fs::read_to_string(env.lore_home.join("logs/watch.log")).unwrap_or_default();
    panic!("timed out waiting for {what}; watch.log:\n{log}");
}

fn message_count(env: &TestEnv, id: &str) -> usize {
    if !ids(env).contains(&id.to_owned()) {
        return 0;
    }
    env.show(id)["messages"].as_array().map_or(0, Vec::len)
}

#[test]
fn watch_imports_a_new_transcript_a_growing_one_and_one_written_in_pieces() {
    let env = TestEnv::new();
    let projects = env.home.join(".claude/projects/-home-dev-acme");
    std::fs::create_dir_all(&projects).unwrap();
    let _w = start_watch(&env);

    // A second watcher for the same home says so and exits 0 at once.
    let second = lore_std(&env).arg("watch").output().unwrap();
    assert!(second.status.success());
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(said.contains("already running"), "{said}");

    // A new transcript appears.
    let a = "aaaaaaaa-0000-4000-8000-000000000001";
    std::fs::write(
        projects.join(format!("{a}.jsonl")),
        common::claude_transcript(a, 2, "walrus"),
    )
    .unwrap();
    wait_for(&env, "the new transcript", |e| message_count(e, a) == 4);

    // It grows.
    let mut text = common::claude_transcript(a, 2, "walrus");
    text.push_str(&common::claude_transcript(a, 3, "walrus")[text.len()..]);
    std::fs::write(projects.join(format!("{a}.jsonl")), &text).unwrap();
    wait_for(&env, "the grown transcript", |e| message_count(e, a) == 6);

    // Another is written in pieces, a line cut in two, each piece sooner than the quiet period.
    let b = "bbbbbbbb-0000-4000-8000-000000000002";
    let full = common::claude_transcript(b, 4, "narwhal");
    let path = projects.join(format!("{b}.jsonl"));
    let mut f = std::fs::File::create(&path).unwrap();
    use std::io::Write;
    for piece in full.as_bytes().chunks(full.len() / 5 + 1) {
        f.write_all(piece).unwrap();
        f.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    drop(f);
    wait_for(&env, "the transcript written in pieces", |e| {
        message_count(e, b) == 8
    });
    let log = std::fs::read_to_string(env.lore_home.join("logs/watch.log")).unwrap();
    assert!(!log.contains("error"), "{log}");
}

#[test]
fn watch_status_and_a_service_file_installed_and_removed() {
    let env = TestEnv::new();
    let xdg = env.home.join("xdg");
    let run = |args: &[&str]| {
        let out = lore_std(&env)
            .arg("watch")
            .args(args)
            .env("XDG_CONFIG_HOME", &xdg)
            .env("LORE_SERVICE_MANAGER", "off")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(run(&["--status"]).contains("not running"));
    let out = run(&["--install"]);
    let unit = xdg.join("systemd/user/lore-watch.service");
    assert!(out.contains(&unit.display().to_string()), "{out}");
    assert!(
        out.contains("systemctl --user enable --now lore-watch.service"),
        "{out}"
    );
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(
        text.contains(" watch\n") && text.contains("LORE_HOME="),
        "{text}"
    );
    assert!(run(&["--status"]).contains("Service: installed"));
    assert!(run(&["--uninstall"]).contains("removed"));
    assert!(!unit.exists());
    assert!(run(&["--uninstall"]).contains("No lore watch service is installed"));
}

#[test]
fn the_service_files_are_valid() {
    let env = TestEnv::new();
    let print = |kind: &str| {
        let out = lore_std(&env)
            .args(["watch", "--print-service", kind])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("lore-watch.service");
    std::fs::write(&unit, print("systemd")).unwrap();
    if let Ok(out) = std::process::Command::new("systemd-analyze")
        .args(["--user", "verify"])
        .arg(&unit)
        .env("XDG_RUNTIME_DIR", dir.path())
        .output()
    {
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "systemd-analyze verify: {said}");
        assert!(!said.contains("Unknown"), "{said}");
    }
    let plist = print("launchd");
    assert!(plist.contains("<string>dev.lore.watch</string>"));
    // Well-formed XML with the keys launchd needs; plutil where there is one, else Python's
    // plistlib (an XML parser), else at least no "--" inside a comment.
    let file = dir.path().join("dev.lore.watch.plist");
    std::fs::write(&file, &plist).unwrap();
    let checked = std::process::Command::new("plutil")
        .arg("-lint")
        .arg(&file)
        .output()
        .or_else(|_| {
            std::process::Command::new("python3")
                .args([
                    "-c",
                    "import plistlib,sys; d=plistlib.load(open(sys.argv[1],'rb')); assert d['Label']=='dev.lore.watch' and d['ProgramArguments'][1]=='watch' and d['RunAtLoad'] is True",
                ])
                .arg(&file)
                .output()
        });
    match checked {
        Ok(out) => assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => {
            for c in plist.split("<!--").skip(1) {
                let body = c.split("-->").next().unwrap_or("");
                assert!(!body.contains("--"), "{body}");
            }
        }
    }
}

// ---- warn before loss ----

#[test]
fn status_and_doctor_count_transcripts_not_in_lore_and_those_about_to_be_deleted() {
    let env = with_agents();
    // One Claude Code transcript untouched for 25 days: Claude Code's default 30-day cleanup
    // deletes it within a week.
    let old = claude_transcript(&env);
    let when = std::time::SystemTime::now() - std::time::Duration::from_secs(25 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(when)
        .unwrap();
    let status = |env: &TestEnv| -> serde_json::Value {
        let out = env.lore().args(["status", "--json"]).output().unwrap();
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    // A transcript its tool created and has written nothing to yet holds nothing to lose.
    std::fs::write(
        env.home
            .join(".claude/projects/-home-dev-acme/00000000-0000-4000-8000-000000000000.jsonl"),
        "",
    )
    .unwrap();
    let s = status(&env);
    assert_eq!(s["not_imported_count"], 5, "{s}");
    assert_eq!(s["deleted_soon_count"], 1, "{s}");
    let out = env.lore().arg("status").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("5 transcripts on disk are not in lore yet"),
        "{text}"
    );
    assert!(
        text.contains("1 of them will be deleted by Claude Code within 7 days (cleanupPeriodDays 30, its default)"),
        "{text}"
    );
    let out = env.lore().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("note  capture") && text.contains("5 transcripts"),
        "{text}"
    );

    // A longer retention: nothing is deleted soon.
    std::fs::write(
        env.home.join(".claude/settings.json"),
        "{\"cleanupPeriodDays\": 90}",
    )
    .unwrap();
    assert_eq!(status(&env)["deleted_soon_count"], 0);

    env.lore().arg("import").assert().success();
    let s = status(&env);
    assert_eq!(s["not_imported_count"], 0, "{s}");
    let out = env.lore().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ok    capture     every transcript"),
        "{text}"
    );
}

#[test]
fn init_on_a_terminal_asks_and_a_no_changes_nothing() {
    // A terminal from util-linux's `script`; skipped (said loudly) where there is none.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: no `script` program to give lore init a terminal");
        return;
    }
    let env = TestEnv::new();
    copy_tree(
        &fixtures().join("transcripts/claude"),
        &env.home.join(".claude"),
    );
    let settings = env.home.join(".claude/settings.json");
    std::fs::write(&settings, CLAUDE_SETTINGS).unwrap();
    let lore = assert_cmd::cargo::cargo_bin("lore");
    // Import: yes; Claude Code's hook: no; retention: no; watch: no.
    let out = std::process::Command::new("script")
        .args(["-qec"])
        .arg(format!("'{}' init", lore.display()))
        .arg("/dev/null")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("LORE_HOME", &env.lore_home)
        .env("LORE_KEYCHAIN", "off")
        .env("TERM", "dumb")
        .write_stdin_lines(&["y", "n", "n", "n"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("Import the 2 transcripts not in lore yet? [Y/n]"),
        "{said}"
    );
    assert!(
        said.contains("Import each Claude Code session into lore as it ends?"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), CLAUDE_SETTINGS);
    assert!(ids(&env).contains(&CLAUDE_ID.to_owned()));
    assert!(
        !env.lore_home.join("init").exists(),
        "nothing to undo was recorded"
    );
}

trait WriteStdinLines {
    fn write_stdin_lines(&mut self, lines: &[&str]) -> std::process::Output;
}

impl WriteStdinLines for std::process::Command {
    /// Feeds the answers one at a time, a moment apart, as a person would type them.
    fn write_stdin_lines(&mut self, lines: &[&str]) -> std::process::Output {
        use std::io::Write;
        let mut child = self
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn script");
        let mut stdin = child.stdin.take().unwrap();
        for l in lines {
            std::thread::sleep(std::time::Duration::from_millis(700));
            let _ = stdin.write_all(format!("{l}\n").as_bytes());
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        drop(stdin);
        child.wait_with_output().unwrap()
    }
}

/// `lore init` on a real terminal (a pty from util-linux `script`), the user answering yes:
/// the completion file is written, and `--undo` takes it back with the folders made for it.
#[test]
fn completions_written_on_a_terminal_are_removed_by_undo() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let env = TestEnv::new();
    let before = tree(&env.home, &env.lore_home);
    let lore = assert_cmd::cargo::cargo_bin("lore");
    let line = format!("{} init", lore.display());
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("LORE_HOME", &env.lore_home)
        .env("LORE_KEYCHAIN", "off")
        .env("SHELL", "/bin/bash")
        .env("TERM", "dumb")
        .current_dir(env.dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"y\n")?;
            c.wait_with_output()
        })
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Install tab completion for bash"), "{text}");
    let file = env
        .home
        .join(".local/share/bash-completion/completions/lore");
    let script = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        script.contains("_lore()"),
        "a bash completion script: {text}"
    );

    let (ok, out, err) = init(&env, &["--undo"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("Removed"), "{out}");
    assert!(
        !env.home.join(".local").exists(),
        "the folders lore made are gone too"
    );
    assert!(tree(&env.home, &env.lore_home) == before);
}

// --- GitHub Copilot CLI and Cursor ----------------------------------------------------------

const COPILOT_ID: &str = "5f0e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b";
const CURSOR_NESTED_ID: &str = "b2c3d4e5-0000-4a00-8000-000000000002";

/// Cursor's hooks file as a user keeps it: another tool's hooks, one on an event lore uses.
const CURSOR_HOOKS: &str = "{\n  \"version\": 1,\n  \"hooks\": {\n    \"afterFileEdit\": [{ \"command\": \"./hooks/format.sh\" }],\n    \"stop\": [{ \"command\": \"notify-send done\", \"timeout\": 5 }]\n  }\n}\n";

fn with_copilot_and_cursor() -> TestEnv {
    let env = TestEnv::new();
    let f = fixtures().join("formats");
    copy_tree(&f.join("copilot"), &env.home.join(".copilot"));
    copy_tree(&f.join("cursor"), &env.home.join(".cursor"));
    env
}

#[test]
fn copilot_and_cursor_hooks_find_their_transcript_by_session_id() {
    // Copilot CLI's sessionEnd names no transcript; its agentStop does.
    let env = with_copilot_and_cursor();
    let end = serde_json::json!({
        "sessionId": COPILOT_ID,
        "timestamp": 1_778_490_000_000_i64,
        "cwd": "/home/dev/shop",
        "reason": "complete",
    });
    hook(&env, "copilot", &end.to_string(), &[]);
    assert_eq!(ids(&env), vec![COPILOT_ID.to_owned()]);
    let stop = serde_json::json!({
        "sessionId": COPILOT_ID,
        "transcriptPath": env.home.join(format!(".copilot/session-state/{COPILOT_ID}/events.jsonl")),
        "cwd": "/home/dev/shop",
        "stopReason": "end_turn",
    });
    hook(&env, "copilot", &stop.to_string(), &[]);
    // Cursor's CLI agent sends a null transcript_path: the transcript is found by id, in the
    // IDE's nested layout too.
    let cursor = serde_json::json!({
        "conversation_id": CURSOR_NESTED_ID,
        "generation_id": "g-1",
        "hook_event_name": "stop",
        "status": "completed",
        "workspace_roots": ["/home/dev/orchard"],
        "transcript_path": null,
    });
    hook(&env, "cursor", &cursor.to_string(), &[]);
    let got = ids(&env);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.contains(&CURSOR_NESTED_ID.to_owned()), "{got:?}");
    let log = hook_log(&env);
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(!log.contains("error"), "{log}");

    // A session id that tries to leave the folder names nothing: logged, exit 0.
    let evil = serde_json::json!({"sessionId": "../../etc", "reason": "complete"});
    hook(&env, "copilot", &evil.to_string(), &[]);
    let log = hook_log(&env);
    assert!(
        log.lines().last().unwrap_or_default().contains("error"),
        "{log}"
    );
    assert_eq!(ids(&env).len(), 2);
}

#[test]
fn init_registers_copilot_and_cursor_hooks_that_run_and_undo_restores_the_files() {
    let env = with_copilot_and_cursor();
    let cursor_hooks = env.home.join(".cursor/hooks.json");
    std::fs::write(&cursor_hooks, CURSOR_HOOKS).unwrap();
    let home_before = tree(&env.home, &env.lore_home);
    let (ok, out, err) = init(&env, &["--yes"]);
    assert!(ok, "{out}{err}");

    // Copilot CLI: a hooks file of lore's own, one entry per event.
    let copilot_hooks = env.home.join(".copilot/hooks/lore.json");
    let c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&copilot_hooks).unwrap()).unwrap();
    assert_eq!(c["version"], 1, "{c}");
    for event in ["agentStop", "sessionEnd", "preCompact"] {
        let e = &c["hooks"][event][0];
        assert_eq!(e["type"], "command", "{c}");
        assert!(
            e["bash"]
                .as_str()
                .unwrap()
                .ends_with("import --hook copilot"),
            "{c}"
        );
    }
    // Cursor: lore's entries beside the user's, the user's first and untouched.
    let k: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cursor_hooks).unwrap()).unwrap();
    assert_eq!(
        k["hooks"]["afterFileEdit"][0]["command"],
        "./hooks/format.sh"
    );
    assert_eq!(k["hooks"]["stop"][0]["command"], "notify-send done");
    let lore_stop = k["hooks"]["stop"][1]["command"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(lore_stop.ends_with("import --hook cursor"), "{k}");
    for event in ["sessionEnd", "preCompact"] {
        assert_eq!(k["hooks"][event][0]["command"], lore_stop.as_str(), "{k}");
    }
    // A second init changes nothing.
    let after_first = tree(&env.home, &env.lore_home);
    let (ok, out, _) = init(&env, &["--yes"]);
    assert!(ok);
    assert!(out.contains("Cursor already imports each session"), "{out}");
    assert_eq!(after_first, tree(&env.home, &env.lore_home));

    // The registered command, run as Cursor runs it (through a shell, the payload on stdin).
    let payload = serde_json::json!({
        "conversation_id": CURSOR_NESTED_ID,
        "hook_event_name": "stop",
        "transcript_path": null,
        "workspace_roots": ["/home/dev/orchard"],
    });
    let mut sh = std::process::Command::new("sh");
    sh.arg("-c")
        .arg(&lore_stop)
        .env("HOME", &env.home)
        .env_remove("LORE_HOME");
    let run = common::run_with_stdin(sh, payload.to_string().as_bytes());
    assert!(run.status.success() && run.stdout.is_empty() && run.stderr.is_empty());
    let log = hook_log(&env);
    assert!(
        log.lines()
            .last()
            .is_some_and(|l| l.starts_with_at_time("hook cursor: ") && !l.contains("error")),
        "{log}"
    );

    // Undo: Cursor's file byte for byte, Copilot's file and the folder made for it gone.
    let (ok, out, _) = init(&env, &["--undo"]);
    assert!(ok, "{out}");
    assert_eq!(
        std::fs::read_to_string(&cursor_hooks).unwrap(),
        CURSOR_HOOKS
    );
    assert!(!env.home.join(".copilot/hooks").exists());
    let mut now = tree(&env.home, &env.lore_home);
    let mut before = home_before;
    // Completion scripts and the like are init's other steps, undone too; what is left is
    // exactly the home as it was.
    now.retain(|p, _| !p.starts_with(&env.lore_home));
    before.retain(|p, _| !p.starts_with(&env.lore_home));
    assert_eq!(before, now);
}

/// `line` is `<RFC 3339 time> <rest>` with `rest` starting with `prefix`.
trait LogLine {
    fn starts_with_at_time(&self, prefix: &str) -> bool;
}

impl LogLine for &str {
    fn starts_with_at_time(&self, prefix: &str) -> bool {
        self.split_once(' ')
            .is_some_and(|(time, rest)| time.ends_with('Z') && rest.starts_with(prefix))
    }
}

// --- Factory Droid ---------------------------------------------------------------------------

const DROID_ID: &str = "0c9b8a7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d";

/// Droid's settings as a user keeps them (JSON with comments), with a hook of their own.
const DROID_SETTINGS: &str = "{\n  // the model droid starts with\n  \"model\": \"claude-sonnet-4-5-20250929\",\n  \"hooks\": {\n    \"Stop\": [{ \"hooks\": [{ \"type\": \"command\", \"command\": \"say done\" }] }]\n  }\n}\n";

#[test]
fn init_registers_droids_hook_in_the_file_droid_reads_and_the_hook_finds_the_session() {
    let env = TestEnv::new();
    copy_tree(
        &fixtures().join("formats/droid"),
        &env.home.join(".factory"),
    );
    let settings = env.home.join(".factory/settings.json");
    std::fs::write(&settings, DROID_SETTINGS).unwrap();
    let (ok, out, err) = init(&env, &["--yes"]);
    assert!(ok, "{out}{err}");
    // settings.json (no hooks.json): lore's group beside the user's, the comment kept.
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(
        text.starts_with("{\n  // the model droid starts with\n"),
        "{text}"
    );
    assert!(text.contains("\"command\": \"say done\""), "{text}");
    for event in ["SessionEnd", "Stop", "PreCompact"] {
        assert!(text.contains(&format!("\"{event}\"")), "{text}");
    }
    assert_eq!(text.matches("import --hook droid").count(), 3, "{text}");

    // The hook: Droid's documented payload, whose example transcript_path is not where Droid
    // keeps sessions; the session is found by its id.
    let fresh = TestEnv::new();
    copy_tree(
        &fixtures().join("formats/droid"),
        &fresh.home.join(".factory"),
    );
    let payload = serde_json::json!({
        "session_id": DROID_ID,
        "transcript_path": fresh.home.join(format!(".factory/projects/-home-dev-shop/{DROID_ID}.jsonl")),
        "cwd": "/home/dev/shop",
        "permission_mode": "auto-low",
        "hook_event_name": "Stop",
    });
    hook(&fresh, "droid", &payload.to_string(), &[]);
    assert_eq!(ids(&fresh), vec![DROID_ID.to_owned()]);

    // Undo: the settings byte for byte.
    let (ok, _, _) = init(&env, &["--undo"]);
    assert!(ok);
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), DROID_SETTINGS);

    // With a hooks.json (Droid 0.136 and later read it instead of settings.json's hooks), the
    // events go there, at its top level, and settings.json is not touched.
    let hooks_json = env.home.join(".factory/hooks.json");
    let mine = "{\n  \"PreToolUse\": [{ \"matcher\": \"Execute\", \"hooks\": [{ \"type\": \"command\", \"command\": \"./audit.sh\" }] }]\n}\n";
    std::fs::write(&hooks_json, mine).unwrap();
    let (ok, out, err) = init(&env, &["--yes"]);
    assert!(ok, "{out}{err}");
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), DROID_SETTINGS);
    let h: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&hooks_json).unwrap()).unwrap();
    assert_eq!(
        h["PreToolUse"][0]["hooks"][0]["command"], "./audit.sh",
        "{h}"
    );
    assert!(h.get("hooks").is_none(), "{h}");
    for event in ["SessionEnd", "Stop", "PreCompact"] {
        let cmd = h[event][0]["hooks"][0]["command"]
            .as_str()
            .unwrap_or_default();
        assert!(cmd.ends_with("import --hook droid"), "{h}");
    }
    let (ok, _, _) = init(&env, &["--undo"]);
    assert!(ok);
    assert_eq!(std::fs::read_to_string(&hooks_json).unwrap(), mine);
}
