//! Markdown output: the tables printed to stdout and, with `--write-docs`, the section of
//! `docs/benchmarks.md` between `<!-- bench:import:start -->` and `<!-- bench:import:end -->`.

use std::fmt::Write as _;
use std::path::Path;

use crate::import::{ImportResult, Run, SearchResult};
use crate::measure::{Machine, max, median, min, percentile};

/// Targets from the issue.
pub const TARGET_IMPORT_MBPS: f64 = 50.0;
pub const TARGET_RSS_MB: f64 = 200.0;
pub const TARGET_SEARCH_MS: f64 = 20.0;

pub fn mb(bytes: u64) -> String {
    let m = bytes as f64 / 1e6;
    if m >= 100.0 {
        format!("{m:.0} MB")
    } else if m >= 10.0 {
        format!("{m:.1} MB")
    } else {
        format!("{m:.2} MB")
    }
}

pub fn kb(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        mb(bytes)
    } else {
        format!("{:.0} KB", bytes as f64 / 1e3)
    }
}

/// 10000 → "10,000".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn secs(s: f64) -> String {
    if s < 0.1 {
        format!("{:.0} ms", s * 1e3)
    } else if s < 10.0 {
        format!("{s:.2} s")
    } else {
        format!("{s:.1} s")
    }
}

fn ms(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.1} ms")
    } else {
        format!("{x:.0} ms")
    }
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a.is_finite() && b.is_finite() {
        let r = a / b;
        // Two significant digits, however small.
        let decimals = if r >= 10.0 {
            0
        } else {
            (1 - r.log10().floor() as i32).clamp(1, 6) as usize
        };
        format!("{r:.decimals$}×")
    } else {
        "—".into()
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

/// A markdown table.
struct Table {
    head: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(head: &[&str], right: &[bool]) -> Table {
        Table {
            head: head.iter().map(|s| s.to_string()).collect(),
            right: right.to_vec(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn render(&self) -> String {
        let n = self.head.len();
        let mut w = vec![3usize; n];
        for r in std::iter::once(&self.head).chain(&self.rows) {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::from("|");
            for (i, (width, right)) in w.iter().zip(&self.right).enumerate() {
                let c = cells.get(i).map(String::as_str).unwrap_or("");
                let pad = width - c.chars().count();
                if *right {
                    let _ = write!(s, " {}{c} |", " ".repeat(pad));
                } else {
                    let _ = write!(s, " {c}{} |", " ".repeat(pad));
                }
            }
            s.push('\n');
            s
        };
        let mut out = line(&self.head);
        out.push('|');
        for (width, right) in w.iter().zip(&self.right) {
            if *right {
                let _ = write!(out, " {}: |", "-".repeat(width - 1));
            } else {
                let _ = write!(out, " {} |", "-".repeat(*width));
            }
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}

fn walls(runs: &[Run]) -> Vec<f64> {
    runs.iter().map(|r| r.wall).collect()
}

fn med_rss(runs: &[Run]) -> f64 {
    median(&runs.iter().map(|r| r.max_rss as f64).collect::<Vec<_>>())
}

/// The whole report: what goes to stdout and between the markers.
pub fn render(
    machine: &Machine,
    command: &str,
    runs: usize,
    seed: u64,
    imports: &[ImportResult],
    search: Option<&SearchResult>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Measured {} with `{command}`: {} × {} CPUs, {:.1} GiB RAM, Linux {}, {}, {}. \
         lore {} at commit {}. Generator seed {seed}; every figure is the median of {runs} run{} \
         unless marked otherwise.\n",
        machine.date,
        machine.cpus,
        machine.cpu_model,
        machine.mem_total as f64 / (1u64 << 30) as f64,
        machine.kernel,
        machine.rustc,
        machine
            .sqlite3
            .as_deref()
            .map_or("no sqlite3 CLI".to_owned(), |v| format!("sqlite3 CLI {v}")),
        machine.lore_version.trim_start_matches("lore "),
        machine.commit,
        if runs == 1 { "" } else { "s" },
    );

    // --- Summary ---
    let _ = writeln!(s, "### Summary\n");
    let mut t = Table::new(
        &[
            "Workload",
            "Metric",
            "lore",
            "Baseline",
            "lore ÷ baseline",
            "Target",
        ],
        &[false, false, true, false, true, false],
    );
    for r in imports {
        let c = &r.corpus;
        let lore_s = median(&walls(&r.lore));
        let lore_mbps = c.bytes as f64 / 1e6 / lore_s;
        let has_sql = !r.sqlite.is_empty();
        let sql_s = median(&walls(&r.sqlite));
        let sql_mbps = c.bytes as f64 / 1e6 / sql_s;
        let name = format!("import, N={} ({})", thousands(c.sessions), mb(c.bytes));
        let no_sql = || "— (no sqlite3)".to_owned();
        t.row(vec![
            name.clone(),
            "throughput".into(),
            format!("{lore_mbps:.1} MB/s"),
            if has_sql {
                format!("{sql_mbps:.1} MB/s (sqlite3: raw lines → FTS5)")
            } else {
                no_sql()
            },
            if has_sql {
                ratio(lore_mbps, sql_mbps)
            } else {
                "—".into()
            },
            format!(
                "≥ {TARGET_IMPORT_MBPS:.0} MB/s: {}",
                verdict(lore_mbps >= TARGET_IMPORT_MBPS)
            ),
        ]);
        if !r.bulk.is_empty() {
            let bulk_mbps = c.bytes as f64 / 1e6 / median(&walls(&r.bulk));
            t.row(vec![
                String::new(),
                "throughput vs. SQL floor".into(),
                format!("{lore_mbps:.1} MB/s"),
                format!(
                    "{bulk_mbps:.1} MB/s (sqlite3: lore's rows bulk-copied into lore's schema)"
                ),
                ratio(lore_mbps, bulk_mbps),
                String::new(),
            ]);
        }
        let lore_sps = c.sessions as f64 / lore_s;
        let sql_sps = c.sessions as f64 / sql_s;
        t.row(vec![
            String::new(),
            "sessions/s".into(),
            format!("{lore_sps:.0}"),
            if has_sql {
                format!("{sql_sps:.0}")
            } else {
                no_sql()
            },
            if has_sql {
                ratio(lore_sps, sql_sps)
            } else {
                "—".into()
            },
            String::new(),
        ]);
        t.row(vec![
            String::new(),
            "wall time".into(),
            secs(lore_s),
            if has_sql { secs(sql_s) } else { no_sql() },
            if has_sql {
                ratio(lore_s, sql_s)
            } else {
                "—".into()
            },
            String::new(),
        ]);
        let rss = med_rss(&r.lore);
        let sql_rss = med_rss(&r.sqlite);
        let anon = median(
            &r.lore
                .iter()
                .map(|x| x.peak_anon as f64)
                .collect::<Vec<_>>(),
        );
        let file = median(
            &r.lore
                .iter()
                .map(|x| x.peak_file as f64)
                .collect::<Vec<_>>(),
        );
        t.row(vec![
            String::new(),
            "peak RSS".into(),
            mb(rss as u64),
            if has_sql {
                mb(sql_rss as u64)
            } else {
                no_sql()
            },
            if has_sql {
                ratio(rss, sql_rss)
            } else {
                "—".into()
            },
            format!(
                "< {TARGET_RSS_MB:.0} MB: {}",
                verdict(
                    max(&r.lore.iter().map(|x| x.max_rss as f64).collect::<Vec<_>>())
                        < TARGET_RSS_MB * 1e6
                )
            ),
        ]);
        t.row(vec![
            String::new(),
            "… of it anonymous / mapped files".into(),
            format!("{} / {}", mb(anon as u64), mb(file as u64)),
            "(sampled from /proc every 10 ms)".into(),
            String::new(),
            String::new(),
        ]);
        let db = median(&r.db_bytes.iter().map(|&b| b as f64).collect::<Vec<_>>());
        let sdb = median(
            &r.sqlite_db_bytes
                .iter()
                .map(|&b| b as f64)
                .collect::<Vec<_>>(),
        );
        t.row(vec![
            String::new(),
            "db bytes per transcript byte".into(),
            format!("{:.2} ({})", db / c.bytes as f64, mb(db as u64)),
            if has_sql {
                format!("{:.2} ({})", sdb / c.bytes as f64, mb(sdb as u64))
            } else {
                no_sql()
            },
            if has_sql {
                ratio(db, sdb)
            } else {
                "—".into()
            },
            String::new(),
        ]);
        let read_s = median(&r.read);
        let re_s = median(&walls(&r.reimport));
        t.row(vec![
            format!("re-import unchanged, N={}", thousands(c.sessions)),
            "wall time".into(),
            secs(re_s),
            format!("{} (read every byte of the corpus)", secs(read_s)),
            ratio(re_s, read_s),
            String::new(),
        ]);
        t.row(vec![
            format!("read corpus, N={}", thousands(c.sessions)),
            "throughput".into(),
            format!("{lore_mbps:.1} MB/s (import)"),
            format!(
                "{} MB/s (read in-process, mostly from the page cache)",
                thousands((c.bytes as f64 / 1e6 / read_s) as u64)
            ),
            ratio(lore_mbps, c.bytes as f64 / 1e6 / read_s),
            String::new(),
        ]);
    }
    if let Some(sr) = search {
        let all: Vec<f64> = sr
            .queries
            .iter()
            .flat_map(|q| q.times.iter().copied())
            .collect();
        let (m, p95) = (median(&all), percentile(&all, 95.0));
        let (fm, fp95) = (median(&sr.floor), percentile(&sr.floor, 95.0));
        t.row(vec![
            format!(
                "search, N={} ({} queries × {})",
                thousands(sr.sessions as u64),
                sr.queries.len(),
                sr.reps
            ),
            "median latency".into(),
            ms(m),
            format!("{} (`lore --version`)", ms(fm)),
            ratio(m, fm),
            format!(
                "< {TARGET_SEARCH_MS:.0} ms: {}",
                verdict(m < TARGET_SEARCH_MS)
            ),
        ]);
        t.row(vec![
            String::new(),
            "p95 latency".into(),
            ms(p95),
            format!("{} (`lore --version`)", ms(fp95)),
            ratio(p95, fp95),
            String::new(),
        ]);
    }
    s.push_str(&t.render());
    s.push_str(
        "\nRatios are lore ÷ baseline: above 1 means lore is faster for throughputs and slower \
         for times. Search latency is the whole `lore search QUERY -n 20 --json` process, \
         start-up included; `lore --version` is the floor any command pays.\n",
    );

    // --- Corpora ---
    let _ = writeln!(s, "\n### Corpora\n");
    let mut t = Table::new(
        &[
            "N",
            "Claude / Codex",
            "Bytes",
            "Lines",
            "Median file",
            "p90",
            "p99",
            "Largest",
            "≥ 1 MB",
            "Sessions in lore",
            "Messages in lore",
        ],
        &[
            true, true, true, true, true, true, true, true, true, true, true,
        ],
    );
    for r in imports {
        let c = &r.corpus;
        t.row(vec![
            thousands(c.sessions),
            format!("{} / {}", thousands(c.claude), thousands(c.codex)),
            mb(c.bytes),
            thousands(c.lines),
            kb(c.median),
            kb(c.p90),
            kb(c.p99),
            mb(c.max),
            thousands(c.over_1mb),
            thousands(r.sessions),
            thousands(r.messages),
        ]);
    }
    s.push_str(&t.render());

    // --- Every run ---
    let _ = writeln!(s, "\n### Every run\n");
    let mut t = Table::new(
        &[
            "N",
            "Step",
            "Wall time per run",
            "Median",
            "Peak RSS (max)",
            "… anonymous (max)",
            "CPU ÷ wall",
        ],
        &[true, false, false, true, true, true, true],
    );
    for r in imports {
        let n = thousands(r.corpus.sessions);
        let mut add = |step: &str, runs: &[Run]| {
            if runs.is_empty() {
                return;
            }
            let w = walls(runs);
            let each: Vec<String> = w.iter().map(|&x| secs(x)).collect();
            let cpu = median(&runs.iter().map(|x| x.cpu / x.wall).collect::<Vec<_>>());
            t.row(vec![
                n.clone(),
                step.into(),
                each.join(", "),
                secs(median(&w)),
                mb(max(&runs.iter().map(|x| x.max_rss as f64).collect::<Vec<_>>()) as u64),
                mb(max(&runs.iter().map(|x| x.peak_anon as f64).collect::<Vec<_>>()) as u64),
                format!("{:.0}%", cpu * 100.0),
            ]);
        };
        add("`lore import` (fresh LORE_HOME)", &r.lore);
        add("`lore import` again (unchanged)", &r.reimport);
        add("sqlite3 raw lines → FTS5", &r.sqlite);
        add("sqlite3 bulk copy of lore's rows", &r.bulk);
        let each: Vec<String> = r.read.iter().map(|&x| secs(x)).collect();
        t.row(vec![
            n.clone(),
            "read corpus in-process".into(),
            each.join(", "),
            secs(median(&r.read)),
            "—".into(),
            "—".into(),
            "—".into(),
        ]);
    }
    s.push_str(&t.render());

    // --- Search detail ---
    if let Some(sr) = search {
        let _ = writeln!(
            s,
            "\n### Search latency by kind of query (N = {})\n",
            thousands(sr.sessions as u64)
        );
        let mut t = Table::new(
            &[
                "Kind",
                "Queries",
                "Median",
                "p95",
                "Slowest query (median)",
                "Hits (of 20), mean",
            ],
            &[false, true, true, true, false, true],
        );
        let mut kinds: Vec<&str> = Vec::new();
        for q in &sr.queries {
            if !kinds.contains(&q.category) {
                kinds.push(q.category);
            }
        }
        for k in kinds {
            let qs: Vec<_> = sr.queries.iter().filter(|q| q.category == k).collect();
            let all: Vec<f64> = qs.iter().flat_map(|q| q.times.iter().copied()).collect();
            let slowest = qs
                .iter()
                .max_by(|a, b| median(&a.times).total_cmp(&median(&b.times)))
                .map(|q| format!("`{}` {}", q.query, ms(median(&q.times))))
                .unwrap_or_default();
            let hits = qs.iter().map(|q| q.hits as f64).sum::<f64>() / qs.len() as f64;
            t.row(vec![
                k.into(),
                qs.len().to_string(),
                ms(median(&all)),
                ms(percentile(&all, 95.0)),
                slowest,
                format!("{hits:.1}"),
            ]);
        }
        t.row(vec![
            "`lore --version` (floor)".into(),
            "—".into(),
            ms(median(&sr.floor)),
            ms(percentile(&sr.floor, 95.0)),
            format!("fastest {}", ms(min(&sr.floor))),
            "—".into(),
        ]);
        s.push_str(&t.render());
        s.push_str("\n<details><summary>Every query</summary>\n\n");
        let mut t = Table::new(
            &["Query", "Kind", "Median", "Max", "Hits"],
            &[false, false, true, true, true],
        );
        for q in &sr.queries {
            t.row(vec![
                format!("`{}`", q.query),
                q.category.into(),
                ms(median(&q.times)),
                ms(max(&q.times)),
                q.hits.to_string(),
            ]);
        }
        s.push_str(&t.render());
        s.push_str("\n</details>\n");
    }

    let notes: Vec<String> = imports
        .iter()
        .flat_map(|r| {
            r.notes
                .iter()
                .map(move |n| format!("N={}: {n}", thousands(r.corpus.sessions)))
        })
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(s, "\n### Notes from the run\n");
        for n in notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    s
}

const INTRO: &str = "# Benchmarks

Numbers for lore's performance targets, produced by the benchmark harness in
`benches/harness/`. It generates its own deterministic data (Claude Code and Codex CLI
transcripts in their real formats, seeded, cached under `target/bench-data/`) and drives the
release binaries as a user would, so build them first:

```sh
cargo build --release --bins
cargo bench --bench harness -- import --quick                 # smoke test: 200 sessions, 1 run
cargo bench --bench harness -- import --runs 3 --write-docs   # 2,000 and 10,000 sessions
cargo bench --bench harness -- --help
```

Method: every workload runs R times (`--runs`), each import into a fresh `LORE_HOME`, and the
tables show medians (every run is listed too). The harness measures a private copy of
`target/release/lore` (named by a prefix of its SHA-256), so a rebuild during a long run
cannot mix two binaries. Wall time is measured around the child process; peak RSS and CPU
time come from `wait4` on that one child, and `RssAnon`/`RssFile` sampled from `/proc` every
10 ms split the peak into heap and memory-mapped database pages. The corpus is usually in the
page cache when it is read (it was just generated or read), by lore and by the baselines
alike. The machine, toolchain and commit are stated with each set of results, and the section
between the markers below is rewritten by `--write-docs`. Other processes on the machine are
not stopped: on a shared machine, expect a spread of 10–20% between runs.

Baselines, all in the same run:
- reading every byte of the corpus in-process: the floor for any importer;
- the `sqlite3` CLI loading every raw line of the same files into an FTS5 table in one
  transaction, with lore's journal mode and `synchronous` setting: SQLite full-text indexing
  the same bytes without parsing them (it indexes more text than lore, which keeps only the
  messages, so it is a rough yardstick);
- the SQL floor: the `sqlite3` CLI copying the rows lore wrote into an empty database with
  lore's own schema (tables, indexes, triggers, FTS5 table), one `INSERT … SELECT` per table in
  one transaction. That is the same SQL work done in bulk; the gap between it and lore is
  lore's own cost (reading, parsing, writing a row at a time);
- for search, `lore --version`, the cost of starting the process at all.

The `sqlite3` CLI is the system's, which may be an older SQLite than the one bundled in lore.

Targets: import ≥ 50 MB/s including full-text indexing; peak RSS < 200 MB whatever the number
of transcripts; search median < 20 ms.

";

/// One row of a "lore beside its baseline" table.
pub struct Row {
    pub workload: String,
    pub lore: String,
    pub baseline: String,
    pub ratio: String,
    pub note: String,
}

/// `rows` as a markdown table (workload, lore, the baseline in the same run, the ratio, a
/// note), followed by a blank line.
pub fn rows_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| Workload | lore | Baseline (same run) | lore ÷ baseline | Note |\n|---|--:|---|--:|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.workload, r.lore, r.baseline, r.ratio, r.note
        ));
    }
    out.push('\n');
    out
}

/// Writes `section` between the import markers of `path`, creating the file if needed.
pub fn write_docs(path: &Path, section: &str) -> std::io::Result<()> {
    write_section(path, "import", "Import and search", section)
}

/// Writes `section` under `title` between the markers `<!-- bench:NAME:start -->` and
/// `<!-- bench:NAME:end -->` of `path`, appending them if they are not there yet.
pub fn write_section(path: &Path, name: &str, title: &str, section: &str) -> std::io::Result<()> {
    let start_marker = format!("<!-- bench:{name}:start -->");
    let end_marker = format!("<!-- bench:{name}:end -->");
    let block = format!("{start_marker}\n## {title}\n\n{section}{end_marker}\n");
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => INTRO.to_owned(),
        Err(e) => return Err(e),
    };
    let new = match (text.find(&start_marker), text.find(&end_marker)) {
        (Some(a), Some(b)) if a < b => {
            let mut after = &text[b + end_marker.len()..];
            after = after.strip_prefix('\n').unwrap_or(after);
            format!("{}{block}{after}", &text[..a])
        }
        _ => {
            let mut t = text;
            if !t.ends_with('\n') {
                t.push('\n');
            }
            if !t.ends_with("\n\n") {
                t.push('\n');
            }
            t.push_str(&block);
            t
        }
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, new)
}
