//! The `blame` workload: `lore blame` on a 2,000-line file with 500 commits of history beside
//! `git blame` on the same file, in the same run.
//!
//! The repository is generated deterministically with `git fast-import`: the first commit
//! writes 2,000 lines, each of the next 499 rewrites 8 lines chosen by a seeded generator, and
//! the file is renamed half way (so both commands follow a rename). Sessions are Claude Code
//! transcripts, each writing (an Edit tool call) and quoting the lines of one commit, plus
//! filler messages; half of them are linked with `lore link` to that commit, the other half
//! are found by the content index alone: blame does its real work (links, content lookups,
//! message search), not an empty lookup.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::measure;
use crate::report::Row;

pub struct Config {
    pub lore: PathBuf,
    pub dir: PathBuf,
    pub runs: usize,
    pub lines: usize,
    pub commits: usize,
    pub sessions: usize,
    pub seed: u64,
}

const FILE: &str = "src/engine.rs";
const OLD_FILE: &str = "src/old_engine.rs";
const LINES_PER_COMMIT: usize = 8;

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn line_text(i: usize, version: usize) -> String {
    format!(
        "    let value_{i}_{version} = engine.compute({i}, {version}); // step {i}, revision {version}"
    )
}

fn git(dir: &Path, home: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("LC_ALL", "C");
    c
}

fn lore(cfg: &Config, dir: &Path, home: &Path) -> Command {
    let mut c = Command::new(&cfg.lore);
    c.current_dir(dir)
        .env("HOME", home)
        .env("LORE_HOME", home.join(".lore"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("TZ", "UTC")
        .env("LC_ALL", "C");
    c
}

fn check(what: &str, out: std::io::Result<std::process::Output>) -> Result<Vec<u8>, String> {
    let out = out.map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// Builds the repository and lore home under `cfg.dir` (once per configuration).
fn prepare(cfg: &Config) -> Result<(PathBuf, PathBuf), String> {
    let root = cfg.dir.join(format!(
        "{}-lines-{}-commits-{}-sessions-{}-content",
        cfg.lines, cfg.commits, cfg.sessions, cfg.seed
    ));
    let repo = root.join("repo");
    let home = root.join("home");
    if root.join("ready").is_file() {
        return Ok((repo, home));
    }
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&repo).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    check(
        "git init",
        git(&repo, &home)
            .args(["init", "-q", "-b", "main"])
            .output(),
    )?;

    // The history, as one fast-import stream.
    let mut rng = Rng(cfg.seed);
    let mut versions = vec![0usize; cfg.lines];
    let mut touched: Vec<Vec<usize>> = Vec::with_capacity(cfg.commits);
    let mut stream = Vec::new();
    let base = 1_767_225_600i64; // 2026-01-01T00:00:00Z
    for n in 0..cfg.commits {
        let changed: Vec<usize> = if n == 0 {
            (0..cfg.lines).collect()
        } else {
            (0..LINES_PER_COMMIT)
                .map(|_| rng.below(cfg.lines))
                .collect()
        };
        for &i in &changed {
            if n > 0 {
                versions[i] = n;
            }
        }
        touched.push(changed);
        let mut content = String::with_capacity(cfg.lines * 80);
        for (i, v) in versions.iter().enumerate() {
            content.push_str(&line_text(i, *v));
            content.push('\n');
        }
        let when = base + n as i64 * 600;
        let message = format!("Revise the engine, step {n}\n");
        let path = if n < cfg.commits / 2 { OLD_FILE } else { FILE };
        stream.extend_from_slice(
            format!(
                "commit refs/heads/main\nmark :{}\nauthor Bench <bench@example.com> {when} +0000\ncommitter Bench <bench@example.com> {when} +0000\ndata {}\n{message}",
                n + 1,
                message.len()
            )
            .as_bytes(),
        );
        if n == cfg.commits / 2 {
            stream.extend_from_slice(format!("R {OLD_FILE} {FILE}\n").as_bytes());
        }
        stream.extend_from_slice(
            format!("M 100644 inline {path}\ndata {}\n", content.len()).as_bytes(),
        );
        stream.extend_from_slice(content.as_bytes());
        stream.extend_from_slice(b"\n");
    }
    {
        use std::io::Write;
        let mut child = git(&repo, &home)
            .args(["fast-import", "--quiet"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("git fast-import: {e}"))?;
        child
            .stdin
            .take()
            .ok_or("no stdin")?
            .write_all(&stream)
            .map_err(|e| format!("git fast-import: {e}"))?;
        let st = child.wait().map_err(|e| e.to_string())?;
        if !st.success() {
            return Err("git fast-import failed".into());
        }
    }
    check(
        "git checkout",
        git(&repo, &home)
            .args(["checkout", "-q", "-f", "main"])
            .output(),
    )?;
    let ids = check(
        "git rev-list",
        git(&repo, &home)
            .args(["rev-list", "--reverse", "main"])
            .output(),
    )?;
    let ids: Vec<String> = String::from_utf8_lossy(&ids)
        .lines()
        .map(str::to_owned)
        .collect();

    // Sessions, each quoting the lines of one commit, linked to it.
    let cwd = std::fs::canonicalize(&repo).map_err(|e| e.to_string())?;
    let transcripts = root.join("transcripts/projects/x");
    std::fs::create_dir_all(&transcripts).map_err(|e| e.to_string())?;
    let mut linked = Vec::new();
    for s in 0..cfg.sessions {
        let n = 1 + (s * (cfg.commits - 1)) / cfg.sessions.max(1);
        let id = format!("{:08x}-0000-4000-8000-{:012x}", s, s);
        let mut text = String::new();
        let mut k = 0;
        let mut line = |kind: &str, body: String| {
            let message = if kind == "user" {
                serde_json::json!({"role": "user", "content": body})
            } else if kind == "edit" {
                serde_json::json!({"role": "assistant", "id": format!("m{k}"), "model": "claude-x",
                    "content": [{"type": "tool_use", "id": format!("t{k}"), "name": "Edit",
                        "input": {"file_path": format!("{}/{FILE}", cwd.display()),
                                  "old_string": "", "new_string": body}}]})
            } else {
                serde_json::json!({"role": "assistant", "id": format!("m{k}"), "model": "claude-x",
                    "content": [{"type": "text", "text": body}]})
            };
            let v = serde_json::json!({
                "type": if kind == "edit" { "assistant" } else { kind }, "sessionId": id, "cwd": cwd, "gitBranch": "main",
                "uuid": format!("{id}-{k}"), "timestamp": format!("2026-01-01T00:{:02}:{:02}.000Z", (k / 60) % 60, k % 60),
                "message": message,
            });
            k += 1;
            text.push_str(&v.to_string());
            text.push('\n');
        };
        line("user", format!("step {n}: revise the engine in {FILE}"));
        for f in 0..40 {
            line(
                "assistant",
                format!(
                    "Filler reasoning {f} about unrelated parts of the system, long enough to be searched. {}",
                    "lorem ipsum ".repeat(20)
                ),
            );
        }
        for &i in touched[n].iter().take(3) {
            line(
                "assistant",
                format!(
                    "Line {i} becomes `{}` because the engine needs it.",
                    line_text(i, n).trim()
                ),
            );
        }
        let written: Vec<String> = touched[n].iter().map(|&i| line_text(i, n)).collect();
        line("edit", written.join("\n"));
        std::fs::write(transcripts.join(format!("{id}.jsonl")), text).map_err(|e| e.to_string())?;
        // Half are linked; the content index finds the others.
        if s % 2 == 0 {
            linked.push((id, ids[n].clone()));
        }
    }
    check(
        "lore import",
        lore(cfg, &repo, &home)
            .args(["import", "--quiet"])
            .arg(root.join("transcripts"))
            .output(),
    )?;
    for (id, commit) in &linked {
        check(
            "lore link",
            lore(cfg, &repo, &home)
                .args(["link", id, "--commit", commit])
                .output(),
        )?;
    }
    std::fs::write(root.join("ready"), b"").map_err(|e| e.to_string())?;
    Ok((repo, home))
}

fn secs(xs: &[f64]) -> String {
    let m = measure::median(xs);
    if m < 1.0 {
        format!("{:.0} ms", m * 1000.0)
    } else {
        format!("{m:.2} s")
    }
}

/// Measures; returns the table rows.
pub fn run(cfg: &Config) -> Result<Vec<Row>, String> {
    let (repo, home) = prepare(cfg)?;
    let mut rows = Vec::new();
    let start = cfg.lines / 2;
    let end = (start + 99).min(cfg.lines);
    let cases: [(&str, Vec<String>, Vec<String>, String); 2] = [
        (
            "whole file",
            vec!["blame".into(), FILE.into()],
            vec!["blame".into(), FILE.into()],
            format!("`lore blame {FILE}` vs `git blame {FILE}`"),
        ),
        (
            "100 lines",
            vec!["blame".into(), format!("{FILE}:{start}-{end}")],
            vec![
                "blame".into(),
                "-L".into(),
                format!("{start},{end}"),
                FILE.into(),
            ],
            format!("`lore blame {FILE}:{start}-{end}` vs `git blame -L {start},{end} {FILE}`"),
        ),
    ];
    for (name, lore_args, git_args, note) in cases {
        let (mut l, mut g) = (Vec::new(), Vec::new());
        let mut sessions_shown = 0;
        // One warm-up each, then alternate so that both see the same machine state.
        for r in 0..=cfg.runs {
            let p = measure::run(lore(cfg, &repo, &home).args(&lore_args), Stdio::null())
                .map_err(|e| e.to_string())?;
            if !p.ok() {
                return Err(format!("lore blame: {}", p.failure()));
            }
            let q = measure::run(git(&repo, &home).args(&git_args), Stdio::null())
                .map_err(|e| e.to_string())?;
            if !q.ok() {
                return Err(format!("git blame: {}", q.failure()));
            }
            if r > 0 {
                l.push(p.wall.as_secs_f64());
                g.push(q.wall.as_secs_f64());
            }
            sessions_shown = String::from_utf8_lossy(&p.stdout)
                .matches("  Session ")
                .count();
        }
        let ratio = measure::median(&l) / measure::median(&g);
        rows.push(Row {
            workload: format!(
                "blame, {name} ({} lines, {} commits, a rename, {} sessions that wrote lines, half of them linked; {sessions_shown} shown)",
                cfg.lines, cfg.commits, cfg.sessions
            ),
            lore: secs(&l),
            baseline: format!("git blame: {}", secs(&g)),
            ratio: format!("{ratio:.2}×"),
            note: format!("{note}; target ≤ 1.3×: {}", if ratio <= 1.3 { "met" } else { "missed" }),
        });
    }
    Ok(rows)
}
