//! The capture workloads (`capture` command), docs/capture.md:
//!
//! - an agent's hook, `lore import --hook claude` with Claude Code's Stop payload on stdin,
//!   after one more turn was appended to a 40 KB and a 5 MB transcript (the database already
//!   holds it): median and p95, beside `lore import FILE --quiet` reading the same change;
//! - `lore watch` idle: its CPU time over a quiet interval (60 s; 5 s with --quick), read from
//!   /proc, beside the same interval's `sleep`;
//! - `lore watch`, the delay from a new transcript written to its words being found by
//!   `lore search`, beside the hook doing the same (write, hook, search).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::measure;
use crate::report::Row;

pub struct Config {
    pub lore: PathBuf,
    pub dir: PathBuf,
    pub runs: usize,
    pub idle: Duration,
}

fn line(id: &str, n: usize, pad: usize) -> String {
    let kind = if n.is_multiple_of(2) {
        "user"
    } else {
        "assistant"
    };
    let text = format!("turn {n} about the cache {}", "x".repeat(pad));
    let message = if kind == "user" {
        serde_json::json!({"role": "user", "content": text})
    } else {
        serde_json::json!({"role": "assistant", "id": format!("msg_{n}"), "type": "message",
            "model": "claude-opus-4-6", "content": [{"type": "text", "text": text}]})
    };
    serde_json::json!({
        "parentUuid": null, "isSidechain": false, "userType": "external", "cwd": "/home/dev/acme",
        "sessionId": id, "version": "2.1.72", "gitBranch": "main", "type": kind,
        "message": message, "uuid": format!("{id}-{n}"),
        "timestamp": format!("2026-03-11T10:{:02}:{:02}.000Z", (n / 60) % 60, n % 60),
    })
    .to_string()
        + "\n"
}

struct Home {
    home: PathBuf,
    lore_home: PathBuf,
}

impl Home {
    fn new(dir: &Path) -> Home {
        let _ = std::fs::remove_dir_all(dir);
        let home = dir.join("home");
        std::fs::create_dir_all(home.join(".claude/projects/bench")).expect("mkdir");
        Home {
            lore_home: home.join(".lore"),
            home,
        }
    }

    fn cmd(&self, lore: &Path) -> Command {
        let mut c = Command::new(lore);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("LORE_HOME", &self.lore_home)
            .env("LORE_KEYCHAIN", "off");
        c
    }

    fn transcript(&self, id: &str) -> PathBuf {
        self.home
            .join(".claude/projects/bench")
            .join(format!("{id}.jsonl"))
    }
}

fn ms(xs: &[f64]) -> String {
    format!(
        "{:.0} ms (p95 {:.0})",
        measure::median(xs),
        measure::percentile(xs, 95.0)
    )
}

fn hook_rows(cfg: &Config, rows: &mut Vec<Row>) {
    for (label, target) in [("40 KB", 40_000usize), ("5 MB", 5_000_000usize)] {
        let h = Home::new(&cfg.dir.join(format!("hook-{target}")));
        let id = "cafe0000-1111-4000-8000-000000000001";
        let path = h.transcript(id);
        let mut text = String::new();
        let mut n = 0;
        while text.len() < target {
            text.push_str(&line(id, n, 300));
            n += 1;
        }
        std::fs::write(&path, &text).expect("write");
        let first = measure::run(
            h.cmd(&cfg.lore).args(["import", "--quiet"]).arg(&path),
            Stdio::null(),
        )
        .expect("lore import");
        assert!(first.ok(), "{}", first.failure());
        let payload = serde_json::json!({"session_id": id, "transcript_path": path,
            "cwd": "/home/dev/acme", "hook_event_name": "Stop"})
        .to_string();
        let payload_file = cfg.dir.join("payload.json");
        std::fs::write(&payload_file, &payload).expect("payload");
        let samples = cfg.runs.max(20);
        let (mut hook, mut plain) = (Vec::new(), Vec::new());
        for _ in 0..samples {
            for (out, is_hook) in [(&mut hook, true), (&mut plain, false)] {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .expect("open");
                f.write_all(line(id, n, 300).as_bytes()).expect("append");
                n += 1;
                drop(f);
                let p = if is_hook {
                    let input = std::fs::File::open(&payload_file).expect("open");
                    measure::run(
                        h.cmd(&cfg.lore).args(["import", "--hook", "claude"]),
                        Stdio::from(input),
                    )
                } else {
                    measure::run(
                        h.cmd(&cfg.lore).args(["import", "--quiet"]).arg(&path),
                        Stdio::null(),
                    )
                }
                .expect("run");
                assert!(p.ok(), "{}", p.failure());
                out.push(p.wall.as_secs_f64() * 1000.0);
            }
        }
        let log = std::fs::read_to_string(h.lore_home.join("logs/hooks.log")).unwrap_or_default();
        assert!(!log.contains("error"), "the hook failed: {log}");
        rows.push(Row {
            workload: format!("hook after one more turn, {label} transcript"),
            lore: ms(&hook),
            baseline: format!("`lore import FILE`: {}", ms(&plain)),
            ratio: format!("{:.2}", measure::median(&hook) / measure::median(&plain)),
            note: format!("{samples} samples each; Claude Code's Stop payload on stdin"),
        });
    }
}

/// utime + stime of `pid`, seconds.
fn cpu_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz
}

fn start_watch(cfg: &Config, h: &Home) -> std::process::Child {
    let child = h
        .cmd(&cfg.lore)
        .arg("watch")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn lore watch");
    let log = h.lore_home.join("logs/watch.log");
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if std::fs::read_to_string(&log).is_ok_and(|l| l.contains("started")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500)); // the catch-up import
    child
}

fn found(cfg: &Config, h: &Home, word: &str) -> bool {
    h.cmd(&cfg.lore)
        .args(["search", word, "--json"])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(word))
}

fn watch_rows(cfg: &Config, rows: &mut Vec<Row>) {
    let h = Home::new(&cfg.dir.join("watch"));
    let mut child = start_watch(cfg, &h);
    let pid = child.id();
    let before = cpu_of(pid);
    let sleeper = measure::run(
        Command::new("sleep").arg(format!("{}", cfg.idle.as_secs())),
        Stdio::null(),
    )
    .expect("sleep");
    let idle = cpu_of(pid) - before;
    rows.push(Row {
        workload: format!("`lore watch` idle for {} s", cfg.idle.as_secs()),
        lore: format!("{:.1} ms CPU", idle * 1000.0),
        baseline: format!(
            "`sleep`: {:.1} ms CPU",
            sleeper.cpu().as_secs_f64() * 1000.0
        ),
        ratio: "—".into(),
        note: "utime+stime from /proc; no wake-ups while nothing changes".into(),
    });
    // Write → searchable, through the watcher and through the hook.
    let (mut watched, mut hooked) = (Vec::new(), Vec::new());
    let samples = cfg.runs.max(5);
    for r in 0..samples {
        let word = format!("okapi{r}");
        let id = format!("beef0000-1111-4000-8000-{r:012}");
        let started = Instant::now();
        let mut text = String::new();
        for n in 0..20 {
            text.push_str(
                &line(&id, n, 100).replace("about the cache", &format!("about the {word}")),
            );
        }
        std::fs::write(h.transcript(&id), &text).expect("write");
        while !found(cfg, &h, &word) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "watch never imported {word}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        watched.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let _ = child.kill();
    let _ = child.wait();
    for r in 0..samples {
        let word = format!("quokka{r}");
        let id = format!("feed0000-1111-4000-8000-{r:012}");
        let started = Instant::now();
        let mut text = String::new();
        for n in 0..20 {
            text.push_str(
                &line(&id, n, 100).replace("about the cache", &format!("about the {word}")),
            );
        }
        let path = h.transcript(&id);
        std::fs::write(&path, &text).expect("write");
        let payload = serde_json::json!({"session_id": id, "transcript_path": path,
            "hook_event_name": "SessionEnd"})
        .to_string();
        let p = cfg.dir.join("payload.json");
        std::fs::write(&p, payload).expect("payload");
        let run = measure::run(
            h.cmd(&cfg.lore).args(["import", "--hook", "claude"]),
            Stdio::from(std::fs::File::open(&p).expect("open")),
        )
        .expect("hook");
        assert!(run.ok());
        assert!(found(cfg, &h, &word), "the hook did not import {word}");
        hooked.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    rows.push(Row {
        workload: "new transcript written → found by `lore search`, through `lore watch`".into(),
        lore: ms(&watched),
        baseline: format!("through the hook: {}", ms(&hooked)),
        ratio: format!("{:.1}", measure::median(&watched) / measure::median(&hooked)),
        note: format!(
            "{samples} samples; the watcher waits for 1.5 s without a change; search polled every 50 ms"
        ),
    });
}

pub fn run(cfg: &Config) -> Vec<Row> {
    std::fs::create_dir_all(&cfg.dir).expect("mkdir");
    let mut rows = Vec::new();
    hook_rows(cfg, &mut rows);
    watch_rows(cfg, &mut rows);
    rows
}
