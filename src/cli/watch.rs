//! `lore watch [--install | --uninstall | --status]`: import transcripts as the agents write
//! them. In the foreground it first imports what changed since the last import, then waits
//! (no polling) and imports each transcript a moment after it stops changing. One watcher per
//! home: a second says so and exits 0. Each import is a line in `LORE_HOME/logs/watch.log`
//! (and on stderr). `--install` writes a systemd user unit (Linux) or a launchd agent (macOS)
//! and starts it; `--uninstall` stops and removes it; `--status` says what runs. Set
//! `LORE_SERVICE_MANAGER=off` to write the file without calling systemctl or launchctl.
//! Spec: docs/capture.md, "lore watch".

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use lore::import::default_locations;
use lore::watch::{self, ServiceKind, Watch, WatchError};

use super::Ctx;
use super::output::DIM;

#[derive(Args)]
pub struct WatchArgs {
    /// Install lore watch as a user service that starts at login (systemd on Linux, launchd
    /// on macOS), and start it.
    #[arg(long, conflicts_with_all = ["uninstall", "status", "print_service"])]
    install: bool,
    /// Stop the user service and remove it.
    #[arg(long, conflicts_with_all = ["status", "print_service"])]
    uninstall: bool,
    /// Say whether a watcher runs, whether the service is installed, and the last import.
    #[arg(long, conflicts_with = "print_service")]
    status: bool,
    /// With --status: print it as JSON (docs/json.md).
    #[arg(long, requires = "status")]
    json: bool,
    /// Print the service file for this kind instead of installing it.
    #[arg(long, value_name = "KIND", hide = true)]
    print_service: Option<Kind>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Systemd,
    Launchd,
}

pub fn run(ctx: &Ctx, args: WatchArgs) -> anyhow::Result<ExitCode> {
    if let Some(k) = args.print_service {
        let kind = match k {
            Kind::Systemd => ServiceKind::Systemd,
            Kind::Launchd => ServiceKind::Launchd,
        };
        print!("{}", render(ctx, kind)?);
        return Ok(ExitCode::SUCCESS);
    }
    if args.install {
        return install(ctx);
    }
    if args.uninstall {
        return uninstall(ctx);
    }
    if args.status {
        return status(ctx, args.json);
    }
    foreground(ctx)
}

fn log_path(ctx: &Ctx) -> PathBuf {
    lore::logfile::path(ctx.home.root(), "watch.log")
}

fn log(ctx: &Ctx, line: &str) {
    let _ = lore::logfile::append(&log_path(ctx), line);
    eprintln!("lore watch: {line}");
}

fn foreground(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    ctx.home.ensure()?;
    let _lock = match watch::lock(&watch::lock_path(ctx.home.root())) {
        Ok(l) => l,
        Err(e @ WatchError::AlreadyRunning { .. }) => {
            eprintln!("{e}; this one exits. ('lore watch --status' says more.)");
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e.into()),
    };
    let config = ctx.config()?;
    let env = |k: &str| std::env::var(k).ok();
    let loc = default_locations(&config, &env, ctx.user_home.as_deref());
    // Watch first, then catch up: a change during the catch-up is not missed.
    let mut w = Watch::start(loc.clone())?;
    let watched: Vec<String> = w.watched.iter().map(|p| p.display().to_string()).collect();
    log(
        ctx,
        &format!(
            "started (pid {}), watching {}",
            std::process::id(),
            if watched.is_empty() {
                "nothing yet".to_owned()
            } else {
                watched.join(", ")
            }
        ),
    );
    let mut store = ctx.home.open_db()?;
    let machine_id = ctx.home.machine_id()?;
    import(ctx, &mut store, &machine_id, loc.candidates(), "catch-up");
    loop {
        let batch = w.next_batch()?;
        import(ctx, &mut store, &machine_id, batch, "changed");
    }
}

fn import(
    ctx: &Ctx,
    store: &mut lore::db::Db,
    machine_id: &str,
    batch: Vec<lore::capture::Candidate>,
    why: &str,
) {
    let files = batch.len();
    let first = batch.first().map(|c| c.path.display().to_string());
    match lore::import::import(store, batch, machine_id, None, &mut |_| {}) {
        Ok(s) if s.new_sessions + s.updated_sessions > 0 || !s.problems.is_empty() => {
            let mut line = format!(
                "{why}: {} new, {} updated from {files} file{}",
                s.new_sessions,
                s.updated_sessions,
                if files == 1 { "" } else { "s" }
            );
            if files == 1
                && let Some(f) = first
            {
                line.push_str(&format!(" ({f})"));
            }
            if let Some(p) = s.problems.iter().find(|p| p.line.is_none()) {
                line.push_str(&format!("; skipped {}: {}", p.path.display(), p.message));
            }
            log(ctx, &line);
        }
        Ok(_) => {}
        // A busy or failing store is logged; the next change tries again.
        Err(e) => log(ctx, &format!("{why}: error: {e}")),
    }
}

fn exe() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the lore program")?;
    Ok(std::fs::canonicalize(&exe).unwrap_or(exe))
}

fn render(ctx: &Ctx, kind: ServiceKind) -> anyhow::Result<String> {
    let home = std::env::var_os("LORE_HOME").map(|_| ctx.home.root().to_owned());
    Ok(kind.render(&exe()?, home.as_deref(), &log_path(ctx)))
}

fn service_path(ctx: &Ctx, kind: ServiceKind) -> anyhow::Result<PathBuf> {
    let home = ctx
        .user_home
        .as_deref()
        .context("HOME is not set: cannot tell where user services go")?;
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    Ok(kind.path(home, xdg.as_deref()))
}

fn manager_wanted() -> bool {
    std::env::var("LORE_SERVICE_MANAGER").map_or(true, |v| v != "off")
}

/// Runs systemctl/launchctl; its output is kept out of ours unless it fails.
fn manage(program: &str, args: &[&str]) -> Result<(), String> {
    match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
    {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_owned()),
        Err(e) => Err(format!("{program}: {e}")),
    }
}

pub(super) fn install(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let kind = ServiceKind::native();
    let path = service_path(ctx, kind)?;
    let text = render(ctx, kind)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = anstream::stdout();
    writeln!(out, "Wrote {}.", path.display())?;
    let p = path.to_string_lossy().into_owned();
    let (program, args): (&str, Vec<&str>) = match kind {
        ServiceKind::Systemd => (
            "systemctl",
            vec!["--user", "enable", "--now", watch::SYSTEMD_UNIT],
        ),
        ServiceKind::Launchd => ("launchctl", vec!["load", "-w", &p]),
    };
    if !manager_wanted() {
        writeln!(out, "Start it with: {program} {}", args.join(" "))?;
        return Ok(ExitCode::SUCCESS);
    }
    if kind == ServiceKind::Systemd {
        let _ = manage("systemctl", &["--user", "daemon-reload"]);
    }
    match manage(program, &args) {
        Ok(()) => writeln!(
            out,
            "Started; it starts again at each login. 'lore watch --status' shows it."
        )?,
        Err(e) => writeln!(
            out,
            "Could not start it ({e}); start it with: {program} {}",
            args.join(" ")
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether the user service file is in place.
pub(super) fn installed(ctx: &Ctx) -> anyhow::Result<bool> {
    Ok(service_path(ctx, ServiceKind::native())?.exists())
}

fn uninstall(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let kind = ServiceKind::native();
    let path = service_path(ctx, kind)?;
    let mut out = anstream::stdout();
    if !path.exists() {
        writeln!(
            out,
            "No lore watch service is installed ({} does not exist).",
            path.display()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    if manager_wanted() {
        let p = path.to_string_lossy().into_owned();
        let _ = match kind {
            ServiceKind::Systemd => manage(
                "systemctl",
                &["--user", "disable", "--now", watch::SYSTEMD_UNIT],
            ),
            ServiceKind::Launchd => manage("launchctl", &["unload", "-w", &p]),
        };
    }
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    if manager_wanted() && kind == ServiceKind::Systemd {
        let _ = manage("systemctl", &["--user", "daemon-reload"]);
    }
    writeln!(out, "Stopped and removed {}.", path.display())?;
    Ok(ExitCode::SUCCESS)
}

fn status(ctx: &Ctx, json: bool) -> anyhow::Result<ExitCode> {
    let running = watch::running(&watch::lock_path(ctx.home.root()));
    if json {
        let path = service_path(ctx, ServiceKind::native())?;
        super::output::print_json(&serde_json::json!({
            "running": running.is_some(),
            "pid": running.flatten(),
            "service": path,
            "service_installed": path.exists(),
            "last_log_line": last_line(&log_path(ctx)),
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = anstream::stdout();
    match running {
        Some(Some(pid)) => writeln!(out, "lore watch is running (pid {pid}).")?,
        Some(None) => writeln!(out, "lore watch is running.")?,
        None => writeln!(
            out,
            "lore watch is not running ('lore watch' starts it; 'lore watch --install' at each login)."
        )?,
    }
    let path = service_path(ctx, ServiceKind::native())?;
    if path.exists() {
        writeln!(out, "Service: installed ({}).", path.display())?;
    } else {
        writeln!(out, "Service: not installed.")?;
    }
    if let Some(last) = last_line(&log_path(ctx)) {
        writeln!(out, "{DIM}Last: {last}{DIM:#}")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn last_line(p: &Path) -> Option<String> {
    let text = std::fs::read_to_string(p).ok()?;
    text.lines().last().map(str::to_owned)
}
