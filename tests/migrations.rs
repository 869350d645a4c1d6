//! Opening a database written by an older lore upgrades it in place and keeps its data.

mod common;

use common::{TestEnv, claude_transcript, fixtures};
use predicates::prelude::*;

const OLD: &str = "0ld5e551-0000-4000-8000-000000000001";

fn env_with_v1_db() -> TestEnv {
    let env = TestEnv::new();
    std::fs::create_dir_all(&env.lore_home).unwrap();
    std::fs::copy(fixtures().join("db/lore-v1.db"), env.db()).unwrap();
    env
}

fn user_version(env: &TestEnv) -> i64 {
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn a_version_1_database_is_upgraded_with_its_data_intact() {
    let env = env_with_v1_db();
    assert_eq!(user_version(&env), 1);

    let s = env.show(OLD);
    assert_eq!(user_version(&env), 9, "opening upgraded it");
    assert_eq!(s["title"], "Port the parser to nom");
    assert_eq!(s["cwd"], "/home/dev/legacy");
    assert_eq!(s["parent_id"], serde_json::Value::Null);
    assert_eq!(s["links"][0]["sha"], "a1b2c3d");
    assert_eq!(s["tags"][0], "parser");
    assert_eq!(s["messages"].as_array().unwrap().len(), 2);

    // The old full-text index still answers.
    env.lore()
        .args(["search", "backtracking"])
        .assert()
        .success()
        .stdout(predicate::str::contains("0ld5e551"));

    // The new tables work: import (sources) and delete (tombstones).
    let id = "1e1e1e1e-0000-4000-8000-000000000002";
    let f = env.path(&format!("{id}.jsonl"));
    std::fs::write(&f, claude_transcript(id, 1, "newer")).unwrap();
    env.lore().arg("import").arg(&f).assert().success();
    env.lore()
        .arg("import")
        .arg(&f)
        .assert()
        .success()
        .stdout(predicate::str::contains("1 file unchanged"));
    env.lore().args(["delete", OLD]).assert().success();
    assert_eq!(env.sessions().len(), 1);
}

#[test]
fn a_database_from_a_newer_lore_is_refused_untouched() {
    let env = env_with_v1_db();
    {
        let conn = rusqlite::Connection::open(env.db()).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let before = std::fs::read(env.db()).unwrap();
    env.lore()
        .arg("sessions")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "schema version 99, newer than this lore understands (9); upgrade lore",
        ));
    assert_eq!(std::fs::read(env.db()).unwrap(), before);
}
