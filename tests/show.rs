//! `lore show` for reading (docs/reading.md): what the text view hides and how it says so,
//! `--role`, `--message`, `--around`, tool calls decoded and edits as diffs, sub-agents under
//! their parent and in search hits, and the pager (only on a terminal, LORE_PAGER first,
//! LESS=FRX only when unset, --no-pager).
//!
//! The fixture (fixtures/reading/claude) is one Claude Code session with every kind: a prompt,
//! thinking, a reply, an Edit call and its output, a system line, a Task call, the sub-agent
//! it started, and the Task's output. Its messages are numbered:
//! 0 prompt, 1 thinking, 2 reply, 3 Edit, 4 Edit's output, 5 system, 6 Task, 7 Task's output,
//! 8 reply.

mod common;

use std::path::Path;

use common::{TestEnv, fixtures};

const ID: &str = "7e57e57e-0000-4000-8000-0000000000aa";
const SUB: &str = "7e57e57e…agent-a5b6c7d8e9f0a1b2c";

fn imported() -> TestEnv {
    let env = TestEnv::new();
    env.lore()
        .arg("import")
        .arg(fixtures().join("reading/claude/projects/-home-dev-shop"))
        .assert()
        .success();
    env
}

/// Runs lore; returns stdout, after checking it succeeded.
fn ok(env: &TestEnv, args: &[&str]) -> String {
    let out = env.lore().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "lore {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs lore expecting the one-line error `code`; returns stderr.
fn fails(env: &TestEnv, args: &[&str], code: i32) -> String {
    let before = env.digest();
    let out = env.lore().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(code), "lore {args:?} should fail");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(env.digest(), before, "a refused command changed lore.db");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn the_text_view_hides_tool_output_and_system_text_and_says_so() {
    let env = imported();
    let text = ok(&env, &["show", ID]);
    for shown in [
        "── #0 user",
        "Rename total() in cart.py to cart_total()",
        "── #1 assistant (thinking)",
        "change the definition first",
        "I'll rename the function.",
        "── #3 tool call: Edit",
        "── #6 tool call: Task",
        "description: Find callers",
        "Renamed; checkout.py and report.py",
    ] {
        assert!(text.contains(shown), "missing {shown:?} in:\n{text}");
    }
    for hidden in [
        "EDIT_OUTPUT_MARKER",
        "SYSTEM_MARKER",
        "TASK_OUTPUT_MARKER",
        "#4 ",
        "#5 ",
        "#7 ",
    ] {
        assert!(!text.contains(hidden), "{hidden:?} shown in:\n{text}");
    }
    // Where they were: one line each run, saying what and which flag shows it.
    let markers: Vec<&str> = text.lines().filter(|l| l.contains("hidden:")).collect();
    assert_eq!(markers.len(), 2, "{text}");
    assert!(
        markers[0].contains("1 tool output (")
            && markers[0].contains("1 system message")
            && markers[0].contains("--all shows them"),
        "{}",
        markers[0]
    );
    assert!(markers[1].contains("1 tool output ("), "{}", markers[1]);
    assert!(!text.contains('\x1b'), "escape codes in piped output");

    let all = ok(&env, &["show", ID, "--all"]);
    for shown in [
        "EDIT_OUTPUT_MARKER",
        "SYSTEM_MARKER",
        "TASK_OUTPUT_MARKER",
        "#4 ",
        "#5 ",
        "#7 ",
    ] {
        assert!(all.contains(shown), "--all does not show {shown:?}:\n{all}");
    }
    assert!(!all.contains("hidden:"), "{all}");
}

#[test]
fn an_edit_is_a_unified_diff_coloured_only_when_asked_for_colour() {
    let env = imported();
    let text = ok(&env, &["show", ID]);
    let want = "--- /home/dev/shop/cart.py\n+++ /home/dev/shop/cart.py\n@@ -1,2 +1,2 @@\n-def total(items):\n+def cart_total(items):\n     return sum(i.price for i in items)\n";
    assert!(text.contains(want), "no diff in:\n{text}");
    // The raw JSON of the call is not printed.
    assert!(!text.contains("old_string"), "{text}");
    let coloured = ok(&env, &["--color", "always", "show", ID]);
    assert!(
        coloured.contains("\x1b[31m-def total(items):")
            && coloured.contains("\x1b[32m+def cart_total(items):"),
        "{coloured:?}"
    );
}

#[test]
fn markdown_shows_an_edit_as_a_diff_block_and_takes_the_reading_flags() {
    let env = imported();
    let md = ok(&env, &["show", ID, "--markdown"]);
    assert!(
        md.contains("```diff\n--- /home/dev/shop/cart.py\n+++ /home/dev/shop/cart.py\n@@ -1,2 +1,2 @@\n-def total(items):\n+def cart_total(items):\n"),
        "{md}"
    );
    // Markdown is for pasting the whole record: tool output stays, sub-agents are listed.
    assert!(
        md.contains("EDIT_OUTPUT_MARKER") && md.contains("## Sub-agents"),
        "{md}"
    );
    let users = ok(&env, &["show", ID, "--markdown", "--role", "user"]);
    assert!(
        users.contains("## user") && !users.contains("## assistant"),
        "{users}"
    );
}

#[test]
fn roles_filter_and_a_bad_role_is_one_line_naming_the_valid_ones() {
    let env = imported();
    let users = ok(&env, &["show", ID, "--role", "user"]);
    assert!(users.contains("── #0 user"), "{users}");
    assert!(!users.contains("assistant"), "{users}");
    assert!(!users.contains("hidden:"), "{users}");
    // Asking for the tool role shows tool output without --all.
    let tools = ok(&env, &["show", ID, "--role", "tool,user"]);
    assert!(
        tools.contains("EDIT_OUTPUT_MARKER") && tools.contains("#0 user"),
        "{tools}"
    );
    assert!(
        !tools.contains("SYSTEM_MARKER") && !tools.contains("I'll rename"),
        "{tools}"
    );

    let err = fails(&env, &["show", ID, "--role", "user,robot"], 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("unknown role 'robot'") && err.contains("user, assistant, tool, system"),
        "{err}"
    );
    // The reading flags do not apply to --json, whose shape they would change.
    fails(&env, &["show", ID, "--json", "--role", "user"], 2);
    fails(&env, &["show", "--commit", "HEAD", "--all"], 2);
}

#[test]
fn message_and_around_jump_to_an_ordinal() {
    let env = imported();
    let one = ok(&env, &["show", ID, "--message", "4"]);
    // Asked for by number: shown even though tool output is hidden by default.
    assert!(
        one.contains("── #4 tool result") && one.contains("EDIT_OUTPUT_MARKER"),
        "{one}"
    );
    assert_eq!(one.matches("── #").count(), 1, "{one}");
    assert!(!one.contains("Sub-agents"), "{one}");

    let around = ok(&env, &["show", ID, "--around", "5", "-C", "2"]);
    let headings: Vec<&str> = around.lines().filter(|l| l.contains("── #")).collect();
    assert_eq!(
        headings.len(),
        3,
        "#3, #5 (asked for), #6 shown; #4 and #7 hidden:\n{around}"
    );
    assert!(
        headings[0].contains("#3 ") && headings[1].contains("#5 ") && headings[2].contains("#6 ")
    );
    assert!(
        around.contains("SYSTEM_MARKER") && !around.contains("EDIT_OUTPUT_MARKER"),
        "{around}"
    );
    assert!(
        !around.contains("#8 ") && !around.contains("#0 "),
        "{around}"
    );
    // -C defaults to 3.
    let wide = ok(&env, &["show", ID, "--around", "0", "--all"]);
    assert_eq!(wide.matches("── #").count(), 4, "{wide}");

    let err = fails(&env, &["show", ID, "--message", "99"], 1);
    assert!(
        err.contains("no message 99") && err.contains("numbered 0 to 8"),
        "{err}"
    );
    let err = fails(&env, &["show", ID, "--message", "4", "--role", "user"], 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("message 4"), "{err}");
    fails(&env, &["show", ID, "-C", "2"], 2);
}

#[test]
fn sub_agents_are_listed_under_their_parent_and_found_by_their_own_id() {
    let env = imported();
    let text = ok(&env, &["show", ID]);
    // At the point it was spawned (the Task call gave it its prompt), and at the end.
    let task = text.find("── #6 tool call: Task").expect("task call");
    let spawned = text
        .find(&format!("↳ sub-agent {SUB}"))
        .expect("spawn line");
    let next = text.find("── #8").expect("next message");
    assert!(task < spawned && spawned < next, "{text}");
    let list = text.split("Sub-agents").nth(1).expect("sub-agent list");
    assert!(list.contains(SUB) && list.contains("2 messages"), "{list}");
    assert!(
        !text.contains("PELICAN_SUBAGENT_REPLY"),
        "the sub-agent's own messages are its own"
    );

    // The short id shown is one `lore show` takes back.
    let sub = ok(&env, &["show", SUB]);
    assert!(
        sub.contains("PELICAN_SUBAGENT_REPLY") && sub.contains(&format!("Parent   {ID}")),
        "{sub}"
    );

    // A search hit in the sub-agent names the sub-agent, with the message's number.
    let hits = ok(&env, &["search", "PELICAN_SUBAGENT_REPLY"]);
    let first = hits.lines().next().unwrap_or_default();
    assert!(first.starts_with(&format!("{SUB} #1 ")), "{hits}");
    let hits = ok(&env, &["search", "cart_total"]);
    assert!(hits.lines().any(|l| l.starts_with("7e57e57e #")), "{hits}");
    // Search's JSON keeps its shape: the full id and the ordinal.
    let json: serde_json::Value =
        serde_json::from_str(&ok(&env, &["search", "PELICAN_SUBAGENT_REPLY", "--json"])).unwrap();
    assert_eq!(json["hits"][0]["ordinal"], 1);
    assert!(
        json["hits"][0]["session"]["id"]
            .as_str()
            .unwrap_or_default()
            .ends_with("-agent-a5b6c7d8e9f0a1b2c")
    );
}

/// A pager that copies what it is given, and the LESS it was given, into files.
fn fake_pager(env: &TestEnv) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let got = env.path("paged.txt");
    let less = env.path("less.txt");
    let script = env.path("pager.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' \"${{LESS-unset}}\" > '{}'\ncat > '{}'\n",
            less.display(),
            got.display()
        ),
    )
    .unwrap();
    (format!("sh '{}'", script.display()), got, less)
}

#[test]
fn no_pager_when_stdout_is_not_a_terminal() {
    let env = imported();
    let (pager, got, _) = fake_pager(&env);
    let out = env
        .lore()
        .args(["show", ID])
        .env("LORE_PAGER", &pager)
        .env("PAGER", &pager)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("cart_total"));
    assert!(!got.exists(), "a pager was started for a pipe");
}

/// `lore show` under a real terminal (`script(1)` gives it a pty).
fn on_a_terminal(env: &TestEnv, args: &str, vars: &[(&str, &str)]) -> String {
    let lore = assert_cmd::cargo::cargo_bin("lore");
    let mut cmd = std::process::Command::new("script");
    cmd.arg("-qec")
        .arg(format!("'{}' {args}", lore.display()))
        .arg("/dev/null")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("LORE_HOME", &env.lore_home)
        .env("LORE_KEYCHAIN", "off")
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::null());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn has_script() -> bool {
    std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
#[cfg(target_os = "linux")]
fn on_a_terminal_the_pager_is_lore_pager_with_less_frx_unless_set() {
    if !has_script() {
        // util-linux's script(1) is part of every Linux base system .ci/run uses.
        panic!("this test needs script(1) (util-linux) to give lore a terminal");
    }
    let env = imported();
    let (pager, got, less) = fake_pager(&env);
    on_a_terminal(
        &env,
        &format!("show {ID}"),
        &[("LORE_PAGER", &pager), ("PAGER", "false")],
    );
    let paged = std::fs::read_to_string(&got).expect("the pager was not started");
    assert!(
        paged.contains("cart_total") && paged.contains("── #0 user"),
        "{paged}"
    );
    // Colour decided from the terminal, kept through the pager.
    assert!(
        paged.contains("\x1b["),
        "no colour through the pager: {paged:?}"
    );
    assert_eq!(std::fs::read_to_string(&less).unwrap(), "FRX");

    std::fs::remove_file(&got).unwrap();
    on_a_terminal(
        &env,
        &format!("show {ID}"),
        &[("PAGER", &pager), ("LESS", "-S")],
    );
    assert!(
        read(&got).contains("cart_total"),
        "PAGER is used when LORE_PAGER is unset"
    );
    assert_eq!(read(&less), "-S", "a LESS the user set is kept");

    std::fs::remove_file(&got).unwrap();
    on_a_terminal(
        &env,
        &format!("--color never show {ID}"),
        &[("LORE_PAGER", &pager)],
    );
    let plain = read(&got);
    assert!(
        plain.contains("cart_total") && !plain.contains('\x1b'),
        "{plain:?}"
    );

    std::fs::remove_file(&got).unwrap();
    let direct = on_a_terminal(
        &env,
        &format!("show {ID} --no-pager"),
        &[("LORE_PAGER", &pager)],
    );
    assert!(!got.exists(), "--no-pager started the pager");
    assert!(direct.contains("cart_total"), "{direct}");
    let direct = on_a_terminal(&env, &format!("show {ID}"), &[("LORE_PAGER", "cat")]);
    assert!(direct.contains("cart_total") && !got.exists(), "{direct}");
}

#[test]
#[cfg(target_os = "linux")]
fn quitting_the_pager_early_is_not_an_error() {
    if !has_script() {
        panic!("this test needs script(1) (util-linux) to give lore a terminal");
    }
    let env = TestEnv::new();
    // A session far larger than a pipe's buffer, so that lore is still writing when the
    // pager (which reads nothing and exits at once) is gone: its writes meet EPIPE.
    let big = "b2b2b2b2-0000-4000-8000-0000000000bb";
    let mut body = String::new();
    for n in 0..40 {
        let kind = if n % 2 == 0 { "user" } else { "assistant" };
        body.push_str(&common::claude_line(
            big,
            n,
            kind,
            &"long line of text ".repeat(600),
        ));
        body.push('\n');
    }
    let file = env.path(&format!("{big}.jsonl"));
    std::fs::write(&file, body).unwrap();
    env.lore().arg("import").arg(&file).assert().success();
    let lore = assert_cmd::cargo::cargo_bin("lore");
    let status = std::process::Command::new("script")
        .arg("-qec")
        .arg(format!("'{}' show {big}; echo \"exit=$?\"", lore.display()))
        .arg("/dev/null")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("LORE_HOME", &env.lore_home)
        .env("LORE_KEYCHAIN", "off")
        .env("LORE_PAGER", "true")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&status.stdout);
    assert!(said.contains("exit=0"), "{said}");
    assert!(
        !said.contains("error") && !said.contains("long line"),
        "{said}"
    );
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}
