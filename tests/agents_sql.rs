//! Importers for the SQLite-family agents of issue 18 (OpenCode, Kilo CLI), driven through the
//! built binary. Each fixture database is made here from SQL written for these tests (a schema
//! like the tool's, invented rows): no database is copied from anywhere. The databases are in
//! WAL mode with a writer connection left open, as with a running tool, so most rows are only
//! in the `-wal` while lore reads them.

mod common;

use std::path::{Path, PathBuf};

use common::TestEnv;
use predicates::prelude::*;
use rusqlite::Connection;

/// OpenCode 1.2–1.16's tables as its migrations make them (the columns lore reads, and some it
/// does not), plus a column no OpenCode has, which must not matter.
const OPENCODE_SCHEMA: &str = r#"
PRAGMA journal_mode=WAL;
PRAGMA wal_autocheckpoint=0;
CREATE TABLE `project` (`id` text PRIMARY KEY, `worktree` text NOT NULL, `vcs` text,
  `name` text, `time_created` integer NOT NULL, `time_updated` integer NOT NULL,
  `sandboxes` text NOT NULL);
CREATE TABLE `workspace` (`id` text PRIMARY KEY, `branch` text, `project_id` text NOT NULL,
  `type` text NOT NULL, `name` text, `directory` text, `extra` text);
CREATE TABLE `session` (`id` text PRIMARY KEY, `project_id` text NOT NULL, `parent_id` text,
  `slug` text NOT NULL, `directory` text NOT NULL, `title` text NOT NULL, `version` text NOT NULL,
  `share_url` text, `summary_additions` integer, `summary_deletions` integer,
  `summary_files` integer, `summary_diffs` text, `revert` text, `permission` text,
  `time_created` integer NOT NULL, `time_updated` integer NOT NULL, `time_compacting` integer,
  `time_archived` integer, `workspace_id` text, `future_column` blob);
CREATE TABLE `message` (`id` text PRIMARY KEY, `session_id` text NOT NULL,
  `time_created` integer NOT NULL, `time_updated` integer NOT NULL, `data` text NOT NULL);
CREATE TABLE `part` (`id` text PRIMARY KEY, `message_id` text NOT NULL, `session_id` text NOT NULL,
  `time_created` integer NOT NULL, `time_updated` integer NOT NULL, `data` text NOT NULL);
CREATE INDEX `message_session_idx` ON `message` (`session_id`);
CREATE INDEX `part_message_idx` ON `part` (`message_id`);
"#;

const PARENT: &str = "ses_1a2b3c4d5ffeParentSession01";
const CHILD: &str = "ses_1a2b3c4d6ffeChildSession002";
/// 2026-05-04T09:00:00Z.
const T0: i64 = 1_777_885_200_000;

/// Invented rows: a parent session (typed prompt, an @-mentioned file OpenCode injected, a
/// reply with reasoning, a tool call with its output, a failed tool call, a `task` call that
/// started a sub-agent, an unknown part type, a provider error) and the sub-agent's session.
fn opencode_rows(c: &Connection) {
    c.execute_batch(&format!(
        r#"
INSERT INTO project VALUES ('p1', '/home/dev/orchard', 'git', NULL, {T0}, {T0}, '[]');
INSERT INTO workspace VALUES ('w1', 'feature/pears', 'p1', 'worktree', NULL, '/home/dev/orchard', NULL);
INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created,
  time_updated, workspace_id, future_column)
  VALUES ('{PARENT}', 'p1', NULL, 'calm-pear', '/home/dev/orchard', 'Count the pears', '1.4.0',
  {T0}, {t_up}, 'w1', x'00ff');
INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created,
  time_updated) VALUES ('{CHILD}', 'p1', '{PARENT}', 'quick-pear', '/home/dev/orchard',
  'New session - 2026-05-04T09:00:20.000Z', '1.4.0', {t_child}, {t_child});
"#,
        t_up = T0 + 60_000,
        t_child = T0 + 20_000,
    ))
    .unwrap();
    let msg = |id: &str, session: &str, t: i64, data: &str| {
        c.execute(
            "INSERT INTO message VALUES (?1, ?2, ?3, ?3, ?4)",
            rusqlite::params![id, session, t, data],
        )
        .unwrap();
    };
    let part = |id: &str, m: &str, session: &str, t: i64, data: &str| {
        c.execute(
            "INSERT INTO part VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
            rusqlite::params![id, m, session, t, data],
        )
        .unwrap();
    };
    msg(
        "msg_001",
        PARENT,
        T0 + 1_000,
        r#"{"role":"user","time":{"created":1777885201000},"agent":"build","model":{"providerID":"anthropic","modelID":"claude-sonnet-4-6"}}"#,
    );
    part(
        "prt_001a",
        "msg_001",
        PARENT,
        T0 + 1_000,
        r#"{"type":"text","text":"How many pear varieties are in @data/pears.csv?"}"#,
    );
    part(
        "prt_001b",
        "msg_001",
        PARENT,
        T0 + 1_000,
        r#"{"type":"text","synthetic":true,"text":"Called the Read tool with the following input: {\"filePath\":\"data/pears.csv\"}"}"#,
    );
    part(
        "prt_001c",
        "msg_001",
        PARENT,
        T0 + 1_000,
        r#"{"type":"file","mime":"text/csv","filename":"data/pears.csv","url":"file:///home/dev/orchard/data/pears.csv"}"#,
    );
    msg(
        "msg_002",
        PARENT,
        T0 + 2_000,
        r#"{"role":"assistant","parentID":"msg_001","modelID":"claude-sonnet-4-6","providerID":"anthropic","mode":"build","path":{"cwd":"/home/dev/orchard","root":"/home/dev/orchard"},"time":{"created":1777885202000,"completed":1777885210000},"finish":"tool-calls","newer_field":{"x":1}}"#,
    );
    part(
        "prt_002a",
        "msg_002",
        PARENT,
        T0 + 2_000,
        r#"{"type":"step-start","snapshot":"abc"}"#,
    );
    part(
        "prt_002b",
        "msg_002",
        PARENT,
        T0 + 2_100,
        r#"{"type":"reasoning","text":"The CSV has a header line; count the rest.","time":{"start":1777885202100,"end":1777885202500}}"#,
    );
    part(
        "prt_002c",
        "msg_002",
        PARENT,
        T0 + 2_600,
        r#"{"type":"text","text":"I will count the lines.","time":{"start":1777885202600,"end":1777885202700}}"#,
    );
    part(
        "prt_002d",
        "msg_002",
        PARENT,
        T0 + 3_000,
        r#"{"type":"tool","callID":"call_1","tool":"bash","state":{"status":"completed","input":{"command":"wc -l data/pears.csv","description":"count lines"},"output":"4 data/pears.csv","title":"wc","metadata":{},"time":{"start":1777885203000,"end":1777885203500}}}"#,
    );
    part(
        "prt_002e",
        "msg_002",
        PARENT,
        T0 + 4_000,
        r#"{"type":"tool","callID":"call_2","tool":"read","state":{"status":"error","input":{"filePath":"/home/dev/orchard/missing.txt"},"error":"File not found: /home/dev/orchard/missing.txt","time":{"start":1777885204000,"end":1777885204100}}}"#,
    );
    part(
        "prt_002f",
        "msg_002",
        PARENT,
        T0 + 5_000,
        &format!(
            r#"{{"type":"tool","callID":"call_3","tool":"task","state":{{"status":"completed","input":{{"description":"check origins","prompt":"List each pear's origin","subagent_type":"general"}},"output":"Two from England, one from Japan.","metadata":{{"sessionId":"{CHILD}"}},"time":{{"start":1777885205000,"end":1777885230000}}}}}}"#
        ),
    );
    part(
        "prt_002g",
        "msg_002",
        PARENT,
        T0 + 31_000,
        r#"{"type":"hologram","payload":"a part type from a newer OpenCode"}"#,
    );
    part(
        "prt_002h",
        "msg_002",
        PARENT,
        T0 + 31_000,
        r#"{"type":"step-finish","reason":"tool-calls","tokens":{"input":10,"output":5}}"#,
    );
    msg(
        "msg_003",
        PARENT,
        T0 + 32_000,
        r#"{"role":"assistant","parentID":"msg_001","modelID":"claude-opus-4-6","providerID":"anthropic","time":{"created":1777885232000,"completed":1777885233000},"error":{"name":"APIError","data":{"message":"Overloaded","statusCode":529}}}"#,
    );
    // The sub-agent.
    msg(
        "msg_101",
        CHILD,
        T0 + 20_000,
        r#"{"role":"user","time":{"created":1777885220000},"agent":"general"}"#,
    );
    part(
        "prt_101a",
        "msg_101",
        CHILD,
        T0 + 20_000,
        r#"{"type":"text","text":"List each pear's origin"}"#,
    );
    msg(
        "msg_102",
        CHILD,
        T0 + 21_000,
        r#"{"role":"assistant","modelID":"claude-haiku-4-5","time":{"created":1777885221000}}"#,
    );
    part(
        "prt_102a",
        "msg_102",
        CHILD,
        T0 + 21_000,
        r#"{"type":"text","text":"Two from England, one from Japan."}"#,
    );
}

/// A database at `path` made from the schema and the rows above, in WAL mode; the returned
/// connection stays open (a running tool) so the rows stay in the `-wal`.
fn make_db(path: &Path) -> Connection {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let c = Connection::open(path).unwrap();
    c.execute_batch(OPENCODE_SCHEMA).unwrap();
    opencode_rows(&c);
    c
}

fn wal(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push("-wal");
    PathBuf::from(s)
}

fn bytes_of(path: &Path) -> (Vec<u8>, Vec<u8>) {
    (
        std::fs::read(path).unwrap(),
        std::fs::read(wal(path)).unwrap_or_default(),
    )
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
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["commits"]
        .as_array()
        .expect("history --json lists commits")
        .len()
}

fn opencode_db(env: &TestEnv) -> PathBuf {
    env.home.join(".local/share/opencode/opencode.db")
}

#[test]
fn opencode_db_sessions_become_prompts_context_thinking_tools_errors_and_sub_agents() {
    let env = TestEnv::new();
    let db = opencode_db(&env);
    let writer = make_db(&db);
    let before = bytes_of(&db);
    assert!(!before.1.is_empty(), "the rows are in the -wal");
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("opencode: 2 new, 0 updated"));
    // Read, never written: the database and its log are byte for byte as they were.
    assert_eq!(before, bytes_of(&db));

    let s = env.show(PARENT);
    assert_eq!(s["tool"], "opencode");
    assert_eq!(s["tool_version"], "1.4.0");
    assert_eq!(s["title"], "Count the pears");
    assert_eq!(s["cwd"], "/home/dev/orchard");
    assert_eq!(s["git_branch"], "feature/pears");
    // The model of the last reply.
    assert_eq!(s["model"], "claude-opus-4-6");
    assert_eq!(s["started_at"], "2026-05-04T09:00:00Z");
    assert_eq!(s["updated_at"], "2026-05-04T09:01:00Z");
    assert_eq!(s["ended_at"], "2026-05-04T09:00:33Z");
    let got = rows(&s);
    let want: Vec<(&str, &str, &str, &str)> = vec![
        (
            "user",
            "text",
            "",
            "How many pear varieties are in @data/pears.csv?",
        ),
        (
            "system",
            "text",
            "",
            r#"Called the Read tool with the following input: {"filePath":"data/pears.csv"}"#,
        ),
        ("system", "text", "", "[attachment: data/pears.csv]"),
        (
            "assistant",
            "thinking",
            "",
            "The CSV has a header line; count the rest.",
        ),
        ("assistant", "text", "", "I will count the lines."),
        (
            "assistant",
            "tool_use",
            "bash",
            r#"bash: {"command":"wc -l data/pears.csv","description":"count lines"}"#,
        ),
        ("tool", "tool_result", "bash", "4 data/pears.csv"),
        (
            "assistant",
            "tool_use",
            "read",
            r#"read: {"filePath":"/home/dev/orchard/missing.txt"}"#,
        ),
        (
            "tool",
            "tool_result",
            "read",
            "error: File not found: /home/dev/orchard/missing.txt",
        ),
        (
            "assistant",
            "tool_use",
            "task",
            r#"task: {"description":"check origins","prompt":"List each pear's origin","subagent_type":"general"}"#,
        ),
        (
            "tool",
            "tool_result",
            "task",
            "Two from England, one from Japan.",
        ),
        ("system", "text", "", "[APIError] Overloaded"),
    ];
    let want: Vec<(String, String, String, String)> = want
        .into_iter()
        .map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into()))
        .collect();
    assert_eq!(got, want);
    // One prompt, then three assistant runs split by the tool results.
    assert_eq!(s["message_count"], 4);

    let c = env.show(CHILD);
    assert_eq!(c["parent_id"], PARENT);
    assert_eq!(c["model"], "claude-haiku-4-5");
    // OpenCode's placeholder title is no title: lore's own (the first prompt) stands.
    assert_eq!(c["title"], "List each pear's origin");
    assert_eq!(
        rows(&c).into_iter().map(|r| (r.0, r.3)).collect::<Vec<_>>(),
        vec![
            ("user".into(), "List each pear's origin".into()),
            (
                "assistant".into(),
                "Two from England, one from Japan.".into()
            ),
        ]
    );
    drop(writer);
}

#[test]
fn opencode_reimport_changes_nothing_and_growth_in_the_wal_adds_and_updates_in_place() {
    let env = TestEnv::new();
    let db = opencode_db(&env);
    let writer = make_db(&db);
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
    assert_eq!(commits, history_len(&env), "no commit when nothing changed");

    // A write that touches no conversation (OpenCode keeps more than sessions) is read and
    // writes no commit.
    writer
        .execute("UPDATE project SET time_updated = time_updated + 1", [])
        .unwrap();
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 0 new sessions, updated 0.",
        ));
    assert_eq!(digest, env.digest());
    assert_eq!(
        commits,
        history_len(&env),
        "no commit for a change outside the sessions"
    );

    // The running tool adds a turn (into the -wal only: the database file keeps its bytes)
    // and a streamed part grows in place.
    let main_before = std::fs::read(&db).unwrap();
    let full = env.show(PARENT);
    writer
        .execute_batch(&format!(
            r#"
INSERT INTO message VALUES ('msg_004', '{PARENT}', {t}, {t},
  '{{"role":"user","time":{{"created":{t}}}}}');
INSERT INTO part VALUES ('prt_004a', 'msg_004', '{PARENT}', {t}, {t},
  '{{"type":"text","text":"and their colours?"}}');
UPDATE part SET data = '{{"type":"text","text":"I will count the lines, minus the header."}}'
  WHERE id = 'prt_002c';
UPDATE session SET time_updated = {t} WHERE id = '{PARENT}';
"#,
            t = T0 + 90_000
        ))
        .unwrap();
    assert_eq!(main_before, std::fs::read(&db).unwrap());
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("updated 1"));
    let after = env.show(PARENT);
    let n = full["messages"].as_array().unwrap().len();
    let msgs = after["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), n + 1);
    assert_eq!(msgs[n]["content"], "and their colours?");
    assert_eq!(msgs[n]["role"], "user");
    assert_eq!(
        msgs[4]["content"],
        "I will count the lines, minus the header."
    );
    assert_eq!(after["updated_at"], "2026-05-04T09:01:30Z");
    drop(writer);
}

#[test]
fn xdg_data_home_kilo_db_and_named_databases_are_found_and_told_apart() {
    let env = TestEnv::new();
    // XDG_DATA_HOME moves OpenCode's folder; a release channel names its database.
    let data = env.path("xdg");
    let w1 = make_db(&data.join("opencode/opencode-stable.db"));
    // Kilo CLI: OpenCode's schema in kilo.db, located by $KILO_DB.
    let kilo = env.path("elsewhere/kilo.db");
    let w2 = make_db(&kilo);
    w2.execute_batch(&format!(
        "UPDATE session SET version = '7.0.46', id = 'ses_kilo_' || id; \
         UPDATE message SET session_id = 'ses_kilo_' || session_id; \
         UPDATE session SET parent_id = 'ses_kilo_{PARENT}' WHERE parent_id IS NOT NULL;"
    ))
    .unwrap();
    env.lore()
        .arg("import")
        .env("XDG_DATA_HOME", &data)
        .env("KILO_DB", &kilo)
        .assert()
        .success()
        .stdout(predicate::str::contains("opencode: 2 new, 0 updated"))
        .stdout(predicate::str::contains("kilo: 2 new, 0 updated"));
    let k = env.show(&format!("ses_kilo_{PARENT}"));
    assert_eq!(k["tool"], "kilo");
    assert_eq!(k["tool_version"], "7.0.46");
    assert_eq!(
        env.show(&format!("ses_kilo_{CHILD}"))["parent_id"],
        format!("ses_kilo_{PARENT}")
    );

    // A database named on the command line is recognised by its tables, no --tool needed.
    let other = TestEnv::new();
    let copy = other.path("backup/opencode.db");
    let w3 = make_db(&copy);
    other
        .lore()
        .arg("import")
        .arg(other.path("backup"))
        .assert()
        .success()
        .stdout(predicate::str::contains("opencode: 2 new, 0 updated"));
    drop((w1, w2, w3));
}

#[test]
fn a_database_that_is_not_opencode_s_is_refused_in_one_line_and_nothing_changes() {
    let env = TestEnv::new();
    let w = make_db(&opencode_db(&env));
    env.lore().arg("import").assert().success();
    let digest = env.digest();
    let commits = history_len(&env);

    let other = env.path("notes.db");
    let c = Connection::open(&other).unwrap();
    c.execute_batch("CREATE TABLE notes(body text); INSERT INTO notes VALUES ('hi');")
        .unwrap();
    drop(c);
    let before = std::fs::read(&other).unwrap();
    let out = env
        .lore()
        .args(["import", "--tool", "opencode"])
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a opencode transcript: no session, message and part tables"),
        "{err}"
    );
    assert_eq!(before, std::fs::read(&other).unwrap());

    // Garbage with a database's name.
    let junk = env.path("junk.db");
    std::fs::write(&junk, b"this is not a database\n").unwrap();
    let out = env
        .lore()
        .args(["import", "--tool", "opencode"])
        .arg(&junk)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an SQLite database"), "{err}");
    assert_eq!(digest, env.digest());
    assert_eq!(commits, history_len(&env));
    drop(w);
}

#[test]
fn init_and_doctor_list_opencode() {
    let env = TestEnv::new();
    let w = make_db(&opencode_db(&env));
    let out = env.lore().args(["init", "--yes"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.lines()
            .any(|l| l.contains("opencode") && l.contains("1 transcript")),
        "{text}"
    );
    assert!(env.sessions().iter().any(|s| s["id"] == PARENT));
    let out = env.lore().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("opencode (1 transcript"), "{text}");
    drop(w);
}

// ---------------------------------------------------------------------------------------------
// Cursor IDE: state.vscdb
// ---------------------------------------------------------------------------------------------

/// VS Code's key-value tables as Cursor's `state.vscdb` has them.
const VSCDB_SCHEMA: &str = "
PRAGMA journal_mode=WAL;
CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB);
CREATE TABLE cursorDiskKV (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB);
";

const COMPOSER: &str = "c0ffee00-0000-4000-8000-00000000000a";
const SUB_COMPOSER: &str = "c0ffee00-0000-4000-8000-00000000000b";
const TAB: &str = "7ab00000-0000-4000-8000-00000000000c";

fn kv(c: &Connection, table: &str, key: &str, value: &serde_json::Value) {
    c.execute(
        &format!("INSERT INTO {table} (key, value) VALUES (?1, ?2)"),
        rusqlite::params![key, value.to_string()],
    )
    .unwrap();
}

/// A 2026 composer (bubbles in their own rows, listed by `fullConversationHeadersOnly`) with a
/// sub-agent composer of the older inline layout, an empty draft, and one unreadable bubble.
fn make_vscdb(path: &Path) -> Connection {
    use serde_json::json;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let c = Connection::open(path).unwrap();
    c.execute_batch(VSCDB_SCHEMA).unwrap();
    kv(&c, "ItemTable", "workbench.view.state", &json!({"x": 1}));
    let bubbles = ["u1", "a1", "a2", "a3", "a4", "bad", "a5"];
    kv(
        &c,
        "cursorDiskKV",
        &format!("composerData:{COMPOSER}"),
        &json!({
            "_v": 16, "composerId": COMPOSER, "name": "Fix the pear counter",
            "createdAt": T0, "lastUpdatedAt": T0 + 60_000, "unifiedMode": "agent",
            "modelConfig": {"modelName": "composer-2.5", "maxMode": false},
            "workspaceIdentifier": {"id": "w", "uri": {"fsPath": "/home/dev/orchard", "scheme": "file"}},
            "trackedGitRepos": [{"repoPath": "/home/dev/orchard", "branches": [
                {"branchName": "main", "lastInteractionAt": T0},
                {"branchName": "feature/pears", "lastInteractionAt": T0 + 5}]}],
            "subagentComposerIds": [SUB_COMPOSER],
            "fullConversationHeadersOnly": bubbles.iter().map(|b| json!({"bubbleId": b, "type": 2})).collect::<Vec<_>>(),
            "aNewerField": {"deep": [1, 2, 3]},
        }),
    );
    let b = |id: &str, v: serde_json::Value| {
        kv(&c, "cursorDiskKV", &format!("bubbleId:{COMPOSER}:{id}"), &v);
    };
    b(
        "u1",
        json!({"_v": 3, "type": 1, "bubbleId": "u1", "text": "count() is off by one; fix it",
        "createdAt": "2026-05-04T09:00:01.000Z", "context": {"fileSelections": []}}),
    );
    b(
        "a1",
        json!({"_v": 3, "type": 2, "bubbleId": "a1", "text": "",
        "thinking": {"text": "The header row is counted.", "signature": ""},
        "createdAt": "2026-05-04T09:00:02.000Z", "modelInfo": {"modelName": "composer-2.5"}}),
    );
    b(
        "a2",
        json!({"_v": 3, "type": 2, "bubbleId": "a2", "text": "",
        "createdAt": "2026-05-04T09:00:03.000Z",
        "toolFormerData": {"toolCallId": "t1", "name": "read_file_v2", "status": "completed",
            "rawArgs": "{\"path\":\"src/pears.rs\"}", "params": "{\"path\":\"src/pears.rs\",\"x\":1}",
            "result": "{\"contents\":\"fn count() -> usize { PEARS.len() + 1 }\"}"}}),
    );
    b(
        "a3",
        json!({"_v": 3, "type": 2, "bubbleId": "a3", "text": "",
        "createdAt": "2026-05-04T09:00:04.000Z",
        "toolFormerData": {"toolCallId": "t2", "name": "run_terminal_command_v2", "status": "error",
            "params": "{\"command\":\"cargo test\"}", "error": "command not allowed"}}),
    );
    b(
        "a4",
        json!({"_v": 3, "type": 2, "bubbleId": "a4", "text": "Removed the `+ 1`.",
        "createdAt": "2026-05-04T09:00:05.000Z", "futureBlock": {"kind": "hologram"}}),
    );
    c.execute(
        "INSERT INTO cursorDiskKV VALUES (?1, ?2)",
        rusqlite::params![format!("bubbleId:{COMPOSER}:bad"), "{not json"],
    )
    .unwrap();
    // a5 is listed but its row is gone (Cursor prunes): skipped.
    kv(
        &c,
        "cursorDiskKV",
        &format!("composerData:{SUB_COMPOSER}"),
        &json!({
            "_v": 3, "composerId": SUB_COMPOSER, "name": "Check the tests",
            "createdAt": T0 + 10_000, "lastUpdatedAt": T0 + 20_000,
            "conversation": [
                {"type": 1, "bubbleId": "s1", "text": "Run the pear tests"},
                {"type": 2, "bubbleId": "s2", "text": "All 3 pass."}
            ]
        }),
    );
    kv(
        &c,
        "cursorDiskKV",
        "composerData:empty-draft",
        &json!({"_v": 16, "composerId": "empty-draft", "fullConversationHeadersOnly": []}),
    );
    c
}

/// The 2024 chat panel, in `ItemTable` (macOS layout).
fn make_legacy_vscdb(path: &Path) {
    use serde_json::json;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let c = Connection::open(path).unwrap();
    c.execute_batch("CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB);")
        .unwrap();
    kv(
        &c,
        "ItemTable",
        "workbench.panel.aichat.view.aichat.chatdata",
        &json!({"tabs": [{
        "tabId": TAB, "chatTitle": "Why does the pear list panic?", "lastSendTime": T0 + 9_000,
        "bubbles": [
            {"type": "user", "id": "l1", "text": "", "delegate": {"a": "Why does the pear list panic?"},
             "contextCacheTimestamp": T0 + 1_000},
            {"type": "ai", "id": "l2", "rawText": "It indexes past the end.", "modelType": "claude-3.5-sonnet"},
            {"type": "user", "id": "l3", "text": ""}
        ]}]}),
    );
}

fn cursor_user(env: &TestEnv) -> PathBuf {
    env.home.join(".config/Cursor/User")
}

#[test]
fn cursor_state_vscdb_composers_bubbles_tools_sub_agents_and_the_2024_chat_panel() {
    let env = TestEnv::new();
    let db = cursor_user(&env).join("globalStorage/state.vscdb");
    let w = make_vscdb(&db);
    make_legacy_vscdb(
        &env.home
            .join("Library/Application Support/Cursor/User/globalStorage/state.vscdb"),
    );
    let before = bytes_of(&db);
    let out = env.lore().arg("import").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("cursor: 3 new, 0 updated"), "{stdout}");
    // The unreadable bubble is reported in one line, the rest is read.
    assert!(
        stderr.contains(&format!("bubbleId:{COMPOSER}:bad: unreadable")),
        "{stderr}"
    );
    assert_eq!(before, bytes_of(&db));

    let s = env.show(COMPOSER);
    assert_eq!(s["tool"], "cursor");
    assert_eq!(s["title"], "Fix the pear counter");
    assert_eq!(s["model"], "composer-2.5");
    assert_eq!(s["cwd"], "/home/dev/orchard");
    assert_eq!(s["git_branch"], "feature/pears");
    assert_eq!(s["started_at"], "2026-05-04T09:00:00Z");
    assert_eq!(s["updated_at"], "2026-05-04T09:01:00Z");
    assert_eq!(s["ended_at"], "2026-05-04T09:00:05Z");
    let got = rows(&s);
    let want: Vec<(String, String, String, String)> = [
        ("user", "text", "", "count() is off by one; fix it"),
        ("assistant", "thinking", "", "The header row is counted."),
        (
            "assistant",
            "tool_use",
            "read_file_v2",
            r#"read_file_v2: {"path":"src/pears.rs"}"#,
        ),
        (
            "tool",
            "tool_result",
            "read_file_v2",
            r#"{"contents":"fn count() -> usize { PEARS.len() + 1 }"}"#,
        ),
        (
            "assistant",
            "tool_use",
            "run_terminal_command_v2",
            r#"run_terminal_command_v2: {"command":"cargo test"}"#,
        ),
        (
            "tool",
            "tool_result",
            "run_terminal_command_v2",
            "error: command not allowed",
        ),
        ("assistant", "text", "", "Removed the `+ 1`."),
    ]
    .into_iter()
    .map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into()))
    .collect();
    assert_eq!(got, want);

    let sub = env.show(SUB_COMPOSER);
    assert_eq!(sub["parent_id"], COMPOSER);
    assert_eq!(
        rows(&sub).into_iter().map(|r| r.3).collect::<Vec<_>>(),
        vec!["Run the pear tests", "All 3 pass."]
    );
    // The empty draft is no session.
    assert!(!env.sessions().iter().any(|s| s["id"] == "empty-draft"));

    let legacy = env.show(TAB);
    assert_eq!(legacy["model"], "claude-3.5-sonnet");
    assert_eq!(legacy["title"], "Why does the pear list panic?");
    assert_eq!(
        rows(&legacy)
            .into_iter()
            .map(|r| (r.0, r.3))
            .collect::<Vec<_>>(),
        vec![
            ("user".into(), "Why does the pear list panic?".into()),
            ("assistant".into(), "It indexes past the end.".into()),
        ]
    );

    // Again: nothing changes, no commit; Cursor writing window state changes nothing either.
    let digest = env.digest();
    let commits = history_len(&env);
    kv(
        &w,
        "ItemTable",
        "workbench.view.state",
        &serde_json::json!({"x": 2}),
    );
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 0 new sessions, updated 0.",
        ));
    assert_eq!(digest, env.digest());
    assert_eq!(commits, history_len(&env));

    // A new bubble: the composer grows by it, nothing else moves.
    kv(
        &w,
        "cursorDiskKV",
        &format!("bubbleId:{COMPOSER}:u2"),
        &serde_json::json!({"type": 1, "bubbleId": "u2", "text": "thanks"}),
    );
    let mut data: serde_json::Value = serde_json::from_str(
        &w.query_row(
            "SELECT value FROM cursorDiskKV WHERE key = ?1",
            [format!("composerData:{COMPOSER}")],
            |r| r.get::<_, String>(0),
        )
        .unwrap(),
    )
    .unwrap();
    data["fullConversationHeadersOnly"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"bubbleId": "u2", "type": 1}));
    kv(
        &w,
        "cursorDiskKV",
        &format!("composerData:{COMPOSER}"),
        &data,
    );
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("updated 1"));
    let after = rows(&env.show(COMPOSER));
    assert_eq!(after.len(), want.len() + 1);
    assert_eq!(after[..want.len()], want[..]);
    assert_eq!(after[want.len()].3, "thanks");
    drop(w);
}

#[test]
fn a_named_state_vscdb_is_detected_and_a_vscode_database_without_chats_is_refused() {
    let env = TestEnv::new();
    let w = make_vscdb(&env.path("copy/state.vscdb"));
    env.lore()
        .arg("import")
        .arg(env.path("copy"))
        .assert()
        .success()
        .stdout(predicate::str::contains("cursor: 2 new, 0 updated"));
    let plain = env.path("plain/state.vscdb");
    std::fs::create_dir_all(plain.parent().unwrap()).unwrap();
    let c = Connection::open(&plain).unwrap();
    c.execute_batch("CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB);")
        .unwrap();
    drop(c);
    let out = env
        .lore()
        .args(["import", "--tool", "cursor"])
        .arg(&plain)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a cursor transcript: no cursorDiskKV table and no chat panel data"),
        "{err}"
    );
    drop(w);
}

// ---------------------------------------------------------------------------------------------
// Crush: <project>/.crush/crush.db
// ---------------------------------------------------------------------------------------------

/// Crush's tables as its migrations make them (the columns lore reads, and some it does not).
const CRUSH_SCHEMA: &str = "
PRAGMA journal_mode=WAL;
CREATE TABLE sessions (id TEXT PRIMARY KEY, parent_session_id TEXT, title TEXT NOT NULL,
  message_count INTEGER NOT NULL DEFAULT 0, prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0, cost REAL NOT NULL DEFAULT 0.0,
  updated_at INTEGER NOT NULL, created_at INTEGER NOT NULL, summary_message_id TEXT);
CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, role TEXT NOT NULL,
  parts TEXT NOT NULL default '[]', model TEXT, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL, finished_at INTEGER, provider TEXT, is_summary_message INTEGER);
";

const CRUSH_S: &str = "5e550000-0000-4000-8000-0000000000c1";
const CRUSH_SUB: &str = "call_sub_0001";

fn make_crush(path: &Path) -> Connection {
    use serde_json::json;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let c = Connection::open(path).unwrap();
    c.execute_batch(CRUSH_SCHEMA).unwrap();
    // Times in Unix seconds, as Crush writes them.
    let t = T0 / 1000;
    c.execute_batch(&format!(
        "INSERT INTO sessions (id, parent_session_id, title, updated_at, created_at) VALUES
           ('{CRUSH_S}', NULL, 'Why does the pod restart?', {u}, {t}),
           ('{CRUSH_SUB}', '{CRUSH_S}', 'Look for OOM kills', {t2}, {t2});",
        u = t + 60,
        t2 = t + 10,
    ))
    .unwrap();
    let m =
        |id: &str, s: &str, role: &str, at: i64, model: Option<&str>, parts: serde_json::Value| {
            c.execute(
                "INSERT INTO messages (id, session_id, role, parts, model, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                rusqlite::params![id, s, role, parts.to_string(), model, at],
            )
            .unwrap();
        };
    m(
        "m1",
        CRUSH_S,
        "user",
        t + 1,
        None,
        json!([
        {"type": "text", "data": {"text": "Why does the pod restart?"}},
        {"type": "finish", "data": {"reason": "stop", "time": 0}}]),
    );
    m(
        "m2",
        CRUSH_S,
        "assistant",
        t + 2,
        Some("qwen/qwen3-coder"),
        json!([
        {"type": "reasoning", "data": {"thinking": "Check the events first.", "signature": "", "started_at": t + 2, "finished_at": t + 3}},
        {"type": "text", "data": {"text": "Looking at the events."}},
        {"type": "tool_call", "data": {"id": "c1", "name": "bash", "input": "{\"command\": \"kubectl get events\"}", "type": "function", "finished": true}},
        {"type": "hologram", "data": {"x": 1}},
        {"type": "finish", "data": {"reason": "tool_use", "time": t + 4}}]),
    );
    m(
        "m3",
        CRUSH_S,
        "tool",
        t + 5,
        None,
        json!([
        {"type": "tool_result", "data": {"tool_call_id": "c1", "name": "", "content": "OOMKilled", "metadata": "", "is_error": false}},
        {"type": "tool_result", "data": {"tool_call_id": "c9", "name": "view", "content": "no such file", "metadata": "", "is_error": true}}]),
    );
    m(
        "m4",
        CRUSH_S,
        "assistant",
        t + 6,
        Some("openai/gpt-5-mini"),
        json!([
        {"type": "finish", "data": {"reason": "error", "time": t + 7, "message": "API Error", "details": "400 Bad Request"}}]),
    );
    c.execute(
        "INSERT INTO messages (id, session_id, role, parts, created_at, updated_at) VALUES ('m5', ?1, 'assistant', '[not json', ?2, ?2)",
        rusqlite::params![CRUSH_S, t + 8],
    )
    .unwrap();
    m(
        "s1",
        CRUSH_SUB,
        "user",
        t + 10,
        None,
        json!([{"type": "text", "data": {"text": "Find OOM kills"}}]),
    );
    m(
        "s2",
        CRUSH_SUB,
        "assistant",
        t + 11,
        Some("qwen/qwen3-coder"),
        json!([{"type": "text", "data": {"text": "One, at 09:00."}}]),
    );
    c
}

#[test]
fn crush_db_of_a_configured_project_sessions_tools_errors_and_sub_agents() {
    let env = TestEnv::new();
    let project = env.path("work/pods");
    let db = project.join(".crush/crush.db");
    let w = make_crush(&db);
    let before = bytes_of(&db);
    env.lore()
        .args(["config", "set", "crush_paths"])
        .arg(&project)
        .assert()
        .success();
    let out = env.lore().arg("import").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("crush: 2 new, 0 updated"), "{stdout}");
    assert!(stderr.contains("message m5: unreadable parts"), "{stderr}");
    assert_eq!(before, bytes_of(&db));

    let s = env.show(CRUSH_S);
    assert_eq!(s["tool"], "crush");
    assert_eq!(s["title"], "Why does the pod restart?");
    assert_eq!(s["model"], "openai/gpt-5-mini");
    assert_eq!(s["started_at"], "2026-05-04T09:00:00Z");
    assert_eq!(s["updated_at"], "2026-05-04T09:01:00Z");
    let got = rows(&s);
    let want: Vec<(String, String, String, String)> = [
        ("user", "text", "", "Why does the pod restart?"),
        ("assistant", "thinking", "", "Check the events first."),
        ("assistant", "text", "", "Looking at the events."),
        (
            "assistant",
            "tool_use",
            "bash",
            r#"bash: {"command":"kubectl get events"}"#,
        ),
        ("tool", "tool_result", "bash", "OOMKilled"),
        ("tool", "tool_result", "view", "error: no such file"),
        ("system", "text", "", "[API Error] 400 Bad Request"),
    ]
    .into_iter()
    .map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(env.show(CRUSH_SUB)["parent_id"], CRUSH_S);

    // Again: nothing changes and no commit is written.
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

    // A database named on the command line is recognised by its tables.
    let other = TestEnv::new();
    other
        .lore()
        .arg("import")
        .arg(&db)
        .assert()
        .success()
        .stdout(predicate::str::contains("crush: 2 new, 0 updated"));
    drop(w);
}

// ---------------------------------------------------------------------------------------------
// Goose: sessions.db
// ---------------------------------------------------------------------------------------------

/// Goose's tables as its schema version 5 makes them.
const GOOSE_SCHEMA: &str = "
PRAGMA journal_mode=WAL;
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE sessions (id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '', user_set_name BOOLEAN DEFAULT FALSE,
  session_type TEXT NOT NULL DEFAULT 'user', working_dir TEXT NOT NULL,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  extension_data TEXT DEFAULT '{}', total_tokens INTEGER);
CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,
  role TEXT NOT NULL, content_json TEXT NOT NULL, created_timestamp INTEGER NOT NULL,
  timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP, tokens INTEGER, metadata_json TEXT);
";

#[test]
fn goose_sessions_db_prompts_hidden_context_tools_and_sql_times() {
    use serde_json::json;
    let env = TestEnv::new();
    let db = env.home.join(".local/share/goose/sessions/sessions.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let c = Connection::open(&db).unwrap();
    c.execute_batch(GOOSE_SCHEMA).unwrap();
    c.execute_batch(
        "INSERT INTO sessions (id, name, working_dir, created_at, updated_at) VALUES
         ('20260504_1', 'Tidy the pear module', '/home/dev/orchard', '2026-05-04 09:00:00', '2026-05-04 09:01:00'),
         ('20260504_2', 'CLI Session', '/home/dev/orchard', '2026-05-04 10:00:00', '2026-05-04 10:00:00');",
    )
    .unwrap();
    let t = T0 / 1000;
    let m = |role: &str, at: i64, content: serde_json::Value, meta: serde_json::Value| {
        c.execute(
            "INSERT INTO messages (session_id, role, content_json, created_timestamp, metadata_json)
             VALUES ('20260504_1', ?1, ?2, ?3, ?4)",
            rusqlite::params![role, content.to_string(), at, meta.to_string()],
        )
        .unwrap();
    };
    let shown = json!({"userVisible": true, "agentVisible": true});
    m(
        "user",
        t + 1,
        json!([{"type": "text", "text": "tidy src/pears.rs"}]),
        shown.clone(),
    );
    m(
        "user",
        t + 1,
        json!([{"type": "text", "text": "<info-msg>working dir: /home/dev/orchard</info-msg>"}]),
        json!({"userVisible": false, "agentVisible": true}),
    );
    m(
        "assistant",
        t + 2,
        json!([
        {"type": "thinking", "thinking": "Format first.", "signature": "x"},
        {"type": "text", "text": "Running the formatter."},
        {"type": "toolRequest", "id": "r1", "toolCall": {"status": "success", "value": {"name": "developer__shell", "arguments": {"command": "rustfmt src/pears.rs"}}}},
        {"type": "newKind", "x": 1}]),
        shown.clone(),
    );
    m(
        "user",
        t + 3,
        json!([{"type": "toolResponse", "id": "r1", "toolResult": {"status": "success", "value": [{"type": "text", "text": "ok"}]}}]),
        shown.clone(),
    );
    m(
        "assistant",
        t + 4,
        json!([{"type": "text", "text": "Done."}]),
        shown,
    );
    drop(c);
    let before = bytes_of(&db);
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains("goose: 2 new, 0 updated"));
    assert_eq!(before, bytes_of(&db));
    let s = env.show("20260504_1");
    assert_eq!(s["tool"], "goose");
    assert_eq!(s["title"], "Tidy the pear module");
    assert_eq!(s["cwd"], "/home/dev/orchard");
    assert_eq!(s["started_at"], "2026-05-04T09:00:00Z");
    assert_eq!(s["updated_at"], "2026-05-04T09:01:00Z");
    assert_eq!(s["ended_at"], "2026-05-04T09:00:04Z");
    let got = rows(&s);
    let want: Vec<(String, String, String, String)> = [
        ("user", "text", "", "tidy src/pears.rs"),
        (
            "system",
            "text",
            "",
            "<info-msg>working dir: /home/dev/orchard</info-msg>",
        ),
        ("assistant", "thinking", "", "Format first."),
        ("assistant", "text", "", "Running the formatter."),
        (
            "assistant",
            "tool_use",
            "developer__shell",
            r#"developer__shell: {"command":"rustfmt src/pears.rs"}"#,
        ),
        ("tool", "tool_result", "developer__shell", "ok"),
        ("assistant", "text", "", "Done."),
    ]
    .into_iter()
    .map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into()))
    .collect();
    assert_eq!(got, want);
    // Goose's placeholder name is no title; a session without messages is still listed.
    assert!(env.show("20260504_2")["title"].is_null());
    let commits = history_len(&env);
    env.lore()
        .arg("import")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Imported 0 new sessions, updated 0.",
        ));
    assert_eq!(commits, history_len(&env));
}
