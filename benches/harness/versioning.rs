//! The versioning workloads (`versioning` command): the engine measured in-process, beside raw
//! rusqlite doing the same change in the same run, so process start-up is not in either number.
//!
//! - single-row apply on a table of 10,000 and of 1,000,000 rows (flat: a commit costs the rows
//!   it changes, not the table), and a raw `UPDATE` in a transaction beside it;
//! - revert of a one-row commit with 100 and with 100,000 commits of history;
//! - a bulk insert of 100,000 rows in one plan, beside a raw prepared insert;
//! - `verify --full` over the 1,000,000-row table, beside a raw scan of it;
//! - lore.db's size with history against the same data without (import of a corpus).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lore::versioning::{apply, log, plan::Plan, revert};
use rusqlite::{Connection, params};

use crate::measure;
use crate::report::Row;

/// The median of some durations.
fn median(xs: &mut [Duration]) -> Duration {
    let secs: Vec<f64> = xs.iter().map(Duration::as_secs_f64).collect();
    Duration::from_secs_f64(measure::median(&secs))
}

fn open(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open bench db");
    conn.pragma_update(None, "journal_mode", "wal")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "normal")
        .expect("sync");
    conn.pragma_update(None, "foreign_keys", true).expect("fk");
    conn
}

fn fresh(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
    p
}

/// A table `t(id INTEGER PRIMARY KEY, v TEXT)` with `n` rows, written raw, then versioned (the
/// first commit builds the state hash from a scan, once).
fn table_of(dir: &Path, name: &str, n: i64) -> Connection {
    let path = fresh(dir, name);
    let mut conn = open(&path);
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        .expect("create");
    let tx = conn.transaction().expect("tx");
    {
        let mut ins = tx
            .prepare("INSERT INTO t (id, v) VALUES (?1, ?2)")
            .expect("prep");
        for i in 0..n {
            ins.execute(params![i, format!("row {i} with a little text")])
                .expect("ins");
        }
    }
    tx.commit().expect("commit");
    apply_plan(&mut conn, &update_plan(0, "start"));
    conn
}

fn update_plan(id: i64, v: &str) -> Plan {
    Plan::from_value(serde_json::json!({
        "message": format!("set {id}"),
        "operations": [{"op": "update", "table": "t", "where": {"id": id}, "set": {"v": v}}]
    }))
    .expect("plan")
}

fn apply_plan(conn: &mut Connection, plan: &Plan) -> String {
    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
    let c = apply::apply(conn, plan).expect("apply");
    conn.execute_batch("COMMIT").expect("commit");
    c.commit_id
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64().max(1e-9))
}

/// Median of `runs` single-row applies on a table of `n` rows, and of raw updates on an
/// identical table in a database of its own (raw writes to a versioned table would be drift).
fn single_row(dir: &Path, n: i64, runs: usize) -> (Duration, Duration) {
    let mut conn = table_of(dir, &format!("apply-{n}.db"), n);
    let raw_conn = table_of(dir, &format!("raw-{n}.db"), n);
    let mut lore = Vec::new();
    let mut raw = Vec::new();
    for i in 0..runs as i64 {
        let id = (i * 7919) % n;
        let plan = update_plan(id, &format!("lore {i}"));
        let t = Instant::now();
        apply_plan(&mut conn, &plan);
        lore.push(t.elapsed());
        let t = Instant::now();
        raw_conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        raw_conn
            .execute(
                "UPDATE t SET v = ?1 WHERE id = ?2",
                params![format!("raw {i}"), id],
            )
            .expect("update");
        raw_conn.execute_batch("COMMIT").expect("commit");
        raw.push(t.elapsed());
    }
    (median(&mut lore), median(&mut raw))
}

/// Median latency of reverting a one-row commit in the middle of `history` commits (rolled
/// back each time, so every run reverts the same commit).
fn revert_latency(dir: &Path, history: i64, runs: usize) -> Duration {
    let mut conn = table_of(dir, &format!("revert-{history}.db"), history + 1);
    let mut middle = String::new();
    for i in 1..=history {
        let id = apply_plan(&mut conn, &update_plan(i, &format!("v{i}")));
        if i == history / 2 {
            middle = id;
        }
    }
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        revert::revert(&conn, &middle).expect("revert");
        times.push(t.elapsed());
        conn.execute_batch("ROLLBACK").expect("rollback");
    }
    median(&mut times)
}

/// One plan inserting `n` rows, and a raw prepared insert of the same rows.
fn bulk_insert(dir: &Path, n: i64) -> (Duration, Duration) {
    let mut conn = open(&fresh(dir, "bulk.db"));
    apply_plan(
        &mut conn,
        &Plan::from_value(serde_json::json!({"message": "table", "operations": [
            {"op": "create_table", "table": "b", "columns": [
                {"name": "id", "type": "INTEGER", "primary_key": true},
                {"name": "v", "type": "TEXT"}]}]}))
        .expect("plan"),
    );
    let rows: Vec<serde_json::Value> = (0..n)
        .map(|i| serde_json::json!({"id": i, "v": format!("row {i} with a little text")}))
        .collect();
    let plan = Plan::from_value(serde_json::json!({"message": "bulk", "operations": [
        {"op": "insert", "table": "b", "rows": rows}]}))
    .expect("plan");
    let t = Instant::now();
    apply_plan(&mut conn, &plan);
    let lore = t.elapsed();

    conn.execute_batch("CREATE TABLE raw (id INTEGER PRIMARY KEY, v TEXT)")
        .expect("create");
    let t = Instant::now();
    let tx = conn.transaction().expect("tx");
    {
        let mut ins = tx
            .prepare("INSERT INTO raw (id, v) VALUES (?1, ?2)")
            .expect("prep");
        for i in 0..n {
            ins.execute(params![i, format!("row {i} with a little text")])
                .expect("ins");
        }
    }
    tx.commit().expect("commit");
    (lore, t.elapsed())
}

/// `verify --full` over the table of `n` rows, and a raw scan of it.
fn verify_full(dir: &Path, n: i64) -> (Duration, Duration) {
    let conn = open(&dir.join(format!("apply-{n}.db")));
    let t = Instant::now();
    let report = log::verify(&conn, true).expect("verify");
    let lore = t.elapsed();
    assert!(report.ok(), "verify found problems: {:?}", report.problems);
    let t = Instant::now();
    let mut stmt = conn.prepare("SELECT id, v FROM t").expect("prep");
    let mut rows = stmt.query([]).expect("query");
    let mut bytes = 0usize;
    while let Some(r) = rows.next().expect("row") {
        bytes += r.get_ref(1).expect("v").as_str().map(str::len).unwrap_or(0);
    }
    assert!(bytes > 0);
    (lore, t.elapsed())
}

/// Runs every versioning workload; `quick` shrinks them.
pub fn run(
    dir: &Path,
    runs: usize,
    quick: bool,
    lore_bin: &Path,
    corpus: Option<&Path>,
) -> Vec<Row> {
    std::fs::create_dir_all(dir).expect("bench dir");
    let (small, large) = if quick {
        (1_000, 20_000)
    } else {
        (10_000, 1_000_000)
    };
    let (short, long) = if quick { (20, 500) } else { (100, 100_000) };
    let bulk = if quick { 5_000 } else { 100_000 };
    let samples = (runs * 50).max(20);
    let mut out = Vec::new();

    eprintln!("versioning: single-row apply at {small} and {large} rows");
    let (l_small, r_small) = single_row(dir, small, samples);
    let (l_large, r_large) = single_row(dir, large, samples);
    out.push(Row {
        workload: format!("single-row apply, table of {small} rows"),
        lore: ms(l_small),
        baseline: format!("{} (raw UPDATE in a transaction)", ms(r_small)),
        ratio: ratio(l_small, r_small),
        note: String::new(),
    });
    out.push(Row {
        workload: format!("single-row apply, table of {large} rows"),
        lore: ms(l_large),
        baseline: format!("{} (raw UPDATE in a transaction)", ms(r_large)),
        ratio: ratio(l_large, r_large),
        note: format!(
            "{large} ÷ {small} rows: lore {}, target ≤ 1.3×",
            ratio(l_large, l_small)
        ),
    });

    eprintln!("versioning: revert with {short} and {long} commits of history");
    let rv_short = revert_latency(dir, short, runs.max(5));
    let rv_long = revert_latency(dir, long, runs.max(5));
    out.push(Row {
        workload: format!("revert a one-row commit, {short} commits of history"),
        lore: ms(rv_short),
        baseline: "—".into(),
        ratio: "—".into(),
        note: String::new(),
    });
    out.push(Row {
        workload: format!("revert a one-row commit, {long} commits of history"),
        lore: ms(rv_long),
        baseline: format!("{} (the same with {short})", ms(rv_short)),
        ratio: ratio(rv_long, rv_short),
        note: "target: flat".into(),
    });

    eprintln!("versioning: bulk insert of {bulk} rows");
    let (b_lore, b_raw) = bulk_insert(dir, bulk);
    let per_s = |d: Duration| format!("{:.0} rows/s", bulk as f64 / d.as_secs_f64());
    out.push(Row {
        workload: format!("insert {bulk} rows in one plan"),
        lore: format!("{} ({})", per_s(b_lore), ms(b_lore)),
        baseline: format!("{} (raw prepared INSERT)", per_s(b_raw)),
        ratio: ratio(b_lore, b_raw),
        note: String::new(),
    });

    eprintln!("versioning: verify --full over {large} rows");
    let (v_lore, v_raw) = verify_full(dir, large);
    out.push(Row {
        workload: format!("verify --full, {large} rows"),
        lore: format!(
            "{:.0} rows/s ({})",
            large as f64 / v_lore.as_secs_f64(),
            ms(v_lore)
        ),
        baseline: format!(
            "{:.0} rows/s (raw SELECT scan)",
            large as f64 / v_raw.as_secs_f64()
        ),
        ratio: ratio(v_lore, v_raw),
        note: String::new(),
    });

    if let Some(corpus) = corpus {
        eprintln!("versioning: lore.db size with and without history");
        out.push(size_with_history(dir, lore_bin, corpus));
    }
    out
}

/// Imports `corpus` with the lore binary, then compares lore.db with a copy without history
/// (both vacuumed).
fn size_with_history(dir: &Path, lore_bin: &Path, corpus: &Path) -> Row {
    let home = dir.join("size-home");
    let _ = std::fs::remove_dir_all(&home);
    let status = std::process::Command::new(lore_bin)
        .args(["import", "--quiet"])
        .arg(corpus)
        .env("LORE_HOME", &home)
        .status()
        .expect("run lore import");
    assert!(status.success(), "lore import failed");
    let db = home.join("lore.db");
    let with = dir.join("size-with.db");
    let without = dir.join("size-without.db");
    for p in [&with, &without] {
        let _ = std::fs::remove_file(p);
    }
    let conn = Connection::open(&db).expect("open lore.db");
    conn.execute("VACUUM INTO ?1", [with.to_string_lossy()])
        .expect("vacuum into");
    drop(conn);
    std::fs::copy(&with, &without).expect("copy");
    let c = Connection::open(&without).expect("open copy");
    let names: Vec<String> = c
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE '\\_lore\\_%' ESCAPE '\\'")
        .expect("prep")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("names");
    for n in names {
        c.execute_batch(&format!("DROP TABLE \"{n}\""))
            .expect("drop");
    }
    c.execute_batch("VACUUM").expect("vacuum");
    drop(c);
    let a = std::fs::metadata(&with).expect("size").len() as f64;
    let b = std::fs::metadata(&without).expect("size").len() as f64;
    Row {
        workload: format!("lore.db after importing {}", corpus.display()),
        lore: format!("{:.1} MB with history", a / 1e6),
        baseline: format!("{:.1} MB without", b / 1e6),
        ratio: format!("{:.2}×", a / b),
        note: "target ≤ 1.5×".into(),
    }
}
