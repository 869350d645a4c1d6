//! The versioning engine through the binary: plans, history, revert with every conflict kind,
//! verify and tamper detection, bad plans leaving the database as it was, lore's own writes as
//! revertible commits, and SIGKILL in the middle of a write.

mod common;

use std::path::{Path, PathBuf};

use common::{TestEnv, claude_transcript};
use predicates::prelude::*;
use sha2::{Digest, Sha256};

/// A digest of everything in a database file: schema and every row of every table, lore's
/// history included.
fn dump_hash(path: &Path) -> String {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut h = Sha256::new();
    let mut stmt = conn
        .prepare("SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
        .unwrap();
    let objects: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (kind, name, sql) in objects {
        h.update(format!("{kind}|{name}|{sql}\n").as_bytes());
        if kind != "table" || sql.starts_with("CREATE VIRTUAL") {
            continue;
        }
        let mut rows = conn
            .prepare(&format!(
                "SELECT * FROM \"{}\" ORDER BY 1",
                name.replace('"', "\"\"")
            ))
            .unwrap();
        let n = rows.column_count();
        let mut q = rows.query([]).unwrap();
        while let Some(r) = q.next().unwrap() {
            for i in 0..n {
                let v: rusqlite::types::Value = r.get(i).unwrap();
                h.update(format!("{v:?}\u{1f}").as_bytes());
            }
            h.update(b"\n");
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

struct Db {
    env: TestEnv,
    path: PathBuf,
}

impl Db {
    fn new() -> Db {
        let env = TestEnv::new();
        let path = env.path("app.db");
        Db { env, path }
    }

    fn lore(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = self.env.lore();
        c.args(args).arg("--db").arg(&self.path);
        c
    }

    /// Applies a plan and returns the new commit id.
    fn apply(&self, plan: serde_json::Value) -> String {
        let out = self
            .lore(&["apply"])
            .write_stdin(plan.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "apply failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn apply_fails(&self, plan: &str, message: &str) {
        let before = dump_hash(&self.path);
        self.lore(&["apply"])
            .write_stdin(plan.to_owned())
            .assert()
            .code(1)
            .stderr(predicate::str::contains(message));
        assert_eq!(
            before,
            dump_hash(&self.path),
            "a refused plan changed the database"
        );
    }

    fn query(&self, sql: &str) -> Vec<Vec<rusqlite::types::Value>> {
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| (0..n).map(|i| r.get(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn revert_json(&self, id: &str) -> (bool, serde_json::Value) {
        let out = self.lore(&["revert", id, "--json"]).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.success(), v)
    }

    fn verify_full_ok(&self) {
        self.lore(&["verify", "--full"])
            .assert()
            .success()
            .stdout(predicate::str::contains("the state matches"));
    }
}

fn notes_plan() -> serde_json::Value {
    serde_json::json!({
        "message": "create notes",
        "operations": [
            {"op": "create_table", "table": "notes", "columns": [
                {"name": "id", "type": "INTEGER", "primary_key": true},
                {"name": "body", "type": "TEXT", "not_null": true},
                {"name": "big", "type": "INTEGER"},
                {"name": "data", "type": "BLOB"},
                {"name": "ratio", "type": "REAL"}]},
            {"op": "insert", "table": "notes", "rows": [
                {"id": 1, "body": "one", "big": {"$int": "9223372036854775807"}, "data": {"$blob": "AAEC/w=="}, "ratio": 0.1},
                {"id": 2, "body": "two"},
                {"id": 3, "body": "three"}]}
        ]
    })
}

#[test]
fn apply_history_show_and_exact_values() {
    let db = Db::new();
    let c1 = db.apply(notes_plan());
    assert_eq!(c1.len(), 64);
    let rows = db.query("SELECT big, data, ratio FROM notes WHERE id = 1");
    assert_eq!(rows[0][0], rusqlite::types::Value::Integer(i64::MAX));
    assert_eq!(rows[0][1], rusqlite::types::Value::Blob(vec![0, 1, 2, 255]));
    assert_eq!(rows[0][2], rusqlite::types::Value::Real(0.1));

    let out = db.lore(&["history", "--json"]).output().unwrap();
    let h: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let h = h["commits"].as_array().unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["id"], c1.as_str());
    assert_eq!(h[0]["message"], "create notes");
    assert_eq!(h[0]["kind"], "apply");

    let out = db
        .lore(&["show-commit", &c1[..10], "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["row_effects"].as_array().unwrap().len(), 3);
    assert_eq!(
        c["row_effects"][0]["after"]["big"],
        serde_json::json!({"$int": "9223372036854775807"})
    );
    assert_eq!(c["schema_effects"][0]["table"], "notes");

    db.lore(&["history", "--verbose"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("create notes").and(predicate::str::contains("revertible")),
        );
    db.lore(&["reflog"])
        .assert()
        .success()
        .stdout(predicate::str::contains("main@{0}: apply"));
    db.lore(&["schema", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "\"primary_key\": [\n        \"id\"\n      ]",
        ));
    db.verify_full_ok();
}

#[test]
fn plan_is_a_dry_run() {
    let db = Db::new();
    db.apply(notes_plan());
    let before = dump_hash(&db.path);
    db.lore(&["plan"])
        .write_stdin(r#"{"message":"m","operations":[{"op":"delete","table":"notes","where":{"id":{"in":[1,2]}}}]}"#)
        .assert()
        .success()
        .stdout(predicate::str::contains("0 inserted, 0 updated, 2 deleted"));
    assert_eq!(before, dump_hash(&db.path));
}

#[test]
fn every_bad_plan_is_refused_with_the_database_unchanged() {
    let db = Db::new();
    let head = db.apply(notes_plan());
    db.apply_fails("{\"message\": \"x\", \"operations\": [", "line 1");
    db.apply_fails(
        r#"{"message":"x","operations":[{"op":"frobnicate","table":"notes"}]}"#,
        "operations[0]",
    );
    db.apply_fails(
        r#"{"message":"x","operations":[{"op":"insert","table":"notes","rows":[{"id":9,"body":"x"}],"colour":"red"}]}"#,
        "colour",
    );
    db.apply_fails(r#"{"message":"x","operations":[],"extra":1}"#, "extra");
    db.apply_fails(
        r#"{"message":"x","operations":[{"op":"insert","table":"notes","rows":"not rows"}]}"#,
        "operations[0]",
    );
    db.apply_fails(
        r#"{"message":"x","operations":[{"op":"update","table":"notes","set":{"body":"y"}}]}"#,
        "where",
    );
    db.apply_fails(
        r#"{"message":"x","operations":[{"op":"delete","table":"notes"}]}"#,
        "where",
    );
    db.apply_fails(
        r#"{"message":"x","expect":{"head":"0000000000000000000000000000000000000000000000000000000000000000"},"operations":[{"op":"delete","table":"notes","where":{"id":1}}]}"#,
        "plan again",
    );
    db.apply_fails(
        r#"{"message":"x","operations":[{"op":"delete","table":"notes","where":{"id":{"gt":0}},"expect":{"count":1}}]}"#,
        "expected 1 row(s) to match, but 3 did",
    );
    // A constraint violation in the middle: the first insert is rolled back too.
    db.apply_fails(
        r#"{"message":"x","operations":[
            {"op":"insert","table":"notes","rows":[{"id":10,"body":"fine"}]},
            {"op":"insert","table":"notes","rows":[{"id":11,"body":null}]},
            {"op":"insert","table":"notes","rows":[{"id":12,"body":"never"}]}]}"#,
        "operations[1] (insert): NOT NULL constraint failed",
    );
    db.apply_fails(
        r#"{"message":"x","operations":[{"op":"insert","table":"_lore_commit","rows":[{"seq":99}]}]}"#,
        "_lore_",
    );
    db.apply_fails(
        r#"{"message":"x","operations":[{"op":"sql","sql":"DELETE FROM _lore_reflog"}]}"#,
        "_lore_",
    );
    db.apply_fails(
        r#"{"message":"x","operations":[{"op":"sql","sql":"PRAGMA foreign_keys = OFF"}]}"#,
        "PRAGMA",
    );
    // The right head is accepted.
    db.apply(
        serde_json::json!({"message": "ok", "expect": {"head": head}, "operations": [
        {"op": "delete", "table": "notes", "where": {"id": 3}, "expect": {"count": 1}}]}),
    );
    db.verify_full_ok();
}

#[test]
fn revert_undoes_rows_and_schema_and_revert_of_revert_redoes() {
    let db = Db::new();
    db.apply(notes_plan());
    let edit = db.apply(serde_json::json!({"message": "edit", "operations": [
        {"op": "update", "table": "notes", "where": {"id": 1}, "set": {"body": "ONE"}},
        {"op": "delete", "table": "notes", "where": {"id": 2}},
        {"op": "insert", "table": "notes", "rows": [{"id": 4, "body": "four"}]},
        {"op": "add_column", "table": "notes", "column": {"name": "tag", "type": "TEXT"}},
        {"op": "create_index", "name": "notes_body", "table": "notes", "columns": ["body"]}]}));
    let before_edit = vec![
        vec!["1".to_owned(), "one".to_owned()],
        vec!["2".to_owned(), "two".to_owned()],
        vec!["3".to_owned(), "three".to_owned()],
    ];
    let rows = |db: &Db| -> Vec<Vec<String>> {
        db.query("SELECT id, body FROM notes ORDER BY id")
            .into_iter()
            .map(|r| {
                r.iter()
                    .map(|v| match v {
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        rusqlite::types::Value::Text(t) => t.clone(),
                        other => format!("{other:?}"),
                    })
                    .collect()
            })
            .collect()
    };
    let out = db.lore(&["revert", &edit[..12]]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let revert_id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(rows(&db), before_edit);
    let cols = db.query("SELECT name FROM pragma_table_info('notes')");
    assert_eq!(cols.len(), 5, "the added column is gone");
    assert!(
        db.query("SELECT 1 FROM sqlite_schema WHERE name = 'notes_body'")
            .is_empty()
    );
    let h = db.lore(&["history", "--json"]).output().unwrap();
    let h: serde_json::Value = serde_json::from_slice(&h.stdout).unwrap();
    let h = h["commits"].as_array().unwrap();
    assert_eq!(h[0]["message"], "Revert \"edit\"");
    assert_eq!(h[0]["kind"], "revert");
    assert_eq!(h[0]["reverts_id"], edit.as_str());
    db.verify_full_ok();

    // Reverting the same commit twice is refused.
    db.lore(&["revert", &edit])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already reverted"));
    // Reverting the revert brings the edit back.
    db.lore(&["revert", &revert_id]).assert().success();
    assert_eq!(
        rows(&db),
        vec![
            vec!["1".to_owned(), "ONE".to_owned()],
            vec!["3".to_owned(), "three".to_owned()],
            vec!["4".to_owned(), "four".to_owned()],
        ]
    );
    assert_eq!(
        db.query("SELECT name FROM pragma_table_info('notes')")
            .len(),
        6
    );
    db.verify_full_ok();
}

#[test]
fn row_conflicts_name_the_table_key_and_later_commits() {
    let db = Db::new();
    db.apply(notes_plan());
    let target = db.apply(serde_json::json!({"message": "target", "operations": [
        {"op": "update", "table": "notes", "where": {"id": 1}, "set": {"body": "uno"}},
        {"op": "insert", "table": "notes", "rows": [{"id": 5, "body": "five"}]},
        {"op": "delete", "table": "notes", "where": {"id": 2}}]}));
    let later = db.apply(serde_json::json!({"message": "later", "operations": [
        {"op": "update", "table": "notes", "where": {"id": 1}, "set": {"body": "eins"}},
        {"op": "delete", "table": "notes", "where": {"id": 5}},
        {"op": "insert", "table": "notes", "rows": [{"id": 2, "body": "two again"}]}]}));
    let before = dump_hash(&db.path);
    let (ok, v) = db.revert_json(&target);
    assert!(!ok);
    assert_eq!(dump_hash(&db.path), before, "nothing written");
    assert_eq!(v["conflict_count"], 3);
    let c = &v["conflicts"];
    assert_eq!(c["row_modified_later"]["count"], 1);
    assert_eq!(c["row_modified_later"]["conflicts"][0]["table"], "notes");
    assert_eq!(
        c["row_modified_later"]["conflicts"][0]["key"],
        serde_json::json!([1])
    );
    assert_eq!(
        c["row_modified_later"]["conflicts"][0]["later_commits"],
        serde_json::json!([later])
    );
    assert_eq!(
        c["row_deleted_later"]["conflicts"][0]["key"],
        serde_json::json!([5])
    );
    assert_eq!(
        c["key_reused_later"]["conflicts"][0]["key"],
        serde_json::json!([2])
    );
    // Text output groups by kind with counts.
    db.lore(&["revert", &target])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "3 conflict(s). Nothing was written.",
        ))
        .stdout(predicate::str::contains("row_modified_later (1)"))
        .stdout(predicate::str::contains("key_reused_later (1)"));
    // A row changed and changed back (A -> B -> A) is no conflict.
    let db2 = Db::new();
    db2.apply(notes_plan());
    let t = db2.apply(serde_json::json!({"message": "t", "operations": [
        {"op": "update", "table": "notes", "where": {"id": 3}, "set": {"body": "x"}}]}));
    db2.apply(serde_json::json!({"message": "away", "operations": [
        {"op": "update", "table": "notes", "where": {"id": 3}, "set": {"body": "y"}}]}));
    db2.apply(serde_json::json!({"message": "back", "operations": [
        {"op": "update", "table": "notes", "where": {"id": 3}, "set": {"body": "x"}}]}));
    assert!(db2.revert_json(&t).0);
}

#[test]
fn schema_conflicts_and_data_that_would_be_dropped() {
    let db = Db::new();
    let create = db.apply(notes_plan());
    let add = db.apply(serde_json::json!({"message": "add tag", "operations": [
        {"op": "add_column", "table": "notes", "column": {"name": "tag", "type": "TEXT"}}]}));
    db.apply(serde_json::json!({"message": "use tag", "operations": [
        {"op": "update", "table": "notes", "where": {"id": 1}, "set": {"tag": "keep me"}}]}));
    // Reverting add_column would drop a value written later.
    let (ok, v) = db.revert_json(&add);
    assert!(!ok);
    assert_eq!(v["conflicts"]["would_drop_data"]["count"], 1);
    // Reverting create_table: the table was altered since.
    let (ok, v) = db.revert_json(&create);
    assert!(!ok);
    assert_eq!(v["conflicts"]["schema_changed_later"]["count"], 1);

    // Reverting create_table would drop rows written later.
    let db = Db::new();
    let create = db.apply(notes_plan());
    let later = db.apply(serde_json::json!({"message": "more rows", "operations": [
        {"op": "insert", "table": "notes", "rows": [{"id": 7, "body": "seven"}]}]}));
    let (ok, v) = db.revert_json(&create);
    assert!(!ok);
    assert_eq!(v["conflicts"]["would_drop_data"]["count"], 1);
    assert_eq!(
        v["conflicts"]["would_drop_data"]["conflicts"][0]["later_commits"],
        serde_json::json!([later])
    );

    // The table altered later: schema_changed_later.
    let db = Db::new();
    db.apply(notes_plan());
    let idx = db.apply(serde_json::json!({"message": "index", "operations": [
        {"op": "create_index", "name": "by_body", "table": "notes", "columns": ["body"]}]}));
    db.apply(serde_json::json!({"message": "more", "operations": [
        {"op": "add_column", "table": "notes", "column": {"name": "extra", "type": "TEXT"}}]}));
    let (ok, v) = db.revert_json(&idx);
    assert!(!ok);
    assert_eq!(v["conflicts"]["schema_changed_later"]["count"], 1);

    // A dropped table whose name is taken again: name_taken_later.
    let db = Db::new();
    db.apply(notes_plan());
    let drop = db.apply(serde_json::json!({"message": "drop", "operations": [
        {"op": "drop_table", "table": "notes"}]}));
    db.apply(serde_json::json!({"message": "again", "operations": [
        {"op": "create_table", "table": "notes", "columns": [{"name": "k", "type": "TEXT", "primary_key": true}]}]}));
    let (ok, v) = db.revert_json(&drop);
    assert!(!ok);
    assert_eq!(v["conflicts"]["name_taken_later"]["count"], 1);

    // Without the conflict, a dropped table comes back with every row.
    let db = Db::new();
    db.apply(notes_plan());
    let before = db.query("SELECT * FROM notes ORDER BY id");
    let drop = db.apply(serde_json::json!({"message": "drop", "operations": [
        {"op": "drop_table", "table": "notes"}]}));
    assert!(db.revert_json(&drop).0);
    assert_eq!(db.query("SELECT * FROM notes ORDER BY id"), before);
    db.verify_full_ok();
}

#[test]
fn foreign_key_violations_stop_a_revert() {
    let db = Db::new();
    db.apply(serde_json::json!({"message": "schema", "operations": [
        {"op": "create_table", "table": "authors", "columns": [
            {"name": "id", "type": "INTEGER", "primary_key": true}, {"name": "name", "type": "TEXT"}]},
        {"op": "create_table", "table": "books", "columns": [
            {"name": "id", "type": "INTEGER", "primary_key": true},
            {"name": "author", "type": "INTEGER", "references": {"table": "authors", "column": "id"}}]}]}));
    let add_author = db.apply(serde_json::json!({"message": "author", "operations": [
        {"op": "insert", "table": "authors", "rows": [{"id": 1, "name": "Le Guin"}]}]}));
    db.apply(serde_json::json!({"message": "book", "operations": [
        {"op": "insert", "table": "books", "rows": [{"id": 1, "author": 1}]}]}));
    let before = dump_hash(&db.path);
    let (ok, v) = db.revert_json(&add_author);
    assert!(!ok);
    assert_eq!(v["conflicts"]["foreign_key"]["count"], 1);
    assert_eq!(
        v["conflicts"]["foreign_key"]["conflicts"][0]["table"],
        "books"
    );
    assert_eq!(before, dump_hash(&db.path));
}

#[test]
fn sql_escape_hatch_is_captured_and_keyless_tables_make_it_non_revertible() {
    let db = Db::new();
    db.apply(notes_plan());
    let c = db.apply(serde_json::json!({"message": "trim", "operations": [
        {"op": "sql", "sql": "UPDATE notes SET body = upper(body) WHERE id <= ?", "params": [2]}]}));
    let out = db.lore(&["show-commit", &c, "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["row_effects"].as_array().unwrap().len(), 2);
    assert!(db.revert_json(&c).0);
    assert_eq!(
        db.query("SELECT body FROM notes WHERE id = 1")[0][0],
        rusqlite::types::Value::Text("one".into())
    );

    let k = db.apply(serde_json::json!({"message": "keyless", "operations": [
        {"op": "sql", "sql": "CREATE TABLE log (line TEXT); INSERT INTO log VALUES ('a'), ('b')"}]}));
    let h = db.lore(&["history", "--json"]).output().unwrap();
    let h: serde_json::Value = serde_json::from_slice(&h.stdout).unwrap();
    let h = h["commits"].as_array().unwrap();
    assert_eq!(h[0]["id"], k.as_str());
    assert_eq!(h[0]["revertible"], false);
    db.lore(&["revert", &k])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot be reverted"));
    db.verify_full_ok();
}

#[test]
fn tampering_is_detected_and_named() {
    let db = Db::new();
    db.apply(notes_plan());
    db.apply(serde_json::json!({"message": "second", "operations": [
        {"op": "update", "table": "notes", "where": {"id": 2}, "set": {"body": "deux"}}]}));
    db.verify_full_ok();

    // A user row edited behind lore's back: only --full sees it, and names the table.
    let conn = rusqlite::Connection::open(&db.path).unwrap();
    conn.execute("UPDATE notes SET body = 'forged' WHERE id = 3", [])
        .unwrap();
    db.lore(&["verify"]).assert().success();
    db.lore(&["verify", "--full"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("drift: table 'notes'"));
    conn.execute("UPDATE notes SET body = 'three' WHERE id = 3", [])
        .unwrap();
    db.verify_full_ok();

    // A field of an old commit edited: its id no longer matches.
    conn.execute(
        "UPDATE _lore_commit SET message = 'rewritten' WHERE seq = 1",
        [],
    )
    .unwrap();
    db.lore(&["verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("commit 1 ("))
        .stdout(predicate::str::contains(
            "its id does not match its content",
        ));
    conn.execute(
        "UPDATE _lore_commit SET message = 'create notes' WHERE seq = 1",
        [],
    )
    .unwrap();
    db.lore(&["verify"]).assert().success();

    // A stored effect's row edited: the effect no longer matches its hash.
    conn.execute(
        "UPDATE _lore_row_effect SET after_hash = zeroblob(32) WHERE seq = 2",
        [],
    )
    .unwrap();
    db.lore(&["verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("commit 2 ("));
}

#[test]
fn lore_own_writes_are_commits_that_revert() {
    let env = TestEnv::new();
    let id = "f00df00d-0000-4000-8000-000000000001";
    let f = env.path(&format!("{id}.jsonl"));
    std::fs::write(&f, claude_transcript(id, 2, "otter")).unwrap();
    env.lore().arg("import").arg(&f).assert().success();
    let out = env.lore().args(["history", "--json"]).output().unwrap();
    let h: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let h = h["commits"].as_array().unwrap();
    assert_eq!(h[0]["message"], "import: 1 session from claude-code");
    let import = h[0]["id"].as_str().unwrap().to_owned();

    env.lore().args(["delete", id]).assert().success();
    let out = env.lore().args(["history", "--json"]).output().unwrap();
    let h: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let h = h["commits"].as_array().unwrap();
    assert_eq!(h[0]["message"], format!("delete: session {id}"));
    // Undo the delete: the session is back, messages and search included.
    env.lore()
        .args(["revert", h[0]["id"].as_str().unwrap()])
        .assert()
        .success();
    assert_eq!(env.show(id)["messages"].as_array().unwrap().len(), 4);
    env.lore()
        .args(["search", "otter", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains(id));
    // The rows are back exactly as the import wrote them, so the import itself can be undone.
    env.lore()
        .args(["revert", &import[..12]])
        .assert()
        .success();
    assert!(env.sessions().is_empty());
    env.lore()
        .args(["search", "otter", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"hits\": []"));
    env.lore().args(["verify", "--full"]).assert().success();
}

#[test]
fn sigkill_during_apply_or_revert_leaves_the_previous_commit() {
    let db = Db::new();
    db.apply(serde_json::json!({"message": "table", "operations": [
        {"op": "create_table", "table": "big", "columns": [
            {"name": "id", "type": "INTEGER", "primary_key": true}, {"name": "v", "type": "TEXT"}]}]}));
    let rows: Vec<serde_json::Value> = (0..60_000)
        .map(|i| serde_json::json!({"id": i, "v": format!("value number {i} with some padding text")}))
        .collect();
    let plan = serde_json::json!({"message": "bulk", "operations": [{"op": "insert", "table": "big", "rows": rows}]}).to_string();
    let plan_file = db.env.path("bulk.json");
    std::fs::write(&plan_file, &plan).unwrap();
    let lore = assert_cmd::cargo::cargo_bin("lore");
    let mut killed = 0;
    for delay_ms in [150u64, 400, 800, 1500] {
        let head_before = db.query("SELECT commit_id FROM _lore_ref WHERE name = 'main'");
        let mut child = std::process::Command::new(&lore)
            .args(["apply", "-f"])
            .arg(&plan_file)
            .arg("--db")
            .arg(&db.path)
            .env("HOME", &db.env.home)
            .env("LORE_HOME", &db.env.lore_home)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let head_after = db.query("SELECT commit_id FROM _lore_ref WHERE name = 'main'");
        if !finished && head_after == head_before {
            killed += 1;
            assert!(
                db.query("SELECT 1 FROM big LIMIT 1").is_empty(),
                "a killed apply left rows behind"
            );
        }
        db.verify_full_ok();
        if head_after != head_before {
            // It finished: revert it and kill the revert instead.
            let id = match &head_after[0][0] {
                rusqlite::types::Value::Text(t) => t.clone(),
                other => panic!("{other:?}"),
            };
            let mut child = std::process::Command::new(&lore)
                .args(["revert", &id, "--db"])
                .arg(&db.path)
                .env("HOME", &db.env.home)
                .env("LORE_HOME", &db.env.lore_home)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(delay_ms / 2));
            let _ = child.kill();
            let _ = child.wait();
            db.verify_full_ok();
            let n = db.query("SELECT count(*) FROM big");
            assert!(
                n[0][0] == rusqlite::types::Value::Integer(0)
                    || n[0][0] == rusqlite::types::Value::Integer(60_000),
                "a half-applied revert: {:?}",
                n[0][0]
            );
            break;
        }
    }
    assert!(
        killed > 0,
        "no apply was killed mid-way; the plan finished too fast to test"
    );
}

impl Db {
    /// `schema_hash` from `lore schema --json`, as an agent copies it into `baseSchemaHash`.
    fn schema_hash(&self) -> String {
        let out = self.lore(&["schema", "--json"]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["schema_hash"].as_str().unwrap().to_owned()
    }
}

/// lore-sh's own example plan (its docs/operation-plans.md), with `baseSchemaHash` taken from
/// `lore schema --json` of a database that does not exist yet.
fn lore_sh_expenses(base: &str) -> serde_json::Value {
    serde_json::json!({
        "baseSchemaHash": base,
        "message": "Add expenses table and first entry",
        "operations": [
            {"type": "create_table", "table": "expenses", "columns": [
                {"name": "id", "type": "INTEGER", "primaryKey": true},
                {"name": "title", "type": "TEXT", "notNull": true},
                {"name": "amount", "type": "REAL"},
                {"name": "created_at", "type": "TEXT", "default": {"kind": "sql", "expr": "CURRENT_TIMESTAMP"}},
                {"name": "currency", "type": "TEXT", "default": {"kind": "literal", "value": "EUR"}}]},
            {"type": "insert", "table": "expenses", "values": {"id": 1, "title": "Coffee", "amount": 4.5}},
            {"type": "insert", "table": "expenses", "values": {"id": 2, "title": "Tea", "amount": 3}},
            {"type": "update", "table": "expenses", "values": {"amount": 5}, "where": {"id": 1}},
            {"type": "delete", "table": "expenses", "where": {"id": 2}}
        ]
    })
}

#[test]
fn lore_sh_plans_apply_as_written_and_revert() {
    use rusqlite::types::Value as V;
    let db = Db::new();
    let empty = db.schema_hash();
    assert!(!db.path.exists(), "lore schema created the database");
    db.apply(lore_sh_expenses(&empty));
    let rows = db.query("SELECT id, title, amount, currency, created_at IS NOT NULL FROM expenses");
    assert_eq!(
        rows,
        vec![vec![
            V::Integer(1),
            V::Text("Coffee".into()),
            V::Real(5.0),
            V::Text("EUR".into()),
            V::Integer(1)
        ]]
    );

    // An index and a trigger to drop (lore's dialect; lore-sh has no op that creates them).
    db.apply(serde_json::json!({"message": "index and trigger", "operations": [
        {"op": "create_index", "name": "by_title", "table": "expenses", "columns": ["title"]},
        {"op": "sql", "sql": "CREATE TRIGGER stamp AFTER INSERT ON expenses BEGIN SELECT 1; END"}]}));
    // The schema operations lore-sh has and lore gained for it, each a revertible commit.
    let steps = [
        serde_json::json!({"type": "drop_trigger", "table": "expenses", "name": "stamp"}),
        serde_json::json!({"type": "drop_index", "table": "expenses", "name": "by_title"}),
        serde_json::json!({"type": "alter_column_type", "table": "expenses", "column": "amount", "newType": "INTEGER"}),
        serde_json::json!({"type": "add_check", "table": "expenses", "expression": "amount >= 0"}),
        serde_json::json!({"type": "drop_check", "table": "expenses", "expression": "AMOUNT>=0"}),
    ];
    let mut commits = Vec::new();
    for op in steps {
        let before = user_state(&db.path);
        let id = db.apply(serde_json::json!({
            "baseSchemaHash": db.schema_hash(), "message": format!("{}", op["type"]), "operations": [op]}));
        assert_ne!(before, user_state(&db.path), "{id} changed nothing");
        commits.push((id, before));
    }
    db.verify_full_ok();
    let def = match &db.query("SELECT sql FROM sqlite_schema WHERE name = 'expenses'")[0][0] {
        V::Text(t) => t.clone(),
        other => panic!("{other:?}"),
    };
    assert!(def.contains("\"amount\" INTEGER,"), "{def}");
    assert!(!def.contains("CHECK"), "{def}");
    // 5.0 became 5 under INTEGER affinity, as a rebuilt table would store it.
    assert_eq!(
        db.query("SELECT typeof(amount) FROM expenses"),
        vec![vec![V::Text("integer".into())]]
    );
    // Each commit reverts to exactly the state before it, newest first.
    for (id, before) in commits.iter().rev() {
        let (ok, v) = db.revert_json(id);
        assert!(ok, "{v}");
        assert_eq!(*before, user_state(&db.path), "revert of {id}");
    }
    db.verify_full_ok();
}

#[test]
fn lore_sh_plans_refused_before_anything_runs() {
    let db = Db::new();
    db.apply(lore_sh_expenses(&db.schema_hash()));
    // A stale baseSchemaHash (lore-sh's STALE_PLAN): the schema moved on since it was read.
    let stale = lore_sh_expenses(&"0".repeat(64)).to_string();
    db.apply_fails(&stale, "stale plan: it was written against schema 0000");
    let base = db.schema_hash();
    let plan = |ops: serde_json::Value| {
        serde_json::json!({"baseSchemaHash": base, "message": "m", "operations": ops}).to_string()
    };
    // Each dialect's spelling in the other gets the other's name.
    db.apply_fails(
        &plan(serde_json::json!([{"type": "insert", "table": "expenses", "rows": [{"id": 3}]}])),
        "operations[0] (insert): unknown field \"rows\" (did you mean \"values\"?",
    );
    db.apply_fails(
        &plan(serde_json::json!([{"op": "insert", "table": "expenses", "rows": [{"id": 3}]}])),
        "mixes the two plan dialects: \"op\" is lore's spelling",
    );
    db.apply_fails(
        &serde_json::json!({"message": "m", "expect": {"head": null}, "operations": [
            {"type": "insert", "table": "expenses", "values": {"id": 3}}]})
        .to_string(),
        "\"op\" is required (did you mean \"op\"? \"type\" is lore-sh's spelling",
    );
    db.apply_fails(
        &serde_json::json!({"message": "m", "operations": [
            {"op": "insert", "table": "expenses", "values": [{"id": 3}]}]})
        .to_string(),
        "unknown field \"values\" (did you mean \"rows\"?",
    );
    db.apply_fails(
        &serde_json::json!({"message": "m", "operations": [
            {"type": "insert", "table": "expenses", "values": {"id": 3}}]})
        .to_string(),
        "a lore-sh plan needs \"baseSchemaHash\"",
    );
    // lore-sh's own rules.
    for (ops, message) in [
        (
            serde_json::json!([{"type": "create_table", "table": "t", "columns": [
            {"name": "a", "type": "TEXT"}]}]),
            "exactly one column with \"primaryKey\": true (found 0)",
        ),
        (
            serde_json::json!([{"type": "update", "table": "expenses", "values": {"amount": 1}}]),
            "\"where\" is required",
        ),
        (
            serde_json::json!([{"type": "delete", "table": "expenses", "where": {}}]),
            "must be a non-empty object",
        ),
        (
            serde_json::json!([{"type": "insert", "table": "bad-name", "values": {"id": 3}}]),
            "not a lore-sh identifier",
        ),
        (
            serde_json::json!([{"type": "add_column", "table": "expenses", "column": {
            "name": "n", "type": "TEXT", "notNull": true}}]),
            "needs a non-null \"default\"",
        ),
        (
            serde_json::json!([{"type": "add_check", "table": "expenses", "expression": "amount > 0); DROP TABLE expenses; --"}]),
            "the expression has an unmatched ')'",
        ),
        (
            serde_json::json!([{"type": "add_check", "table": "expenses", "expression": "amount > 100"}]),
            "1 row(s) of 'expenses' break CHECK (amount > 100)",
        ),
        (
            serde_json::json!([{"type": "drop_check", "table": "expenses", "expression": "amount > 0"}]),
            "table 'expenses' has no CHECK constraint",
        ),
        (
            serde_json::json!([{"type": "drop_index", "table": "expenses", "name": "nope"}]),
            "no index named 'nope'",
        ),
        (
            serde_json::json!([{"type": "drop_view", "name": "v"}]),
            "lore does not version views yet",
        ),
        (
            serde_json::json!([{"type": "restore_table", "table": "t", "ddlSql": "", "rows": null, "secondaryObjects": []}]),
            "run 'lore revert'",
        ),
        (
            serde_json::json!([{"type": "upsert", "table": "expenses"}]),
            "is an op of lore's own dialect",
        ),
    ] {
        db.apply_fails(&plan(ops), message);
    }
}

/// The user's part of a database: every schema object and row outside lore's own tables.
fn user_state(path: &Path) -> Vec<(String, Vec<String>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let objs: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT type, name, coalesce(sql, '') FROM sqlite_schema
             WHERE name NOT LIKE '\\_lore\\_%' ESCAPE '\\' ORDER BY type, name",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for (kind, name, sql) in objs {
        let mut rows = Vec::new();
        if kind == "table" {
            let mut stmt = conn
                .prepare(&format!("SELECT *, typeof(1) FROM \"{name}\" ORDER BY 1"))
                .unwrap();
            let n = stmt.column_count();
            let mut q = stmt.query([]).unwrap();
            while let Some(r) = q.next().unwrap() {
                let cells: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                    .collect();
                rows.push(cells.join("|"));
            }
        }
        out.push((format!("{kind} {name}: {sql}"), rows));
    }
    out
}

/// The search indexes hold exactly the stored messages: FTS5's own integrity check (with rank 1
/// it compares the external-content index with `messages` itself), the CJK index holds the
/// messages with CJK text and no other, and the queue of schema 9 is empty.
fn assert_search_indexes_exact(db: &Path, when: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute(
        "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)",
        [],
    )
    .unwrap_or_else(|e| panic!("{when}: messages_fts differs from messages: {e}"));
    let cjk =
        |c: char| ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ac00}'..='\u{d7af}').contains(&c);
    let mut stmt = conn
        .prepare("SELECT id, content FROM messages ORDER BY id")
        .unwrap();
    let want: Vec<i64> = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .filter(|(_, text)| text.chars().any(cjk))
        .map(|(id, _)| id)
        .collect();
    let mut stmt = conn
        .prepare("SELECT rowid FROM messages_cjk ORDER BY rowid")
        .unwrap();
    let have: Vec<i64> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(have, want, "{when}: the CJK index");
    let queued: i64 = conn
        .query_row("SELECT count(*) FROM _lore_search_pending", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(queued, 0, "{when}: messages left unindexed");
}

#[test]
fn search_indexes_follow_import_merge_delete_revert_and_plans() {
    let env = TestEnv::new();
    let db = env.lore_home.join("lore.db");
    let a = "5ea5ea00-0000-4000-8000-00000000000a";
    let b = "5ea5ea00-0000-4000-8000-00000000000b";
    let hits = |q: &str| env.search(q).len();
    let dir = env.path("t");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{a}.jsonl")),
        claude_transcript(a, 2, "otter"),
    )
    .unwrap();
    let lines = [
        common::claude_line(b, 0, "user", "我们需要修复数据库连接的问题"),
        common::claude_line(b, 1, "assistant", "データベースの接続を直しました"),
    ];
    std::fs::write(dir.join(format!("{b}.jsonl")), lines.join("\n") + "\n").unwrap();
    env.lore()
        .args(["import", "--quiet"])
        .arg(&dir)
        .assert()
        .success();
    assert_search_indexes_exact(&db, "import");
    assert_eq!(hits("otter"), 4);
    assert_eq!(hits("数据库"), 1);

    // A longer copy elsewhere: the merge adds the new turn's messages.
    let longer = env.path("backup");
    std::fs::create_dir_all(&longer).unwrap();
    std::fs::write(
        longer.join(format!("{a}.jsonl")),
        claude_transcript(a, 3, "otter"),
    )
    .unwrap();
    env.lore()
        .args(["import", "--quiet"])
        .arg(&longer)
        .assert()
        .success();
    assert_search_indexes_exact(&db, "merge");
    assert_eq!(hits("otter"), 6);

    env.lore().args(["delete", b]).assert().success();
    assert_search_indexes_exact(&db, "delete");
    assert_eq!(hits("数据库"), 0);

    // `lore revert` writes lore.db without lore's write path: the next command indexes what
    // it brought back.
    let out = env.lore().args(["history", "--json"]).output().unwrap();
    let h: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let delete = h["commits"][0]["id"].as_str().unwrap().to_owned();
    env.lore().args(["revert", &delete]).assert().success();
    assert_eq!(hits("数据库"), 1);
    assert_search_indexes_exact(&db, "revert");

    // A plan that inserts a message, rewrites it and deletes another in one commit.
    let (session_id, ordinal): (String, i64) = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT session_id, max(ordinal) + 1 FROM messages WHERE session_id = ?1",
            [a],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let plan = serde_json::json!({"message": "edit", "operations": [
        {"op": "insert", "table": "messages", "rows": [{"id": 9001, "session_id": session_id,
            "ordinal": ordinal, "role": "user", "kind": "text", "content": "walrus first draft"}]},
        {"op": "update", "table": "messages", "where": {"id": 9001},
            "set": {"content": "narwhal final words"}, "expect": {"count": 1}},
        {"op": "update", "table": "messages", "where": {"session_id": b, "ordinal": 0},
            "set": {"content": "平仮名だけの新しい文章です"}, "expect": {"count": 1}},
        {"op": "delete", "table": "messages", "where": {"session_id": a, "ordinal": 0},
            "expect": {"count": 1}},
    ]});
    let plan_file = env.path("plan.json");
    std::fs::write(&plan_file, plan.to_string()).unwrap();
    env.lore()
        .args(["apply", "-f"])
        .arg(&plan_file)
        .assert()
        .success();
    assert_eq!(hits("narwhal"), 1);
    assert_eq!(hits("walrus"), 0);
    assert_eq!(hits("数据库"), 0);
    assert_eq!(hits("平仮名"), 1);
    assert_eq!(hits("otter"), 5);
    assert_search_indexes_exact(&db, "plan");
    env.lore().args(["verify", "--full"]).assert().success();
}
