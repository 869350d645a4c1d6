//! `lore link`, `lore unlink`, `lore show --commit` and `lore blame` against a scripted
//! repository with known commits and sessions, driven through the built binaries and real git.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, User, World, digest_db};

const S1: &str = "11111111-1111-4111-8111-111111111111";
const S2: &str = "22222222-2222-4222-8222-222222222222";
const S3: &str = "33333333-3333-4333-8333-333333333333";

/// One event in a scripted Claude Code session.
enum Ev<'a> {
    /// A prompt: (time, text).
    User(&'a str, &'a str),
    /// The assistant's text: (time, text).
    Say(&'a str, &'a str),
    /// An Edit tool call: (time, file relative to the repository, new text).
    Edit(&'a str, &'a str, &'a str),
}

/// Alice and a repository of hers.
struct Repo {
    world: World,
    user: User,
    repo: PathBuf,
}

fn repo() -> Repo {
    let world = World::new();
    let user = world.user("alice");
    user.git(&user.root, &["init", "-q", "repo"]).assert_ok();
    let repo = std::fs::canonicalize(user.root.join("repo")).unwrap();
    Repo { world, user, repo }
}

impl Repo {
    fn git(&self, args: &[&str]) -> Run {
        self.user.git(&self.repo, args)
    }

    fn lore(&self, args: &[&str]) -> Run {
        self.user.lore(&self.repo, args)
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.repo.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Commits everything at `when` (RFC 3339, or None for now); returns the full id.
    fn commit_at(&self, message: &str, when: Option<&str>) -> String {
        self.git(&["add", "-A"]).assert_ok();
        let vars: Vec<(&str, &str)> = match when {
            Some(w) => vec![("GIT_AUTHOR_DATE", w), ("GIT_COMMITTER_DATE", w)],
            None => vec![],
        };
        self.user
            .git_with(&self.repo, &vars, &["commit", "-qm", message])
            .assert_ok();
        self.head()
    }

    fn commit(&self, message: &str) -> String {
        self.commit_at(message, None)
    }

    fn head(&self) -> String {
        self.user.rev(&self.repo, "HEAD").unwrap()
    }

    /// Writes a Claude Code transcript of session `id` in this repository on `branch` under
    /// `dir`, and returns the transcript's path.
    fn transcript(&self, dir: &Path, id: &str, branch: &str, events: &[Ev<'_>]) -> PathBuf {
        let cwd = self.repo.to_str().unwrap();
        let mut text = String::new();
        for (n, ev) in events.iter().enumerate() {
            let (kind, ts, message) = match ev {
                Ev::User(ts, t) => (
                    "user",
                    ts,
                    serde_json::json!({"role": "user", "content": t}),
                ),
                Ev::Say(ts, t) => (
                    "assistant",
                    ts,
                    serde_json::json!({"role": "assistant", "id": format!("m{n}"), "model": "claude-x",
                        "content": [{"type": "text", "text": t}]}),
                ),
                Ev::Edit(ts, file, new) => (
                    "assistant",
                    ts,
                    serde_json::json!({"role": "assistant", "id": format!("m{n}"), "model": "claude-x",
                        "content": [{"type": "tool_use", "id": format!("t{n}"), "name": "Edit",
                            "input": {"file_path": format!("{cwd}/{file}"), "old_string": "", "new_string": new}}]}),
                ),
            };
            let line = serde_json::json!({
                "parentUuid": null, "isSidechain": false, "userType": "external",
                "cwd": cwd, "sessionId": id, "version": "2.1.72", "gitBranch": branch,
                "type": kind, "message": message, "uuid": format!("{id}-{n}"), "timestamp": ts,
            });
            text.push_str(&line.to_string());
            text.push('\n');
        }
        let folder = dir.join("projects").join("x");
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(format!("{id}.jsonl"));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Writes and imports session `id`.
    fn session(&self, id: &str, branch: &str, events: &[Ev<'_>]) {
        let dir = self.user.root.join("transcripts").join(id);
        self.transcript(&dir, id, branch, events);
        self.lore(&["import", dir.to_str().unwrap()]).assert_ok();
    }

    fn digest(&self) -> String {
        digest_db(&self.user.lore_home.join("lore.db"))
    }

    /// `lore show --commit REV --json`: the linked sessions' ids and link kinds.
    fn linked(&self, rev: &str) -> Vec<(String, String)> {
        let r = self.lore(&["show", "--commit", rev, "--json"]);
        r.assert_ok();
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().unwrap().to_owned(),
                    s["link"]["kind"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    fn blame_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["blame", "--json"];
        all.extend_from_slice(args);
        let r = self.lore(&all);
        r.assert_ok();
        serde_json::from_str(&r.stdout).unwrap()
    }
}

const PARSE_V1: &str = "pub fn parse(input: &str) -> Vec<Token> {\n    let mut out = Vec::new();\n    let start = 0;\n    out\n}\n";
const PARSE_V2: &str = "pub fn parse(input: &str) -> Vec<Token> {\n    let mut out = Vec::new();\n    let start = 0;\n    let end = start + input.len();\n    out\n}\n";

/// A repository with src/parse.rs in two commits (the second adds the `end` line), and
/// session S1 that explains the second.
fn scripted() -> (Repo, String, String) {
    let r = repo();
    r.write("src/parse.rs", PARSE_V1);
    let c1 = r.commit_at("Add the parser", Some("2026-03-11T09:00:00Z"));
    r.write("src/parse.rs", PARSE_V2);
    let c2 = r.commit_at("Include the last byte", Some("2026-03-11T10:25:00Z"));
    r.session(
        S1,
        "main",
        &[
            Ev::User(
                "2026-03-11T10:00:00Z",
                "the parser drops the last byte of src/parse.rs",
            ),
            Ev::Say(
                "2026-03-11T10:05:00Z",
                "The end index must include the last byte, so end becomes start plus the length.",
            ),
            Ev::Edit(
                "2026-03-11T10:06:00Z",
                "src/parse.rs",
                "    let end = start + input.len();",
            ),
            Ev::Say("2026-03-11T10:07:00Z", "Done; nothing else changes."),
        ],
    );
    (r, c1, c2)
}

#[test]
fn an_explicit_link_shows_in_blame_and_unlink_and_revert_undo_it() {
    let (r, c1, c2) = scripted();
    // Not linked yet: the content index finds the session that wrote the line, and says so.
    let out = r.lore(&["blame", "src/parse.rs"]);
    out.assert_ok();
    assert!(
        !out.stdout
            .contains(&format!("No reasoning linked to {}.", &c2[..12]))
            && out.stdout.contains(&format!("Session {}", &S1[..8]))
            && out
                .stdout
                .contains("wrote this line; found by content only, not linked to this commit"),
        "{}",
        out.stdout
    );

    let out = r.lore(&["link", &S1[..8]]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!("Linked session {S1}")) && out.stdout.contains(&c2[..12]),
        "{}",
        out.stdout
    );
    assert_eq!(
        r.linked("HEAD"),
        vec![(S1.to_owned(), "explicit".to_owned())]
    );
    assert!(r.linked(&c1).is_empty());

    // Text: the commit, its lines, the session, and the message just before the edit.
    let out = r.lore(&["blame", "src/parse.rs"]);
    out.assert_ok();
    let text = &out.stdout;
    assert!(
        text.starts_with("src/parse.rs, 6 lines, from 2 commits\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{} Include the last byte", &c2[..12])),
        "{text}"
    );
    assert!(
        text.contains("4 │     let end = start + input.len();"),
        "{text}"
    );
    assert!(text.contains(&format!("Session {}", &S1[..8])), "{text}");
    assert!(text.contains("explicit link, 1.00"), "{text}");
    assert!(
        text.contains("(just before the edit):\n      The end index must include the last byte"),
        "{text}"
    );
    assert!(
        text.contains("(names the file):\n      the parser drops"),
        "{text}"
    );
    assert!(
        text.contains(&format!("No reasoning linked to {}.", &c1[..12])),
        "{text}"
    );
    assert!(
        !text.contains("\u{1b}["),
        "no colour when not a terminal: {text}"
    );

    // Linking again changes nothing.
    let before = r.digest();
    let out = r.lore(&["link", S1, "--commit", &c2[..10]]);
    out.assert_ok();
    assert!(out.stdout.contains("already linked"), "{}", out.stdout);
    assert_eq!(r.digest(), before);

    // One commit each, in history, with a clear message.
    let out = r.lore(&["history"]);
    assert!(
        out.stdout
            .contains(&format!("link: session {S1} to {}", &c2[..12])),
        "{}",
        out.stdout
    );

    let out = r.lore(&["unlink", S1]);
    out.assert_ok();
    assert!(r.linked("HEAD").is_empty());
    let h = r.lore(&["history", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&h.stdout).unwrap();
    let v = &v["commits"];
    assert_eq!(
        v[0]["message"].as_str().unwrap(),
        format!("unlink: session {S1} from {}", &c2[..12])
    );
    let link_commit = v[1]["id"].as_str().unwrap().to_owned();
    let unlink_commit = v[0]["id"].as_str().unwrap().to_owned();

    // Reverting the unlink brings the link back; reverting the link removes it again.
    r.lore(&["revert", &unlink_commit]).assert_ok();
    assert_eq!(
        r.linked("HEAD"),
        vec![(S1.to_owned(), "explicit".to_owned())]
    );
    r.lore(&["revert", &link_commit]).assert_ok();
    assert!(r.linked("HEAD").is_empty());
    r.lore(&["verify", "--full"]).assert_ok();
}

#[test]
fn blame_takes_line_ranges_and_prints_json_and_markdown() {
    let (r, c1, c2) = scripted();
    r.lore(&["link", S1, "--commit", &c2]).assert_ok();
    // A third commit changes line 1.
    r.write(
        "src/parse.rs",
        &PARSE_V2.replace("pub fn parse(", "pub fn parse_all("),
    );
    let c3 = r.commit("Rename parse to parse_all");

    let v = r.blame_json(&["src/parse.rs"]);
    let per_line: Vec<&str> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sha"].as_str().unwrap())
        .collect();
    assert_eq!(per_line, vec![&c3, &c1, &c1, &c2, &c1, &c1]);
    assert_eq!(v["commits"].as_array().unwrap().len(), 3);
    let c2v = v["commits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["sha"] == c2.as_str())
        .unwrap();
    assert_eq!(c2v["lines"], serde_json::json!([[4, 4]]));
    assert_eq!(c2v["subject"], "Include the last byte");
    assert_eq!(c2v["author"], "alice");
    assert_eq!(c2v["authored_at"], "2026-03-11T10:25:00Z");
    let s = &c2v["sessions"][0];
    assert_eq!(s["id"], S1);
    assert_eq!(s["link"]["kind"], "explicit");
    assert_eq!(s["messages"][0]["mention"], "file");
    assert_eq!(s["messages"][1]["mention"], "before-edit");

    // FILE:LINE-END, FILE:LINE and -L all blame only those lines.
    for args in [
        vec!["src/parse.rs:4-5"],
        vec!["src/parse.rs", "-L", "4,5"],
        vec!["-L", "4-5", "src/parse.rs"],
    ] {
        let v = r.blame_json(&args);
        assert_eq!(v["range"], serde_json::json!([4, 5]), "{args:?}");
        let lines: Vec<u64> = v["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, vec![4, 5]);
    }
    let v = r.blame_json(&["src/parse.rs:1"]);
    assert_eq!(v["commits"][0]["sha"], c3.as_str());
    assert_eq!(v["commits"][0]["sessions"], serde_json::json!([]));

    let out = r.lore(&["blame", "--markdown", "src/parse.rs:4"]);
    out.assert_ok();
    let md = &out.stdout;
    assert!(
        md.starts_with("# lore blame src/parse.rs, line 4, from 1 commit\n"),
        "{md}"
    );
    assert!(
        md.contains(&format!("## `{}` Include the last byte", &c2[..12])),
        "{md}"
    );
    assert!(md.contains(&format!("### Session `{S1}`")), "{md}");
    assert!(
        md.contains("> The end index must include the last byte"),
        "{md}"
    );

    // Lines changed in the work tree are said to be not committed yet.
    r.write(
        "src/parse.rs",
        &PARSE_V2.replace("let start = 0;", "let start = 1;"),
    );
    let out = r.lore(&["blame", "src/parse.rs:3-4"]);
    out.assert_ok();
    assert!(out.stdout.contains("Not committed yet\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains("These lines are not committed yet"),
        "{}",
        out.stdout
    );
    let v = r.blame_json(&["src/parse.rs:3"]);
    assert_eq!(v["commits"][0]["uncommitted"], true);
    assert_eq!(v["lines"][0]["sha"], serde_json::Value::Null);
}

#[test]
fn blame_follows_renames() {
    let r = repo();
    r.write("src/old_name.rs", "fn tokenize_everything_carefully() {}\n");
    let c1 = r.commit_at("Add the tokenizer", Some("2026-03-11T10:10:00Z"));
    r.session(
        S2,
        "main",
        &[
            Ev::User(
                "2026-03-11T10:00:00Z",
                "write a tokenizer in src/old_name.rs",
            ),
            Ev::Say("2026-03-11T10:01:00Z", "A careful tokenizer, one function."),
        ],
    );
    r.lore(&["link", S2]).assert_ok();
    r.git(&["mv", "src/old_name.rs", "src/new_name.rs"])
        .assert_ok();
    r.commit("Rename the tokenizer's file");

    let out = r.lore(&["blame", "src/new_name.rs"]);
    out.assert_ok();
    assert!(
        out.stdout
            .contains(&format!("{} Add the tokenizer", &c1[..12])),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(", as src/old_name.rs"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("write a tokenizer in src/old_name.rs"),
        "{}",
        out.stdout
    );
    let v = r.blame_json(&["src/new_name.rs"]);
    assert_eq!(v["commits"][0]["path"], "src/old_name.rs");
    assert_eq!(v["commits"][0]["sessions"][0]["id"], S2);
}

#[test]
fn every_bad_input_is_refused_with_a_clear_message_and_nothing_changed() {
    let (r, _c1, c2) = scripted();
    r.lore(&["link", S1]).assert_ok();
    std::fs::write(r.repo.join("logo.png"), b"\x89PNG\r\n\x1a\n\0\0\0binary").unwrap();
    r.commit("Add a logo");
    r.write("notes.txt", "not added\n");
    let outside = r.world.path("outside.rs");
    std::fs::write(&outside, "fn x() {}\n").unwrap();
    let elsewhere = r.world.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let before = r.digest();

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["blame", "src/nope.rs"], "no such file: src/nope.rs"),
        (vec!["blame", "src"], "src is a folder"),
        (
            vec!["blame", outside.to_str().unwrap()],
            "is outside the repository at",
        ),
        (vec!["blame", "logo.png"], "logo.png is a binary file"),
        (vec!["blame", "notes.txt"], "notes.txt is not committed yet"),
        (
            vec!["blame", "src/parse.rs:7"],
            "line 7 is past the end of src/parse.rs (6 lines)",
        ),
        (
            vec!["blame", "src/parse.rs", "-L", "2,60"],
            "line 60 is past the end",
        ),
        (
            vec!["blame", "src/parse.rs:5-2"],
            "line range 5-2 is reversed",
        ),
        (vec!["blame", "src/parse.rs:0"], "line numbers start at 1"),
        (
            vec!["blame", "src/parse.rs", "-L", "0,3"],
            "line numbers start at 1",
        ),
        (
            vec!["blame", "src/parse.rs", "-L", "x"],
            "'x' is not a line range",
        ),
        (
            vec!["blame", "src/parse.rs:2", "-L", "2,3"],
            "lines given twice",
        ),
        (vec!["link", "deadbeef"], "no session matches 'deadbeef'"),
        (
            vec!["link", S1, "--commit", "nope"],
            "unknown revision 'nope'",
        ),
        (
            vec!["link", S1, "--commit=--all"],
            "unknown revision '--all'",
        ),
        (vec!["show", "--commit", "v9.9"], "unknown revision 'v9.9'"),
        (vec!["unlink", "deadbeef"], "no session matches 'deadbeef'"),
        (
            vec!["unlink", S1, "--commit", "HEAD~2"],
            "is not linked to HEAD~2",
        ),
    ];
    for (args, want) in &cases {
        let out = r.lore(args);
        out.assert_fails();
        assert_eq!(out.code, Some(1), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(want), "{args:?}: {}", out.stderr);
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(r.digest(), before, "{args:?} changed lore.db");
    }

    // Outside any repository.
    for args in [
        vec!["blame", "x.rs"],
        vec!["link", S1],
        vec!["link", "--auto"],
        vec!["show", "--commit", "HEAD"],
    ] {
        let out = r.user.lore(&elsewhere, &args);
        assert_eq!(out.code, Some(1), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("not inside a git repository"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // Usage errors exit 2.
    for args in [
        vec!["link"],
        vec!["link", S1, "--auto"],
        vec!["link", "--current", "--dry-run"],
    ] {
        let out = r.lore(&args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
    }
    assert_eq!(r.digest(), before);
    assert_eq!(r.linked(&c2).len(), 1);
}

#[test]
fn import_links_from_aider_and_codex_show_in_blame() {
    let r = repo();
    r.write("src/status.rs", "pub fn status_skips_binary_files() {}\n");
    let a = r.commit("feat: Skip binary files in status");
    r.write("src/json.rs", "pub fn status_as_json_for_scripts() {}\n");
    let b = r.commit("feat: JSON status");

    // Aider writes `Commit <7 digits>`; Codex records the full commit id.
    let aider = std::fs::read_to_string(
        common::fixtures().join("transcripts/aider/.aider.chat.history.md"),
    )
    .unwrap()
    .replace("Commit 1a2b3c4", &format!("Commit {}", &a[..7]));
    let dir = r.user.root.join("aider");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".aider.chat.history.md"), aider).unwrap();
    let codex_fixture = common::fixtures().join(
        "transcripts/codex/sessions/2026/03/11/rollout-2026-03-11T10-00-00-019cd2a4-7e1b-7c30-8f2d-4a6b8c0d1e2f.jsonl",
    );
    let codex = std::fs::read_to_string(&codex_fixture)
        .unwrap()
        .replace("9f8e7d6c5b4a39281706f5e4d3c2b1a098765432", &b);
    let cdir = r.user.root.join("codex");
    std::fs::create_dir_all(&cdir).unwrap();
    std::fs::write(cdir.join(codex_fixture.file_name().unwrap()), codex).unwrap();
    r.lore(&["import", dir.to_str().unwrap(), cdir.to_str().unwrap()])
        .assert_ok();

    let linked = r.linked(&a);
    assert_eq!(linked.len(), 1, "{linked:?}");
    assert!(linked[0].0.starts_with("aider-"));
    assert_eq!(linked[0].1, "import");
    // Codex's git.commit_hash is the commit the session started from: never a link, so the
    // session is not credited with the commit it started at.
    assert!(r.linked(&b).is_empty(), "{:?}", r.linked(&b));
    let out = r.lore(&["blame", "src/json.rs"]);
    assert!(
        out.stdout.contains("No reasoning linked to"),
        "{}",
        out.stdout
    );
    let v = r.blame_json(&["src/status.rs"]);
    let s = &v["commits"][0]["sessions"][0];
    assert_eq!(s["link"]["kind"], "import");
    // The link keeps the abbreviation Aider wrote; blame matched it by prefix.
    assert_eq!(s["link"]["sha"], &a[..7]);
    let out = r.lore(&["blame", "src/status.rs"]);
    assert!(out.stdout.contains("Session aider-"), "{}", out.stdout);
    assert!(out.stdout.contains("import link, 1.00"), "{}", out.stdout);
    // Unlink by the full id removes the link recorded with Aider's abbreviation, and a link
    // recorded with the full id beside it: both name the commit.
    let aider_id = linked[0].0.clone();
    r.lore(&["link", &aider_id, "--commit", &a]).assert_ok();
    let out = r.lore(&["show", &aider_id, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let to_a = |v: &serde_json::Value| {
        v["links"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| a.starts_with(l["sha"].as_str().unwrap()))
            .count()
    };
    assert_eq!(to_a(&v), 2, "{}", v["links"]);
    let others = v["links"].as_array().unwrap().len() - 2;
    let out = r.lore(&["unlink", &aider_id, "--commit", &a]);
    out.assert_ok();
    assert_eq!(
        out.stdout.matches("Unlinked session").count(),
        2,
        "{}",
        out.stdout
    );
    assert!(r.linked(&a).is_empty());
    let out = r.lore(&["show", &aider_id, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(to_a(&v), 0, "{}", v["links"]);
    assert_eq!(v["links"].as_array().unwrap().len(), others);
}

#[test]
fn auto_scores_branch_files_and_time_and_respects_the_threshold() {
    let r = repo();
    r.write("README", "readme\n");
    r.commit_at("Start", Some("2026-03-11T08:00:00Z"));
    r.session(
        S1,
        "main",
        &[
            Ev::User("2026-03-11T10:00:00Z", "make the cache faster"),
            Ev::Edit(
                "2026-03-11T10:10:00Z",
                "src/cache.rs",
                "fn faster_cache() {}",
            ),
            Ev::Say(
                "2026-03-11T10:20:00Z",
                "The cache now keeps the hot entries.",
            ),
        ],
    );
    // Five minutes after the session, on its branch, the file it edited: 0.2 + 0.4 + 0.25.
    r.write("src/cache.rs", "fn faster_cache() {}\n");
    let hit = r.commit_at("Faster cache", Some("2026-03-11T10:25:00Z"));
    // Two minutes after, on its branch, a file it never touched: 0.2 + 0 + 0.38 = 0.58.
    r.write("src/other.rs", "fn other() {}\n");
    let near = r.commit_at("Unrelated tweak", Some("2026-03-11T10:22:00Z"));
    // During the session, on its branch, a file it never touched: 0.2 + 0 + 0.4 = 0.60, the
    // threshold; but a link needs a file the session worked on.
    r.write("src/during.rs", "fn during() {}\n");
    let during = r.commit_at("Unrelated, during", Some("2026-03-11T10:15:00Z"));
    // Two hours later: not a candidate at all.
    r.write("src/cache.rs", "fn faster_cache() { /* later */ }\n");
    let late = r.commit_at("Much later", Some("2026-03-11T12:30:00Z"));
    // Written during the session, committed (or rebased) hours later: scored on its author
    // date, during the session: 0.2 + 0.4 + 0.4.
    r.write("src/cache.rs", "fn faster_cache() { /* reworked */ }\n");
    r.git(&["add", "-A"]).assert_ok();
    r.user
        .git_with(
            &r.repo,
            &[
                ("GIT_AUTHOR_DATE", "2026-03-11T10:18:00Z"),
                ("GIT_COMMITTER_DATE", "2026-03-11T15:00:00Z"),
            ],
            &["commit", "-qm", "Rework the cache"],
        )
        .assert_ok();
    let authored = r.head();

    let before = r.digest();
    let out = r.lore(&["link", "--auto", "--since", "2026-03-10", "--dry-run"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!(
            "Would link session {} to {} Faster cache (score 0.85: branch 0.20, files 0.40 (1 of 1), time 0.25, 5 min apart)",
            &S1[..8],
            &hit[..12]
        )),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(&near[..12]), "{}", out.stdout);
    assert!(!out.stdout.contains(&during[..12]), "{}", out.stdout);
    assert!(!out.stdout.contains(&late[..12]), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!(
            "Would link session {} to {} Rework the cache (score 1.00: branch 0.20, files 0.40 (1 of 1), time 0.40, 0 min apart)",
            &S1[..8],
            &authored[..12]
        )),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Dry run: nothing written."));
    assert_eq!(r.digest(), before);
    let out = r.lore(&[
        "link",
        "--auto",
        "--since",
        "2026-03-10",
        "--dry-run",
        "--json",
    ]);
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["threshold"], 0.6);
    let links = v["links"].as_array().unwrap();
    assert_eq!(links.len(), 2);
    let l = links
        .iter()
        .find(|l| l["commit"]["sha"] == hit.as_str())
        .unwrap();
    assert_eq!(l["kind"], "auto");
    assert_eq!(l["score"]["total"], 0.85);
    assert_eq!(l["score"]["files_matched"], 1);
    assert_eq!(r.digest(), before);

    // A lower threshold lets a weaker commit in, but never one without a file of the
    // session's.
    r.write("src/cache.rs", "fn faster_cache() { /* tuned */ }\n");
    r.write("src/more.rs", "fn more() {}\n");
    let weaker = r.commit_at("Cache and more", Some("2026-03-11T10:45:00Z"));
    r.lore(&["config", "set", "link_auto_threshold", "0"])
        .assert_ok();
    let out = r.lore(&["link", "--auto", "--since", "2026-03-10", "--dry-run"]);
    assert!(out.stdout.contains(&weaker[..12]), "{}", out.stdout);
    assert!(!out.stdout.contains(&near[..12]), "{}", out.stdout);
    assert!(!out.stdout.contains(&during[..12]), "{}", out.stdout);
    r.lore(&["config", "unset", "link_auto_threshold"])
        .assert_ok();
    let out = r.lore(&["config", "set", "link_auto_threshold", "2"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("a number from 0 to 1"),
        "{}",
        out.stderr
    );

    r.lore(&["link", "--auto", "--since", "2026-03-10"])
        .assert_ok();
    assert_eq!(r.linked(&hit), vec![(S1.to_owned(), "auto".to_owned())]);
    assert_eq!(
        r.linked(&authored),
        vec![(S1.to_owned(), "auto".to_owned())]
    );
    assert!(r.linked(&near).is_empty());
    assert!(r.linked(&during).is_empty());
    assert!(r.linked(&weaker).is_empty(), "0.2 + 0.2 + 0.05: under 0.6");
    let h = r.lore(&["history", "-n", "1"]);
    assert!(
        h.stdout.contains("link: 2 links by lore link --auto"),
        "{}",
        h.stdout
    );

    // Nothing new the second time, and nothing written.
    let before = r.digest();
    let out = r.lore(&["link", "--auto", "--since", "2026-03-10"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(
            "No new links: 1 session and 7 commits since 2026-03-10 00:00 looked at; of a \
             session and a commit near it, 2 pairs linked already, 2 pairs with no file of \
             the session's changed, 1 pair scoring under 0.60."
        ),
        "{}",
        out.stdout
    );
    assert_eq!(r.digest(), before);

    // A session on another branch without the file gets no branch points.
    r.session(
        S3,
        "feature",
        &[Ev::User("2026-03-11T12:20:00Z", "look around")],
    );
    let out = r.lore(&["link", "--auto", "--since", "2026-03-10", "--dry-run"]);
    assert!(out.stdout.contains("No new links"), "{}", out.stdout);
}

#[test]
fn auto_finds_linked_commits_again_after_amend_and_rebase() {
    let r = repo();
    r.write("README", "readme\n");
    r.commit("Start");
    r.session(
        S1,
        "main",
        &[Ev::User("2026-03-11T10:00:00Z", "add the feature")],
    );
    r.write("src/feature.rs", "fn feature() {}\n");
    let old = r.commit("Add the feature");
    r.lore(&["link", S1]).assert_ok();
    r.git(&["commit", "-q", "--amend", "-m", "Add the feature, reworded"])
        .assert_ok();
    let amended = r.head();
    assert_ne!(old, amended);

    let out = r.lore(&["link", "--auto", "--since", "2026-03-01"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!(
            "Linked session {} to {} Add the feature, reworded: it was linked to {}, which amend or rebase rewrote; {} has the same patch (git patch-id).",
            &S1[..8],
            &amended[..12],
            &old[..12],
            &amended[..12]
        )),
        "{}",
        out.stdout
    );
    assert_eq!(
        r.linked(&amended),
        vec![(S1.to_owned(), "explicit".to_owned())]
    );
    let v = r.blame_json(&["src/feature.rs"]);
    assert_eq!(v["commits"][0]["sessions"][0]["id"], S1);

    // A rebase onto a new base: the topic commit gets a new id, the same patch.
    r.git(&["checkout", "-q", "-b", "topic"]).assert_ok();
    r.write("src/topic.rs", "fn topic() {}\n");
    let topic = r.commit("Topic work");
    r.session(
        S2,
        "topic",
        &[Ev::User("2026-03-11T11:00:00Z", "topic work")],
    );
    r.lore(&["link", S2]).assert_ok();
    r.git(&["checkout", "-q", "main"]).assert_ok();
    r.write("README", "readme, changed on main\n");
    r.commit("Main moves on");
    r.git(&["checkout", "-q", "topic"]).assert_ok();
    r.git(&["rebase", "-q", "main"]).assert_ok();
    let rebased = r.head();
    assert_ne!(topic, rebased);
    let out = r.lore(&["link", "--auto", "--since", "2026-03-01"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!(
            "it was linked to {}, which amend or rebase rewrote; {} has the same patch",
            &topic[..12],
            &rebased[..12]
        )),
        "{}",
        out.stdout
    );
    assert_eq!(
        r.linked(&rebased),
        vec![(S2.to_owned(), "explicit".to_owned())]
    );

    // A rewritten commit whose patch changed is reported, and its link kept.
    r.write("src/topic.rs", "fn topic() { /* changed */ }\n");
    r.git(&["commit", "-q", "-a", "--amend", "-m", "Topic work, changed"])
        .assert_ok();
    let out = r.lore(&["link", "--auto", "--since", "2026-03-01"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!(
            "linked commit {} is on no branch any more (amended or rebased), and no commit on a branch has its patch; its link is kept.",
            &rebased[..12]
        )),
        "{}",
        out.stdout
    );
}

#[test]
fn current_links_the_running_session_and_the_post_commit_hook_runs_it() {
    let r = repo();
    r.write("README", "readme\n");
    r.commit("Start");
    let out = r.lore(&["link", "--current"]);
    out.assert_ok();
    assert!(out.stdout.contains("nothing linked"), "{}", out.stdout);
    assert!(
        !r.user.lore_home.join("lore.db").exists(),
        "no lore.db made"
    );

    // A hook that was there first keeps running, chained.
    let hooks = r.repo.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let mine = hooks.join("post-commit");
    std::fs::write(
        &mine,
        "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/mine-ran\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = r.lore(&["hooks", "install"]);
    out.assert_ok();
    assert!(
        out.stdout.contains("Installed the post-commit hook")
            && out.stdout.contains("post-commit.lore-chained"),
        "{}",
        out.stdout
    );

    // A session running now, in Claude Code's default folder, not imported yet.
    let now = jiff::Timestamp::now();
    let t0 = now
        .checked_sub(jiff::SignedDuration::from_mins(3))
        .unwrap()
        .to_string();
    let t1 = now.to_string();
    r.transcript(
        &r.user.home.join(".claude"),
        S1,
        "main",
        &[
            Ev::User(&t0, "write the changelog"),
            Ev::Say(&t1, "Writing it now."),
            Ev::Edit(&t1, "CHANGELOG", "changes"),
        ],
    );
    // A session that stopped long ago is not current.
    r.session(S2, "main", &[Ev::User("2026-03-11T10:00:00Z", "old work")]);

    r.write("CHANGELOG", "changes\n");
    let c = r.commit("Write the changelog");
    assert_eq!(r.linked(&c), vec![(S1.to_owned(), "hook".to_owned())]);
    assert!(
        r.repo.join(".git/mine-ran").exists(),
        "the chained hook ran"
    );
    let h = r.lore(&["history", "-n", "1"]);
    assert!(
        h.stdout.contains(&format!(
            "link: 1 session to {} (post-commit hook)",
            &c[..12]
        )),
        "{}",
        h.stdout
    );

    // By hand, on another commit: an explicit link, and a second run changes nothing.
    let status = r.lore(&["hooks", "uninstall"]);
    status.assert_ok();
    r.write("CHANGELOG", "more changes\n");
    let c2 = r.commit("More changes");
    assert!(r.linked(&c2).is_empty(), "hook uninstalled");
    let out = r.lore(&["link", "--current"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!("Linked session {S1}")),
        "{}",
        out.stdout
    );
    assert_eq!(r.linked(&c2), vec![(S1.to_owned(), "explicit".to_owned())]);
    let before = r.digest();
    let out = r.lore(&["link", "--current"]);
    assert!(out.stdout.contains("nothing linked"), "{}", out.stdout);
    assert_eq!(r.digest(), before);
    // Uninstall put the user's own hook back.
    assert!(std::fs::read_to_string(&mine).unwrap().contains("mine-ran"));

    // A session that recorded the repository through a symlink belongs to it too.
    let link = r.world.path("link-to-repo");
    std::os::unix::fs::symlink(&r.repo, &link).unwrap();
    let dir = r.user.root.join("transcripts").join(S3);
    let path = r.transcript(
        &dir,
        S3,
        "main",
        &[
            Ev::User(&t1, "via the symlink"),
            Ev::Edit(&t1, "CHANGELOG", "even more changes"),
        ],
    );
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(r.repo.to_str().unwrap(), link.to_str().unwrap());
    std::fs::write(&path, text).unwrap();
    r.lore(&["import", dir.to_str().unwrap()]).assert_ok();
    r.write("CHANGELOG", "even more changes\n");
    let c3 = r.commit("Even more changes");
    r.lore(&["link", "--current"]).assert_ok();
    let mut linked = r.linked(&c3);
    linked.sort();
    assert_eq!(
        linked,
        vec![
            (S1.to_owned(), "explicit".to_owned()),
            (S3.to_owned(), "explicit".to_owned())
        ]
    );
}

/// The evidence `lore show --commit REV --json` gives for each linked session.
fn evidence(r: &Repo, rev: &str) -> Vec<(String, serde_json::Value, f64)> {
    let out = r.lore(&["show", "--commit", rev, "--json"]);
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["link"]["evidence"].clone(),
                s["link"]["confidence"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_post_commit_hook_links_only_sessions_with_evidence_for_the_commit() {
    let r = repo();
    r.write("README", "readme\n");
    r.commit("Start");
    r.lore(&["hooks", "install"]).assert_ok();
    let now = jiff::Timestamp::now();
    let ago = |m: i64| {
        now.checked_sub(jiff::SignedDuration::from_mins(m))
            .unwrap()
            .to_string()
    };
    let claude = r.user.home.join(".claude");
    // Session 1 wrote docs/quoting.md 25 minutes ago and has been quiet since.
    let (t25, t24) = (ago(25), ago(24));
    r.transcript(
        &claude,
        S1,
        "main",
        &[
            Ev::User(&t25, "document how quoting works"),
            Ev::Edit(
                &t24,
                "docs/quoting.md",
                "Quote a value with \"double quotes\" and escape a \\ with another one.",
            ),
        ],
    );
    // Session 2 is running now, on another file.
    let (t2, t1) = (ago(2), ago(1));
    r.transcript(
        &claude,
        S2,
        "main",
        &[
            Ev::User(&t2, "fix the command line parser"),
            Ev::Edit(&t1, "src/cli.py", "def parse_arguments(argv):"),
        ],
    );

    r.write(
        "docs/quoting.md",
        "Quote a value with \"double quotes\" and escape a \\ with another one.\n",
    );
    let docs = r.commit("Document quoting");
    assert_eq!(r.linked(&docs), vec![(S1.to_owned(), "hook".to_owned())]);
    let ev = evidence(&r, &docs);
    assert_eq!(ev[0].1["files"], serde_json::json!(["docs/quoting.md"]));
    assert_eq!(
        ev[0].1["lines"], 1,
        "the quoted line matched: {:?}",
        ev[0].1
    );
    assert_eq!(ev[0].2, 1.0);

    // A commit with no AI work gets no session.
    r.write("readme", "");
    let touch = r.commit("touch readme");
    assert!(r.linked(&touch).is_empty());

    // The parser commit gets session 2 only; on a file it named but no line of it: files only.
    r.write(
        "src/cli.py",
        "def parse_arguments(argv):\n    return argv[1:]\n",
    );
    let cli = r.commit("Parse arguments");
    assert_eq!(r.linked(&cli), vec![(S2.to_owned(), "hook".to_owned())]);
    let ev = evidence(&r, &cli);
    assert_eq!(ev[0].1["files"], serde_json::json!(["src/cli.py"]));
    assert_eq!(ev[0].1["lines"], 1);
    assert!(ev[0].2 < 1.0 && ev[0].2 >= 0.7, "{ev:?}");

    // A detached HEAD commit of other files is not showered with sessions.
    r.git(&["checkout", "-q", "--detach"]).assert_ok();
    r.write("notes.txt", "some notes of mine\n");
    let detached = r.commit("Notes");
    assert!(r.linked(&detached).is_empty());

    // By hand, --current says why a session was left out, and changes nothing.
    let before = r.digest();
    let out = r.lore(&["link", "--current"]);
    out.assert_ok();
    assert!(out.stdout.contains("nothing linked"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("Not linked: session {S1}")),
        "{}",
        out.stdout
    );
    assert_eq!(r.digest(), before);

    // lore blame shows the evidence.
    let out = r.lore(&["blame", "docs/quoting.md"]);
    out.assert_ok();
    assert!(out.stdout.contains("wrote this line"), "{}", out.stdout);
}

#[test]
fn links_follow_squash_merges_cherry_picks_and_rebases_by_content() {
    let r = repo();
    r.write("README", "readme\n");
    let start = r.commit("Start");
    let files = [
        (
            "src/a.rs",
            "pub fn alpha() -> &'static str { \"alpha \\\"quoted\\\" value\" }",
        ),
        (
            "src/b.rs",
            "pub fn beta(path: &str) -> String { path.replace('\\\\', \"/\") }",
        ),
        (
            "src/c.rs",
            "pub fn gamma() -> u32 { 40 + 2 } // ünïcode\tand a tab",
        ),
    ];
    // Session 1 writes three files on a feature branch, one commit each, linked by hand.
    let edits: Vec<Ev<'_>> = files
        .iter()
        .map(|(f, text)| Ev::Edit("2026-03-11T10:05:00Z", f, text))
        .collect();
    let mut events = vec![Ev::User("2026-03-11T10:00:00Z", "write alpha, beta, gamma")];
    events.extend(edits);
    r.session(S1, "feature", &events);
    r.git(&["checkout", "-q", "-b", "feature"]).assert_ok();
    let mut feature = Vec::new();
    for (f, text) in files {
        r.write(f, &format!("{text}\n"));
        let c = r.commit(&format!("Add {f}"));
        r.lore(&["link", S1, "--commit", &c]).assert_ok();
        feature.push(c);
    }

    // A squash merge of the three commits into one, then the branch is deleted.
    r.git(&["checkout", "-q", "main"]).assert_ok();
    r.git(&["merge", "-q", "--squash", "feature"]).assert_ok();
    let squash = r.commit("Feature (squashed)");
    r.git(&["branch", "-q", "-D", "feature"]).assert_ok();
    assert!(r.linked(&squash).is_empty());
    let out = r.lore(&["link", "--auto", "--since", "2026-03-01"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!(
            "to {} Feature (squashed): it carries the lines of linked commits {}, {}, {} \
             (a squash, cherry-pick or rebase; found by content).",
            &squash[..12],
            &feature[0][..12],
            &feature[1][..12],
            &feature[2][..12]
        )),
        "{}",
        out.stdout
    );
    assert_eq!(
        r.linked(&squash),
        vec![(S1.to_owned(), "explicit".to_owned())]
    );
    let out = r.lore(&["blame", "src/b.rs"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!("Session {}", &S1[..8]))
            && out.stdout.contains("wrote this line"),
        "{}",
        out.stdout
    );
    // The line holds quotes and backslashes: the tool call's input matched decoded, so the
    // prompt before the edit is found as the why of that line, not as naming the file.
    assert!(
        out.stdout.contains("(just before the edit):"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("(names the file)"), "{}", out.stdout);

    // A cherry-pick of the squash to a release branch.
    r.git(&["checkout", "-q", "-b", "release", &start])
        .assert_ok();
    r.write("RELEASE", "release notes\n");
    r.commit("Release notes");
    r.git(&["cherry-pick", &squash]).assert_ok();
    let picked = r.head();
    assert_ne!(picked, squash);
    let out = r.lore(&["link", "--auto", "--since", "2026-03-01"]);
    out.assert_ok();
    assert_eq!(
        r.linked(&picked),
        vec![(S1.to_owned(), "explicit".to_owned())],
        "{}",
        out.stdout
    );
    let v: serde_json::Value =
        serde_json::from_str(&r.lore(&["show", "--commit", &picked, "--json"]).stdout).unwrap();
    let carried = v["sessions"][0]["link"]["evidence"]["carried_from"].to_string();
    assert!(carried.contains(&squash), "{v}");

    // A rebase, then gc prunes the old commit: what the session wrote finds the new one.
    r.git(&["checkout", "-q", "main"]).assert_ok();
    r.git(&["checkout", "-q", "-b", "topic"]).assert_ok();
    let delta = "pub fn delta() -> Vec<u8> { b\"delta\".to_vec() }\npub fn epsilon() -> bool { delta().len() == 5 }\npub fn zeta() -> char { 'z' }";
    r.session(
        S2,
        "topic",
        &[
            Ev::User("2026-03-12T10:00:00Z", "write delta"),
            Ev::Edit("2026-03-12T10:01:00Z", "src/d.rs", delta),
        ],
    );
    r.write("src/d.rs", &format!("{delta}\n"));
    let d = r.commit("Add delta");
    r.lore(&["link", S2, "--commit", &d]).assert_ok();
    r.git(&["checkout", "-q", "main"]).assert_ok();
    r.write("README", "readme, changed on main\n");
    r.commit("Main moves on");
    r.git(&["checkout", "-q", "topic"]).assert_ok();
    r.git(&["rebase", "-q", "main"]).assert_ok();
    let rebased = r.head();
    assert_ne!(rebased, d);
    r.git(&["reflog", "expire", "--expire=now", "--all"])
        .assert_ok();
    r.git(&["gc", "-q", "--prune=now"]).assert_ok();
    assert!(
        r.user.rev(&r.repo, &format!("{d}^{{commit}}")).is_none(),
        "the old commit is gone"
    );
    let out = r.lore(&["link", "--auto", "--since", "2026-03-01"]);
    out.assert_ok();
    assert_eq!(
        r.linked(&rebased),
        vec![(S2.to_owned(), "explicit".to_owned())],
        "{}",
        out.stdout
    );
    // Session 1 wrote nothing of it, and is not linked to it.
    assert!(
        !out.stdout
            .contains(&format!("session {} to {}", &S1[..8], &rebased[..12])),
        "{}",
        out.stdout
    );
}

#[test]
fn blame_in_a_shallow_clone_warns_that_old_lines_go_to_the_boundary() {
    let r = repo();
    for n in 1..=3 {
        r.write("notes.txt", &"a line of the notes\n".repeat(n));
        r.commit(&format!("Notes {n}"));
    }
    let url = format!("file://{}", r.repo.display());
    r.user
        .git(
            &r.user.root,
            &["clone", "-q", "--depth", "1", &url, "shallow"],
        )
        .assert_ok();
    let shallow = r.user.root.join("shallow");
    let out = r.user.lore(&shallow, &["blame", "notes.txt"]);
    out.assert_ok();
    assert!(
        out.stderr.contains("shallow clone") && out.stderr.contains("--unshallow"),
        "{}",
        out.stderr
    );
    let v: serde_json::Value = serde_json::from_str(
        &r.user
            .lore(&shallow, &["blame", "notes.txt", "--json"])
            .stdout,
    )
    .unwrap();
    assert_eq!(v["shallow_boundary"].as_array().unwrap().len(), 1, "{v}");
    // A complete clone says nothing.
    let out = r.lore(&["blame", "notes.txt"]);
    assert!(!out.stderr.contains("shallow"), "{}", out.stderr);
}

#[test]
fn tag_and_annotate_are_revertible_commits_shown_and_filtered() {
    let r = repo();
    r.write("README", "readme\n");
    r.commit("Start");
    r.session(S1, "main", &[Ev::User("2026-03-11T10:00:00Z", "first")]);
    r.session(S2, "main", &[Ev::User("2026-03-11T11:00:00Z", "second")]);
    let show = |id: &str| -> serde_json::Value {
        serde_json::from_str(&r.lore(&["show", id, "--json"]).stdout).unwrap()
    };
    let tagged = |tag: &str| -> Vec<String> {
        let out = r.lore(&["sessions", "--tag", tag, "--json"]);
        out.assert_ok();
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Bad input: one line, exit 1, lore.db untouched.
    let before = r.digest();
    for args in [
        vec!["tag", S1, "two words"],
        vec!["tag", S1, ""],
        vec!["tag", "99999999", "bugfix"],
        vec!["annotate", S1, "   "],
        vec!["annotate", "99999999", "a note"],
    ] {
        let out = r.lore(&args);
        out.assert_fails();
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(r.digest(), before, "{args:?}");
    }

    let out = r.lore(&["tag", &S1[..8], "bugfix"]);
    out.assert_ok();
    assert!(out.stdout.contains("Tagged session"), "{}", out.stdout);
    assert_eq!(show(S1)["tags"], serde_json::json!(["bugfix"]));
    assert_eq!(tagged("bugfix"), vec![S1.to_owned()]);
    // Again: nothing changes.
    let before = r.digest();
    r.lore(&["tag", S1, "bugfix"]).assert_ok();
    assert_eq!(r.digest(), before);

    r.lore(&["annotate", S1, "we chose", "the slow path on purpose"])
        .assert_ok();
    let notes = show(S1)["annotations"].clone();
    assert_eq!(
        notes[0]["body"], "we chose the slow path on purpose",
        "{notes}"
    );
    let out = r.lore(&["show", S1]);
    assert!(
        out.stdout.contains("Note") && out.stdout.contains("the slow path on purpose"),
        "{}",
        out.stdout
    );

    // Each is one commit in history, and revert undoes it.
    let h: serde_json::Value =
        serde_json::from_str(&r.lore(&["history", "--json"]).stdout).unwrap();
    let h = &h["commits"];
    assert_eq!(h[0]["message"], format!("annotate: session {S1}"));
    assert_eq!(h[1]["message"], format!("tag: 'bugfix' on session {S1}"));
    let note_commit = h[0]["id"].as_str().unwrap().to_owned();
    r.lore(&["revert", &note_commit]).assert_ok();
    assert_eq!(show(S1)["annotations"], serde_json::json!([]));

    r.lore(&["tag", S1, "bugfix", "--remove"]).assert_ok();
    assert!(tagged("bugfix").is_empty());
    let h: serde_json::Value =
        serde_json::from_str(&r.lore(&["history", "--json"]).stdout).unwrap();
    let h = &h["commits"];
    assert_eq!(
        h[0]["message"],
        format!("tag: remove 'bugfix' from session {S1}")
    );
    let remove_commit = h[0]["id"].as_str().unwrap().to_owned();
    r.lore(&["revert", &remove_commit]).assert_ok();
    assert_eq!(tagged("bugfix"), vec![S1.to_owned()]);
    r.lore(&["verify", "--full"]).assert_ok();
}

#[test]
fn a_teammates_synced_session_shows_in_blame() {
    const PASS: &str = "a passphrase for the team";
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = world.user("alice");
    alice.git(&alice.root, &["init", "-q", "repo"]).assert_ok();
    let repo = std::fs::canonicalize(alice.root.join("repo")).unwrap();
    std::fs::write(
        repo.join("lib.rs"),
        "pub fn shared_reasoning_example() {}\n",
    )
    .unwrap();
    alice.git(&repo, &["add", "lib.rs"]).assert_ok();
    alice
        .git(&repo, &["commit", "-qm", "Shared code"])
        .assert_ok();
    alice
        .git(
            &repo,
            &["remote", "add", "origin", remote.to_str().unwrap()],
        )
        .assert_ok();
    alice
        .git(&repo, &["push", "-q", "-u", "origin", "main"])
        .assert_ok();
    alice.setup(&repo, PASS).assert_ok();
    let r = Repo {
        world,
        user: alice,
        repo,
    };
    r.session(
        S1,
        "main",
        &[
            Ev::User(
                "2026-03-11T10:00:00Z",
                "add shared_reasoning_example to lib.rs",
            ),
            Ev::Say(
                "2026-03-11T10:01:00Z",
                "It is the example the docs point at.",
            ),
            Ev::Edit(
                "2026-03-11T10:02:00Z",
                "lib.rs",
                "pub fn shared_reasoning_example() {}",
            ),
        ],
    );
    r.lore(&["link", S1]).assert_ok();
    r.lore(&["tag", S1, "example"]).assert_ok();
    r.lore(&["annotate", S1, "the docs point at this one"])
        .assert_ok();
    r.lore(&["sync"]).assert_ok();

    let bob = r.world.user("bob");
    let bob_repo = bob.clone(remote.to_str().unwrap(), "repo");
    // Before anything: blame works, and reading creates no lore.db.
    let out = bob.lore(&bob_repo, &["blame", "lib.rs"]);
    out.assert_ok();
    assert!(
        out.stdout.contains("No reasoning linked to"),
        "before sync: {}",
        out.stdout
    );
    assert!(!bob.lore_home.join("lore.db").exists());
    bob.setup(&bob_repo, PASS).assert_ok();
    bob.lore(&bob_repo, &["sync"]).assert_ok();
    // --repo . finds alice's session, synced through this repository though bob's clone is at
    // another path: it is linked to a commit of this repository.
    let ids = |who: &common::User, dir: &Path, repo: &str| -> Vec<String> {
        let out = who.lore(dir, &["sessions", "--repo", repo, "--json"]);
        out.assert_ok();
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&bob, &bob_repo, "."), vec![S1.to_owned()]);
    // The session that came by sync is in bob's content index: his blame says it wrote the
    // line.
    let indexed: i64 = rusqlite::Connection::open_with_flags(
        bob.lore_home.join("lore.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
    .query_row(
        "SELECT count(*) FROM _lore_content_lines c JOIN messages m ON m.id = c.message_id
          WHERE m.session_id = ?1",
        [S1],
        |r| r.get(0),
    )
    .unwrap();
    assert_eq!(indexed, 1);
    let out = bob.lore(&bob_repo, &["blame", "--json", "lib.rs"]);
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v["commits"][0]["sessions"][0]["evidence"]["kind"], "lines",
        "{v}"
    );
    // Alice's tag and note came with the session.
    let v: serde_json::Value =
        serde_json::from_str(&bob.lore(&bob_repo, &["show", S1, "--json"]).stdout).unwrap();
    assert_eq!(v["tags"], serde_json::json!(["example"]), "{v}");
    assert_eq!(v["annotations"][0]["body"], "the docs point at this one");
    let out = bob.lore(&bob_repo, &["sessions", "--tag", "example", "--json"]);
    assert!(out.stdout.contains(S1), "{}", out.stdout);
    let out = bob.lore(
        &bob_repo,
        &["search", "--repo", ".", "shared_reasoning_example"],
    );
    out.assert_ok();
    assert!(out.stdout.contains(&S1[..8]), "{}", out.stdout);
    // Another clone of alice's own, at another path: the same repository by its root commit.
    let url = format!("file://{}", r.repo.display());
    r.user
        .git(&r.user.root, &["clone", "-q", &url, "second"])
        .assert_ok();
    let second = r.user.root.join("second");
    let unlinked = "44444444-4444-4444-8444-444444444444";
    r.session(
        unlinked,
        "main",
        &[Ev::User("2026-03-11T11:00:00Z", "just a question, no link")],
    );
    let mine = ids(&r.user, &second, ".");
    assert!(
        mine.contains(&S1.to_owned()) && mine.contains(&unlinked.to_owned()),
        "{mine:?}"
    );
    // An unrelated repository does not get them.
    r.user
        .git(&r.user.root, &["init", "-q", "other"])
        .assert_ok();
    let other = r.user.root.join("other");
    std::fs::write(other.join("x"), "x\n").unwrap();
    r.user.git(&other, &["add", "x"]).assert_ok();
    r.user.git(&other, &["commit", "-qm", "x"]).assert_ok();
    assert!(ids(&r.user, &other, ".").is_empty());
    let out = bob.lore(&bob_repo, &["blame", "lib.rs"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!("Session {}", &S1[..8])),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("add shared_reasoning_example to lib.rs"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("explicit link, 1.00, from another machine)"),
        "{}",
        out.stdout
    );
    let own = r.lore(&["blame", "lib.rs"]);
    assert!(
        own.stdout.contains("explicit link, 1.00)"),
        "{}",
        own.stdout
    );
    let v: serde_json::Value =
        serde_json::from_str(&bob.lore(&bob_repo, &["blame", "lib.rs", "--json"]).stdout).unwrap();
    assert_eq!(v["commits"][0]["sessions"][0]["link"]["kind"], "explicit");

    // Bob takes the link back: the removal travels, and Alice's blame loses it too.
    let r2 = bob.lore(&bob_repo, &["unlink", S1, "--commit", "HEAD"]);
    r2.assert_ok();
    assert!(
        r2.stdout.contains("'lore sync' takes it back"),
        "{}",
        r2.stdout
    );
    bob.lore(&bob_repo, &["sync"]).assert_ok();
    r.lore(&["sync"]).assert_ok();
    for out in [
        r.lore(&["blame", "lib.rs"]),
        bob.lore(&bob_repo, &["blame", "lib.rs"]),
    ] {
        out.assert_ok();
        // The link is gone; the content index still knows the session wrote the line, and
        // says that is all it knows.
        assert!(
            out.stdout
                .contains("wrote this line; found by content only, not linked to this commit")
                && !out.stdout.contains("explicit link"),
            "{}",
            out.stdout
        );
    }
    let shown = r.lore(&["show", "--commit", "HEAD", "--json"]);
    shown.assert_ok();
    assert!(!shown.stdout.contains(S1), "{}", shown.stdout);
    // A sync back and forth does not bring it back, and --auto does not make it again.
    bob.lore(&bob_repo, &["sync"]).assert_ok();
    r.lore(&["link", "--auto", "--since", "2026-01-01"])
        .assert_ok();
    assert!(r.linked("HEAD").is_empty());
    let again = r.lore(&["blame", "lib.rs"]);
    assert!(
        again.stdout.contains("found by content only") && !again.stdout.contains("explicit link"),
        "{}",
        again.stdout
    );
    // Made again by hand later, it comes back for Bob too.
    r.lore(&["link", S1]).assert_ok();
    r.lore(&["sync"]).assert_ok();
    bob.lore(&bob_repo, &["sync"]).assert_ok();
    let out = bob.lore(&bob_repo, &["blame", "lib.rs"]);
    assert!(
        out.stdout.contains(&format!("Session {}", &S1[..8])),
        "{}",
        out.stdout
    );
}

#[test]
fn blame_cuts_long_messages_with_multibyte_text_and_leading_whitespace() {
    let r = repo();
    r.write("src/lexer.rs", "pub fn lex() {}\n");
    r.commit_at("Add the lexer", Some("2026-03-11T10:10:00Z"));
    let long = format!(
        "\n{}«lexer.rs» is wrong {}",
        "word ".repeat(200),
        "word ".repeat(200)
    );
    r.session(S1, "main", &[Ev::User("2026-03-11T10:00:00Z", &long)]);
    r.lore(&["link", S1]).assert_ok();
    let out = r.lore(&["blame", "src/lexer.rs:1"]);
    out.assert_ok();
    assert!(out.stdout.contains("«lexer.rs» is wrong"), "{}", out.stdout);
    let v = r.blame_json(&["src/lexer.rs:1"]);
    let excerpt = v["commits"][0]["sessions"][0]["messages"][0]["excerpt"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        excerpt.starts_with('…') && excerpt.ends_with('…'),
        "{excerpt}"
    );
    assert!(excerpt.contains("«lexer.rs»"), "{excerpt}");
}

#[test]
fn the_post_commit_hook_leaves_commits_replayed_by_rebase_and_cherry_pick_alone() {
    let r = repo();
    r.write("README", "readme\n");
    r.commit("Start");
    r.lore(&["hooks", "install"]).assert_ok();
    // A session running now, in Claude Code's default folder.
    let now = jiff::Timestamp::now();
    let t0 = now
        .checked_sub(jiff::SignedDuration::from_mins(3))
        .unwrap()
        .to_string();
    r.transcript(
        &r.user.home.join(".claude"),
        S1,
        "topic",
        &[
            Ev::User(&t0, "write the topic"),
            Ev::Say(&now.to_string(), "Writing it."),
            Ev::Edit(&now.to_string(), "src/c.rs", "fn c() {}"),
        ],
    );
    // Commits made with the hook kept quiet (as lore's own commands do): none is linked.
    let quiet = |message: &str| {
        r.git(&["add", "-A"]).assert_ok();
        r.user
            .git_with(
                &r.repo,
                &[("LORE_HOOK_ACTIVE", "1")],
                &["commit", "-qm", message],
            )
            .assert_ok();
        r.head()
    };
    r.git(&["checkout", "-q", "-b", "topic"]).assert_ok();
    r.write("src/a.rs", "fn a() {}\n");
    let a = quiet("Topic a");
    r.write("src/b.rs", "fn b() {}\n");
    let b = quiet("Topic b");
    r.git(&["checkout", "-q", "main"]).assert_ok();
    r.write("README", "readme, changed on main\n");
    quiet("Main moves on");
    assert!(r.linked(&a).is_empty() && r.linked(&b).is_empty());

    // The rebase makes two commits, and the hook runs for each: neither is linked.
    r.git(&["checkout", "-q", "topic"]).assert_ok();
    r.git(&["rebase", "-q", "main"]).assert_ok();
    let b2 = r.head();
    let a2 = r.user.rev(&r.repo, "HEAD~1").unwrap();
    assert_ne!(b, b2);
    assert_ne!(a, a2);
    assert!(r.linked(&a2).is_empty(), "{:?}", r.linked(&a2));
    assert!(r.linked(&b2).is_empty(), "{:?}", r.linked(&b2));

    // Nor is a commit a cherry-pick copies.
    r.git(&["checkout", "-q", "main"]).assert_ok();
    r.git(&["cherry-pick", &b2]).assert_ok();
    let picked = r.head();
    assert_ne!(picked, b2);
    assert!(r.linked(&picked).is_empty(), "{:?}", r.linked(&picked));

    // A new commit made by hand is.
    r.write("src/c.rs", "fn c() {}\n");
    let c = r.commit("New work");
    assert_eq!(r.linked(&c), vec![(S1.to_owned(), "hook".to_owned())]);
}

#[test]
fn blame_reads_non_ascii_and_quoted_file_names() {
    let r = repo();
    let names = ["src/sub dir/ünï côde.txt", "src/sub dir/say \"hi\".txt"];
    for n in names {
        r.write(n, "a line long enough to be quoted as code\n");
    }
    let c = r.commit_at("Add odd names", Some("2026-03-11T10:10:00Z"));
    r.session(
        S1,
        "main",
        &[Ev::User(
            "2026-03-11T10:00:00Z",
            "fix ünï côde.txt and say \"hi\".txt please",
        )],
    );
    r.lore(&["link", S1]).assert_ok();
    for n in names {
        let out = r.lore(&["blame", n]);
        out.assert_ok();
        assert!(
            out.stdout
                .starts_with(&format!("{n}, 1 line, from 1 commit\n")),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout
                .contains(&format!("{} Add odd names\n", &c[..12])),
            "{}",
            out.stdout
        );
        assert!(!out.stdout.contains(", as "), "no rename: {}", out.stdout);
        assert!(
            out.stdout.contains("(names the file):"),
            "{n}: {}",
            out.stdout
        );
        let v = r.blame_json(&[n]);
        assert_eq!(v["file"], n);
        assert_eq!(v["commits"][0]["path"], n);
    }
}

#[test]
fn blame_reads_a_symlink_as_the_one_line_git_tracks() {
    let r = repo();
    // A long file behind the link: blame must not count its lines.
    r.write("src/real.rs", &"fn real() {}\n".repeat(5));
    std::os::unix::fs::symlink("real.rs", r.repo.join("src/alias.rs")).unwrap();
    std::os::unix::fs::symlink("../src", r.repo.join("src/folder-link")).unwrap();
    let c = r.commit("Add a file and links to it");
    for (target, text) in [("src/alias.rs", "real.rs"), ("src/folder-link", "../src")] {
        let v = r.blame_json(&[target]);
        assert_eq!(
            v["lines"],
            serde_json::json!([{"line": 1, "sha": c, "text": text}]),
            "{target}"
        );
        let out = r.lore(&["blame", &format!("{target}:1")]);
        out.assert_ok();
        assert!(
            out.stdout.contains(&format!("1 │ {text}")),
            "{}",
            out.stdout
        );
        let out = r.lore(&["blame", &format!("{target}:2")]);
        assert_eq!(out.code, Some(1), "{}", out.stderr);
        assert!(out.stderr.contains("(1 line)"), "{}", out.stderr);
    }
}

#[test]
fn an_explicit_link_confirms_an_auto_link_even_at_full_confidence() {
    let r = repo();
    r.write("README", "readme\n");
    r.commit_at("Start", Some("2026-03-11T08:00:00Z"));
    r.session(
        S1,
        "main",
        &[
            Ev::User("2026-03-11T10:00:00Z", "make the cache faster"),
            Ev::Edit("2026-03-11T10:10:00Z", "src/cache.rs", "fn faster() {}"),
        ],
    );
    // During the session, on its branch, its file: 0.2 + 0.4 + 0.4 = 1.00.
    r.write("src/cache.rs", "fn faster() {}\n");
    let c = r.commit_at("Faster cache", Some("2026-03-11T10:10:00Z"));
    r.lore(&["link", "--auto", "--since", "2026-03-10"])
        .assert_ok();
    let v: serde_json::Value =
        serde_json::from_str(&r.lore(&["show", "--commit", &c, "--json"]).stdout).unwrap();
    assert_eq!(v["sessions"][0]["link"]["kind"], "auto");
    assert_eq!(v["sessions"][0]["link"]["confidence"], 1.0);

    let out = r.lore(&["link", S1, "--commit", &c]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!("Linked session {S1}")),
        "{}",
        out.stdout
    );
    assert_eq!(r.linked(&c), vec![(S1.to_owned(), "explicit".to_owned())]);
    // Now it is explicit, and linking again changes nothing.
    let before = r.digest();
    let out = r.lore(&["link", S1, "--commit", &c]);
    assert!(out.stdout.contains("already linked"), "{}", out.stdout);
    assert_eq!(r.digest(), before);
    // --auto does not turn it back, and says why it links nothing.
    let out = r.lore(&["link", "--auto", "--since", "2026-03-10"]);
    out.assert_ok();
    assert!(
        out.stdout
            .contains("looked at; of a session and a commit near it, 1 pair linked already.\n"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("scoring"), "{}", out.stdout);
    assert_eq!(r.linked(&c), vec![(S1.to_owned(), "explicit".to_owned())]);
}

#[test]
fn auto_since_a_date_before_1973_still_finds_commits() {
    let r = repo();
    r.write("README", "readme\n");
    r.commit_at("Start", Some("2026-03-11T08:00:00Z"));
    r.session(
        S1,
        "main",
        &[
            Ev::User("2026-03-11T10:00:00Z", "make the cache faster"),
            Ev::Edit("2026-03-11T10:10:00Z", "src/cache.rs", "fn faster() {}"),
        ],
    );
    r.write("src/cache.rs", "fn faster() {}\n");
    let c = r.commit_at("Faster cache", Some("2026-03-11T10:10:00Z"));
    for since in ["1971-01-01", "1970-01-01"] {
        let out = r.lore(&["link", "--auto", "--since", since, "--dry-run", "--json"]);
        out.assert_ok();
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["commit_count"], 2, "{since}: {v}");
        assert_eq!(v["links"][0]["commit"]["sha"], c.as_str(), "{since}: {v}");
    }
}

#[test]
fn just_before_the_edit_is_never_an_earlier_turns_text() {
    let r = repo();
    r.write("src/parse.rs", PARSE_V1);
    r.commit_at("Add the parser", Some("2026-03-11T09:00:00Z"));
    r.write("src/parse.rs", PARSE_V2);
    let c2 = r.commit_at("Include the last byte", Some("2026-03-11T10:25:00Z"));
    r.session(
        S1,
        "main",
        &[
            Ev::User("2026-03-11T10:00:00Z", "what does this project do?"),
            Ev::Say("2026-03-11T10:01:00Z", "A stale answer about the README."),
            // A new prompt, then the edit at once: no assistant text in this turn.
            Ev::User(
                "2026-03-11T10:02:00Z",
                "make the end index count the last byte",
            ),
            Ev::Edit(
                "2026-03-11T10:03:00Z",
                "src/parse.rs",
                "    let end = start + input.len();",
            ),
        ],
    );
    r.lore(&["link", S1, "--commit", &c2]).assert_ok();
    let out = r.lore(&["blame", "src/parse.rs:4"]);
    out.assert_ok();
    assert!(!out.stdout.contains("stale answer"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("(just before the edit):\n      make the end index count the last byte"),
        "{}",
        out.stdout
    );
    let v = r.blame_json(&["src/parse.rs:4"]);
    let m = &v["commits"][0]["sessions"][0]["messages"];
    assert_eq!(m.as_array().unwrap().len(), 1, "{m}");
    assert_eq!(m[0]["mention"], "before-edit");
    assert_eq!(m[0]["role"], "user");
}

#[test]
fn auto_relinks_an_amended_commit_inside_the_window_keeping_its_link() {
    let r = repo();
    r.write("README", "readme\n");
    r.commit_at("Start", Some("2026-03-11T08:00:00Z"));
    r.session(
        S1,
        "main",
        &[
            Ev::User("2026-03-11T10:00:00Z", "add the feature"),
            Ev::Edit("2026-03-11T10:10:00Z", "src/feature.rs", "fn feature() {}"),
        ],
    );
    r.write("src/feature.rs", "fn feature() {}\n");
    let old = r.commit_at("Add the feature", Some("2026-03-11T10:10:00Z"));
    r.lore(&["link", S1]).assert_ok();
    // Reworded a minute later: the new commit is inside the session's window, and would
    // score 1.00 on its own.
    r.user
        .git_with(
            &r.repo,
            &[("GIT_COMMITTER_DATE", "2026-03-11T10:11:00Z")],
            &["commit", "-q", "--amend", "-m", "Add the feature, reworded"],
        )
        .assert_ok();
    let amended = r.head();
    assert_ne!(old, amended);

    let out = r.lore(&[
        "link",
        "--auto",
        "--since",
        "2026-03-01",
        "--dry-run",
        "--json",
    ]);
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let links = v["links"].as_array().unwrap();
    assert_eq!(links.len(), 1, "{v}");
    assert_eq!(links[0]["commit"]["sha"], amended.as_str());
    assert_eq!(links[0]["relinked_from"], old.as_str());
    assert_eq!(links[0]["kind"], "explicit");
    assert_eq!(links[0]["confidence"], 1.0);
    assert_eq!(links[0]["score"], serde_json::Value::Null);

    let out = r.lore(&["link", "--auto", "--since", "2026-03-01"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!(
            "it was linked to {}, which amend or rebase rewrote; {} has the same patch",
            &old[..12],
            &amended[..12]
        )),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("score"), "{}", out.stdout);
    assert_eq!(
        r.linked(&amended),
        vec![(S1.to_owned(), "explicit".to_owned())]
    );
}

#[test]
fn a_repository_without_commits_says_so() {
    let r = repo();
    r.write("README", "not committed\n");
    r.write("empty.txt", "");
    r.session(S1, "main", &[Ev::User("2026-03-11T10:00:00Z", "start")]);
    let before = r.digest();
    for args in [
        vec!["link", S1],
        vec!["link", S1, "--commit", "HEAD~1"],
        vec!["link", "--current"],
        vec!["show", "--commit", "HEAD"],
    ] {
        let out = r.lore(&args);
        assert_eq!(out.code, Some(1), "{args:?}: {}", out.stderr);
        assert_eq!(
            out.stderr.trim(),
            "error: this repository has no commits yet: make a first commit, then run this again",
            "{args:?}"
        );
        assert_eq!(r.digest(), before, "{args:?}");
    }
    for file in ["README", "empty.txt"] {
        let out = r.lore(&["blame", file]);
        assert_eq!(out.code, Some(1), "{file}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!("{file} is not committed yet")),
            "{file}: {}",
            out.stderr
        );
    }
    let out = r.lore(&["link", "--auto"]);
    out.assert_ok();
    assert!(out.stdout.contains("No new links"), "{}", out.stdout);

    // Once there are commits, an empty file with no history is not committed yet either,
    // and an empty committed one is empty.
    r.commit("First");
    r.write("new-empty.txt", "");
    let out = r.lore(&["blame", "new-empty.txt"]);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert!(
        out.stderr.contains("new-empty.txt is not committed yet"),
        "{}",
        out.stderr
    );
    let out = r.lore(&["blame", "empty.txt"]);
    out.assert_ok();
    assert!(
        out.stdout.contains("The file is empty: nothing to blame."),
        "{}",
        out.stdout
    );
}

#[test]
fn auto_matches_files_on_path_boundaries_only() {
    let r = repo();
    r.write("README", "readme\n");
    r.commit_at("Start", Some("2026-03-11T08:00:00Z"));
    r.session(
        S1,
        "main",
        &[
            Ev::User("2026-03-11T10:00:00Z", "fix the library"),
            Ev::Edit("2026-03-11T10:10:00Z", "src/lib.rs", "fn lib() {}"),
        ],
    );
    // A top-level lib.rs is not the src/lib.rs the session edited.
    r.write("lib.rs", "fn top() {}\n");
    let top = r.commit_at("Top-level lib", Some("2026-03-11T10:05:00Z"));
    r.write("src/lib.rs", "fn lib() {}\n");
    let src = r.commit_at("The library", Some("2026-03-11T10:10:00Z"));
    let out = r.lore(&[
        "link",
        "--auto",
        "--since",
        "2026-03-10",
        "--dry-run",
        "--json",
    ]);
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let links: Vec<&str> = v["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["commit"]["sha"].as_str().unwrap())
        .collect();
    assert_eq!(links, vec![src.as_str()], "not {top}: {v}");
}

#[test]
fn revisions_are_resolved_then_peeled() {
    let (r, c1, c2) = scripted();
    r.git(&["tag", "-a", "-m", "the first", "v1", &c1])
        .assert_ok();
    // A message search, an annotated tag, a plain id: each names its commit.
    for (rev, want) in [(":/Include the last", &c2), ("v1", &c1), (":/Add the", &c1)] {
        let out = r.lore(&["show", "--commit", rev, "--json"]);
        out.assert_ok();
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["commit"]["sha"], want.as_str(), "{rev}");
    }
    r.lore(&["link", S1, "--commit", ":/Include the last"])
        .assert_ok();
    assert_eq!(r.linked(&c2), vec![(S1.to_owned(), "explicit".to_owned())]);
    // A blob is no commit.
    let out = r.lore(&["show", "--commit", "HEAD:src/parse.rs"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("unknown revision 'HEAD:src/parse.rs'"),
        "{}",
        out.stderr
    );
}

#[test]
fn blame_takes_gits_numeric_l_forms_and_refuses_the_others_clearly() {
    let (r, _c1, _c2) = scripted();
    for (l, want) in [
        ("2", [2, 6]),
        ("5,", [5, 6]),
        (",2", [1, 2]),
        ("3,-2", [2, 3]),
        ("2,+2", [2, 3]),
        ("2,4", [2, 4]),
        ("2-4", [2, 4]),
    ] {
        let v = r.blame_json(&["src/parse.rs", "-L", l]);
        assert_eq!(v["range"], serde_json::json!(want), "-L {l}");
        let lines: Vec<u64> = v["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, (want[0]..=want[1]).collect::<Vec<u64>>(), "-L {l}");
    }
    let out = r.lore(&["blame", "src/parse.rs", "-L", "2"]);
    out.assert_ok();
    assert!(
        out.stdout
            .starts_with("src/parse.rs, lines 2-6, from 2 commits\n"),
        "{}",
        out.stdout
    );
    let before = r.digest();
    for l in ["/let end/", ":parse", "/let/,+2"] {
        let out = r.lore(&["blame", "src/parse.rs", "-L", l]);
        assert_eq!(out.code, Some(1), "-L {l}: {}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
        assert!(
            out.stderr
                .contains("git's /regex/ and :funcname ranges are not supported"),
            "-L {l}: {}",
            out.stderr
        );
    }
    let out = r.lore(&["blame", "src/parse.rs", "-L", "7"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("line 7 is past the end of src/parse.rs (6 lines)"),
        "{}",
        out.stderr
    );
    assert_eq!(r.digest(), before);
}

#[test]
fn json_into_a_closed_pipe_is_a_quiet_success() {
    let r = repo();
    let big: String = (0..5000)
        .map(|i| format!("let line_{i} = \"some text to make the output long\";\n"))
        .collect();
    r.write("big.rs", &big);
    r.commit("A long file");
    let script = r.world.path("closed-pipe.sh");
    for cmd in [
        "blame --json big.rs",
        "blame big.rs",
        "show --commit HEAD --json",
    ] {
        assert_quiet_into_closed_pipe(&r, &script, cmd, "", "head -c 1 >/dev/null");
    }
}

/// Runs `lore CMD` (after `before`, shell) into a pipe whose reader is `reader`, and asserts
/// that it exits 0 and says nothing: a closed pipe is not an error.
fn assert_quiet_into_closed_pipe(r: &Repo, script: &Path, cmd: &str, before: &str, reader: &str) {
    let code = r.world.path("code");
    let err = r.world.path("err");
    std::fs::write(
        script,
        format!(
            "{{ {before}lore {cmd} 2>'{err}'; echo $? >'{code}'; }} | {reader}\n",
            err = err.display(),
            code = code.display()
        ),
    )
    .unwrap();
    r.user.sh(&r.repo, script, &[]).assert_ok();
    assert_eq!(
        std::fs::read_to_string(&code).unwrap().trim(),
        "0",
        "{cmd}: {}",
        std::fs::read_to_string(&err).unwrap()
    );
    assert_eq!(std::fs::read_to_string(&err).unwrap(), "", "{cmd}");
}

#[test]
fn link_and_unlink_into_a_closed_pipe_do_not_panic() {
    let (r, _c1, _c2) = scripted();
    let script = r.world.path("closed-pipe.sh");
    for cmd in [
        "link --auto --since 2026-03-01 --dry-run".to_owned(),
        format!("link {S1}"),
        format!("unlink {S1}"),
    ] {
        // The reader is gone before lore writes a byte.
        assert_quiet_into_closed_pipe(&r, &script, &cmd, "sleep 0.3; ", "true");
    }
    // The link and the unlink were made all the same.
    let h = r.lore(&["history", "-n", "2"]);
    assert!(
        h.stdout.contains(&format!("unlink: session {S1}")),
        "{}",
        h.stdout
    );
    assert!(
        h.stdout.contains(&format!("link: session {S1}")),
        "{}",
        h.stdout
    );
}

/// The digest of lore.db (common's) and of its content index, which lore keeps itself.
fn digest_with_index(r: &Repo) -> String {
    let path = r.user.lore_home.join("lore.db");
    let conn =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let rows: Vec<String> = conn
        .prepare("SELECT hash || ':' || message_id FROM _lore_content_lines ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    format!("{}/{}", digest_db(&path), rows.join(","))
}

/// The sessions `lore blame --json` gives the commit of `line`: (id, found_by, evidence kind).
fn blamed_sessions(r: &Repo, dir: &Path, target: &str) -> Vec<(String, String, String)> {
    let out = r.user.lore(dir, &["blame", "--json", target]);
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut found = Vec::new();
    for c in v["commits"].as_array().unwrap() {
        for s in c["sessions"].as_array().unwrap() {
            found.push((
                s["id"].as_str().unwrap().to_owned(),
                s["found_by"].as_str().unwrap().to_owned(),
                s["evidence"]["kind"].as_str().unwrap().to_owned(),
            ));
        }
    }
    found
}

#[test]
fn blame_finds_who_wrote_a_squash_merged_line_by_content_and_auto_links_it() {
    let r = repo();
    r.write("README", "readme\n");
    r.commit("Start");
    let files = [
        ("src/a.rs", "pub fn alpha() -> &'static str { \"alpha\" }"),
        ("src/b.rs", "pub fn beta(n: u32) -> u32 { n * 2 + 1 }"),
        ("src/c.rs", "pub fn gamma() -> Vec<u8> { vec![1, 2, 3] }"),
    ];
    let mut events = vec![Ev::User("2026-03-11T10:00:00Z", "write alpha, beta, gamma")];
    events.extend(
        files
            .iter()
            .map(|(f, text)| Ev::Edit("2026-03-11T10:05:00Z", f, text)),
    );
    // Session 2 edits another file only: it wrote none of these lines.
    r.session(S1, "feature", &events);
    r.session(
        S2,
        "feature",
        &[
            Ev::User("2026-03-11T11:00:00Z", "fix the readme"),
            Ev::Edit("2026-03-11T11:01:00Z", "README", "a readme line, rewritten"),
        ],
    );
    // Three commits on a branch, never linked; squash-merged, the branch deleted and its
    // commits pruned.
    r.git(&["checkout", "-q", "-b", "feature"]).assert_ok();
    for (f, text) in files {
        r.write(f, &format!("{text}\n}}\n"));
        r.commit(&format!("Add {f}"));
    }
    r.git(&["checkout", "-q", "main"]).assert_ok();
    r.git(&["merge", "-q", "--squash", "feature"]).assert_ok();
    let squash = r.commit("Feature (squashed)");
    r.git(&["branch", "-q", "-D", "feature"]).assert_ok();
    r.git(&["reflog", "expire", "--expire=now", "--all"])
        .assert_ok();
    r.git(&["gc", "-q", "--prune=now"]).assert_ok();
    assert!(r.linked(&squash).is_empty());

    for (f, _) in files {
        assert_eq!(
            blamed_sessions(&r, &r.repo, f),
            vec![(S1.to_owned(), "content".to_owned(), "lines".to_owned())],
            "{f}"
        );
    }
    let out = r.lore(&["blame", "src/b.rs:1"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!("Session {}", &S1[..8]))
            && out
                .stdout
                .contains("wrote this line; found by content only, not linked to this commit")
            && out.stdout.contains("(just before the edit):"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(&S2[..8]), "{}", out.stdout);
    // The `}` line is too short to be evidence: no session for it.
    assert!(blamed_sessions(&r, &r.repo, "src/b.rs:2").is_empty());

    // --auto links the squash commit to the session by the index, and says so.
    let out = r.lore(&["link", "--auto", "--since", "2026-03-01"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!(
            "Linked session {} to {} Feature (squashed): its messages wrote 3 of the commit's 3 \
             added lines (found by content",
            &S1[..8],
            &squash[..12]
        )),
        "{}",
        out.stdout
    );
    assert_eq!(r.linked(&squash), vec![(S1.to_owned(), "auto".to_owned())]);
    let ev = evidence(&r, &squash);
    assert_eq!(ev[0].1["content"], true, "{ev:?}");
    assert_eq!(ev[0].1["lines"], 3, "{ev:?}");
    assert_eq!(ev[0].2, 1.0);
    // Now blame gives it by its link, still as the session that wrote the line.
    assert_eq!(
        blamed_sessions(&r, &r.repo, "src/a.rs"),
        vec![(S1.to_owned(), "link".to_owned(), "lines".to_owned())]
    );
    // A second run finds nothing new.
    let out = r.lore(&["link", "--auto", "--since", "2026-03-01"]);
    out.assert_ok();
    assert!(out.stdout.contains("No new links"), "{}", out.stdout);
}

#[test]
fn blame_finds_the_writer_after_a_cherry_pick_and_a_pruned_rebase() {
    let r = repo();
    r.write("README", "readme\n");
    let start = r.commit("Start");
    let picked_line = "pub fn picked() -> &'static str { \"to the release\" }";
    let rebased_lines = "pub fn rebased_one() -> u8 { 1 }\npub fn rebased_two() -> u8 { 2 }";
    r.session(
        S1,
        "dev",
        &[
            Ev::User("2026-03-11T10:00:00Z", "add picked"),
            Ev::Edit("2026-03-11T10:01:00Z", "src/pick.rs", picked_line),
        ],
    );
    r.session(
        S2,
        "topic",
        &[
            Ev::User("2026-03-12T10:00:00Z", "add the rebased functions"),
            Ev::Say(
                "2026-03-12T10:00:30Z",
                "Two small functions, one per value.",
            ),
            Ev::Edit("2026-03-12T10:01:00Z", "src/reb.rs", rebased_lines),
        ],
    );
    // Cherry-pick from dev to release; dev is deleted and pruned.
    r.git(&["checkout", "-q", "-b", "dev"]).assert_ok();
    r.write("src/pick.rs", &format!("{picked_line}\n"));
    r.commit("Add picked");
    r.git(&["checkout", "-q", "-b", "release", &start])
        .assert_ok();
    r.write("RELEASE", "notes\n");
    r.commit("Release notes");
    r.git(&["cherry-pick", "dev"]).assert_ok();
    // A rebase of topic onto release; the old commit pruned.
    r.git(&["checkout", "-q", "-b", "topic", &start])
        .assert_ok();
    r.write("src/reb.rs", &format!("{rebased_lines}\n"));
    let old = r.commit("Add rebased");
    r.git(&["rebase", "-q", "release"]).assert_ok();
    r.git(&["branch", "-q", "-D", "dev"]).assert_ok();
    r.git(&["reflog", "expire", "--expire=now", "--all"])
        .assert_ok();
    r.git(&["gc", "-q", "--prune=now"]).assert_ok();
    assert!(r.user.rev(&r.repo, &format!("{old}^{{commit}}")).is_none());

    assert_eq!(
        blamed_sessions(&r, &r.repo, "src/pick.rs"),
        vec![(S1.to_owned(), "content".to_owned(), "lines".to_owned())]
    );
    assert_eq!(
        blamed_sessions(&r, &r.repo, "src/reb.rs"),
        vec![(S2.to_owned(), "content".to_owned(), "lines".to_owned())]
    );
    let out = r.lore(&["blame", "src/reb.rs"]);
    out.assert_ok();
    assert!(
        out.stdout
            .contains("wrote these lines; found by content only")
            && out.stdout.contains("Two small functions, one per value."),
        "{}",
        out.stdout
    );
}

#[test]
fn a_line_copied_into_another_repository_finds_its_writer_whatever_it_holds() {
    let r = repo();
    // Quotes, a backslash, a tab inside the line, non-ASCII.
    let line = "let greeting = \"say \\\"hï\\\"\\n\";\t// naïve café → 東京";
    let other_line = "let unrelated = compute_something_else(42);";
    r.session(
        S1,
        "main",
        &[
            Ev::User("2026-03-11T10:00:00Z", "greet in every language"),
            Ev::Edit("2026-03-11T10:01:00Z", "src/greet.rs", line),
        ],
    );
    // Another repository, no session ever ran there: the line is pasted with other
    // indentation and spacing, and committed.
    r.user
        .git(&r.user.root, &["init", "-q", "other"])
        .assert_ok();
    let other = std::fs::canonicalize(r.user.root.join("other")).unwrap();
    let pasted = format!(
        "fn main() {{\n        {}\n    {other_line}\n}}\n",
        line.replace('\t', "   ")
    );
    std::fs::write(other.join("main.rs"), pasted).unwrap();
    r.user.git(&other, &["add", "-A"]).assert_ok();
    r.user.git(&other, &["commit", "-qm", "Paste"]).assert_ok();

    assert_eq!(
        blamed_sessions(&r, &other, "main.rs:2"),
        vec![(S1.to_owned(), "content".to_owned(), "lines".to_owned())]
    );
    assert!(blamed_sessions(&r, &other, "main.rs:3").is_empty());
    let out = r.user.lore(&other, &["blame", "main.rs"]);
    out.assert_ok();
    assert!(
        out.stdout
            .contains("wrote 1 of these 3 lines; found by content only"),
        "{}",
        out.stdout
    );
    // The prompt before the edit explains it, though the copy is spaced differently.
    assert!(
        out.stdout
            .contains("(just before the edit):\n      greet in every language"),
        "{}",
        out.stdout
    );
    // Lines not committed yet are found too.
    std::fs::write(other.join("new.rs"), format!("{line}\n")).unwrap();
    r.user.git(&other, &["add", "new.rs"]).assert_ok();
    r.user
        .git(&other, &["commit", "-qm", "empty new"])
        .assert_ok();
    std::fs::write(other.join("main.rs"), format!("{other_line}\n{line}\n")).unwrap();
    let out = r.user.lore(&other, &["blame", "main.rs:2"]);
    out.assert_ok();
    assert!(
        out.stdout.contains("Not committed yet")
            && out.stdout.contains(&format!("Session {}", &S1[..8])),
        "{}",
        out.stdout
    );
}

#[test]
fn the_index_follows_delete_and_revert_and_errors_change_nothing() {
    let r = repo();
    let line = "pub const INDEXED: &str = \"kept in step\";";
    r.session(
        S1,
        "main",
        &[
            Ev::User("2026-03-11T10:00:00Z", "add the constant"),
            Ev::Edit("2026-03-11T10:01:00Z", "src/k.rs", line),
        ],
    );
    r.write("src/k.rs", &format!("{line}\n"));
    r.commit("Add the constant");
    assert_eq!(blamed_sessions(&r, &r.repo, "src/k.rs").len(), 1);
    r.lore(&["delete", S1]).assert_ok();
    assert!(blamed_sessions(&r, &r.repo, "src/k.rs").is_empty());
    let h = r.lore(&["history", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&h.stdout).unwrap();
    let delete = v["commits"][0]["id"].as_str().unwrap().to_owned();
    r.lore(&["revert", &delete]).assert_ok();
    assert_eq!(
        blamed_sessions(&r, &r.repo, "src/k.rs"),
        vec![(S1.to_owned(), "content".to_owned(), "lines".to_owned())]
    );
    r.lore(&["verify", "--full"]).assert_ok();

    // Bad input to blame and link: one line, exit 1, lore.db and its index as they were.
    let before = digest_with_index(&r);
    for args in [
        vec!["blame", "src/none.rs"],
        vec!["blame", "src/k.rs:9"],
        vec!["blame", "src/k.rs:0"],
        vec!["blame", "src"],
        vec!["link", "--auto", "--since", "someday"],
        vec!["link", S1, "--commit", "no-such-rev"],
    ] {
        let out = r.lore(&args);
        assert_eq!(out.code, Some(1), "{args:?}: {}", out.stderr);
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(digest_with_index(&r), before, "{args:?}");
    }
}

#[test]
fn links_lists_and_filters_and_unlink_removes_in_bulk_as_one_revertible_commit() {
    let (r, c1, c2) = scripted();
    r.session(
        S2,
        "main",
        &[Ev::User("2026-03-11T09:00:00Z", "start the parser")],
    );
    r.lore(&["link", S1, "--commit", &c2]).assert_ok();
    r.lore(&["link", S2, "--commit", &c1]).assert_ok();
    let out = r.lore(&["links"]);
    out.assert_ok();
    assert!(
        out.stdout
            .contains(&format!("{} {} explicit 1.00", &S1[..8], &c2[..12]))
            && out.stdout.contains("linked by the user")
            && out.stdout.contains("2 links"),
        "{}",
        out.stdout
    );
    let json = |args: &[&str]| -> Vec<(String, String)> {
        let mut all = vec!["links", "--json"];
        all.extend_from_slice(args);
        let out = r.lore(&all);
        out.assert_ok();
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        v["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                assert!(l["evidence"].is_object(), "{l}");
                (
                    l["session"]["id"].as_str().unwrap().to_owned(),
                    l["sha"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(json(&[]).len(), 2);
    assert_eq!(json(&["--commits", &c2]), vec![(S1.to_owned(), c2.clone())]);
    assert_eq!(
        json(&["--commits", &format!("{c1}..HEAD")]),
        vec![(S1.to_owned(), c2.clone())]
    );
    assert_eq!(
        json(&["--session", &S2[..8]]),
        vec![(S2.to_owned(), c1.clone())]
    );
    assert_eq!(json(&["--kind", "auto"]), vec![]);
    assert_eq!(
        json(&["--kind", "explicit", "--min-confidence", "0.9"]).len(),
        2
    );
    assert_eq!(json(&["--max-confidence", "0.5"]), vec![]);

    // Bad filters: one line, exit 1, nothing changed.
    let before = digest_with_index(&r);
    for args in [
        vec!["links", "--kind", "sideways"],
        vec!["links", "--kind", "removed"],
        vec!["links", "--min-confidence", "2"],
        vec![
            "links",
            "--min-confidence",
            "0.8",
            "--max-confidence",
            "0.2",
        ],
        vec!["links", "--commits", "nope..HEAD"],
        vec!["links", "--session", "99999999"],
        vec!["unlink"],
        vec!["unlink", "--kind", "explicit", "--all"],
        vec!["unlink", "--max-confidence=-1"],
        vec!["unlink", "--commits", "no-such-commit"],
    ] {
        let out = r.lore(&args);
        assert_eq!(out.code, Some(1), "{args:?}: {}", out.stderr);
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(digest_with_index(&r), before, "{args:?}");
    }

    // A dry run says what would go and writes nothing.
    let out = r.lore(&["unlink", "--kind", "explicit", "--dry-run"]);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!("Would unlink {}", &S1[..8]))
            && out.stdout.contains(&format!("Would unlink {}", &S2[..8]))
            && out.stdout.contains("Dry run: nothing written."),
        "{}",
        out.stdout
    );
    assert_eq!(digest_with_index(&r), before);
    // In bulk: one commit, which revert undoes.
    let out = r.lore(&["unlink", "--kind", "explicit", "--commits", &c2]);
    out.assert_ok();
    assert!(
        out.stdout.contains("1 link removed in one commit"),
        "{}",
        out.stdout
    );
    assert!(r.linked(&c2).is_empty());
    assert_eq!(r.linked(&c1).len(), 1);
    let h = r.lore(&["history", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&h.stdout).unwrap();
    assert_eq!(v["commits"][0]["message"], "unlink: 1 link by filter");
    let id = v["commits"][0]["id"].as_str().unwrap().to_owned();
    r.lore(&["revert", &id]).assert_ok();
    assert_eq!(r.linked(&c2), vec![(S1.to_owned(), "explicit".to_owned())]);
    let out = r.lore(&["unlink", "--min-confidence", "0.5"]);
    out.assert_ok();
    assert!(
        out.stdout.contains("2 links removed in one commit"),
        "{}",
        out.stdout
    );
    assert!(json(&[]).is_empty());
    let out = r.lore(&["unlink", "--min-confidence", "0.5"]);
    out.assert_ok();
    assert!(out.stdout.contains("No links match"), "{}", out.stdout);
    r.lore(&["verify", "--full"]).assert_ok();
}

#[test]
fn the_post_commit_hook_finds_by_content_the_session_that_wrote_the_lines_however_quiet() {
    let r = repo();
    r.write("README", "readme\n");
    r.commit("Start");
    r.lore(&["hooks", "install"]).assert_ok();
    let now = jiff::Timestamp::now();
    let ago = |m: i64| {
        now.checked_sub(jiff::SignedDuration::from_mins(m))
            .unwrap()
            .to_string()
    };
    let claude = r.user.home.join(".claude");
    // Session 1 wrote src/parse.rs six hours ago (beyond the 4-hour look-back) and has been
    // quiet since; session 2 is running now, on another file; session 3 wrote the same lines
    // eight days ago (beyond the content index's 7 days).
    let (t360, t359) = (ago(360), ago(359));
    r.transcript(
        &claude,
        S1,
        "main",
        &[
            Ev::User(&t360, "write the parser"),
            Ev::Edit(&t359, "src/parse.rs", PARSE_V1),
        ],
    );
    let (t2, t1) = (ago(2), ago(1));
    r.transcript(
        &claude,
        S2,
        "main",
        &[
            Ev::User(&t2, "fix the command line parser"),
            Ev::Edit(&t1, "src/cli.py", "def parse_arguments(argv):"),
        ],
    );
    let (t8d, t8d1) = (ago(8 * 24 * 60), ago(8 * 24 * 60 - 1));
    r.session(
        S3,
        "main",
        &[
            Ev::User(&t8d, "an old parser"),
            Ev::Edit(&t8d1, "src/parse.rs", PARSE_V1),
        ],
    );

    r.write("src/parse.rs", PARSE_V1);
    let c = r.commit("Parser");
    assert_eq!(r.linked(&c), vec![(S1.to_owned(), "hook".to_owned())]);
    let ev = evidence(&r, &c);
    assert_eq!(ev[0].1["content"], true, "{ev:?}");
    assert_eq!(ev[0].1["lines"], 3, "{ev:?}");
    assert_eq!(ev[0].1["lines_added"], 3, "{ev:?}");
    assert_eq!(ev[0].2, 1.0);

    // By hand, on a commit of the running session's file: session 2 only, by what it wrote;
    // session 1 wrote nothing of it and is not linked.
    r.write(
        "src/cli.py",
        "def parse_arguments(argv):\n    return argv[1:]\n",
    );
    r.git(&["add", "-A"]).assert_ok();
    r.user
        .git(
            &r.repo,
            &["-c", "core.hooksPath=/dev/null", "commit", "-qm", "cli"],
        )
        .assert_ok();
    let cli = r.head();
    assert!(r.linked(&cli).is_empty(), "no hook ran");
    let out = r.lore(&["link", "--current"]);
    out.assert_ok();
    assert_eq!(r.linked(&cli), vec![(S2.to_owned(), "explicit".to_owned())]);
    assert!(
        out.stdout.contains(&format!("Linked session {S2}")),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains(&format!("Linked session {S1}")),
        "{}",
        out.stdout
    );
}
