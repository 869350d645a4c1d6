//! The `content` workload: what the content index (schema 008, docs/links.md "The content
//! index") costs. The same generated corpus (Claude Code and Codex sessions with Edit, Write,
//! MultiEdit and apply_patch calls) is imported into fresh homes by this build and by a
//! baseline build without the index (`--baseline-lore`, e.g. lore at the commit before it),
//! alternating, and the index's size is read from the imported lore.db (SQLite's `dbstat`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::generate;
use crate::measure;
use crate::report::{self, Row};

pub struct Config {
    pub lore: PathBuf,
    pub baseline: PathBuf,
    pub data_dir: PathBuf,
    pub sessions: usize,
    pub runs: usize,
    pub seed: u64,
}

fn lore(bin: &Path, home: &Path) -> Command {
    let mut c = Command::new(bin);
    c.env("LORE_HOME", home)
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("CODEX_HOME")
        .current_dir(home);
    c
}

/// Imports the corpus at `root` into a fresh home under `homes` with `bin`: seconds, and the
/// home (kept until dropped).
fn import(bin: &Path, root: &Path, homes: &Path) -> Result<(f64, tempfile::TempDir), String> {
    let home = tempfile::Builder::new()
        .prefix("lore-home-")
        .tempdir_in(homes)
        .map_err(|e| e.to_string())?;
    let p = measure::run(
        lore(bin, home.path())
            .arg("import")
            .arg(root)
            .arg("--quiet"),
        Stdio::null(),
    )
    .map_err(|e| e.to_string())?;
    if !p.ok() {
        return Err(format!("lore import: {}", p.failure()));
    }
    Ok((p.wall.as_secs_f64(), home))
}

/// Rows of the index, and bytes of its pages (table and index), in lore.db under `home`.
fn index_size(home: &Path) -> Result<(i64, i64, i64), String> {
    let conn = rusqlite::Connection::open_with_flags(
        home.join("lore.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .map_err(|e| e.to_string())?;
    let q = |sql: &str| -> Result<i64, String> {
        conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
            .map(|v| v.unwrap_or(0))
            .map_err(|e| format!("{sql}: {e}"))
    };
    let rows = q("SELECT count(*) FROM _lore_content_lines")?;
    let bytes = q(
        "SELECT sum(pgsize) FROM dbstat WHERE name IN ('_lore_content_lines', \
         '_lore_content_lines_message', '_lore_content_pending')",
    )?;
    let messages = q(
        "SELECT count(*) FROM messages WHERE kind = 'tool_use' OR (kind = 'text' AND \
         role = 'assistant' AND instr(content, '>>>>>>> REPLACE') > 0)",
    )?;
    Ok((rows, bytes, messages))
}

fn db_bytes(home: &Path) -> u64 {
    measure::file_size(&home.join("lore.db")) + measure::file_size(&home.join("lore.db-wal"))
}

pub fn run(cfg: &Config) -> Result<Vec<Row>, String> {
    let corpus =
        generate::ensure(&cfg.data_dir, cfg.sessions, cfg.seed).map_err(|e| e.to_string())?;
    let homes = cfg.data_dir.join("homes");
    std::fs::create_dir_all(&homes).map_err(|e| e.to_string())?;
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let (mut size, mut dbs) = ((0, 0, 0), (0u64, 0u64));
    // One warm-up of each, then alternate.
    for r in 0..=cfg.runs {
        let (b, bh) = import(&cfg.baseline, &corpus.root, &homes)?;
        let (l, lh) = import(&cfg.lore, &corpus.root, &homes)?;
        if r > 0 {
            without.push(b);
            with.push(l);
        }
        size = index_size(lh.path())?;
        dbs = (db_bytes(lh.path()), db_bytes(bh.path()));
    }
    let (rows, bytes, messages) = size;
    let mb = corpus.bytes as f64 / 1e6;
    let (l, b) = (measure::median(&with), measure::median(&without));
    let ratio = l / b;
    Ok(vec![
        Row {
            workload: format!(
                "import of {} sessions ({} of transcript), with the content index",
                corpus.sessions,
                report::mb(corpus.bytes)
            ),
            lore: format!("{l:.2} s ({:.1} MB/s)", mb / l),
            baseline: format!(
                "without the index (baseline build): {b:.2} s ({:.1} MB/s)",
                mb / b
            ),
            ratio: format!("{ratio:.2}×"),
            note: format!(
                "throughput drop {:.1}%; target ≤ 10%: {}",
                (1.0 - b / l) * 100.0,
                if l <= b * 1.10 { "met" } else { "missed" }
            ),
        },
        Row {
            workload: format!(
                "content index size ({} rows from {} writing messages)",
                report::thousands(rows as u64),
                report::thousands(messages as u64)
            ),
            lore: report::mb(bytes as u64),
            baseline: format!(
                "transcripts: {}; lore.db {} (without the index: {})",
                report::mb(corpus.bytes),
                report::mb(dbs.0),
                report::mb(dbs.1)
            ),
            ratio: format!("{:.1} KB per MB", bytes as f64 / 1e3 / mb),
            note: format!(
                "{:.1}% of lore.db; {:.1} bytes a row (hash, message id, and the index by message)",
                bytes as f64 * 100.0 / dbs.0.max(1) as f64,
                bytes as f64 / rows.max(1) as f64
            ),
        },
    ])
}
