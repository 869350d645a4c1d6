//! `lore init [--yes] [--undo]`: a new user's first command. A list of steps ([`STEPS`]),
//! each of which looks, says what it found, and offers a change: find the coding agents and
//! what they hold, import their history, register lore's hook with each agent that has a hook
//! system, connect each of those agents to lore (its MCP server and its skill), warn when a
//! tool will delete transcripts (and offer to keep them longer), offer shell completions, and
//! end with three commands to try. Interactive on a terminal; `--yes`
//! takes every question's default (import and hooks: yes; another tool's retention: no);
//! without a terminal and without `--yes` it refuses before changing anything. Safe to run
//! again: what is in place is said and left alone. `--undo` takes back every settings edit
//! and every file init created (docs/capture.md, "Undo"). Spec: docs/capture.md.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use lore::agents::settings::{self, Installed, StateDir, Undone};
use lore::agents::{self, Detected, HookCommand, register, retention};
use lore::import::default_locations;
use lore::model::Tool;

use super::Ctx;
use super::output::{BOLD, DIM, WARN};

#[derive(Args)]
pub struct InitArgs {
    /// Answer every question with its default, for scripts: import the history and register
    /// the agents' hooks; leave other tools' retention settings alone.
    #[arg(short, long, conflicts_with = "undo")]
    yes: bool,
    /// Take back what lore init installed: each settings file it edited is restored. The
    /// sessions already imported stay in lore.
    #[arg(long)]
    undo: bool,
}

/// The steps of `lore init`, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Detect,
    Import,
    AgentHooks,
    AgentAccess,
    Retention,
    Watch,
    Completions,
    Next,
}

const STEPS: [Step; 8] = [
    Step::Detect,
    Step::Import,
    Step::AgentHooks,
    Step::AgentAccess,
    Step::Retention,
    Step::Watch,
    Step::Completions,
    Step::Next,
];

/// The skill `lore init` gives each agent: when to ask lore, and how (it names CLI commands,
/// so it is the CLI's text).
const SKILL: &str = include_str!("skill.md");

/// What `cleanupPeriodDays` is raised to when the user accepts.
const KEEP_DAYS: u64 = 365;

/// What the steps share.
struct Init<'a> {
    ctx: &'a Ctx,
    yes: bool,
    found: Vec<Detected>,
    looked_in: Vec<(Tool, PathBuf)>,
    state: StateDir,
    /// A step failed (the others still ran): exit 1.
    failed: bool,
}

pub fn run(ctx: &Ctx, args: InitArgs) -> anyhow::Result<ExitCode> {
    let state = StateDir::new(ctx.home.root());
    if args.undo {
        return undo(&state);
    }
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !args.yes && !terminal {
        anyhow::bail!(
            "lore init asks before it changes anything and needs a terminal for that; run 'lore init --yes' to take the defaults"
        );
    }
    let config = ctx.config()?;
    let env = |k: &str| std::env::var(k).ok();
    let loc = default_locations(&config, &env, ctx.user_home.as_deref());
    let mut looked_in = Vec::new();
    for tool in lore::model::Tool::ALL {
        if let Some(r) = loc.root_of(tool) {
            looked_in.push((tool, r));
        }
    }
    let mut init = Init {
        ctx,
        yes: args.yes,
        found: agents::detect(&loc),
        looked_in,
        state,
        failed: false,
    };
    for step in STEPS {
        if let Err(e) = init.run(step) {
            init.failed = true;
            let mut err = anstream::stderr();
            writeln!(err, "{WARN}error:{WARN:#} {}", super::output::one_line(&e))?;
        }
    }
    Ok(if init.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn home_relative(p: &Path, home: Option<&Path>) -> String {
    match home.and_then(|h| p.strip_prefix(h).ok()) {
        Some(rel) => format!("~/{}", rel.display()),
        None => p.display().to_string(),
    }
}

impl Init<'_> {
    fn show(&self, p: &Path) -> String {
        home_relative(p, self.ctx.user_home.as_deref())
    }

    /// Asks a yes/no question; `--yes` takes `default`.
    fn ask(&self, question: &str, default: bool) -> anyhow::Result<bool> {
        let mut out = anstream::stdout();
        let hint = if default { "Y/n" } else { "y/N" };
        if self.yes {
            writeln!(
                out,
                "{question} {DIM}[{hint}] {}{DIM:#}",
                if default { "yes" } else { "no" }
            )?;
            return Ok(default);
        }
        write!(out, "{question} [{hint}] ")?;
        out.flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(match line.trim().to_ascii_lowercase().as_str() {
            "" => default,
            a => a.starts_with('y'),
        })
    }

    fn run(&mut self, step: Step) -> anyhow::Result<()> {
        match step {
            Step::Detect => self.detect(),
            Step::Import => self.import(),
            Step::AgentHooks => self.hooks(),
            Step::AgentAccess => self.access(),
            Step::Retention => self.retention(),
            Step::Watch => self.watch(),
            Step::Completions => self.completions(),
            Step::Next => self.next(),
        }
    }

    fn detect(&mut self) -> anyhow::Result<()> {
        let mut out = anstream::stdout();
        if self.found.is_empty() {
            let places: Vec<String> = self
                .looked_in
                .iter()
                .map(|(t, p)| format!("{} ({t})", self.show(p)))
                .collect();
            writeln!(
                out,
                "No coding agents found: lore looked in {}. Once you use one, run 'lore init' again; 'lore import PATH' reads transcripts from anywhere.",
                places.join(", ")
            )?;
            return Ok(());
        }
        let store = self.ctx.home.open_db_readable()?;
        writeln!(out, "{BOLD}Coding agents on this machine{BOLD:#}")?;
        for d in &self.found {
            let pending = lore::import::not_imported(store.as_ref(), &d.transcripts)?.len();
            let n = d.transcripts.len();
            let hooks = match d.agent {
                Some(_) => "",
                None if d.tool == lore::model::Tool::Aider => {
                    " (no hook system: 'lore import' reads it)"
                }
                None => " (no lore hook for it yet: 'lore import' and 'lore watch' read it)",
            };
            writeln!(
                out,
                "  {:<12} {:<24} {n} transcript{}, {pending} not in lore yet{hooks}",
                d.tool.to_string(),
                self.show(&d.root),
                if n == 1 { "" } else { "s" },
            )?;
        }
        Ok(())
    }

    fn import(&mut self) -> anyhow::Result<()> {
        if self.found.is_empty() {
            return Ok(());
        }
        let store = self.ctx.home.open_db_readable()?;
        let all: Vec<_> = self
            .found
            .iter()
            .flat_map(|d| d.transcripts.iter().cloned())
            .collect();
        let pending = lore::import::not_imported(store.as_ref(), &all)?.len();
        drop(store);
        if pending == 0 {
            return Ok(());
        }
        if self.ask(
            &format!("Import the {pending} transcripts not in lore yet?"),
            true,
        )? {
            super::import::import_defaults(self.ctx)?;
        }
        Ok(())
    }

    fn hook_command(&self) -> anyhow::Result<HookCommand> {
        let exe = std::env::current_exe()?;
        let exe = std::fs::canonicalize(&exe).unwrap_or(exe);
        Ok(HookCommand {
            exe,
            lore_home: std::env::var_os("LORE_HOME").map(|_| self.ctx.home.root().to_owned()),
        })
    }

    fn hooks(&mut self) -> anyhow::Result<()> {
        let mut out = anstream::stdout();
        let command = self.hook_command()?;
        let mut problems = Vec::new();
        for d in &self.found {
            let Some(agent) = d.agent else { continue };
            let file = agent.settings_file(&d.root);
            if settings::hook_present(agent, &settings::resolve(&file)) {
                writeln!(
                    out,
                    "{} already imports each session into lore ({}).",
                    agent.display_name(),
                    self.show(&file)
                )?;
                continue;
            }
            let (shown, what) = match agent {
                agents::Agent::Codex => (file.clone(), "notify".to_owned()),
                // A script per event in Cline's Hooks folder.
                agents::Agent::Cline => (
                    file.parent().unwrap_or(&file).to_owned(),
                    format!("scripts {}", agent.events().join(", ")),
                ),
                _ => (file.clone(), format!("hooks {}", agent.events().join(", "))),
            };
            if !self.ask(
                &format!(
                    "Import each {} session into lore as it ends? (adds to {}: {what})",
                    agent.display_name(),
                    self.show(&shown)
                ),
                true,
            )? {
                continue;
            }
            match settings::install_hook(&self.state, agent, &file, &command) {
                Ok(Installed::Added { path }) => writeln!(
                    out,
                    "  added lore's hook to {} (backup in {}; 'lore init --undo' takes it out)",
                    self.show(&path),
                    self.show(&self.state.dir.join("backups"))
                )?,
                Ok(Installed::AlreadyThere { .. }) => {}
                Ok(Installed::Occupied { path, existing }) if agent == agents::Agent::Codex => {
                    writeln!(
                        out,
                        "  {WARN}left alone:{WARN:#} {} already runs {existing} as notify, and Codex runs one notify program only; 'lore watch' captures Codex sessions instead",
                        self.show(&path)
                    )?
                }
                Ok(Installed::Occupied { path, .. }) => writeln!(
                    out,
                    "  {WARN}left alone:{WARN:#} {} exists and is not lore's; 'lore watch' captures {} sessions instead",
                    self.show(&path),
                    agent.display_name()
                )?,
                Err(e) => problems.push(e.to_string()),
            }
        }
        if !problems.is_empty() {
            anyhow::bail!("{}", problems.join("; "));
        }
        Ok(())
    }

    /// Connects each agent with a hook system to lore: lore's MCP server in its MCP
    /// configuration and lore's skill in its skills folder, one question per agent.
    fn access(&mut self) -> anyhow::Result<()> {
        let mut out = anstream::stdout();
        let command = self.hook_command()?;
        let claude_dir = std::env::var_os("CLAUDE_CONFIG_DIR").is_some_and(|v| !v.is_empty());
        let mut problems = Vec::new();
        for d in &self.found {
            let Some(agent) = d.agent.filter(|a| a.has_access_registration()) else {
                continue;
            };
            let mcp = register::mcp_file(agent, &d.root, self.ctx.user_home.as_deref(), claude_dir);
            let skill = register::skill_file(&d.root);
            let has_mcp = register::mcp_registered(agent, &settings::resolve(&mcp));
            let has_skill = std::fs::read(&skill).is_ok_and(|b| b == SKILL.as_bytes());
            if has_mcp && has_skill {
                writeln!(
                    out,
                    "{} can already ask lore (MCP server in {}, skill in {}).",
                    agent.display_name(),
                    self.show(&mcp),
                    self.show(&skill)
                )?;
                continue;
            }
            if !self.ask(
                &format!(
                    "Let {} ask lore why code is the way it is? (adds lore's read-only MCP server to {} and its skill as {})",
                    agent.display_name(),
                    self.show(&mcp),
                    self.show(&skill)
                ),
                true,
            )? {
                continue;
            }
            match register::install_mcp(&self.state, agent, &mcp, &command) {
                Ok(Installed::Added { path }) => writeln!(
                    out,
                    "  registered lore's MCP server in {}",
                    self.show(&path)
                )?,
                Ok(Installed::AlreadyThere { .. }) => {}
                Ok(Installed::Occupied { path, existing }) => writeln!(
                    out,
                    "  {WARN}left alone:{WARN:#} {} already has an MCP server called \"lore\" ({existing})",
                    self.show(&path)
                )?,
                Err(e) => problems.push(e.to_string()),
            }
            match register::install_skill(&self.state, &d.root, SKILL) {
                Ok(Installed::Added { path }) => {
                    writeln!(out, "  wrote lore's skill to {}", self.show(&path))?
                }
                Ok(Installed::AlreadyThere { .. }) => {}
                Ok(Installed::Occupied { path, .. }) => writeln!(
                    out,
                    "  {WARN}left alone:{WARN:#} {} exists and is not lore's",
                    self.show(&path)
                )?,
                Err(e) => problems.push(e.to_string()),
            }
        }
        if !problems.is_empty() {
            anyhow::bail!("{}", problems.join("; "));
        }
        Ok(())
    }

    fn retention(&mut self) -> anyhow::Result<()> {
        let Some(d) = self.found.iter().find(|d| d.tool == Tool::ClaudeCode) else {
            return Ok(());
        };
        let file = agents::Agent::Claude.settings_file(&d.root);
        let r = retention::claude(&settings::resolve(&file));
        if r.days >= KEEP_DAYS {
            return Ok(());
        }
        let now = std::time::SystemTime::now();
        let store = self.ctx.home.open_db_readable()?;
        let pending = lore::import::not_imported(store.as_ref(), &d.transcripts)?;
        let soon = d
            .transcripts
            .iter()
            .filter(|c| {
                std::fs::metadata(&c.path)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| retention::deleted_soon(r, t, now))
            })
            .count();
        let soon_missing = pending
            .iter()
            .filter(|c| {
                std::fs::metadata(&c.path)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| retention::deleted_soon(r, t, now))
            })
            .count();
        let mut out = anstream::stdout();
        let when = if soon == 0 {
            format!("none is due within {} days", retention::SOON_DAYS)
        } else {
            format!(
                "{soon} will go within {} days, {soon_missing} of them not in lore",
                retention::SOON_DAYS
            )
        };
        writeln!(
            out,
            "{WARN}Claude Code deletes transcripts untouched for {} days{WARN:#} (cleanupPeriodDays{}); {when}.",
            r.days,
            if r.explicit { "" } else { ", its default" },
        )?;
        if self.ask(
            &format!(
                "Keep them for {KEEP_DAYS} days instead? (sets cleanupPeriodDays in {})",
                self.show(&file)
            ),
            false,
        )? {
            settings::set_claude_retention(&self.state, &file, KEEP_DAYS)?;
            writeln!(out, "  cleanupPeriodDays is now {KEEP_DAYS}.")?;
        }
        Ok(())
    }

    fn watch(&mut self) -> anyhow::Result<()> {
        if self.found.is_empty() {
            return Ok(());
        }
        let running = lore::watch::running(&lore::watch::lock_path(self.ctx.home.root()));
        if running.is_some() || super::watch::installed(self.ctx)? {
            return Ok(());
        }
        // Hooks capture a session when it ends; the watcher also catches tools without hooks
        // and sessions that never end cleanly.
        if self.ask(
            "Also run 'lore watch' at each login, importing every transcript as it changes? (a user service)",
            false,
        )? {
            super::watch::install(self.ctx)?;
        } else if self.yes {
            writeln!(anstream::stdout(), "  {DIM}'lore watch --install' does it later.{DIM:#}")?;
        }
        Ok(())
    }

    fn completions(&mut self) -> anyhow::Result<()> {
        let shell = std::env::var("SHELL").unwrap_or_default();
        let name = Path::new(&shell)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        let (kind, rel, note) = match name.as_str() {
            "bash" => (
                clap_complete::Shell::Bash,
                ".local/share/bash-completion/completions/lore",
                "",
            ),
            "zsh" => (
                clap_complete::Shell::Zsh,
                ".zfunc/_lore",
                " (add fpath+=~/.zfunc before compinit in ~/.zshrc)",
            ),
            "fish" => (
                clap_complete::Shell::Fish,
                ".config/fish/completions/lore.fish",
                "",
            ),
            _ => return Ok(()),
        };
        let Some(home) = self.ctx.user_home.clone() else {
            return Ok(());
        };
        let path = home.join(rel);
        if path.exists() {
            return Ok(());
        }
        let mut out = anstream::stdout();
        if self.yes {
            writeln!(
                out,
                "Tab completion for {name}: {DIM}lore completions {name} > ~/{rel}{note}{DIM:#}"
            )?;
            return Ok(());
        }
        if self.ask(
            &format!("Install tab completion for {name} (~/{rel})?"),
            false,
        )? {
            let mut cmd = <super::Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(kind, &mut cmd, "lore", &mut buf);
            // Recorded: 'lore init --undo' removes it (and the folders made for it).
            settings::create_file(&self.state, &path, &buf)?;
            writeln!(out, "  wrote ~/{rel}{note}")?;
        }
        Ok(())
    }

    fn next(&mut self) -> anyhow::Result<()> {
        let mut out = anstream::stdout();
        writeln!(out, "\n{BOLD}Try next{BOLD:#}")?;
        writeln!(
            out,
            "  lore sessions              the sessions lore holds, newest first"
        )?;
        writeln!(out, "  lore search WORDS          find what was said")?;
        writeln!(
            out,
            "  lore blame FILE:LINE       the reasoning behind a line of code"
        )?;
        Ok(())
    }
}

fn undo(state: &StateDir) -> anyhow::Result<ExitCode> {
    let done = settings::undo(state)?;
    let mut out = anstream::stdout();
    if done.is_empty() {
        writeln!(out, "lore init changed nothing that needs undoing.")?;
        return Ok(ExitCode::SUCCESS);
    }
    for d in done {
        match d {
            Undone::Restored { path } => writeln!(
                out,
                "Restored {} as it was before lore init.",
                path.display()
            )?,
            Undone::EntriesRemoved { path } => writeln!(
                out,
                "Took lore's entries out of {} (it changed after lore init, so the rest stays as it is now).",
                path.display()
            )?,
            Undone::Gone { path } => writeln!(
                out,
                "{} no longer exists; nothing to undo there.",
                path.display()
            )?,
            Undone::Removed { path } => writeln!(out, "Removed {}.", path.display())?,
            Undone::Kept { path } => writeln!(
                out,
                "Left {} as it is: it changed after lore init wrote it.",
                path.display()
            )?,
        }
    }
    writeln!(
        out,
        "{DIM}The sessions already imported stay in lore ('lore delete' removes one).{DIM:#}"
    )?;
    Ok(ExitCode::SUCCESS)
}
