//! lore's benchmark harness: `cargo bench --bench harness -- COMMAND [OPTIONS]`.
//!
//! It generates deterministic transcript corpora (`generate.rs`), drives the release binaries as
//! child processes and measures them (`measure.rs`), runs the workloads (`import.rs`; later
//! workloads get their own modules and commands) and renders markdown (`report.rs`).
//! See `--help` and docs/benchmarks.md.

mod blame;
mod capture;
mod content;
mod generate;
mod import;
mod json;
mod measure;
mod remote;
mod report;
mod sync;
mod versioning;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

const HELP: &str = "\
lore benchmark harness

Usage: cargo bench --bench harness -- COMMAND [OPTIONS]

Commands:
  import    Import generated corpora with `lore import` beside baselines (raw read, sqlite3
            FTS5 load of the same lines), then time `lore search` on the largest database
  blame     `lore blame` on a 2,000-line file with 500 commits of history (a rename, linked
            sessions) beside `git blame` on the same file; --quick: 200 lines, 50 commits
  versioning  The versioning engine in-process beside raw rusqlite: single-row apply at 10,000
            and 1,000,000 rows, revert with 100 and 100,000 commits of history, a 100,000-row
            plan, verify --full, and lore.db's size with and without history (2,000 sessions)
  remote    git push / clone through git-remote-lore beside plain git moving the same store
            unencrypted: first push of --sessions stores, 1 new session into --incremental
            stores, a fresh clone of the largest
  sync      `lore sync` in a repository whose store holds --sessions N (default 10000)
            sessions: nothing to do (beside git fetch), one new session (beside git fetch +
            push of one commit), a new member joining (beside git fetch of the plain store)
  capture   An agent's hook (`lore import --hook claude`) after one more turn of a 40 KB and a
            5 MB transcript, beside `lore import FILE`; `lore watch` idle CPU over 60 s (5 s
            with --quick) and the delay from a new transcript to `lore search` finding it,
            beside the hook
  content   The content index's cost: `lore import` of one corpus (--sessions, first size;
            default 2000) by this build beside --baseline-lore (a build without the index),
            alternating, and the index's size per MB of transcript
  gen       Only generate (or find cached) corpora and print their statistics
  help      Show this help

Options:
  --sessions LIST   Corpus sizes, comma-separated          [default: 2000,10000]
  --runs R          Runs per measurement; medians reported [default: 3]
  --incremental L   Store sizes for `remote`'s one-session push [default: 1000,10000,100000]
  --quick           Smoke test: 200 sessions, 1 run, 2 search repetitions, JSON-check the corpus
  --seed S          Generator seed                          [default: 1]
  --search-at N     Corpus size whose database is searched  [default: the largest]
  --search-reps K   Repetitions of each search query        [default: 5]
  --no-search       Skip the search workload
  --no-sqlite       Skip the sqlite3 baseline
  --sqlite3 PATH    sqlite3 CLI for the baseline            [default: sqlite3 on PATH]
  --lore PATH       lore binary                             [default: target/release/lore]
  --baseline-lore PATH  `content`: a lore built without the content index (required)
  --data-dir DIR    Corpora and scratch databases           [default: target/bench-data]
  --verify          Parse every generated line as JSON before measuring
  --write-docs      Also write the results into docs/benchmarks.md (between the
                    <!-- bench:import:start --> and <!-- bench:import:end --> markers)
  -h, --help        Show this help

Build the binaries first: cargo build --release --bins
Corpora are cached in <data-dir>/<N>-<seed>/ and reused; delete the folder to regenerate.
";

#[derive(Default)]
struct Args {
    command: Option<String>,
    sessions: Option<Vec<usize>>,
    incremental: Option<Vec<usize>>,
    runs: Option<usize>,
    quick: bool,
    seed: Option<u64>,
    search_at: Option<usize>,
    search_reps: Option<usize>,
    no_search: bool,
    no_sqlite: bool,
    sqlite3: Option<PathBuf>,
    lore: Option<PathBuf>,
    baseline_lore: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    verify: bool,
    write_docs: bool,
    help: bool,
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.replace(['_', ','], "")
        .parse()
        .map_err(|_| format!("{flag}: not a number: {v}"))
}

fn parse(argv: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag {
            // `cargo bench` passes --bench to every bench binary.
            "--bench" => {}
            "-h" | "--help" => a.help = true,
            "--quick" => a.quick = true,
            "--no-search" => a.no_search = true,
            "--no-sqlite" => a.no_sqlite = true,
            "--verify" => a.verify = true,
            "--write-docs" => a.write_docs = true,
            "--sessions" => {
                let v = value()?;
                let list: Result<Vec<usize>, String> = v
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| number("--sessions", s))
                    .collect();
                let list = list?;
                if list.is_empty() || list.contains(&0) {
                    return Err("--sessions: give one or more sizes above 0".into());
                }
                a.sessions = Some(list);
            }
            "--incremental" => {
                let v = value()?;
                let list: Result<Vec<usize>, String> = v
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| number("--incremental", s))
                    .collect();
                a.incremental = Some(list?);
            }
            "--runs" => {
                let r: usize = number(flag, &value()?)?;
                if r == 0 {
                    return Err("--runs: at least 1".into());
                }
                a.runs = Some(r);
            }
            "--seed" => a.seed = Some(number(flag, &value()?)?),
            "--search-at" => a.search_at = Some(number(flag, &value()?)?),
            "--search-reps" => a.search_reps = Some(number::<usize>(flag, &value()?)?.max(1)),
            "--sqlite3" => a.sqlite3 = Some(PathBuf::from(value()?)),
            "--lore" => a.lore = Some(PathBuf::from(value()?)),
            "--baseline-lore" => a.baseline_lore = Some(PathBuf::from(value()?)),
            "--data-dir" => a.data_dir = Some(PathBuf::from(value()?)),
            f if f.starts_with('-') => return Err(format!("unknown option {f} (see --help)")),
            cmd if a.command.is_none() => a.command = Some(cmd.to_owned()),
            other => return Err(format!("unexpected argument {other} (see --help)")),
        }
    }
    Ok(a)
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                manifest_dir().join(d)
            }
        }
        _ => manifest_dir().join("target"),
    }
}

/// `name` on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                stack.push(e.path());
            } else if let Ok(t) = m.modified() {
                newest = newest.max(Some(t));
            }
        }
    }
    newest
}

/// Warns when the binary is older than lore's sources: the numbers would be for old code.
fn warn_if_stale(lore: &Path) {
    let Ok(built) = std::fs::metadata(lore).and_then(|m| m.modified()) else {
        return;
    };
    let root = manifest_dir();
    let newest = [root.join("src"), root.join("git-remote-lore")]
        .iter()
        .filter_map(|d| newest_mtime(d))
        .chain(
            std::fs::metadata(root.join("Cargo.toml"))
                .and_then(|m| m.modified())
                .ok(),
        )
        .max();
    if newest.is_some_and(|n| n > built) {
        eprintln!(
            "warning: {} is older than lore's sources; run `cargo build --release --bins` to measure the current code",
            lore.display()
        );
    }
}

/// Copies the binary to `dir/lore-<sha256 prefix>` (once) and returns the copy's path.
fn snapshot(lore: &Path, dir: &Path) -> std::io::Result<PathBuf> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(lore)?;
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    std::fs::create_dir_all(dir)?;
    let copy = dir.join(format!("lore-{hex}"));
    if !copy.is_file() {
        let tmp = dir.join(format!(".lore-{hex}.{}", std::process::id()));
        std::fs::write(&tmp, &bytes)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
        std::fs::rename(&tmp, &copy)?;
    }
    Ok(copy)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if args.help || args.command.as_deref().is_none_or(|c| c == "help") {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    let shown: Vec<&str> = argv
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--bench")
        .collect();
    let command_line = format!("cargo bench --bench harness -- {}", shown.join(" "));
    match run(args, &command_line) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A table of rows for docs/benchmarks.md, with a line saying where and how it was measured.
struct Section<'a> {
    lore: &'a Path,
    command_line: &'a str,
    runs: usize,
    /// What was measured and against what, after the machine.
    about: &'a str,
    /// The marker name in docs/benchmarks.md, and the section's title.
    key: &'a str,
    title: &'a str,
}

impl Section<'_> {
    /// Prints the section, and with `write_docs` puts it between its markers.
    fn report(&self, rows: &[report::Row], write_docs: bool) -> Result<(), String> {
        let machine = measure::Machine::probe(self.lore, None);
        let mut out = format!(
            "Measured {} with `{}`: {} × {}, {:.1} GiB RAM, {}, lore {} at commit {}; {}; \
             medians of {} runs.\n\n",
            machine.date,
            self.command_line,
            machine.cpus,
            machine.cpu_model,
            machine.mem_total as f64 / (1u64 << 30) as f64,
            machine.rustc,
            machine.lore_version.trim_start_matches("lore "),
            machine.commit,
            self.about,
            self.runs,
        );
        out.push_str(&report::rows_table(rows));
        println!("{out}");
        if write_docs {
            let path = manifest_dir().join("docs/benchmarks.md");
            report::write_section(&path, self.key, self.title, &out)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        Ok(())
    }
}

/// The lore binary to measure: `--lore PATH`, or the release build.
fn lore_binary(args: &Args) -> Result<PathBuf, String> {
    let lore = args
        .lore
        .clone()
        .unwrap_or_else(|| target_dir().join("release/lore"));
    if !lore.is_file() {
        return Err(format!(
            "{} not found; run `cargo build --release --bins` first (or pass --lore PATH)",
            lore.display()
        ));
    }
    Ok(lore)
}

fn run(args: Args, command_line: &str) -> Result<(), String> {
    let quick = args.quick;
    let sessions = args.sessions.clone().unwrap_or_else(|| {
        if quick {
            vec![200]
        } else {
            vec![2_000, 10_000]
        }
    });
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| target_dir().join("bench-data"));
    let seed = args.seed.unwrap_or(1);
    match args.command.as_deref() {
        Some("gen") => {
            for &n in &sessions {
                let c = generate::ensure(&data_dir, n, seed).map_err(|e| e.to_string())?;
                if args.verify || quick {
                    let (f, l) = generate::verify(&c.root).map_err(|e| e.to_string())?;
                    eprintln!("  verified: {f} files, {l} lines parse as JSON");
                }
                println!(
                    "N={n}: {} ({} Claude, {} Codex), {} lines, median {}, p90 {}, p99 {}, max {}, {} files ≥ 1 MB, at {}",
                    report::mb(c.bytes),
                    c.claude,
                    c.codex,
                    c.lines,
                    report::kb(c.median),
                    report::kb(c.p90),
                    report::kb(c.p99),
                    report::mb(c.max),
                    c.over_1mb,
                    c.root.display()
                );
            }
            Ok(())
        }
        Some("remote") => {
            let lore = lore_binary(&args)?;
            warn_if_stale(&lore);
            let bin_dir = lore
                .parent()
                .ok_or("the lore binary has no folder")?
                .to_path_buf();
            if !bin_dir.join("git-remote-lore").is_file() {
                return Err(format!(
                    "no git-remote-lore beside {}; run `cargo build --release --bins`",
                    lore.display()
                ));
            }
            let cfg = remote::Config {
                bulk: sessions.clone(),
                incremental: args.incremental.clone().unwrap_or_else(|| {
                    if quick {
                        vec![100, 1_000]
                    } else {
                        vec![1_000, 10_000, 100_000]
                    }
                }),
                clone_at: sessions.iter().max().copied(),
                runs: args.runs.unwrap_or(if quick { 1 } else { 3 }),
                bin_dir,
                dir: data_dir.join("remote"),
            };
            let git_version = std::process::Command::new("git")
                .arg("--version")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default();
            let rows = remote::run(&cfg);
            let section = Section {
                lore: &lore,
                command_line,
                runs: cfg.runs,
                about: &format!(
                    "{git_version}; wall time of whole `git` commands (the helper included); \
                     local bare repositories as remotes"
                ),
                key: "remote",
                title: "Sync transport (git-remote-lore)",
            };
            section.report(&rows, args.write_docs)
        }
        Some("capture") => {
            let lore = lore_binary(&args)?;
            warn_if_stale(&lore);
            let cfg = capture::Config {
                lore: lore.clone(),
                dir: data_dir.join("capture"),
                runs: args.runs.unwrap_or(if quick { 5 } else { 20 }),
                idle: std::time::Duration::from_secs(if quick { 5 } else { 60 }),
            };
            let rows = capture::run(&cfg);
            let section = Section {
                lore: &lore,
                command_line,
                runs: cfg.runs,
                about: "wall time of whole commands (process start included); throw-away homes",
                key: "capture",
                title: "Capture: agent hooks and lore watch",
            };
            section.report(&rows, args.write_docs)
        }
        Some("sync") => {
            let lore = lore_binary(&args)?;
            warn_if_stale(&lore);
            let bin_dir = lore
                .parent()
                .ok_or("the lore binary has no folder")?
                .to_path_buf();
            let n = match args.sessions.as_deref() {
                Some([n]) => *n,
                Some(_) => return Err("sync: give one size with --sessions".into()),
                None if quick => 200,
                None => 10_000,
            };
            let cfg = sync::Config {
                sessions: n,
                runs: args.runs.unwrap_or(if quick { 1 } else { 5 }),
                bin_dir,
                dir: data_dir.join("sync"),
            };
            let rows = sync::run(&cfg);
            let section = Section {
                lore: &lore,
                command_line,
                runs: cfg.runs,
                about: "wall time of whole commands; a local bare repository as the remote; \
                        sessions are small Claude Code transcripts (6 messages) imported with \
                        `lore import`",
                key: "sync",
                title: "lore sync",
            };
            section.report(&rows, args.write_docs)
        }
        Some("versioning") => {
            let lore = lore_binary(&args)?;
            let lore = snapshot(&lore, &target_dir().join("bench-data/bin"))
                .map_err(|e| format!("cannot copy {}: {e}", lore.display()))?;
            let n = if quick { 200 } else { 2_000 };
            let corpus = generate::ensure(&data_dir, n, seed).map_err(|e| e.to_string())?;
            let runs = args.runs.unwrap_or(if quick { 1 } else { 3 });
            let machine = measure::Machine::probe(&lore, None);
            let rows = versioning::run(
                &data_dir.join("versioning"),
                runs,
                quick,
                &lore,
                Some(&corpus.root),
            );
            let mut out = format!(
                "Measured {} with `{command_line}`: {} × {}, {:.1} GiB RAM, {}, lore {} at commit {}. \
                 In-process (no process start-up on either side); latencies are medians of {} samples.\n\n",
                machine.date,
                machine.cpus,
                machine.cpu_model,
                machine.mem_total as f64 / (1u64 << 30) as f64,
                machine.rustc,
                machine.lore_version.trim_start_matches("lore "),
                machine.commit,
                (runs * 50).max(20),
            );
            out.push_str(&report::rows_table(&rows));
            println!("{out}");
            if args.write_docs {
                let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/benchmarks.md");
                report::write_section(&path, "versioning", "Versioning", &out)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        Some("import") => {
            let lore = lore_binary(&args)?;
            warn_if_stale(&lore);
            // Others may rebuild target/release/lore while this runs: measure one fixed copy.
            let lore = snapshot(&lore, &target_dir().join("bench-data/bin"))
                .map_err(|e| format!("cannot copy {}: {e}", lore.display()))?;
            eprintln!("measuring {}", lore.display());
            let sqlite3 = if args.no_sqlite {
                None
            } else {
                match &args.sqlite3 {
                    Some(p) => Some(p.clone()),
                    None => {
                        let found = on_path("sqlite3");
                        if found.is_none() {
                            eprintln!(
                                "note: no sqlite3 CLI on PATH; the sqlite3 baseline is skipped"
                            );
                        }
                        found
                    }
                }
            };
            let search_at = args
                .search_at
                .unwrap_or(*sessions.iter().max().expect("non-empty"));
            if !args.no_search && !sessions.contains(&search_at) {
                return Err(format!("--search-at {search_at} is not one of --sessions"));
            }
            let cfg = import::Config {
                sessions: sessions.clone(),
                runs: args.runs.unwrap_or(if quick { 1 } else { 3 }),
                seed,
                lore: lore.clone(),
                sqlite3: sqlite3.clone(),
                data_dir,
                search_at: (!args.no_search).then_some(search_at),
                search_reps: args.search_reps.unwrap_or(if quick { 2 } else { 5 }),
                verify: args.verify || quick,
            };
            let machine = measure::Machine::probe(&lore, sqlite3.as_deref());
            let mut imports = Vec::new();
            let mut search = None;
            for &n in &cfg.sessions {
                let keep = cfg.search_at == Some(n);
                let mut r = import::run_import(&cfg, n, keep).map_err(|e| e.to_string())?;
                if keep && let Some(home) = r.home.take() {
                    search =
                        Some(import::run_search(&cfg, n, home.path()).map_err(|e| e.to_string())?);
                }
                imports.push(r);
            }
            let section = report::render(
                &machine,
                command_line,
                cfg.runs,
                seed,
                &imports,
                search.as_ref(),
            );
            println!("{section}");
            if args.write_docs {
                let path = manifest_dir().join("docs/benchmarks.md");
                report::write_docs(&path, &section)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        Some("blame") => {
            let lore = lore_binary(&args)?;
            warn_if_stale(&lore);
            let lore = snapshot(&lore, &target_dir().join("bench-data/bin"))
                .map_err(|e| format!("cannot copy {}: {e}", lore.display()))?;
            let cfg = blame::Config {
                lore: lore.clone(),
                dir: data_dir.join("blame"),
                runs: args.runs.unwrap_or(if quick { 1 } else { 5 }),
                lines: if quick { 200 } else { 2_000 },
                commits: if quick { 50 } else { 500 },
                sessions: if quick { 10 } else { 100 },
                seed,
            };
            let machine = measure::Machine::probe(&lore, None);
            let git_version = std::process::Command::new("git")
                .arg("--version")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default();
            let rows = blame::run(&cfg)?;
            let mut out = format!(
                "Measured {} with `{command_line}`: {} × {}, {:.1} GiB RAM, {}, {git_version}, lore {} at commit {}. \
                 Wall time of whole commands (process start-up, lore.db opened, output written to a pipe), \
                 medians of {} runs after a warm-up, lore and git alternating. lore runs `git blame --porcelain` \
                 itself, so the ratio is lore's own cost on top of git's.\n\n",
                machine.date,
                machine.cpus,
                machine.cpu_model,
                machine.mem_total as f64 / (1u64 << 30) as f64,
                machine.rustc,
                machine.lore_version.trim_start_matches("lore "),
                machine.commit,
                cfg.runs,
            );
            out.push_str(&report::rows_table(&rows));
            println!("{out}");
            if args.write_docs {
                let path = manifest_dir().join("docs/benchmarks.md");
                report::write_section(&path, "blame", "Blame", &out)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        Some("content") => {
            let lore = lore_binary(&args)?;
            warn_if_stale(&lore);
            let lore = snapshot(&lore, &target_dir().join("bench-data/bin"))
                .map_err(|e| format!("cannot copy {}: {e}", lore.display()))?;
            let baseline = args.baseline_lore.clone().ok_or(
                "content needs --baseline-lore PATH: a lore built without the content index",
            )?;
            let cfg = content::Config {
                lore: lore.clone(),
                baseline: baseline.clone(),
                data_dir: data_dir.clone(),
                sessions: args
                    .sessions
                    .as_ref()
                    .and_then(|s| s.first().copied())
                    .unwrap_or(if quick { 200 } else { 2_000 }),
                runs: args.runs.unwrap_or(if quick { 1 } else { 3 }),
                seed,
            };
            let machine = measure::Machine::probe(&lore, None);
            let base_version = std::process::Command::new(&baseline)
                .arg("--version")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default();
            let rows = content::run(&cfg)?;
            let mut out = format!(
                "Measured {} with `{command_line}`: {} × {}, {:.1} GiB RAM, {}, lore {} at commit {} \
                 beside the baseline build `{base_version}`. Wall time of `lore import --quiet` into a \
                 fresh home, medians of {} runs after a warm-up, the two builds alternating.\n\n",
                machine.date,
                machine.cpus,
                machine.cpu_model,
                machine.mem_total as f64 / (1u64 << 30) as f64,
                machine.rustc,
                machine.lore_version.trim_start_matches("lore "),
                machine.commit,
                cfg.runs,
            );
            out.push_str(&report::rows_table(&rows));
            println!("{out}");
            if args.write_docs {
                let path = manifest_dir().join("docs/benchmarks.md");
                report::write_section(&path, "content", "Content index", &out)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other} (see --help)")),
        None => unreachable!("handled in main"),
    }
}
