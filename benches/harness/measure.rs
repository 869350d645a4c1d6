//! Running a child process and measuring it: wall time, and peak RSS and CPU time of that one
//! child (from `wait4`, so other children of the harness do not blur it). Plus the small
//! statistics the reports use.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one child process did.
#[derive(Debug, Clone)]
pub struct Proc {
    pub wall: Duration,
    /// Peak resident set size, bytes (`ru_maxrss`: anonymous memory and mapped file pages).
    pub max_rss: u64,
    /// Peak of `RssAnon` (heap, stacks) and of `RssFile` (memory-mapped files, e.g. SQLite's
    /// mmap of the database) from `/proc/<pid>/status`, sampled every 10 ms.
    pub peak_anon: u64,
    pub peak_file: u64,
    pub user: Duration,
    pub sys: Duration,
    /// Exit code, or `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Proc {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    pub fn cpu(&self) -> Duration {
        self.user + self.sys
    }

    /// A one-line account of a failure, for error messages.
    pub fn failure(&self) -> String {
        let err = String::from_utf8_lossy(&self.stderr);
        let first = err.lines().take(5).collect::<Vec<_>>().join(" | ");
        match self.code {
            Some(c) => format!("exit code {c}: {first}"),
            None => format!("killed by a signal: {first}"),
        }
    }
}

/// Runs `cmd` to completion, capturing stdout and stderr, and measures it.
///
/// `stdin` is what the child reads (`Stdio::null()` unless a script is fed to it).
pub fn run(cmd: &mut Command, stdin: Stdio) -> std::io::Result<Proc> {
    cmd.stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let (mut anon, mut file) = (0u64, 0u64);
            let path = format!("/proc/{pid}/status");
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok(st) = std::fs::read_to_string(&path) else {
                    break;
                };
                let kb = |key: &str| -> Option<u64> {
                    st.lines()
                        .find_map(|l| l.strip_prefix(key))?
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse()
                        .ok()
                };
                anon = anon.max(kb("RssAnon:").unwrap_or(0) * 1024);
                file = file.max(kb("RssFile:").unwrap_or(0) * 1024);
                std::thread::sleep(Duration::from_millis(10));
            }
            (anon, file)
        })
    };
    let mut stdout = Vec::new();
    out.read_to_end(&mut stdout)?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own child, not yet reaped (std's Child never waited on it);
        // status and ru are valid for writes.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    let wall = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (peak_anon, peak_file) = sampler.join().unwrap_or((0, 0));
    // The child is reaped; dropping `child` does not wait or kill.
    drop(child);
    let stderr = err_reader.join().unwrap_or_default();
    let code = if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status))
    } else {
        None
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(Proc {
        wall,
        // Linux reports ru_maxrss in kilobytes.
        max_rss: ru.ru_maxrss as u64 * 1024,
        peak_anon,
        peak_file,
        user: tv(ru.ru_utime),
        sys: tv(ru.ru_stime),
        code,
        stdout,
        stderr,
    })
}

/// Median of `xs` (NaN when empty).
pub fn median(xs: &[f64]) -> f64 {
    percentile(xs, 50.0)
}

/// The p-th percentile (0–100), linear between the closest ranks.
pub fn percentile(xs: &[f64], p: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let pos = (v.len() - 1) as f64 * p / 100.0;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

pub fn min(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::INFINITY, f64::min)
}

pub fn max(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// Size of a file, 0 when it does not exist.
pub fn file_size(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// The machine the numbers come from.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub mem_total: u64,
    pub kernel: String,
    pub rustc: String,
    pub sqlite3: Option<String>,
    pub date: String,
    pub lore_version: String,
    pub commit: String,
}

impl Machine {
    pub fn probe(lore: &std::path::Path, sqlite3: Option<&std::path::Path>) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")?
                    .split_once(':')
                    .map(|x| x.1.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let mem_total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines().find_map(|l| {
                    let kb = l
                        .strip_prefix("MemTotal:")?
                        .trim()
                        .strip_suffix("kB")?
                        .trim();
                    kb.parse::<u64>().ok()
                })
            })
            .unwrap_or(0)
            * 1024;
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        let out = |c: &mut Command| -> Option<String> {
            let o = c.output().ok()?;
            o.status
                .success()
                .then(|| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        };
        let rustc =
            out(Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())).arg("-V"))
                .unwrap_or_else(|| "rustc (unknown)".into());
        let sqlite3 = sqlite3
            .and_then(|p| out(Command::new(p).arg("--version")))
            .map(|v| v.split_whitespace().take(2).collect::<Vec<_>>().join(" "));
        let mut lore_version = out(Command::new(lore).arg("--version")).unwrap_or_default();
        // The snapshot's name carries a prefix of the binary's SHA-256.
        if let Some(h) = lore
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("lore-"))
        {
            lore_version.push_str(&format!(" (binary sha256 {h}…)"));
        }
        let dir = env!("CARGO_MANIFEST_DIR");
        let mut commit = out(Command::new("git").args(["-C", dir, "rev-parse", "--short", "HEAD"]))
            .unwrap_or_else(|| "unknown".into());
        if out(Command::new("git").args([
            "-C",
            dir,
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":!benches",
            ":!docs",
        ]))
        .is_some_and(|s| !s.is_empty())
        {
            commit.push_str(" + uncommitted changes outside benches/ and docs/");
        }
        let date = jiff::Timestamp::now()
            .strftime("%Y-%m-%d %H:%M UTC")
            .to_string();
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            mem_total,
            kernel,
            rustc,
            sqlite3,
            date,
            lore_version,
            commit,
        }
    }
}
