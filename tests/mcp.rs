//! `lore mcp serve` driven by a real MCP client (rmcp's own, over a child process's stdio) on a
//! throw-away home with imported sessions and a real git repository with links; then raw
//! malformed input over the child's stdin and a client that leaves mid-answer.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult, ErrorCode};
use rmcp::service::ServiceError;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

use common::{User, World, digest_db, test_path};

const S1: &str = "11111111-1111-4111-8111-111111111111";
const S2: &str = "22222222-2222-4222-8222-222222222222";

const PARSE_V1: &str = "pub fn parse(input: &str) -> Vec<Token> {\n    let mut out = Vec::new();\n    let start = 0;\n    out\n}\n";
const PARSE_V2: &str = "pub fn parse(input: &str) -> Vec<Token> {\n    let mut out = Vec::new();\n    let start = 0;\n    let end = start + input.len();\n    out\n}\n";

/// Alice's repository: src/parse.rs in two commits, session S1 (in the repository) that wrote
/// the second and is linked to it, and session S2 elsewhere.
struct Fixture {
    _world: World,
    user: User,
    repo: PathBuf,
    c2: String,
}

/// One Claude Code transcript line.
fn line(id: &str, cwd: &str, n: usize, ts: &str, kind: &str, message: Value) -> String {
    json!({
        "parentUuid": null, "isSidechain": false, "userType": "external",
        "cwd": cwd, "sessionId": id, "version": "2.1.72", "gitBranch": "main",
        "type": kind, "message": message, "uuid": format!("{id}-{n}"), "timestamp": ts,
    })
    .to_string()
}

fn import(user: &User, at: &Path, id: &str, lines: &[String]) {
    let dir = user
        .root
        .join("transcripts")
        .join(id)
        .join("projects")
        .join("x");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{id}.jsonl")), lines.join("\n") + "\n").unwrap();
    let src = user.root.join("transcripts").join(id);
    user.lore(at, &["import", src.to_str().unwrap()])
        .assert_ok();
}

fn fixture() -> Fixture {
    let world = World::new();
    let user = world.user("alice");
    user.git(&user.root, &["init", "-q", "repo"]).assert_ok();
    let repo = std::fs::canonicalize(user.root.join("repo")).unwrap();
    let commit = |msg: &str, when: &str| {
        user.git(&repo, &["add", "-A"]).assert_ok();
        user.git_with(
            &repo,
            &[("GIT_AUTHOR_DATE", when), ("GIT_COMMITTER_DATE", when)],
            &["commit", "-qm", msg],
        )
        .assert_ok();
        user.rev(&repo, "HEAD").unwrap()
    };
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::write(repo.join("src/parse.rs"), PARSE_V1).unwrap();
    commit("Add the parser", "2026-03-11T09:00:00Z");
    std::fs::write(repo.join("src/parse.rs"), PARSE_V2).unwrap();
    let c2 = commit("Include the last byte", "2026-03-11T10:25:00Z");

    let cwd = repo.to_str().unwrap();
    let big = "x".repeat(30_000);
    import(
        &user,
        &repo,
        S1,
        &[
            line(
                S1,
                cwd,
                0,
                "2026-03-11T10:00:00Z",
                "user",
                json!({"role": "user", "content": "the parser drops the last byte of src/parse.rs"}),
            ),
            line(
                S1,
                cwd,
                1,
                "2026-03-11T10:05:00Z",
                "assistant",
                json!({"role": "assistant", "id": "m1", "model": "claude-x", "content": [
                    {"type": "text", "text": "The end index must include the last byte, so end becomes start plus the length."}]}),
            ),
            line(
                S1,
                cwd,
                2,
                "2026-03-11T10:06:00Z",
                "assistant",
                json!({"role": "assistant", "id": "m2", "model": "claude-x", "content": [
                    {"type": "tool_use", "id": "t2", "name": "Edit", "input": {
                        "file_path": format!("{cwd}/src/parse.rs"), "old_string": "",
                        "new_string": "    let end = start + input.len();"}}]}),
            ),
            line(
                S1,
                cwd,
                3,
                "2026-03-11T10:06:30Z",
                "user",
                json!({"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t2", "content": format!("TOOL-OUTPUT-CANARY {big}")}]}),
            ),
            line(
                S1,
                cwd,
                4,
                "2026-03-11T10:07:00Z",
                "assistant",
                json!({"role": "assistant", "id": "m4", "model": "claude-x", "content": [
                    {"type": "text", "text": "Done; nothing else changes."}]}),
            ),
        ],
    );
    user.lore(&repo, &["link", S1, "--commit", &c2]).assert_ok();
    let elsewhere = user.root.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let ew = elsewhere.to_str().unwrap();
    import(
        &user,
        &repo,
        S2,
        &[line(
            S2,
            ew,
            0,
            "2026-03-12T08:00:00Z",
            "user",
            json!({"role": "user", "content": "tidy the notes folder"}),
        )],
    );
    Fixture {
        _world: world,
        user,
        repo,
        c2,
    }
}

/// `lore mcp serve` in `cwd` with the user's environment, for rmcp or for raw stdio.
fn serve_command(user: &User, cwd: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_lore"));
    c.args(["mcp", "serve"])
        .current_dir(cwd)
        .env_clear()
        .env("PATH", test_path())
        .env("HOME", &user.home)
        .env("LORE_HOME", &user.lore_home)
        .env("GIT_CONFIG_GLOBAL", user.home.join(".gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("TZ", "UTC")
        .env("LORE_KEYCHAIN", "off");
    c
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn args(v: Value) -> rmcp::model::JsonObject {
    match v {
        Value::Object(m) => m,
        _ => panic!("arguments must be an object"),
    }
}

fn structured(r: &CallToolResult) -> &Value {
    assert_eq!(r.is_error, Some(false), "{r:?}");
    r.structured_content.as_ref().expect("structured content")
}

fn error_text(r: &CallToolResult) -> String {
    assert_eq!(r.is_error, Some(true), "{r:?}");
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("")
}

/// The one-line message the CLI prints for `lore ARGS` (after `error: `).
fn cli_error(user: &User, cwd: &Path, a: &[&str]) -> String {
    let r = user.lore(cwd, a);
    assert_eq!(r.code, Some(1), "{r:?}");
    r.stderr
        .trim()
        .strip_prefix("error: ")
        .unwrap_or_else(|| panic!("{}", r.stderr))
        .to_owned()
}

#[test]
fn an_agent_finds_the_reasoning_behind_a_line_over_mcp() {
    let f = fixture();
    let db = f.user.lore_home.join("lore.db");
    let before = digest_db(&db);
    let rt = runtime();
    rt.block_on(async {
        let cmd = tokio::process::Command::from(serve_command(&f.user, &f.repo));
        let client = ().serve(TokioChildProcess::new(cmd).unwrap()).await.unwrap();
        let info = client.peer_info().expect("server info");
        assert_eq!(
            info.server_info.as_ref().map(|i| i.name.as_str()),
            Some("lore")
        );

        // Tools: the six, each described, each read-only.
        let tools = client.list_all_tools().await.unwrap();
        let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "commit_sessions",
                "get_session",
                "list_sessions",
                "recent_context",
                "search_sessions",
                "why"
            ]
        );
        for t in &tools {
            assert!(
                t.description.as_deref().unwrap_or("").len() > 80,
                "{}",
                t.name
            );
            assert_eq!(
                t.annotations.as_ref().and_then(|a| a.read_only_hint),
                Some(true)
            );
        }

        let call = |name: &'static str, a: Value| {
            let client = &client;
            async move {
                client
                    .call_tool(CallToolRequestParams::new(name).with_arguments(args(a)))
                    .await
            }
        };

        // why: line 4 was written by S1's Edit in commit c2.
        let r = call("why", json!({"file": "src/parse.rs", "start_line": 4}))
            .await
            .unwrap();
        let v = structured(&r);
        assert_eq!(v["file"], "src/parse.rs");
        assert_eq!(v["lines"][0]["text"], "    let end = start + input.len();");
        let commit = &v["commits"][0];
        assert_eq!(commit["sha"], f.c2.as_str());
        let s = &commit["sessions"][0];
        assert_eq!(s["id"], S1);
        assert_eq!(s["evidence"]["kind"], "lines");
        assert_eq!(s["link"]["kind"], "explicit");
        let msgs = s["messages"].as_array().unwrap();
        assert!(!msgs.is_empty());
        assert!(msgs.iter().all(|m| m["ordinal"].is_u64()));
        // The same answer as `lore blame --json`.
        let cli = f.user.lore(&f.repo, &["blame", "--json", "src/parse.rs:4"]);
        cli.assert_ok();
        let cli: Value = serde_json::from_str(&cli.stdout).unwrap();
        assert_eq!(&cli, v);

        // Sessions linked to the commit.
        let r = call("commit_sessions", json!({"commit": "HEAD"}))
            .await
            .unwrap();
        let v = structured(&r);
        assert_eq!(v["commit"]["sha"], f.c2.as_str());
        assert_eq!(v["sessions"][0]["id"], S1);

        // Search, with and without a filter that excludes the hit.
        let r = call("search_sessions", json!({"query": "last byte"}))
            .await
            .unwrap();
        let hits = structured(&r)["hits"].as_array().unwrap().clone();
        assert!(!hits.is_empty());
        assert!(hits.iter().all(|h| h["session"]["id"] == S1));
        let r = call(
            "search_sessions",
            json!({"query": "last byte", "tool": "codex"}),
        )
        .await
        .unwrap();
        assert!(structured(&r)["hits"].as_array().unwrap().is_empty());

        // This repository's sessions by default; every one with all_repos.
        let r = call("list_sessions", json!({})).await.unwrap();
        let ids: Vec<&Value> = structured(&r)["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &s["id"])
            .collect();
        assert_eq!(ids, [&json!(S1)]);
        let r = call("list_sessions", json!({"all_repos": true}))
            .await
            .unwrap();
        assert_eq!(structured(&r)["sessions"].as_array().unwrap().len(), 2);

        // A session in pages; tool output omitted unless asked for.
        let r = call("get_session", json!({"id": &S1[..8], "limit": 2}))
            .await
            .unwrap();
        let v = structured(&r);
        assert_eq!(v["session"]["id"], S1);
        let ords: Vec<u64> = v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["ordinal"].as_u64().unwrap())
            .collect();
        assert_eq!(ords, [0, 1]);
        assert_eq!(v["next_ordinal"], 2);
        let mut from = 2;
        let mut seen_result = false;
        loop {
            let r = call(
                "get_session",
                json!({"id": S1, "from_ordinal": from, "limit": 2}),
            )
            .await
            .unwrap();
            let v = structured(&r).clone();
            for m in v["messages"].as_array().unwrap() {
                if m["kind"] == "tool_result" {
                    seen_result = true;
                    assert_eq!(m["omitted"], true);
                    assert!(m["content"].is_null());
                    assert!(m["chars"].as_u64().unwrap() > 30_000);
                }
            }
            match v["next_ordinal"].as_u64() {
                Some(n) => from = n,
                None => break,
            }
        }
        assert!(seen_result);
        assert!(
            !r_text(&call("get_session", json!({"id": S1})).await.unwrap())
                .contains("TOOL-OUTPUT-CANARY")
        );
        let r = call(
            "get_session",
            json!({"id": S1, "tool_output": true, "roles": ["user", "tool"]}),
        )
        .await
        .unwrap();
        let v = structured(&r);
        let result = v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["kind"] == "tool_result")
            .unwrap();
        assert!(
            result["content"]
                .as_str()
                .unwrap()
                .starts_with("TOOL-OUTPUT-CANARY")
        );
        assert_eq!(result["truncated"], true);
        assert!(
            v["messages"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["role"] == "user" || m["role"] == "tool")
        );

        // A huge page request is clamped, and the answer says so.
        let r = call("get_session", json!({"id": S1, "limit": 1_000_000_000u64}))
            .await
            .unwrap();
        let v = structured(&r);
        assert_eq!(v["clamped"], true);
        assert_eq!(v["limit"], 200);
        assert!(v["note"].as_str().unwrap().contains("clamped to 200"));

        // Recent context: the repository's latest session and its first prompt.
        let r = call("recent_context", json!({})).await.unwrap();
        let v = structured(&r);
        assert_eq!(v["sessions"][0]["id"], S1);
        assert_eq!(
            v["sessions"][0]["first_prompt"],
            "the parser drops the last byte of src/parse.rs"
        );
        assert_eq!(v["sessions"][0]["commits"][0], f.c2.as_str());
        assert_eq!(v["sessions"].as_array().unwrap().len(), 1);

        // Errors: tool errors with the CLI's own one-line messages.
        let r = call("get_session", json!({"id": "nope"})).await.unwrap();
        assert_eq!(
            error_text(&r),
            cli_error(&f.user, &f.repo, &["show", "nope"])
        );
        let r = call("why", json!({"file": "src/missing.rs"}))
            .await
            .unwrap();
        assert_eq!(
            error_text(&r),
            cli_error(&f.user, &f.repo, &["blame", "src/missing.rs"])
        );
        let r = call("why", json!({"file": "src/parse.rs", "start_line": 99}))
            .await
            .unwrap();
        assert_eq!(
            error_text(&r),
            cli_error(&f.user, &f.repo, &["blame", "src/parse.rs:99"])
        );
        let r = call("commit_sessions", json!({"commit": "no-such-rev"}))
            .await
            .unwrap();
        assert_eq!(
            error_text(&r),
            cli_error(&f.user, &f.repo, &["show", "--commit", "no-such-rev"])
        );
        let r = call(
            "search_sessions",
            json!({"query": "x", "since": "whenever"}),
        )
        .await
        .unwrap();
        assert_eq!(
            error_text(&r),
            cli_error(&f.user, &f.repo, &["search", "x", "--since", "whenever"])
        );

        // Wrong-typed, missing and unknown arguments.
        let r = call("get_session", json!({"id": S1, "limit": "ten"}))
            .await
            .unwrap();
        assert_eq!(
            error_text(&r),
            "get_session: argument 'limit' must be an integer, not a string"
        );
        let r = call("get_session", json!({"id": S1, "limit": -3}))
            .await
            .unwrap();
        assert!(error_text(&r).contains("must be a whole number 0 or more"));
        let r = call("get_session", json!({"id": S1, "roles": ["wizard"]}))
            .await
            .unwrap();
        assert!(error_text(&r).contains("unknown role 'wizard'"));
        let r = call("why", json!({})).await.unwrap();
        assert_eq!(error_text(&r), "why: argument 'file' is required");
        let r = call("why", json!({"file": "src/parse.rs", "colour": "red"}))
            .await
            .unwrap();
        assert!(error_text(&r).starts_with("why: unknown argument 'colour'"));

        // An unknown tool is a protocol error.
        match call("drop_tables", json!({})).await {
            Err(ServiceError::McpError(e)) => {
                assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
                assert!(
                    e.message.contains("unknown tool 'drop_tables'"),
                    "{}",
                    e.message
                );
            }
            other => panic!("{other:?}"),
        }

        client.cancel().await.unwrap();
    });
    // Nothing was written.
    assert_eq!(digest_db(&db), before);
}

fn r_text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

#[test]
fn without_an_archive_the_tools_answer_empty_or_say_what_to_do() {
    let world = World::new();
    let user = world.user("bob");
    user.git(&user.root, &["init", "-q", "repo"]).assert_ok();
    let repo = user.root.join("repo");
    let rt = runtime();
    rt.block_on(async {
        let cmd = tokio::process::Command::from(serve_command(&user, &repo));
        let client = ().serve(TokioChildProcess::new(cmd).unwrap()).await.unwrap();
        let call = |name: &'static str, a: Value| {
            client.call_tool(CallToolRequestParams::new(name).with_arguments(args(a)))
        };
        let r = call("list_sessions", json!({})).await.unwrap();
        assert_eq!(structured(&r)["sessions"], json!([]));
        let r = call("recent_context", json!({})).await.unwrap();
        assert_eq!(structured(&r)["sessions"], json!([]));
        let r = call("get_session", json!({"id": "abc"})).await.unwrap();
        assert_eq!(error_text(&r), cli_error(&user, &repo, &["show", "abc"]));
        client.cancel().await.unwrap();
    });
    // Reading made no lore.db.
    assert!(!user.lore_home.join("lore.db").exists());
}

/// Reads the child's stdout until `want` JSON-RPC responses came, or fails after a while.
fn responses(out: &mut impl Read, want: usize) -> Vec<Value> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut got = Vec::new();
    let start = Instant::now();
    while got.len() < want && start.elapsed() < Duration::from_secs(20) {
        let n = out.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        while let Some(i) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            let v: Value =
                serde_json::from_slice(&line).expect("each line the server writes is JSON");
            got.push(v);
        }
    }
    got
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

#[test]
fn malformed_json_rpc_is_survived_and_the_server_exits_cleanly() {
    let f = fixture();
    let mut child = serve_command(&f.user, &f.repo)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let script = [
        "this is not json",
        "{\"jsonrpc\": \"2.0\", \"id\": ",
        INIT,
        INITIALIZED,
        "[1, 2, 3",
        "\u{0}\u{1}garbage",
        // Valid JSON, not a valid request.
        r#"{"jsonrpc":"2.0","id":7,"method":42}"#,
        // A call of an unknown tool, then of a real one with wrong-typed arguments.
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"nope","arguments":{}}}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_session","arguments":{"id":17}}}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"list_sessions","arguments":{"all_repos":true}}}"#,
    ];
    for l in script {
        writeln!(stdin, "{l}").unwrap();
    }
    stdin.flush().unwrap();
    let got = responses(&mut stdout, 5);
    let by_id = |id: u64| {
        got.iter()
            .find(|v| v["id"] == id)
            .unwrap_or_else(|| panic!("no answer to {id}: {got:?}"))
    };
    assert_eq!(by_id(1)["result"]["serverInfo"]["name"], "lore");
    assert_eq!(by_id(2)["error"]["code"], -32602);
    assert_eq!(by_id(3)["result"]["isError"], true);
    assert_eq!(
        by_id(3)["result"]["content"][0]["text"],
        "get_session: argument 'id' must be a string, not a number"
    );
    assert_eq!(
        by_id(4)["result"]["structuredContent"]["sessions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The invalid request was answered with an error, not a crash.
    assert!(got.iter().any(|v| v["error"]["code"] == -32600), "{got:?}");
    drop(stdin);
    let status = wait(&mut child);
    assert_eq!(status.code(), Some(0));
}

fn wait(child: &mut std::process::Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the server did not exit after its client left");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_client_that_leaves_mid_answer_leaves_the_server_exiting_cleanly() {
    let f = fixture();
    let db = f.user.lore_home.join("lore.db");
    let before = digest_db(&db);
    for leave_after_init in [false, true] {
        let mut child = serve_command(&f.user, &f.repo)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        writeln!(stdin, "{INIT}").unwrap();
        if leave_after_init {
            writeln!(stdin, "{INITIALIZED}").unwrap();
            // Many requests whose answers are large, then the client goes without reading.
            for id in 10..40 {
                writeln!(
                    stdin,
                    r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"get_session","arguments":{{"id":"{S1}","tool_output":true}}}}}}"#
                )
                .unwrap();
            }
        }
        drop(stdout);
        drop(stdin);
        let status = wait(&mut child);
        assert_eq!(
            status.code(),
            Some(0),
            "leave after init: {leave_after_init}"
        );
    }
    assert_eq!(digest_db(&db), before);
}

/// A server registered user-wide starts outside any repository (an agent may start it in the
/// home folder): `repo` names the repository to ask about, and the answers are the same as from
/// inside it.
#[test]
fn a_server_started_outside_the_repository_answers_for_the_repo_it_is_given() {
    let f = fixture();
    let rt = runtime();
    rt.block_on(async {
        let cmd = tokio::process::Command::from(serve_command(&f.user, &f.user.home));
        let client = ().serve(TokioChildProcess::new(cmd).unwrap()).await.unwrap();
        let call = |name: &'static str, a: Value| {
            let client = &client;
            async move {
                client
                    .call_tool(CallToolRequestParams::new(name).with_arguments(args(a)))
                    .await
                    .unwrap()
            }
        };
        let repo = f.repo.to_string_lossy().into_owned();

        // Without repo: the home folder is no repository, said as a tool error.
        let r = call("why", json!({"file": "src/parse.rs", "start_line": 4})).await;
        assert!(error_text(&r).contains("git"), "{}", error_text(&r));

        let r = call(
            "why",
            json!({"file": "src/parse.rs", "start_line": 4, "repo": repo}),
        )
        .await;
        let v = structured(&r);
        let cli = f.user.lore(&f.repo, &["blame", "--json", "src/parse.rs:4"]);
        cli.assert_ok();
        let cli: Value = serde_json::from_str(&cli.stdout).unwrap();
        assert_eq!(&cli, v);

        let r = call("commit_sessions", json!({"commit": "HEAD", "repo": repo})).await;
        let v = structured(&r);
        assert_eq!(v["commit"]["sha"], f.c2.as_str());
        assert_eq!(v["sessions"][0]["id"], S1);

        let r = call("recent_context", json!({"repo": repo})).await;
        let v = structured(&r);
        assert_eq!(v["sessions"][0]["id"], S1, "{v}");
        let r = call("recent_context", json!({})).await;
        assert!(
            structured(&r)["sessions"].as_array().unwrap().is_empty(),
            "the home folder has no sessions of its own"
        );
        let _ = client.cancel().await;
    });
}
