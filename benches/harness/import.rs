//! The `import` workload: `lore import` of generated corpora against baselines, then search
//! latency on the largest imported database.
//!
//! Per corpus size N and per run, in this order (the corpus is in the page cache after it was
//! generated or read by the previous step, so every tool reads it warm):
//! 1. read every byte of the corpus in-process (the "cat" floor),
//! 2. `lore import <corpus> --quiet` into a fresh `LORE_HOME`: wall time, peak RSS, CPU,
//! 3. `lore status --json` for sessions/messages and `lore.db` (+ `-wal`) for its size,
//! 4. `lore import <corpus> --quiet` again: nothing changed, so it only compares fingerprints,
//! 5. the `sqlite3` CLI loading every raw line of the same files into an FTS5 table in one
//!    transaction (same journal mode and synchronous setting as lore).
//!
//! Search: ~50 fixed queries, each run `reps` times as `lore search Q -n 20 --json`, beside
//! `lore --version` (the cost of starting the process at all).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use tempfile::TempDir;

use crate::generate::{self, Corpus, Vocab};
use crate::measure::{self, Proc, file_size};

/// What the harness was asked to do.
#[derive(Debug, Clone)]
pub struct Config {
    pub sessions: Vec<usize>,
    pub runs: usize,
    pub seed: u64,
    pub lore: PathBuf,
    pub sqlite3: Option<PathBuf>,
    pub data_dir: PathBuf,
    /// Corpus size whose database the search workload uses.
    pub search_at: Option<usize>,
    pub search_reps: usize,
    pub verify: bool,
}

/// One measured process, reduced to what the report shows.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub wall: f64,
    pub max_rss: u64,
    pub peak_anon: u64,
    pub peak_file: u64,
    pub cpu: f64,
}

impl From<&Proc> for Run {
    fn from(p: &Proc) -> Run {
        Run {
            wall: p.wall.as_secs_f64(),
            max_rss: p.max_rss,
            peak_anon: p.peak_anon,
            peak_file: p.peak_file,
            cpu: p.cpu().as_secs_f64(),
        }
    }
}

/// Everything measured at one corpus size.
pub struct ImportResult {
    pub corpus: Corpus,
    pub lore: Vec<Run>,
    pub reimport: Vec<Run>,
    /// `lore.db` + `lore.db-wal` after each run's first import.
    pub db_bytes: Vec<u64>,
    pub sessions: u64,
    pub messages: u64,
    /// Seconds to read the whole corpus in-process.
    pub read: Vec<f64>,
    /// The sqlite3 baseline, when sqlite3 is there.
    pub sqlite: Vec<Run>,
    pub sqlite_db_bytes: Vec<u64>,
    /// The sqlite3 "bulk" baseline: lore's own rows copied into lore's schema in one
    /// `INSERT … SELECT` per table.
    pub bulk: Vec<Run>,
    pub notes: Vec<String>,
    /// The last run's home, kept for the search workload.
    pub home: Option<TempDir>,
}

/// One search query and how it went.
pub struct QueryResult {
    pub category: &'static str,
    pub query: String,
    /// Milliseconds, one per repetition.
    pub times: Vec<f64>,
    pub hits: usize,
}

pub struct SearchResult {
    pub sessions: usize,
    pub reps: usize,
    pub queries: Vec<QueryResult>,
    /// `lore --version`, milliseconds.
    pub floor: Vec<f64>,
}

fn lore_cmd(cfg: &Config, home: &Path) -> Command {
    let mut c = Command::new(&cfg.lore);
    c.env("LORE_HOME", home)
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("CODEX_HOME")
        .current_dir(home);
    c
}

fn bail(what: &str, p: &Proc) -> io::Error {
    io::Error::other(format!("{what} failed: {}", p.failure()))
}

/// Reads every byte of `files`; returns seconds.
fn read_all(files: &[PathBuf]) -> io::Result<(f64, u64)> {
    let mut buf = vec![0u8; 1 << 20];
    let started = Instant::now();
    let mut total = 0u64;
    for f in files {
        let mut file = File::open(f)?;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n as u64;
        }
    }
    Ok((started.elapsed().as_secs_f64(), total))
}

/// The sqlite3 script that loads every line of `files` into an FTS5 table.
fn sqlite_script(files: &[PathBuf], path: &Path) -> io::Result<()> {
    let mut w = io::BufWriter::new(File::create(path)?);
    writeln!(w, "PRAGMA journal_mode=WAL;")?;
    writeln!(w, "PRAGMA synchronous=NORMAL;")?;
    writeln!(
        w,
        "CREATE VIRTUAL TABLE lines USING fts5(line, tokenize = 'unicode61 remove_diacritics 2');"
    )?;
    writeln!(w, "BEGIN;")?;
    // JSON lines hold no raw tab, so each line is one single-column record, read verbatim.
    writeln!(w, ".separator \"\\t\" \"\\n\"")?;
    for f in files {
        let p = f.to_string_lossy();
        if p.contains('\'') {
            return Err(io::Error::other(format!("path with a quote: {p}")));
        }
        writeln!(w, ".import '{p}' lines")?;
    }
    writeln!(w, "COMMIT;")?;
    w.flush()
}

/// Names of FTS5 shadow tables: created by their virtual table, never copied.
const SHADOW_SUFFIXES: &[&str] = &["_data", "_idx", "_docsize", "_config", "_content"];

/// The "bulk" baseline: the rows lore wrote, copied by the sqlite3 CLI into an empty database
/// with lore's schema (tables, indexes, triggers, the FTS5 table), one `INSERT … SELECT` per
/// table in one transaction. The same SQL work as the import, done in bulk: the gap to lore
/// is lore's own cost (reading, parsing, row-at-a-time writes).
fn bulk_copy(sqlite3: &Path, src: &Path, dir: &Path) -> io::Result<Proc> {
    let query = |sql: &str| -> io::Result<Vec<String>> {
        let p = measure::run(
            Command::new(sqlite3).arg("-readonly").arg(src).arg(sql),
            Stdio::null(),
        )?;
        if !p.ok() {
            return Err(bail("sqlite3 (reading lore's schema)", &p));
        }
        Ok(String::from_utf8_lossy(&p.stdout)
            .split('\u{1e}')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect())
    };
    let vtabs = query(
        "SELECT name || char(30) FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'",
    )?;
    let shadow = |name: &str| {
        vtabs
            .iter()
            .any(|v| SHADOW_SUFFIXES.iter().any(|s| name == format!("{v}{s}")))
    };
    // (type, name, sql) in creation order: tables before the triggers that use them.
    let rows = query(
        "SELECT type || char(31) || name || char(31) || sql || char(30) FROM sqlite_master \
         WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
    )?;
    let mut schema = String::new();
    let mut tables = Vec::new();
    for row in &rows {
        let mut parts = row.splitn(3, '\u{1f}');
        let (ty, name, sql) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        if shadow(name) {
            continue;
        }
        schema.push_str(sql);
        schema.push_str(";\n");
        if ty == "table" && !sql.starts_with("CREATE VIRTUAL TABLE") {
            tables.push(name.to_owned());
        }
    }
    let script = dir.join("bulk.sql");
    let mut w = io::BufWriter::new(File::create(&script)?);
    writeln!(w, "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;")?;
    w.write_all(schema.as_bytes())?;
    writeln!(w, "ATTACH '{}' AS src;\nBEGIN;", src.display())?;
    for t in &tables {
        writeln!(w, "INSERT INTO main.\"{t}\" SELECT * FROM src.\"{t}\";")?;
    }
    // The search indexes' queue (schema 9): lore's triggers fill it as messages go in and
    // lore moves it into the FTS5 tables before its write commits; here the same SQL does.
    if tables.iter().any(|t| t == "_lore_search_pending") {
        w.write_all(include_str!("../../src/db/search_drain.sql").as_bytes())?;
    }
    // The content index's queue: lore's triggers fill it as messages go in and lore hashes it
    // before its write commits; here the hashed lines were copied, so the queue is emptied as
    // lore's own write leaves it.
    if tables.iter().any(|t| t == "_lore_content_pending") {
        writeln!(w, "DELETE FROM main.\"_lore_content_pending\";")?;
    }
    writeln!(w, "COMMIT;")?;
    w.flush()?;
    drop(w);
    let p = measure::run(
        Command::new(sqlite3).arg("-bail").arg(dir.join("bulk.db")),
        Stdio::from(File::open(&script)?),
    )?;
    if !p.ok() {
        return Err(bail("sqlite3 bulk copy of lore's rows", &p));
    }
    // Every table holds as many rows as lore's.
    let counts: Vec<String> = tables
        .iter()
        .map(|t| format!("SELECT (SELECT count(*) FROM main.\"{t}\") - (SELECT count(*) FROM src.\"{t}\") AS d"))
        .collect();
    let check = measure::run(
        Command::new(sqlite3)
            .arg("-readonly")
            .arg(dir.join("bulk.db"))
            .arg(format!(
                "ATTACH '{}' AS src; SELECT count(*) FROM ({}) WHERE d != 0;",
                src.display(),
                counts.join(" UNION ALL ")
            )),
        Stdio::null(),
    )?;
    if !check.ok() || String::from_utf8_lossy(&check.stdout).trim() != "0" {
        return Err(io::Error::other(format!(
            "sqlite3 bulk copy: row counts differ from lore's ({})",
            String::from_utf8_lossy(&check.stdout).trim()
        )));
    }
    Ok(p)
}

pub fn run_import(cfg: &Config, n: usize, keep_home: bool) -> io::Result<ImportResult> {
    let corpus = generate::ensure(&cfg.data_dir, n, cfg.seed)?;
    if cfg.verify {
        let started = Instant::now();
        let (f, l) = generate::verify(&corpus.root)?;
        eprintln!(
            "  verified: {f} files, {l} lines, every line parses as JSON ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
    }
    let files = generate::files(&corpus.root)?;
    let homes = cfg.data_dir.join("homes");
    std::fs::create_dir_all(&homes)?;
    let mut r = ImportResult {
        corpus,
        lore: Vec::new(),
        reimport: Vec::new(),
        db_bytes: Vec::new(),
        sessions: 0,
        messages: 0,
        read: Vec::new(),
        sqlite: Vec::new(),
        sqlite_db_bytes: Vec::new(),
        bulk: Vec::new(),
        notes: Vec::new(),
        home: None,
    };
    for run in 0..cfg.runs {
        let (secs, bytes) = read_all(&files)?;
        if bytes != r.corpus.bytes {
            r.notes.push(format!(
                "read {bytes} bytes but the corpus marker says {}",
                r.corpus.bytes
            ));
        }
        r.read.push(secs);

        let home = tempfile::Builder::new()
            .prefix("lore-home-")
            .tempdir_in(&homes)?;
        let import = || {
            measure::run(
                lore_cmd(cfg, home.path())
                    .arg("import")
                    .arg(&r.corpus.root)
                    .arg("--quiet"),
                Stdio::null(),
            )
        };
        let p = import()?;
        if !p.ok() {
            return Err(bail("lore import", &p));
        }
        if !p.stderr.is_empty() && run == 0 {
            let err = String::from_utf8_lossy(&p.stderr);
            let lines = err.lines().count();
            r.notes.push(format!(
                "lore import printed {lines} line(s) on stderr, first: {}",
                err.lines().next().unwrap_or("")
            ));
        }
        r.lore.push(Run::from(&p));
        let db = home.path().join("lore.db");
        let wal = home.path().join("lore.db-wal");
        let status = measure::run(
            lore_cmd(cfg, home.path()).args(["status", "--json"]),
            Stdio::null(),
        )?;
        if !status.ok() {
            return Err(bail("lore status --json", &status));
        }
        let v: serde_json::Value = serde_json::from_slice(&status.stdout)
            .map_err(|e| io::Error::other(format!("lore status --json: {e}")))?;
        let db_bytes = v["database_bytes"]
            .as_u64()
            .unwrap_or_else(|| file_size(&db))
            + file_size(&wal);
        r.db_bytes.push(db_bytes);
        r.sessions = v["session_count"].as_u64().unwrap_or(0);
        r.messages = v["message_count"].as_u64().unwrap_or(0);

        let p2 = import()?;
        if !p2.ok() {
            return Err(bail("lore import (again)", &p2));
        }
        r.reimport.push(Run::from(&p2));

        let mut line = format!(
            "  N={n} run {}/{}: read {:.2} s | lore import {:.2} s ({:.1} MB/s, {} peak RSS of which {} anon, {:.0}% CPU) | re-import {:.3} s",
            run + 1,
            cfg.runs,
            secs,
            p.wall.as_secs_f64(),
            r.corpus.bytes as f64 / 1e6 / p.wall.as_secs_f64(),
            crate::report::mb(p.max_rss),
            crate::report::mb(p.peak_anon),
            100.0 * p.cpu().as_secs_f64() / p.wall.as_secs_f64(),
            p2.wall.as_secs_f64()
        );

        if let Some(sqlite3) = &cfg.sqlite3 {
            let dir = tempfile::Builder::new()
                .prefix("bulk-")
                .tempdir_in(&homes)?;
            let p4 = bulk_copy(sqlite3, &db, dir.path())?;
            line.push_str(&format!(" | bulk copy {:.2} s", p4.wall.as_secs_f64()));
            r.bulk.push(Run::from(&p4));
        }

        if let Some(sqlite3) = &cfg.sqlite3 {
            let dir = tempfile::Builder::new()
                .prefix("sqlite-")
                .tempdir_in(&homes)?;
            let script = dir.path().join("load.sql");
            sqlite_script(&files, &script)?;
            let sdb = dir.path().join("lines.db");
            let p3 = measure::run(
                Command::new(sqlite3).arg("-bail").arg(&sdb),
                Stdio::from(File::open(&script)?),
            )?;
            if !p3.ok() {
                return Err(bail("sqlite3 baseline", &p3));
            }
            if !p3.stderr.is_empty() && run == 0 {
                let err = String::from_utf8_lossy(&p3.stderr);
                r.notes.push(format!(
                    "sqlite3 printed on stderr: {}",
                    err.lines().next().unwrap_or("")
                ));
            }
            let bytes = file_size(&sdb) + file_size(&dir.path().join("lines.db-wal"));
            r.sqlite_db_bytes.push(bytes);
            r.sqlite.push(Run::from(&p3));
            line.push_str(&format!(
                " | sqlite3 {:.2} s ({:.1} MB/s)",
                p3.wall.as_secs_f64(),
                r.corpus.bytes as f64 / 1e6 / p3.wall.as_secs_f64()
            ));
        }
        eprintln!("{line}");
        if run + 1 == cfg.runs && keep_home {
            r.home = Some(home);
        }
    }
    if r.sessions != r.corpus.sessions {
        r.notes.push(format!(
            "lore holds {} sessions after importing {} transcripts",
            r.sessions, r.corpus.sessions
        ));
    }
    Ok(r)
}

/// The fixed query set: ~50 queries drawn from the corpus vocabulary by rank, so the same seed
/// always gives the same queries.
pub fn queries(seed: u64) -> Vec<(&'static str, String)> {
    let v = Vocab::new(seed);
    let w = |r: usize| v.words[r.min(v.words.len() - 1)].clone();
    let last = v.words.len() - 1;
    let mid: Vec<String> = (0..12).map(|k| w(300 + 100 * k)).collect();
    let rare: Vec<String> = (0..10).map(|k| w(last - 60 * k)).collect();
    let mut q: Vec<(&'static str, String)> = Vec::new();
    for c in [
        "the", "error", "test", "function", "file", "to", "session", "build",
    ] {
        q.push(("common word", c.to_owned()));
    }
    for m in &mid {
        q.push(("mid-frequency word", m.clone()));
    }
    for r in &rare {
        q.push(("rare word", r.clone()));
    }
    for n in v.needles.iter().take(4) {
        q.push(("very rare word", n.clone()));
    }
    let pairs = [
        ("error".to_owned(), mid[0].clone()),
        (mid[1].clone(), mid[2].clone()),
        ("test".to_owned(), rare[0].clone()),
        (mid[3].clone(), rare[1].clone()),
        ("database".to_owned(), "migration".to_owned()),
        ("the".to_owned(), rare[2].clone()),
        (mid[4].clone(), "function".to_owned()),
        (rare[3].clone(), rare[4].clone()),
    ];
    for (a, b) in pairs {
        q.push(("two words", format!("{a} {b}")));
    }
    for p in [
        "connection refused",
        "database is locked",
        "no such file or directory",
        "index out of bounds",
    ] {
        q.push(("phrase", format!("\"{p}\"")));
    }
    let stem: String = mid[5].chars().take(4).collect();
    for p in [stem.as_str(), "migra", "conf", "ser"] {
        q.push(("prefix", format!("{p}*")));
    }
    q
}

pub fn run_search(cfg: &Config, n: usize, home: &Path) -> io::Result<SearchResult> {
    let qs = queries(cfg.seed);
    eprintln!(
        "search at N={n}: {} queries × {} runs, plus `lore --version` …",
        qs.len(),
        cfg.search_reps
    );
    let mut results: Vec<QueryResult> = qs
        .into_iter()
        .map(|(category, query)| QueryResult {
            category,
            query,
            times: Vec::new(),
            hits: 0,
        })
        .collect();
    let search = |q: &str| -> io::Result<Proc> {
        let p = measure::run(
            lore_cmd(cfg, home).args(["search", q, "-n", "20", "--json"]),
            Stdio::null(),
        )?;
        if !p.ok() {
            return Err(bail(&format!("lore search {q}"), &p));
        }
        Ok(p)
    };
    // One unmeasured pass: warms the page cache the way a user's second search would be.
    for q in &mut results {
        let p = search(&q.query)?;
        let v: serde_json::Value = serde_json::from_slice(&p.stdout)
            .map_err(|e| io::Error::other(format!("lore search --json: {e}")))?;
        // `{"hits": [...]}` (docs/json.md); a bare array from a lore before vocabulary 1.
        q.hits = v
            .get("hits")
            .unwrap_or(&v)
            .as_array()
            .map_or(0, |a| a.len());
    }
    let mut floor = Vec::new();
    for _ in 0..cfg.search_reps {
        // Interleaved, so drift in the machine's state hits every query alike.
        for q in &mut results {
            let p = search(&q.query)?;
            q.times.push(p.wall.as_secs_f64() * 1e3);
            let f = measure::run(lore_cmd(cfg, home).arg("--version"), Stdio::null())?;
            floor.push(f.wall.as_secs_f64() * 1e3);
        }
    }
    Ok(SearchResult {
        sessions: n,
        reps: cfg.search_reps,
        queries: results,
        floor,
    })
}
