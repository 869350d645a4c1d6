//! Every `--json` output, pinned: the built `lore` runs on a fixture home (one repository with
//! two commits at fixed dates, two Claude Code sessions at fixed times, a tag, a note, a link,
//! a plan applied to a scratch database, a sync through a bare remote), and each command's
//! JSON is compared with its snapshot in tests/snapshots/ (insta). What depends on the clock
//! or the machine is redacted by selector: lore.db commit ids and hashes, the times lore
//! stamps, the machine id, sizes; the temporary folder is written `[tmp]`. Git commit ids do
//! not need it: the commits' authors and dates are fixed.
//!
//! Beside the snapshots, every output is checked against docs/json.md's rules: an object at
//! the top, times as RFC 3339 UTC under names ending in `_at`, no retired
//! name (`timestamp`, `date`, `commit_id` for an object's own id, …).
//!
//! Update the snapshots after a deliberate change with `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test --test json`), and list the change in docs/json.md.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, User, World};
use serde_json::Value;

const S1: &str = "11111111-1111-4111-8111-111111111111";
const S2: &str = "22222222-2222-4222-8222-222222222222";

const PARSE_V1: &str = "pub fn parse(input: &str) -> Vec<Token> {\n    let mut out = Vec::new();\n    let start = 0;\n    out\n}\n";
const PARSE_V2: &str = "pub fn parse(input: &str) -> Vec<Token> {\n    let mut out = Vec::new();\n    let start = 0;\n    let end = start + input.len();\n    out\n}\n";

/// The fixture: alice, her repository (pushed to a bare remote) and her transcripts.
struct Fixture {
    _world: World,
    user: User,
    repo: PathBuf,
    /// The temporary folder everything is in, as it appears in outputs.
    tmp: String,
    c1: String,
    c2: String,
}

impl Fixture {
    fn lore(&self, args: &[&str]) -> Run {
        self.user.lore(&self.repo, args)
    }

    fn git_at(&self, when: &str, args: &[&str]) -> Run {
        self.user.git_with(
            &self.repo,
            &[("GIT_AUTHOR_DATE", when), ("GIT_COMMITTER_DATE", when)],
            args,
        )
    }

    /// `lore ARGS` (which must succeed), its stdout with the temporary folder as `[tmp]`,
    /// checked against docs/json.md's rules, parsed.
    #[track_caller]
    fn json(&self, args: &[&str]) -> Value {
        let r = self.lore(args);
        r.assert_ok();
        self.parse(args, &r.stdout)
    }

    #[track_caller]
    fn parse(&self, args: &[&str], stdout: &str) -> Value {
        let text = stdout.replace(&self.tmp, "[tmp]");
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("lore {args:?}: not JSON ({e}):\n{stdout}"));
        assert!(
            v.is_object(),
            "lore {args:?}: the top level is not an object"
        );
        check_vocabulary(&format!("lore {}", args.join(" ")), "", &v);
        v
    }
}

/// docs/json.md's rules, over every key of `v`.
fn check_vocabulary(what: &str, path: &str, v: &Value) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let here = format!("{path}.{k}");
                // Keys inside rows of a user's table (read, plan, show-commit) are column names,
                // not lore's vocabulary.
                if ["before", "after", "rows", "operations"].contains(&k.as_str()) {
                    continue;
                }
                assert!(
                    ![
                        "timestamp",
                        "date",
                        "reverts_commit_id",
                        "last_sync",
                        "head"
                    ]
                    .contains(&k.as_str()),
                    "{what}: {here} is a name docs/json.md retired"
                );
                if k.ends_with("_at") {
                    assert!(
                        x.is_null() || x.as_str().is_some_and(is_utc_time),
                        "{what}: {here} = {x} is not RFC 3339 in UTC"
                    );
                }
                if k.ends_with("_count") {
                    assert!(
                        x.is_u64() || x.is_null(),
                        "{what}: {here} = {x} is not a count"
                    );
                }
                if k == "sha" && !x.is_null() {
                    let s = x.as_str().unwrap_or_default();
                    assert!(
                        s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()),
                        "{what}: {here} = {x} is not a full git commit id"
                    );
                }
                check_vocabulary(what, &here, x);
            }
        }
        Value::Array(items) => {
            for x in items {
                check_vocabulary(what, &format!("{path}[]"), x);
            }
        }
        _ => {}
    }
}

/// `2026-03-11T10:00:00Z` or `2026-03-11T10:00:00.250Z`: RFC 3339 in UTC, three digits of
/// fraction when there is one.
fn is_utc_time(s: &str) -> bool {
    let b = s.as_bytes();
    let fixed = b.len() >= 20
        && b[..19].iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    fixed
        && match &b[19..] {
            [b'Z'] => true,
            [b'.', frac @ .., b'Z'] => frac.len() == 3 && frac.iter().all(u8::is_ascii_digit),
            _ => false,
        }
}

/// Writes a Claude Code transcript of session `id` in `repo`: (time, user or assistant, text),
/// and an Edit tool call writing `edit` to src/parse.rs when given.
fn transcript(dir: &Path, repo: &Path, id: &str, turns: &[(&str, &str, &str)], edit: Option<&str>) {
    let cwd = repo.to_str().unwrap();
    let mut text = String::new();
    for (n, (ts, who, body)) in turns.iter().enumerate() {
        let message = if *who == "user" {
            serde_json::json!({"role": "user", "content": body})
        } else {
            serde_json::json!({"role": "assistant", "id": format!("m{n}"), "model": "claude-x",
                "content": [{"type": "text", "text": body}]})
        };
        let line = serde_json::json!({
            "parentUuid": null, "isSidechain": false, "userType": "external",
            "cwd": cwd, "sessionId": id, "version": "2.1.72", "gitBranch": "main",
            "type": who, "message": message, "uuid": format!("{id}-{n}"), "timestamp": ts,
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    if let Some(new) = edit {
        let line = serde_json::json!({
            "parentUuid": null, "isSidechain": false, "userType": "external",
            "cwd": cwd, "sessionId": id, "version": "2.1.72", "gitBranch": "main",
            "type": "assistant", "uuid": format!("{id}-edit"), "timestamp": "2026-03-11T10:06:00Z",
            "message": {"role": "assistant", "id": "medit", "model": "claude-x", "content": [
                {"type": "tool_use", "id": "tedit", "name": "Edit", "input": {
                    "file_path": format!("{cwd}/src/parse.rs"), "old_string": "", "new_string": new}}]},
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    let folder = dir.join("projects").join("x");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(format!("{id}.jsonl")), text).unwrap();
}

fn fixture() -> Fixture {
    let world = World::new();
    let user = world.user("alice");
    let bare = world.bare("remote.git");
    user.git(&user.root, &["init", "-q", "repo"]).assert_ok();
    let repo = std::fs::canonicalize(user.root.join("repo")).unwrap();
    let tmp = std::fs::canonicalize(world.dir.path())
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let mut f = Fixture {
        _world: world,
        user,
        repo,
        tmp,
        c1: String::new(),
        c2: String::new(),
    };
    std::fs::create_dir_all(f.repo.join("src")).unwrap();
    std::fs::write(f.repo.join("src/parse.rs"), PARSE_V1).unwrap();
    f.user.git(&f.repo, &["add", "-A"]).assert_ok();
    f.git_at("2026-03-11T09:00:00Z", &["commit", "-qm", "Add the parser"])
        .assert_ok();
    std::fs::write(f.repo.join("src/parse.rs"), PARSE_V2).unwrap();
    f.user.git(&f.repo, &["add", "-A"]).assert_ok();
    f.git_at(
        "2026-03-11T10:25:00Z",
        &["commit", "-qm", "Include the last byte"],
    )
    .assert_ok();
    f.c1 = f.user.rev(&f.repo, "HEAD~1").unwrap();
    f.c2 = f.user.rev(&f.repo, "HEAD").unwrap();
    f.user
        .git(
            &f.repo,
            &["remote", "add", "origin", bare.to_str().unwrap()],
        )
        .assert_ok();
    f.user
        .git(&f.repo, &["push", "-q", "-u", "origin", "main"])
        .assert_ok();
    let transcripts = f.user.root.join("transcripts");
    transcript(
        &transcripts,
        &f.repo,
        S1,
        &[
            (
                "2026-03-11T10:00:00Z",
                "user",
                "the parser drops the last byte of src/parse.rs",
            ),
            (
                "2026-03-11T10:05:00Z",
                "assistant",
                "The end index must include the last byte, so end becomes start plus the length.",
            ),
        ],
        Some("    let end = start + input.len();"),
    );
    transcript(
        &transcripts,
        &f.repo,
        S2,
        &[
            ("2026-03-12T08:00:00Z", "user", "rename the tokenizer"),
            (
                "2026-03-12T08:01:30.250Z",
                "assistant",
                "Renamed; the parser is unchanged.",
            ),
        ],
        None,
    );
    f
}

/// Asserts `v` matches snapshot `name`, with the values the selectors in `redact` pick
/// blanked (a `null` stays `null`: whether there is a value is not volatile).
#[track_caller]
fn snap(name: &str, v: &Value, redact: &[(&str, &str)]) {
    use insta::internals::Content;
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(true);
    settings.set_omit_expression(true);
    let blank = |with: &'static str| {
        insta::dynamic_redaction(move |value, _| match value {
            Content::None | Content::Unit => value,
            _ => Content::from(with),
        })
    };
    settings.add_redaction(".**.machine_id", blank("[machine]"));
    for (selector, with) in redact {
        let with: &'static str = Box::leak(with.to_string().into_boxed_str());
        settings.add_redaction(selector, blank(with));
    }
    settings.bind(|| insta::assert_json_snapshot!(name, v));
}

/// The redactions of a lore.db commit (its id and hashes cover the times it records).
const DB_COMMIT: &[(&str, &str)] = &[
    (".id", "[id]"),
    (".parent_id", "[id]"),
    (".reverts_id", "[id]"),
    (".created_at", "[time]"),
    (".state_hash_after", "[hash]"),
];

#[test]
fn every_json_output_follows_docs_json_md() {
    let f = fixture();
    let dir = f.user.root.join("transcripts");
    let dir = dir.to_str().unwrap();

    // Reading the archive.
    snap("import", &f.json(&["import", "--json", dir]), &[]);
    snap("import_again", &f.json(&["import", "--json", dir]), &[]);
    snap("sessions", &f.json(&["sessions", "--json"]), &[]);
    snap(
        "sessions_limit",
        &f.json(&["sessions", "--json", "-n", "1"]),
        &[],
    );
    snap(
        "search",
        &f.json(&["search", "--json", "last", "byte"]),
        &[],
    );

    // Linking and noting: the lore.db commits they make are volatile, their content is not.
    f.lore(&["tag", S1, "bugfix"]).assert_ok();
    f.lore(&["annotate", S1, "the off-by-one of March"])
        .assert_ok();
    snap(
        "link",
        &f.json(&["link", S1, "--commit", &f.c2, "--json"]),
        &[],
    );
    snap(
        "link_again",
        &f.json(&["link", S1, "--commit", &f.c2, "--json"]),
        &[],
    );
    snap(
        "link_current",
        &f.json(&["link", "--current", "--json"]),
        &[],
    );
    snap(
        "link_auto",
        &f.json(&[
            "link",
            "--auto",
            "--dry-run",
            "--since",
            "2026-03-01",
            "--json",
        ]),
        &[],
    );
    snap(
        "show",
        &f.json(&["show", S1, "--json"]),
        &[(".annotations[].created_at", "[time]")],
    );
    snap(
        "links",
        &f.json(&["links", "--json"]),
        &[(".links[].created_at", "[time]")],
    );
    snap(
        "show_commit_git",
        &f.json(&["show", "--commit", "HEAD", "--json"]),
        &[],
    );
    snap("blame", &f.json(&["blame", "src/parse.rs", "--json"]), &[]);

    // lore.db's history.
    let history = f.json(&["history", "--json"]);
    snap(
        "history",
        &history,
        &[
            (".commits[].id", "[id]"),
            (".commits[].parent_id", "[id]"),
            (".commits[].created_at", "[time]"),
            (".commits[].state_hash_after", "[hash]"),
        ],
    );
    snap(
        "history_limit",
        &f.json(&["history", "--json", "-n", "1"]),
        &[
            (".commits[].id", "[id]"),
            (".commits[].parent_id", "[id]"),
            (".commits[].created_at", "[time]"),
            (".commits[].state_hash_after", "[hash]"),
        ],
    );
    snap(
        "reflog",
        &f.json(&["reflog", "--json", "-n", "2"]),
        &[
            (".entries[].old_id", "[id]"),
            (".entries[].new_id", "[id]"),
            (".entries[].created_at", "[time]"),
        ],
    );
    // The tag's commit: its row effect is the tag row.
    let tag_commit = history["commits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["message"].as_str().unwrap().starts_with("tag:"))
        .expect("the tag's commit")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut redact = DB_COMMIT.to_vec();
    redact.extend([
        (".schema_hash_before", "[hash]"),
        (".schema_hash_after", "[hash]"),
        (".plan_hash", "[hash]"),
        (".effects_hash", "[hash]"),
        (".row_effects[].before.created_at", "[ms]"),
        (".row_effects[].after.created_at", "[ms]"),
        (".row_effects[].before.added_at", "[ms]"),
        (".row_effects[].after.added_at", "[ms]"),
        (".row_effects[].before.removed_at", "[ms]"),
        (".row_effects[].after.removed_at", "[ms]"),
    ]);
    snap(
        "show_commit",
        &f.json(&["show-commit", &tag_commit, "--json"]),
        &redact,
    );

    // The state of things.
    snap(
        "status",
        &f.json(&["status", "--json"]),
        &[
            (".database_bytes", "[bytes]"),
            (".schema_version", "[version]"),
            (".last_import_at", "[time]"),
        ],
    );
    snap("config_list", &f.json(&["config", "list", "--json"]), &[]);
    snap("hooks_status", &f.json(&["hooks", "status", "--json"]), &[]);
    snap(
        "watch_status",
        &f.json(&["watch", "--status", "--json"]),
        &[],
    );
    let doctor = f.lore(&["doctor", "--json"]);
    snap(
        "doctor",
        &f.parse(&["doctor", "--json"], &doctor.stdout),
        &[(".checks[].detail", "[detail]")],
    );

    // Sharing: a store set up on the bare remote, one sync.
    f.user
        .setup(&f.repo, "correct horse battery staple")
        .assert_ok();
    snap("sync", &f.json(&["sync", "--json"]), &[]);
    snap(
        "sync_status",
        &f.json(&["sync", "status", "--json"]),
        &[
            (".store_id", "[id]"),
            (".last_sync_at", "[time]"),
            (".key_location", "[path]"),
        ],
    );

    // Plans on a scratch database.
    let plan = f.user.root.join("plan.json");
    std::fs::write(
        &plan,
        r#"{"version": 1, "message": "notes", "operations": [
            {"op": "create_table", "table": "notes", "columns": [
                {"name": "id", "type": "INTEGER", "primary_key": true},
                {"name": "body", "type": "TEXT", "not_null": true}]},
            {"op": "insert", "table": "notes", "rows": [{"id": 1, "body": "first"}, {"id": 2, "body": "second"}]}
        ]}"#,
    )
    .unwrap();
    let (plan, db) = (plan.to_str().unwrap(), f.user.root.join("scratch.db"));
    let db = db.to_str().unwrap();
    snap(
        "plan",
        &f.json(&["plan", "-f", plan, "--db", db, "--json"]),
        &[],
    );
    let applied = f.json(&["apply", "-f", plan, "--db", db, "--json"]);
    snap("apply", &applied, DB_COMMIT);
    snap(
        "schema",
        &f.json(&["schema", "--db", db, "--json"]),
        &[(".head_id", "[id]")],
    );
    snap(
        "read",
        &f.json(&[
            "read",
            "--sql",
            "SELECT id, body FROM notes ORDER BY id",
            "--db",
            db,
            "--json",
        ]),
        &[],
    );
    snap(
        "verify",
        &f.json(&["verify", "--full", "--db", db, "--json"]),
        &[(".head_id", "[id]")],
    );
    let id = applied["id"].as_str().unwrap();
    let mut redact: Vec<(&str, &str)> = Vec::new();
    for (sel, with) in DB_COMMIT {
        redact.push((Box::leak(format!(".commit{sel}").into_boxed_str()), with));
    }
    snap(
        "revert",
        &f.json(&["revert", id, "--db", db, "--json"]),
        &redact,
    );
}

/// A list cut by `--limit` says so; `-n 0` lists everything, the same on every command.
#[test]
fn limit_means_the_same_everywhere() {
    let f = fixture();
    let dir = f.user.root.join("transcripts");
    f.lore(&["import", dir.to_str().unwrap()]).assert_ok();
    f.lore(&["tag", S1, "bugfix"]).assert_ok();
    f.lore(&["tag", S2, "rename"]).assert_ok();
    for (cmd, list) in [
        (vec!["sessions"], "sessions"),
        (vec!["search", "parser"], "hits"),
        (vec!["history"], "commits"),
        (vec!["reflog"], "entries"),
    ] {
        let run = |n: &str| {
            let mut args = cmd.clone();
            args.extend(["--json", "--limit", n]);
            f.json(&args)
        };
        let all = run("0");
        let total = all[list].as_array().unwrap().len();
        assert!(total >= 2, "{cmd:?}: the fixture has at least two {list}");
        assert_eq!(all["more"], false, "{cmd:?} -n 0");
        let one = run("1");
        assert_eq!(one[list].as_array().unwrap().len(), 1, "{cmd:?} -n 1");
        assert_eq!(one["more"], true, "{cmd:?} -n 1");
        assert_eq!(one[list][0], all[list][0], "{cmd:?}: the first item");
        let exact = run(&total.to_string());
        assert_eq!(exact["more"], false, "{cmd:?} -n {total}");
    }
    // blame's per-session message cap is --messages, not -n (git blame's -n is --show-number).
    let r = f.lore(&["blame", "src/parse.rs", "-n", "1"]);
    r.assert_fails();
    assert!(r.stderr.contains("-n"), "{}", r.stderr);
    f.lore(&["blame", "src/parse.rs", "--messages", "1", "--json"])
        .assert_ok();
}

/// With `--json` an error is still one line on stderr and a non-zero exit, with nothing on
/// stdout for a script to mistake for an answer; flags that contradict `--json` are refused.
#[test]
fn errors_stay_one_line_and_contradicting_flags_are_refused() {
    let f = fixture();
    let dir = f.user.root.join("transcripts");
    let dir = dir.to_str().unwrap();
    f.lore(&["import", dir]).assert_ok();
    let before = common::digest_db(&f.user.lore_home.join("lore.db"));
    for (args, code, says) in [
        (
            vec!["show", "nope", "--json"],
            1,
            "no session matches 'nope'",
        ),
        (
            vec!["link", "nope", "--json"],
            1,
            "no session matches 'nope'",
        ),
        (vec!["sync", "--json"], 1, "no lore store yet"),
        (vec!["blame", "missing.rs", "--json"], 1, "missing.rs"),
        (vec!["history", "--json", "-n", "x"], 2, "invalid value 'x'"),
        (
            vec!["import", "--json", "--quiet", dir],
            2,
            "cannot be used with",
        ),
        (vec!["sync", "--json", "--quiet"], 2, "cannot be used with"),
        (vec!["watch", "--json"], 2, "--status"),
        (
            vec!["blame", "src/parse.rs", "--json", "--markdown"],
            2,
            "cannot be used with",
        ),
    ] {
        let r = f.lore(&args);
        assert_eq!(r.code, Some(code), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?} printed: {}", r.stdout);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        if code == 1 {
            assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        }
    }
    assert_eq!(
        common::digest_db(&f.user.lore_home.join("lore.db")),
        before,
        "nothing changed"
    );
}
