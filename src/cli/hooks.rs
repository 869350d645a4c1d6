//! `lore hooks install|uninstall|status`: the git hooks lore puts in the current repository
//! (docs/hooks.md); and the warnings and offer that `lore doctor`, `lore sync` and
//! `lore sync setup` give when the pre-push leak guard does not run.

use std::ffi::OsStr;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use lore::hooks::{Guard, Hook, Hooks, Installed, State, Uninstalled, guard, hooks_dir};

use super::Ctx;

#[derive(Args)]
pub struct HooksArgs {
    #[command(subcommand)]
    command: HooksCommand,
}

#[derive(Subcommand)]
enum HooksCommand {
    /// Install the hooks: pre-push shares sessions on every push and never pushes the
    /// plaintext store to a remote that is not a lore:: one; post-commit links the sessions
    /// running now to each new commit. A hook already there is kept and run first.
    Install,
    /// Remove lore's hooks and put back the ones they replaced.
    Uninstall,
    /// Whether each hook is installed, chained (running the one that was there) or absent.
    Status(StatusArgs),
}

#[derive(Args)]
struct StatusArgs {
    #[command(flatten)]
    json: crate::cli::output::JsonArg,
}

pub fn run(_ctx: &Ctx, args: HooksArgs) -> anyhow::Result<ExitCode> {
    let git = lore::git::program();
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let hooks = Hooks::new(hooks_dir(&git, &cwd)?);
    match args.command {
        HooksCommand::Install => install(&hooks),
        HooksCommand::Uninstall => uninstall(&hooks),
        HooksCommand::Status(a) => status(&hooks, a.json.json),
    }
}

fn install(hooks: &Hooks) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot tell where this lore program is")?;
    for &hook in Hook::ALL {
        let name = hook.name();
        let path = hooks.path(hook);
        match hooks.install(hook, &exe)? {
            Installed::Fresh => println!("Installed the {name} hook: {}", path.display()),
            Installed::Chained => println!(
                "Installed the {name} hook: {}; it runs the hook that was there first (now {}).",
                path.display(),
                hooks.chained_path(hook).display()
            ),
            Installed::Updated => println!("Updated the {name} hook: {}", path.display()),
            Installed::Unchanged => {
                println!("The {name} hook is already installed: {}", path.display())
            }
        }
    }
    println!(
        "On every push it shares sessions with 'lore sync' (once 'lore sync setup' is done) \
         and refuses to push refs/lore/* unencrypted."
    );
    println!(
        "After every commit it links the sessions of this repository running now to the commit \
         ('lore link --current')."
    );
    Ok(ExitCode::SUCCESS)
}

fn uninstall(hooks: &Hooks) -> anyhow::Result<ExitCode> {
    for &hook in Hook::ALL {
        let name = hook.name();
        let path = hooks.path(hook);
        match hooks.uninstall(hook)? {
            Uninstalled::Removed => println!("Removed the {name} hook: {}", path.display()),
            Uninstalled::Restored => println!(
                "Removed lore's {name} hook and put back the one it ran: {}",
                path.display()
            ),
            Uninstalled::NotInstalled => println!(
                "lore's {name} hook is not installed in {}.",
                hooks.dir().display()
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn state_name(state: State) -> &'static str {
    match state {
        State::Absent => "absent",
        State::Installed => "installed",
        State::Chained => "chained",
    }
}

fn status(hooks: &Hooks, json: bool) -> anyhow::Result<ExitCode> {
    let all = Hook::ALL
        .iter()
        .map(|&h| hooks.status(h))
        .collect::<Result<Vec<_>, _>>()?;
    if json {
        super::output::print_json(&serde_json::json!({
            "hooks_dir": hooks.dir(),
            "hooks": all.iter().map(|s| serde_json::json!({
                "name": s.hook.name(),
                "state": state_name(s.state),
                "path": s.path,
                "chained": s.chained,
                "other_hook": s.other,
            })).collect::<Vec<_>>(),
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("Hooks folder: {}", hooks.dir().display());
    for s in &all {
        let name = s.hook.name();
        match s.state {
            State::Installed => println!("{name}: installed"),
            State::Chained => println!(
                "{name}: chained (runs {} first)",
                s.chained.as_deref().unwrap_or(&s.path).display()
            ),
            State::Absent if s.other => println!(
                "{name}: absent (another {name} hook is there: 'lore hooks install' keeps it and runs it first)"
            ),
            State::Absent => println!("{name}: absent (run 'lore hooks install')"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What is wrong when the leak guard does not run for pushes from the repository holding
/// `cwd`; `None` when it runs, or when `cwd` is in no repository.
pub(super) fn guard_warning(git: &OsStr, cwd: &Path) -> Option<String> {
    match guard(git, cwd).ok()? {
        Guard::Active { .. } => None,
        Guard::Missing { dir } => Some(format!(
            "the pre-push leak guard is not installed (no lore pre-push hook in {}): a plain \
             'git push' can send the plaintext session store (refs/lore/*) unencrypted; run \
             'lore hooks install'",
            dir.display()
        )),
        Guard::Hidden { installed, dir } => Some(format!(
            "the pre-push leak guard does not run: lore's hook is in {} but core.hooksPath makes \
             git run the hooks in {} (set by husky or a similar tool?); run 'lore hooks install' \
             again to install it there",
            installed.display(),
            dir.display()
        )),
        Guard::NotExecutable { path } => Some(format!(
            "the pre-push leak guard does not run: {} is not executable, so git skips it; run \
             'lore hooks install' again",
            path.display()
        )),
    }
}

/// The git program lore runs (`LORE_GIT`, else `git`).
fn git_program() -> std::ffi::OsString {
    std::env::var_os("LORE_GIT").unwrap_or_else(|| "git".into())
}

/// For `lore sync`: one warning line on stderr when the leak guard does not run here.
pub(super) fn warn_if_unguarded() {
    let Ok(cwd) = std::env::current_dir() else {
        return;
    };
    if let Some(w) = guard_warning(&git_program(), &cwd) {
        eprintln!("lore: warning: {w}.");
    }
}

/// For `lore sync setup`: when the leak guard does not run here, offers to install the hooks
/// (on a terminal, default yes), or says how to.
pub(super) fn offer_install() -> anyhow::Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let git = git_program();
    let Some(warning) = guard_warning(&git, &cwd) else {
        return Ok(());
    };
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        eprintln!("lore: note: {warning}.");
        return Ok(());
    }
    eprint!(
        "lore's git hooks keep the plaintext store off plain remotes and share sessions on \
         every push. Install them in this repository? [Y/n] "
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "" | "y" | "yes"
    ) {
        install(&Hooks::new(hooks_dir(&git, &cwd)?))?;
    } else {
        eprintln!("lore: not installed; 'lore hooks install' installs them later.");
    }
    Ok(())
}
