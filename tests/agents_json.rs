//! Importers for the JSON/JSONL-family agents of issue 18 (Qwen Code, Pi, Factory Droid, Kiro
//! CLI, Continue, Cline / Roo Code / Kilo Code, Amp), each driven through the built binary on
//! fixtures of our own under fixtures/formats/<tool>/ (never users' real files).

mod common;

use common::{TestEnv, copy_tree, fixtures};
use predicates::prelude::*;

type Row = (String, String, String, String);

fn rows(s: &serde_json::Value) -> Vec<Row> {
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

/// (role, kind, content) of each row, for compact comparisons.
fn rk(rows: &[Row]) -> Vec<(&str, &str, &str)> {
    rows.iter()
        .map(|r| (r.0.as_str(), r.1.as_str(), r.3.as_str()))
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
    v["commits"]
        .as_array()
        .expect("history --json lists commits")
        .len()
}

/// A home with the fixture tree of `tool` at `rel` (e.g. `.qwen`).
fn env_with(tool: &str, rel: &str) -> TestEnv {
    let env = TestEnv::new();
    copy_tree(&fixtures().join("formats").join(tool), &env.home.join(rel));
    env
}

/// Imports, then checks that a second import and a touched file change nothing and write no
/// commit.
fn assert_idempotent(env: &TestEnv, touched: &std::path::Path) {
    let digest = env.digest();
    let commits = history_len(env);
    env.lore().arg("import").assert().success();
    assert_eq!(digest, env.digest(), "a second import changed the database");
    assert_eq!(
        commits,
        history_len(env),
        "an unchanged import wrote a commit"
    );
    let body = std::fs::read(touched).unwrap();
    std::fs::write(touched, &body).unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(touched)
        .unwrap()
        .set_modified(later)
        .unwrap();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("updated 0"));
    assert_eq!(digest, env.digest(), "a touched file changed the database");
}

/// A file `--tool TOOL` refuses: one line saying so, exit 1, database as before.
fn assert_refused(env: &TestEnv, tool: &str, name: &str, body: &str, says: &str) {
    let digest = env.digest();
    let other = env.path(name);
    std::fs::write(&other, body).unwrap();
    let out = env
        .lore()
        .args(["import", "--tool", tool])
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(says), "{err}");
    assert!(
        err.trim().lines().last().unwrap().starts_with("error: "),
        "{err}"
    );
    assert_eq!(digest, env.digest());
}

// --- Qwen Code ----------------------------------------------------------------------------

const QWEN_A: &str = "3e5c7a90-1b2d-4c3e-9f8a-7b6c5d4e3f21";
const QWEN_B: &str = "7d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d";
const QWEN_OLD: &str = "11111111-2222-4333-8444-555555555555";

#[test]
fn qwen_chats_keep_prompts_thoughts_tools_sub_agents_and_the_old_logs() {
    let env = env_with("qwen", ".qwen");
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("qwen-code: 4 new, 0 updated"));
    let s = env.show(QWEN_A);
    assert_eq!(s["tool"], "qwen-code");
    assert_eq!(s["tool_version"], "0.14.2");
    assert_eq!(s["model"], "qwen3-coder-plus");
    assert_eq!(s["cwd"], "/home/dev/shop");
    assert_eq!(s["git_branch"], "main");
    assert_eq!(s["started_at"], "2026-04-10T09:00:00Z");
    let got = rows(&s);
    assert_eq!(
        rk(&got),
        vec![
            ("system", "text", "/model"),
            ("user", "text", "@src/cart.ts why does the total drift?"),
            (
                "assistant",
                "thinking",
                "The total is summed in floats; check the rounding."
            ),
            ("assistant", "text", "Let me read the cart module."),
            (
                "assistant",
                "tool_use",
                r#"read_file: {"file_path":"/home/dev/shop/src/cart.ts","offset":0}"#
            ),
            (
                "tool",
                "tool_result",
                "export const total = (xs) => xs.reduce((a, b) => a + b.price, 0);"
            ),
            (
                "assistant",
                "tool_use",
                r#"agent: {"description":"Check rounding tests","prompt":"Find the tests of cart totals and say which fail."}"#
            ),
            (
                "tool",
                "tool_result",
                "Two tests fail: cart.total rounds 0.1+0.2."
            ),
            (
                "assistant",
                "text",
                "Sum in integer cents and format at the end."
            ),
            ("user", "text", "Do it."),
            (
                "assistant",
                "tool_use",
                r#"run_shell_command: {"command":"rm -rf node_modules"}"#
            ),
            (
                "tool",
                "tool_result",
                "[Operation Cancelled] Reason: User cancelled tool execution."
            ),
            (
                "system",
                "text",
                r#"[conversation compressed] {"info":{"newTokenCount":1200,"originalTokenCount":9000}}"#
            ),
        ]
    );
    assert_eq!(got[4].2, "read_file");
    assert_eq!(got[5].2, "read_file");
    // The sub-agent run is a session of its own, linked to its parent.
    let sub = env.show(&format!("{QWEN_A}-agent-call_2"));
    assert_eq!(sub["parent_id"], QWEN_A);
    assert_eq!(sub["title"], "Check rounding tests");
    assert_eq!(
        rk(&rows(&sub)),
        vec![
            (
                "user",
                "text",
                "Find the tests of cart totals and say which fail."
            ),
            (
                "assistant",
                "tool_use",
                r#"run_shell_command: {"command":"npm test -- cart"}"#
            ),
            ("tool", "tool_result", "2 failing"),
            (
                "assistant",
                "text",
                "Two tests fail: cart.total rounds 0.1+0.2."
            ),
        ]
    );
    // 0.13, no branch recorded.
    let b = env.show(QWEN_B);
    assert_eq!(b["tool_version"], "0.13.0");
    assert!(b["git_branch"].is_null());
    // The old Gemini-shaped prompt log, filed under Qwen Code; slash commands are commands.
    let old = env.show(QWEN_OLD);
    assert_eq!(old["tool"], "qwen-code");
    assert_eq!(
        rk(&rows(&old)),
        vec![
            ("user", "text", "set up eslint"),
            ("system", "text", "/approval-mode yolo"),
            ("user", "text", "now run it on src"),
        ]
    );
}

#[test]
fn qwen_reimport_changes_nothing_and_growth_appends() {
    let env = env_with("qwen", ".qwen");
    env.lore().arg("import").assert().success();
    let f = env.home.join(format!(
        ".qwen/projects/-home-dev-tools/chats/{QWEN_B}.jsonl"
    ));
    assert_idempotent(&env, &f);
    let before = env.show(QWEN_B);
    let mut body = std::fs::read_to_string(&f).unwrap();
    body.push_str(concat!(
        r#"{"uuid":"v03","parentUuid":"v02","sessionId":"7d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d","timestamp":"2026-03-01T12:01:00.000Z","type":"user","cwd":"/home/dev/tools","version":"0.13.0","message":{"role":"user","parts":[{"text":"And the tests?"}]}}"#,
        "\n",
        r#"{"uuid":"v04","parentUuid":"v03","sessionId":"7d6c5b4a-3e2f"#,
    ));
    std::fs::write(&f, body).unwrap();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("updated 1"));
    let after = env.show(QWEN_B);
    let n = before["messages"].as_array().unwrap().len();
    assert_eq!(after["messages"].as_array().unwrap().len(), n + 1);
    assert_eq!(after["messages"][n]["content"], "And the tests?");
    assert_eq!(after["updated_at"], "2026-03-01T12:01:00Z");
}

#[test]
fn qwen_home_moves_the_default_location_and_content_detection_needs_no_flag() {
    let env = TestEnv::new();
    let elsewhere = env.path("qwen-home");
    copy_tree(&fixtures().join("formats/qwen"), &elsewhere);
    env.lore()
        .arg("import")
        .env("QWEN_HOME", &elsewhere)
        .assert()
        .success()
        .stdout(predicate::str::contains("qwen-code: 4 new"));
    // A chat file named by the user: Claude Code's envelope, yet Qwen Code's by its parts.
    let env = TestEnv::new();
    env.lore()
        .arg("import")
        .arg(
            fixtures()
                .join("formats/qwen/projects/-home-dev-tools/chats")
                .join(format!("{QWEN_B}.jsonl")),
        )
        .assert()
        .success()
        .stdout(predicate::str::contains("qwen-code: 1 new"));
    assert_refused(
        &env,
        "qwen-code",
        "other.jsonl",
        "{\"type\":\"user\",\"sessionId\":\"x\",\"message\":{\"content\":\"hi\"}}\n",
        "not a qwen-code transcript: no Qwen Code line",
    );
}

// --- Pi -----------------------------------------------------------------------------------

const PI_A: &str = "019e0a10-1111-7aaa-8bbb-0000000000a1";
const PI_B: &str = "019e0a20-2222-7ccc-8ddd-0000000000b2";

#[test]
fn pi_sessions_keep_thinking_tools_errors_bash_compaction_and_forks() {
    let env = env_with("pi", ".pi/agent");
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("pi: 2 new, 0 updated"));
    let s = env.show(PI_A);
    assert_eq!(s["tool"], "pi");
    assert_eq!(s["cwd"], "/home/dev/shop");
    // The last model the session used.
    assert_eq!(s["model"], "claude-opus-4-1");
    assert_eq!(s["started_at"], "2026-04-20T10:00:00Z");
    assert_eq!(s["ended_at"], "2026-04-20T10:03:05Z");
    assert!(s["tool_version"].is_null(), "{s}");
    let got = rows(&s);
    assert_eq!(
        rk(&got),
        vec![
            (
                "user",
                "text",
                "Why is the cart total off by a cent?\n[image image/png, 16 bytes]"
            ),
            ("assistant", "thinking", "Floats summed; look at cart.ts."),
            ("assistant", "text", "Reading the cart module."),
            (
                "assistant",
                "tool_use",
                r#"read: {"limit":50,"path":"src/cart.ts"}"#
            ),
            (
                "tool",
                "tool_result",
                "export const total = (xs) => xs.reduce((a, b) => a + b.price, 0);"
            ),
            ("assistant", "tool_use", r#"bash: {"command":"npm test"}"#),
            ("tool", "tool_result", "[error] npm: command not found"),
            ("system", "text", "[error] 429 rate limited"),
            ("user", "text", "!node -v"),
            ("tool", "tool_result", "v22.1.0"),
            (
                "system",
                "text",
                "[conversation compacted; summary]\nUser asked about a cent drift; cart sums floats."
            ),
            ("user", "text", "Use integer cents."),
            ("assistant", "text", "Done: totals are summed in cents."),
        ]
    );
    assert_eq!(got[4].2, "read");
    // A fork names the session it was branched from.
    let b = env.show(PI_B);
    assert_eq!(b["parent_id"], PI_A);
    let f = env
        .home
        .join(".pi/agent/sessions/--home-dev-shop--")
        .join(format!("2026-04-21T08-00-00-000Z_{PI_B}.jsonl"));
    assert_idempotent(&env, &f);
}

#[test]
fn pi_agent_dir_moves_the_default_location_and_a_shorter_copy_shrinks_nothing() {
    let env = TestEnv::new();
    let elsewhere = env.path("pi-agent");
    copy_tree(&fixtures().join("formats/pi"), &elsewhere);
    env.lore()
        .arg("import")
        .env("PI_CODING_AGENT_DIR", &elsewhere)
        .assert()
        .success()
        .stdout(predicate::str::contains("pi: 2 new"));
    let full = env.show(PI_A);
    let src = elsewhere
        .join("sessions/--home-dev-shop--")
        .join(format!("2026-04-20T10-00-00-000Z_{PI_A}.jsonl"));
    let head: String = std::fs::read_to_string(&src)
        .unwrap()
        .lines()
        .take(5)
        .map(|l| format!("{l}\n"))
        .collect();
    let backup = env.path(&format!("backup/2026-04-20T10-00-00-000Z_{PI_A}.jsonl"));
    std::fs::create_dir_all(backup.parent().unwrap()).unwrap();
    std::fs::write(&backup, head).unwrap();
    env.lore()
        .arg("import")
        .env("PI_CODING_AGENT_DIR", &elsewhere)
        .arg(&backup)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 0 new sessions, updated 0.",
        ));
    let after = env.show(PI_A);
    assert_eq!(after["messages"], full["messages"]);
    assert_eq!(after["ended_at"], full["ended_at"]);
    assert_refused(
        &env,
        "pi",
        "notes.jsonl",
        "{\"hello\":1}\n",
        "not a pi transcript: no Pi entry",
    );
}

// --- Factory Droid ------------------------------------------------------------------------

const DROID_A: &str = "6b1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

#[test]
fn droid_sessions_split_reminders_from_prompts_and_read_the_settings_model() {
    let env = env_with("droid", ".factory");
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("droid: 2 new, 0 updated"));
    let s = env.show(DROID_A);
    assert_eq!(s["tool"], "droid");
    assert_eq!(s["title"], "Fix cart rounding");
    assert_eq!(s["cwd"], "/home/dev/shop");
    assert_eq!(s["model"], "claude-sonnet-4-5-20250929");
    assert_eq!(s["started_at"], "2026-05-02T14:00:00Z");
    assert_eq!(s["ended_at"], "2026-05-02T14:00:30Z");
    let got = rows(&s);
    assert_eq!(
        rk(&got),
        vec![
            (
                "system",
                "text",
                "<system-reminder>\nCurrent folder: /home/dev/shop. Git branch: main.\n</system-reminder>"
            ),
            ("user", "text", "The cart total is off by a cent, fix it"),
            (
                "assistant",
                "thinking",
                "Probably float addition in total()."
            ),
            ("assistant", "text", "I'll look at the cart."),
            (
                "assistant",
                "tool_use",
                r#"Read: {"file_path":"/home/dev/shop/src/cart.ts"}"#
            ),
            (
                "tool",
                "tool_result",
                "export const total = (xs) => xs.reduce((a, b) => a + b.price, 0);"
            ),
            (
                "assistant",
                "tool_use",
                r#"Execute: {"command":"npm test","riskLevel":"low"}"#
            ),
            ("tool", "tool_result", "[error] 2 failing"),
            (
                "assistant",
                "text",
                "Totals now sum integer cents; tests pass."
            ),
        ]
    );
    assert_eq!(got[7].2, "Execute");
    assert_eq!(s["message_count"], 4);
    let f = env
        .home
        .join(format!(".factory/sessions/-home-dev-shop/{DROID_A}.jsonl"));
    assert_idempotent(&env, &f);
    assert_refused(
        &env,
        "droid",
        "x.jsonl",
        "{\"type\":\"message\",\"id\":\"m\"}\n",
        "not a droid transcript: no Factory Droid line",
    );
}

// --- Kiro CLI -----------------------------------------------------------------------------

const KIRO_A: &str = "2c4e6a8b-1d3f-4a5b-9c7d-8e9f0a1b2c3d";

#[test]
fn kiro_sessions_take_times_cwd_and_model_from_the_sidecar() {
    let env = env_with("kiro", ".kiro");
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("kiro: 1 new, 0 updated"));
    let s = env.show(KIRO_A);
    assert_eq!(s["tool"], "kiro");
    assert_eq!(s["cwd"], "/home/dev/shop");
    assert_eq!(s["model"], "claude-sonnet-4.5");
    assert_eq!(s["started_at"], "2026-05-06T14:04:15.804Z");
    assert_eq!(s["ended_at"], "2026-05-06T14:06:00.788Z");
    let got = rows(&s);
    assert_eq!(
        rk(&got),
        vec![
            (
                "system",
                "text",
                "<workspace-context>\nRepository: shop (TypeScript)\n</workspace-context>"
            ),
            ("user", "text", "Why does the cart total drift by a cent?"),
            ("assistant", "text", "Let me read the cart."),
            (
                "assistant",
                "tool_use",
                r#"fs_read: {"mode":"Line","path":"src/cart.ts"}"#
            ),
            (
                "tool",
                "tool_result",
                "export const total = (xs) => xs.reduce((a, b) => a + b.price, 0);"
            ),
            (
                "assistant",
                "tool_use",
                r#"execute_bash: {"command":"npm test"}"#
            ),
            (
                "tool",
                "tool_result",
                r#"[error] {"exit_status":"1","stdout":"2 failing"}"#
            ),
            (
                "assistant",
                "text",
                "Floats are summed; switch to integer cents."
            ),
        ]
    );
    assert_eq!(got[6].2, "execute_bash");
    let f = env.home.join(format!(".kiro/sessions/cli/{KIRO_A}.jsonl"));
    assert_idempotent(&env, &f);
    assert_refused(
        &env,
        "kiro",
        "y.jsonl",
        "{\"kind\":\"Prompt\"}\n",
        "not a kiro transcript: no Kiro CLI line",
    );
}

// --- Continue -----------------------------------------------------------------------------

const CONTINUE_A: &str = "4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a";

#[test]
fn continue_sessions_keep_context_items_apart_and_one_result_per_call() {
    let env = env_with("continue", ".continue");
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("continue: 2 new, 0 updated"));
    let s = env.show(CONTINUE_A);
    assert_eq!(s["tool"], "continue");
    assert_eq!(s["title"], "Cart rounding");
    assert_eq!(s["cwd"], "/home/dev/my shop");
    assert_eq!(s["model"], "Claude Sonnet 4.5");
    // From the index: Continue records no time per message.
    assert_eq!(s["started_at"], "2026-04-20T10:00:00Z");
    let got = rows(&s);
    assert_eq!(
        rk(&got),
        vec![
            (
                "system",
                "text",
                "[context: cart.ts]\nexport const total = (xs) => xs.reduce((a, b) => a + b.price, 0);"
            ),
            ("user", "text", "Why is the total off by a cent?"),
            ("assistant", "thinking", "Floats summed in reduce."),
            ("assistant", "text", "Let me run the tests."),
            (
                "assistant",
                "tool_use",
                r#"run_terminal_command: {"command":"npm test"}"#
            ),
            ("tool", "tool_result", "2 failing"),
            (
                "assistant",
                "tool_use",
                r#"read_file: {"filepath":"src/cart.ts"}"#
            ),
            ("tool", "tool_result", "export const total = ..."),
            ("assistant", "text", "Sum integer cents instead."),
            ("user", "text", "Do it\n[image]"),
        ]
    );
    assert_eq!(got[5].2, "run_terminal_command");
    let f = env
        .home
        .join(format!(".continue/sessions/{CONTINUE_A}.json"));
    assert_idempotent(&env, &f);
    // A file named by the user is recognised by its content.
    let other = TestEnv::new();
    other
        .lore()
        .arg("import")
        .arg(&f)
        .assert()
        .success()
        .stdout(predicate::str::contains("continue: 1 new"));
    assert_refused(
        &env,
        "continue",
        "x.json",
        "{\"title\":\"no id\"}",
        "not a continue transcript: no sessionId",
    );
}

// --- Cline, Roo Code, Kilo Code -------------------------------------------------------------

#[test]
fn cline_tasks_separate_the_task_feedback_tool_output_and_environment() {
    let env = env_with("cline", ".config");
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("cline: 1 new, 0 updated"))
        .stdout(predicate::str::contains("roo-code: 1 new, 0 updated"));
    let s = env.show("1776679200000");
    assert_eq!(s["tool"], "cline");
    assert_eq!(s["tool_version"], "3.51.0");
    assert_eq!(s["model"], "claude-opus-4-1");
    assert_eq!(s["cwd"], "/home/dev/shop");
    assert_eq!(s["started_at"], "2026-04-20T10:00:00Z");
    let got = rows(&s);
    let env_details = got
        .iter()
        .filter(|r| r.3.starts_with("<environment_details>"))
        .count();
    assert_eq!(env_details, 2);
    assert!(
        got.iter()
            .filter(|r| r.3.starts_with("<environment_details>"))
            .all(|r| r.0 == "system")
    );
    let without_env: Vec<Row> = got
        .into_iter()
        .filter(|r| !r.3.starts_with("<environment_details>"))
        .collect();
    assert_eq!(
        rk(&without_env),
        vec![
            ("user", "text", "Why is the cart total off by a cent?"),
            ("assistant", "thinking", "Floats summed."),
            ("assistant", "text", "Reading the cart."),
            (
                "assistant",
                "tool_use",
                r#"read_file: {"path":"src/cart.ts"}"#
            ),
            (
                "tool",
                "tool_result",
                "[read_file for 'src/cart.ts'] Result:\nexport const total = (xs) => xs.reduce((a, b) => a + b.price, 0);"
            ),
            (
                "assistant",
                "tool_use",
                r#"execute_command: {"command":"npm test","requires_approval":"false"}"#
            ),
            ("tool", "tool_result", "2 failing"),
            (
                "assistant",
                "tool_use",
                r#"attempt_completion: {"result":"Totals are summed in cents."}"#
            ),
            (
                "tool",
                "tool_result",
                "[attempt_completion] Result:\n\nThe user has provided feedback on the results.\n<feedback>\nAlso format prices with two decimals\n</feedback>"
            ),
            ("user", "text", "Also format prices with two decimals"),
            ("assistant", "text", "Added formatPrice."),
        ]
    );
    assert_eq!(without_env[6].2, "execute_command");
    // Roo Code's task has only the panel's messages.
    let r = env.show("1776765600000");
    assert_eq!(r["tool"], "roo-code");
    assert_eq!(
        rk(&rows(&r)).iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(),
        vec![
            ("user", "text"),
            ("assistant", "thinking"),
            ("assistant", "tool_use"),
            ("assistant", "tool_use"),
            ("tool", "tool_result"),
            ("assistant", "text"),
            ("user", "text"),
            ("assistant", "text"),
        ]
    );
    let f = env.home.join(
        ".config/Code/User/globalStorage/saoudrizwan.claude-dev/tasks/1776679200000/api_conversation_history.json",
    );
    assert_idempotent(&env, &f);
    assert_refused(
        &env,
        "cline",
        "api_conversation_history.json",
        "{\"role\":\"user\"}",
        "not a cline transcript: a task file is a JSON array",
    );
}

#[test]
fn cline_on_macos_and_windows_layouts_and_the_vscode_dirs_setting() {
    let env = TestEnv::new();
    copy_tree(
        &fixtures().join("formats/cline/Code"),
        &env.home.join("Library/Application Support/Code"),
    );
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("cline: 1 new"));
    let env = TestEnv::new();
    let appdata = env.path("roaming");
    copy_tree(
        &fixtures().join("formats/cline/Code"),
        &appdata.join("Code"),
    );
    env.lore()
        .arg("import")
        .env("APPDATA", &appdata)
        .assert()
        .success()
        .stdout(predicate::str::contains("roo-code: 1 new"));
}

// --- Amp ----------------------------------------------------------------------------------

const AMP_A: &str = "T-5a6b7c8d-1e2f-4a3b-9c4d-5e6f7a8b9c0d";

#[test]
fn amp_threads_keep_workspace_branch_version_and_rejected_calls() {
    let env = env_with("amp", ".local/share/amp");
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("amp: 1 new, 0 updated"));
    let s = env.show(AMP_A);
    assert_eq!(s["tool"], "amp");
    assert_eq!(s["title"], "Cart rounding");
    assert_eq!(s["cwd"], "/home/dev/shop");
    assert_eq!(s["git_branch"], "fix-cents");
    assert_eq!(s["tool_version"], "0.0.1776000000-gabc123");
    assert_eq!(s["model"], "gpt-5");
    assert_eq!(s["started_at"], "2026-04-20T10:00:00Z");
    let got = rows(&s);
    assert_eq!(
        rk(&got),
        vec![
            ("user", "text", "Why is the cart total off by a cent?"),
            ("assistant", "thinking", "Floats summed."),
            ("assistant", "text", "Searching for the total."),
            (
                "assistant",
                "tool_use",
                r#"Grep: {"path":"src","pattern":"total"}"#
            ),
            (
                "tool",
                "tool_result",
                "src/cart.ts:1:export const total = (xs) =>"
            ),
            ("assistant", "tool_use", r#"Bash: {"cmd":"rm -rf dist"}"#),
            ("tool", "tool_result", "[rejected-by-user] "),
            ("assistant", "text", "Sum integer cents."),
        ]
    );
    let f = env
        .home
        .join(format!(".local/share/amp/threads/{AMP_A}.json"));
    assert_idempotent(&env, &f);
    assert_refused(
        &env,
        "amp",
        "T-x.json",
        "{\"messages\":[]}",
        "not a amp transcript: no thread id",
    );
    // XDG_DATA_HOME moves the folder.
    let env = TestEnv::new();
    let data = env.path("data");
    copy_tree(&fixtures().join("formats/amp"), &data.join("amp"));
    env.lore()
        .arg("import")
        .env("XDG_DATA_HOME", &data)
        .assert()
        .success()
        .stdout(predicate::str::contains("amp: 1 new"));
}

// --- OpenCode before 1.2: the storage/ JSON tree ---------------------------------------------

const OC_PARENT: &str = "ses_6a1b2c3d4ffeAbCdEfGhIjKlMn";
const OC_CHILD: &str = "ses_6a1b2d9e0ffeZyXwVuTsRqPoNm";
const OC_PROJECT: &str = "5c1a9e0d7b3f4e2a8c6d0b1e9f7a3c5d2e4b6a80";

fn opencode_storage(env: &TestEnv) -> std::path::PathBuf {
    env.home.join(".local/share/opencode/storage")
}

#[test]
fn opencode_storage_tree_sessions_prompts_context_tools_errors_and_sub_agents() {
    let env = env_with("opencode", ".local/share/opencode");
    let out = env.lore().arg("import").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}{err}");
    assert!(text.contains("opencode: 2 new, 0 updated"), "{text}{err}");
    // Projects, diffs, messages and parts are read through their session: no problems.
    assert!(!err.contains("storage/"), "{err}");

    let s = env.show(OC_PARENT);
    assert_eq!(s["tool"], "opencode");
    assert_eq!(s["tool_version"], "1.0.150");
    assert_eq!(s["title"], "Ripen the plums");
    assert_eq!(s["cwd"], "/home/dev/plums");
    // The last reply that named a model.
    assert_eq!(s["model"], "claude-sonnet-4-5");
    assert_eq!(s["started_at"], "2026-05-11T09:00:00Z");
    assert_eq!(s["updated_at"], "2026-05-11T09:01:30Z");
    let got = rows(&s);
    let want = [
        ("user", "text", "", "Which plums in @plums.txt are ripe?"),
        (
            "system",
            "text",
            "",
            r#"Called the Read tool with the following input: {"filePath":"plums.txt"}"#,
        ),
        ("system", "text", "", "[attachment: plums.txt]"),
        (
            "assistant",
            "thinking",
            "",
            "A plum is ripe when it is soft.",
        ),
        ("assistant", "text", "", "Let me read the list."),
        (
            "assistant",
            "tool_use",
            "read",
            r#"read: {"filePath":"/home/dev/plums/plums.txt"}"#,
        ),
        (
            "tool",
            "tool_result",
            "read",
            "<file>\n00001| victoria soft\n00002| damson hard\n</file>",
        ),
        (
            "assistant",
            "tool_use",
            "edit",
            r#"edit: {"filePath":"/home/dev/plums/plums.txt","oldString":"x","newString":"y"}"#,
        ),
        (
            "tool",
            "tool_result",
            "edit",
            "error: oldString not found in content",
        ),
        (
            "assistant",
            "tool_use",
            "task",
            r#"task: {"description":"check damsons","prompt":"Is the damson ripe?","subagent_type":"general"}"#,
        ),
        ("tool", "tool_result", "task", "Not yet: it is hard."),
        ("user", "text", "", "Now with opus, please."),
        (
            "system",
            "text",
            "",
            "[APIError] Extra usage must be enabled to use Opus.",
        ),
        ("user", "text", "", "Then list the soft ones."),
        (
            "assistant",
            "tool_use",
            "grep",
            r#"grep: {"pattern":"soft"}"#,
        ),
    ];
    let want: Vec<Row> = want
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(got, want);

    let c = env.show(OC_CHILD);
    assert_eq!(c["parent_id"], OC_PARENT);
    assert_eq!(c["model"], "claude-haiku-4-5");
    // OpenCode's placeholder title is no title: the first prompt stands.
    assert_eq!(c["title"], "Is the damson ripe?");
    assert_eq!(
        rk(&rows(&c)),
        vec![
            ("user", "text", "Is the damson ripe?"),
            ("assistant", "text", "Not yet: it is hard."),
        ]
    );

    // Naming the storage folder reads the same sessions, and its other files are no problem.
    let out = env
        .lore()
        .arg("import")
        .arg(opencode_storage(&env))
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(env.show(OC_PARENT)["messages"], s["messages"]);
}

#[test]
fn opencode_storage_reimport_changes_nothing_and_a_finished_part_or_new_turn_updates_in_place() {
    let env = env_with("opencode", ".local/share/opencode");
    env.lore().arg("import").assert().success();
    let storage = opencode_storage(&env);
    let session_file = storage.join(format!("session/{OC_PROJECT}/{OC_PARENT}.json"));
    assert_idempotent(&env, &session_file);
    // A part OpenCode rewrites in place, and nothing else: the running call finishes.
    let part = storage.join("part/msg_a006/prt_a006a.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&part).unwrap()).unwrap();
    v["state"]["status"] = "completed".into();
    v["state"]["output"] = "victoria".into();
    std::fs::write(&part, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("opencode: 0 new, 1 updated"));
    let s = env.show(OC_PARENT);
    let got = rows(&s);
    assert_eq!(got.len(), 16, "{got:?}");
    assert_eq!(got[15].3, "victoria");
    // A new turn: a message file and its part.
    let msg = storage.join(format!("message/{OC_PARENT}/msg_a007.json"));
    std::fs::write(
        &msg,
        format!(
            r#"{{"id":"msg_a007","sessionID":"{OC_PARENT}","role":"assistant","time":{{"created":1778490070000}},"modelID":"claude-sonnet-4-5"}}"#
        ),
    )
    .unwrap();
    std::fs::create_dir_all(storage.join("part/msg_a007")).unwrap();
    std::fs::write(
        storage.join("part/msg_a007/prt_a007a.json"),
        format!(
            r#"{{"id":"prt_a007a","sessionID":"{OC_PARENT}","messageID":"msg_a007","type":"text","text":"Only the victoria is soft."}}"#
        ),
    )
    .unwrap();
    // And a part cut mid-write: one problem, the rest read, nothing lost.
    std::fs::write(
        storage.join("part/msg_a007/prt_a007b.json"),
        "{\"id\":\"prt_a",
    )
    .unwrap();
    let out = env.lore().arg("import").output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("prt_a007b"), "{err}");
    let got = rows(&env.show(OC_PARENT));
    assert_eq!(got.len(), 17, "{got:?}");
    assert_eq!(got[16].3, "Only the victoria is soft.");
    assert_eq!(got[..16], rows(&s)[..]);
}

// --- lore init and lore doctor ------------------------------------------------------------

#[test]
fn init_and_doctor_list_every_json_agent_found() {
    let env = TestEnv::new();
    for (tool, rel) in [
        ("qwen", ".qwen"),
        ("pi", ".pi/agent"),
        ("droid", ".factory"),
        ("kiro", ".kiro"),
        ("continue", ".continue"),
        ("cline", ".config"),
        ("amp", ".local/share/amp"),
    ] {
        copy_tree(&fixtures().join("formats").join(tool), &env.home.join(rel));
    }
    let out = env.lore().args(["init", "--yes"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (tool, n) in [
        ("qwen-code", 3),
        ("pi", 2),
        ("droid", 2),
        ("kiro", 2),
        ("continue", 2),
        ("cline", 1),
        ("roo-code", 1),
        ("amp", 1),
    ] {
        let want = if n == 1 {
            "1 transcript".to_owned()
        } else {
            format!("{n} transcripts")
        };
        assert!(
            text.lines().any(|l| l.contains(tool) && l.contains(&want)),
            "{tool}: {text}"
        );
    }
    let out = env.lore().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for tool in [
        "qwen-code (3",
        "pi (2",
        "droid (2",
        "kiro (2",
        "continue (2",
        "amp (1",
    ] {
        assert!(text.contains(tool), "{tool}: {text}");
    }
}

// --- Qwen Code's hooks --------------------------------------------------------------------

#[test]
fn init_registers_the_qwen_hook_undo_restores_settings_and_the_hook_imports() {
    let env = env_with("qwen", ".qwen");
    let settings = env.home.join(".qwen/settings.json");
    let before = std::fs::read(&settings).unwrap();
    let out = env.lore().args(["init", "--yes"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&settings).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).expect("settings stay JSON");
    assert_eq!(v["model"]["name"], "qwen3-coder-plus", "{text}");
    for event in ["SessionEnd", "Stop", "PreCompact"] {
        let cmd = v["hooks"][event][0]["hooks"][0]["command"]
            .as_str()
            .unwrap_or_default();
        assert!(cmd.ends_with("import --hook qwen"), "{event}: {text}");
    }
    let out = env.lore().args(["init", "--undo"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read(&settings).unwrap(), before);

    // What Qwen Code runs: the payload names the transcript; without a path, the session id.
    let env = env_with("qwen", ".qwen");
    for payload in [
        serde_json::json!({
            "session_id": QWEN_B,
            "transcript_path": env.home.join(format!(".qwen/projects/-home-dev-tools/chats/{QWEN_B}.jsonl")),
            "cwd": "/home/dev/tools",
            "hook_event_name": "Stop",
        }),
        serde_json::json!({"session_id": QWEN_A, "hook_event_name": "SessionEnd"}),
    ] {
        let out = env
            .lore()
            .args(["import", "--hook", "qwen"])
            .write_stdin(payload.to_string())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(out.stdout.is_empty() && out.stderr.is_empty());
    }
    let mut ids: Vec<String> = env
        .sessions()
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            QWEN_A.to_owned(),
            format!("{QWEN_A}-agent-call_2"),
            QWEN_B.to_owned()
        ]
    );
}

// --- Cline's hooks ----------------------------------------------------------------------

const CLINE_TASK: &str = "1776679200000";

/// Runs a hook script as Cline does: the executable itself, the payload on stdin.
fn run_cline_script(
    env: &TestEnv,
    script: &std::path::Path,
    payload: &str,
) -> std::process::Output {
    let mut cmd = std::process::Command::new(script);
    cmd.env("HOME", &env.home).env_remove("LORE_HOME");
    common::run_with_stdin(cmd, payload.as_bytes())
}

#[test]
fn init_writes_clines_hook_scripts_that_import_the_task_and_undo_removes_them() {
    let env = env_with("cline", ".config");
    let hooks = env.home.join("Documents/Cline/Hooks");
    let out = env.lore().args(["init", "--yes"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("scripts TaskComplete, TaskCancel"), "{text}");
    for event in ["TaskComplete", "TaskCancel"] {
        let script = hooks.join(event);
        let body = std::fs::read_to_string(&script).unwrap();
        assert!(body.starts_with("#!/bin/sh\n"), "{body}");
        assert!(
            body.contains("import --hook cline >/dev/null 2>&1\n"),
            "{body}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&script).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755, "{event}");
        }
    }
    // init imported the task already; the task goes on: a new message, which the hook brings.
    let history = env.home.join(format!(
        ".config/Code/User/globalStorage/saoudrizwan.claude-dev/tasks/{CLINE_TASK}/api_conversation_history.json"
    ));
    let mut turns: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&history).unwrap()).unwrap();
    turns.push(serde_json::json!({"role": "user", "content": [{"type": "text", "text": "Now check the narwhal totals"}]}));
    std::fs::write(&history, serde_json::to_vec(&turns).unwrap()).unwrap();
    let hits = |q: &str| env.search(q).len();
    assert_eq!(hits("narwhal"), 0);
    // What Cline sends when a task completes (its documented fields; newer ones ignored).
    let payload = serde_json::json!({
        "clineVersion": "3.51.0",
        "hookName": "TaskComplete",
        "timestamp": "1776679500000",
        "taskId": CLINE_TASK,
        "workspaceRoots": ["/home/dev/shop"],
        "userId": "u-1",
        "taskComplete": {"taskMetadata": {"taskId": CLINE_TASK}},
    });
    let run = run_cline_script(&env, &hooks.join("TaskComplete"), &payload.to_string());
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Cline reads its answer from stdout: exactly that, and lore's own output nowhere.
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "{\"cancel\": false}\n"
    );
    assert!(run.stderr.is_empty());
    assert_eq!(
        hits("narwhal"),
        1,
        "the hook imported the task's new message"
    );
    // A task id that tries to leave the folder names nothing; Cline still gets its answer.
    let evil = serde_json::json!({"hookName": "TaskCancel", "taskId": "../../etc"});
    let run = run_cline_script(&env, &hooks.join("TaskCancel"), &evil.to_string());
    assert!(run.status.success());
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "{\"cancel\": false}\n"
    );

    let out = env.lore().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cline (1 transcript, lore's hook)"), "{text}");
    // A second init changes nothing.
    let out = env.lore().args(["init", "--yes"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Cline already imports each session"),
        "{text}"
    );

    // Undo: both scripts and the folders lore made for them are gone.
    let out = env.lore().args(["init", "--undo"]).output().unwrap();
    assert!(out.status.success());
    assert!(!env.home.join("Documents").exists());
}

#[test]
fn a_cline_hook_script_of_the_users_own_is_left_alone() {
    let env = env_with("cline", ".config");
    let hooks = env.home.join("Documents/Cline/Hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let mine = "#!/bin/sh\necho '{\"cancel\": false, \"contextModification\": \"lint first\"}'\n";
    std::fs::write(hooks.join("TaskComplete"), mine).unwrap();
    let out = env.lore().args(["init", "--yes"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("left alone"), "{text}");
    assert_eq!(
        std::fs::read_to_string(hooks.join("TaskComplete")).unwrap(),
        mine
    );
    // lore's TaskCancel is there, but with the user's TaskComplete lore's hook is not whole.
    assert!(hooks.join("TaskCancel").is_file());
    let out = env.lore().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cline (1 transcript, no hook"), "{text}");
    let out = env.lore().args(["init", "--undo"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(hooks.join("TaskComplete")).unwrap(),
        mine
    );
    assert!(!hooks.join("TaskCancel").exists());

    // The user's TaskComplete is a link to a script kept elsewhere: lore's TaskCancel still
    // goes into Hooks/, nothing into the other folder.
    #[cfg(unix)]
    {
        let bin = env.home.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::rename(hooks.join("TaskComplete"), bin.join("TaskComplete")).unwrap();
        std::os::unix::fs::symlink(bin.join("TaskComplete"), hooks.join("TaskComplete")).unwrap();
        let out = env.lore().args(["init", "--yes"]).output().unwrap();
        assert!(out.status.success());
        assert!(hooks.join("TaskCancel").is_file());
        let names: Vec<_> = std::fs::read_dir(&bin)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("TaskComplete")]);
        assert_eq!(
            std::fs::read_to_string(bin.join("TaskComplete")).unwrap(),
            mine
        );
    }
}

// --- Growth and older copies ---------------------------------------------------------------

#[test]
fn a_grown_pi_session_adds_only_its_new_entries_and_an_older_continue_copy_shrinks_nothing() {
    let env = env_with("pi", ".pi/agent");
    env.lore().arg("import").assert().success();
    let f = env
        .home
        .join(".pi/agent/sessions/--home-dev-shop--")
        .join(format!("2026-04-21T08-00-00-000Z_{PI_B}.jsonl"));
    let before = env.show(PI_B);
    let mut body = std::fs::read_to_string(&f).unwrap();
    body.push_str(concat!(
        r#"{"type":"message","id":"b003","parentId":"b002","timestamp":"2026-04-21T08:01:00.000Z","message":{"role":"user","content":"And tests?","timestamp":1776758460000}}"#,
        "\n",
        r#"{"type":"message","id":"b004","parentId":"b003","timestamp":"2026-04-21T08:01:05.000Z","message":{"role":"assistant","content":[{"type":"text","text":"Added tests."}],"model":"claude-sonnet-4-5","timestamp":1776758465000}}"#,
        "\n",
    ));
    std::fs::write(&f, body).unwrap();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("updated 1"));
    let after = env.show(PI_B);
    let n = before["messages"].as_array().unwrap().len();
    assert_eq!(after["messages"].as_array().unwrap().len(), n + 2);
    assert_eq!(
        after["messages"].as_array().unwrap()[..n],
        before["messages"].as_array().unwrap()[..n]
    );
    assert_eq!(after["ended_at"], "2026-04-21T08:01:05Z");

    // Continue rewrites the whole file: an older copy (a backup) with fewer history items.
    let env = env_with("continue", ".continue");
    env.lore().arg("import").assert().success();
    let full = env.show(CONTINUE_A);
    let src = env
        .home
        .join(format!(".continue/sessions/{CONTINUE_A}.json"));
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&src).unwrap()).unwrap();
    // Cut at a turn's end (db/merge.rs counts a turn split between a copy and the kept
    // messages twice: a merge matter, not Continue's).
    doc["history"].as_array_mut().unwrap().truncate(1);
    let backup = env.path(&format!("backup/{CONTINUE_A}.json"));
    std::fs::create_dir_all(backup.parent().unwrap()).unwrap();
    std::fs::write(&backup, doc.to_string()).unwrap();
    env.lore().arg("import").arg(&backup).assert().success();
    let after = env.show(CONTINUE_A);
    assert_eq!(after["messages"], full["messages"]);
    assert_eq!(after["message_count"], full["message_count"]);
}
