//! `lore sync`: share sessions through a git remote, encrypted. Without `--global`, this
//! repository's sessions through its remote; with it, every session through the global store
//! (a repository at LORE_HOME/sync whose remote is the `sync_global_remote` setting).
//! One file per subcommand; this one holds the arguments, where a command works ([`Place`])
//! and the passphrase prompts they share.

mod export;
mod passphrase;
mod rotate;
mod run;
mod setup;
mod status;

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use lore::crypto::{CryptoError, StoreHeader};
use lore::gitstore::LocalStore;
use lore::remote::wire::Git;
use lore::sync::{Scope, default_remote, work_tree_root};

use super::Ctx;

#[derive(Args)]
pub struct SyncArgs {
    #[command(subcommand)]
    command: Option<SyncCommand>,
    /// The remote to sync with (default: the branch's upstream remote, else origin).
    #[arg(long, value_name = "NAME", global = true)]
    remote: Option<String>,
    /// The global store (every session, from every repository) instead of this repository's.
    #[arg(long, global = true)]
    global: bool,
    /// Print nothing unless something goes wrong.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Subcommand)]
enum SyncCommand {
    /// Create the encrypted store, or join the one the remote already has.
    Setup(SecretArgs),
    /// Write sessions from lore.db into the local refs/lore/sessions (no network).
    Export(export::ExportArgs),
    /// Where the sync stands (no network: as of the last fetch).
    Status(status::StatusArgs),
    /// Change the store's passphrase (the data key stays; members already set up keep working).
    Passphrase(SecretArgs),
    /// A new data key under a new passphrase (someone left): the next sync re-encrypts the
    /// store; every member sets up again with the new passphrase.
    Rotate(SecretArgs),
}

#[derive(Args)]
struct SecretArgs {
    /// Read the passphrase from the first line of standard input.
    #[arg(long)]
    passphrase_stdin: bool,
}

pub fn run(ctx: &Ctx, args: SyncArgs) -> anyhow::Result<ExitCode> {
    let (remote, global) = (args.remote, args.global);
    match args.command {
        Some(SyncCommand::Setup(a)) => setup::run(ctx, &Place::for_setup(ctx, global, remote)?, a),
        Some(SyncCommand::Export(a)) => export::run(ctx, &Place::open(ctx, global, remote)?, a),
        Some(SyncCommand::Status(a)) => status::run(ctx, &Place::open(ctx, global, remote)?, a),
        Some(SyncCommand::Passphrase(a)) => {
            passphrase::run(ctx, &Place::open(ctx, global, remote)?, a)
        }
        Some(SyncCommand::Rotate(a)) => rotate::run(ctx, &Place::open(ctx, global, remote)?, a),
        None => run::run(ctx, &Place::open(ctx, global, remote)?, args.quiet),
    }
}

const MIN_PASSPHRASE: usize = 8;

/// Where a sync command works: a repository and one of its remotes, and which sessions its
/// store holds.
struct Place {
    local: LocalStore,
    remote: String,
    scope: Scope,
    global: bool,
}

impl Place {
    /// Where a command other than setup works: the global store must exist already.
    fn open(ctx: &Ctx, global: bool, remote: Option<String>) -> anyhow::Result<Place> {
        if global {
            Place::global(ctx, remote, false)
        } else {
            Place::repository(remote)
        }
    }

    /// Where `setup` works: it creates the global store's repository when needed.
    fn for_setup(ctx: &Ctx, global: bool, remote: Option<String>) -> anyhow::Result<Place> {
        if global {
            Place::global(ctx, remote, true)
        } else {
            Place::repository(remote)
        }
    }

    /// The repository holding the current folder, and its remote.
    fn repository(remote: Option<String>) -> anyhow::Result<Place> {
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        let local = LocalStore::discover(&cwd).map_err(|_| {
            anyhow::anyhow!(
                "not inside a git repository: run this in the repository whose sessions you want to sync (or use --global)"
            )
        })?;
        let remote = match remote {
            Some(r) => r,
            None => default_remote(&local).ok_or(lore::sync::SyncError::NoRemote)?,
        };
        let mut roots = lore::sync::work_tree_roots(local.repo());
        if roots.is_empty()
            && let Some(root) = work_tree_root(&cwd)
        {
            roots.push(root);
        }
        Ok(Place {
            local,
            remote,
            scope: Scope::work_trees(roots),
            global: false,
        })
    }

    /// The global store: a bare repository at LORE_HOME/sync whose `origin` is the
    /// `sync_global_remote` setting (asked for, and saved, by setup on a terminal).
    fn global(ctx: &Ctx, remote: Option<String>, setup: bool) -> anyhow::Result<Place> {
        if remote.is_some() {
            bail!(
                "--remote does not go with --global: the global store's remote is the \
                 sync_global_remote setting ('lore config set sync_global_remote URL')"
            );
        }
        let dir = ctx.home.root().join("sync");
        let exists = dir.join("HEAD").is_file();
        if !exists && !setup {
            bail!("the global store is not set up: run 'lore sync --global setup'");
        }
        let url = match ctx.config()?.text("sync_global_remote") {
            Some(url) => url,
            None if setup => ask_global_remote(ctx)?,
            None => bail!(
                "the global store has no remote: set one with 'lore config set sync_global_remote URL'"
            ),
        };
        let url = absolute_if_path(&url);
        if !exists {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            git_in(&dir, &["init", "-q", "--bare", "."])?;
        }
        match git_output(&dir, &["config", "--get", "remote.origin.url"]) {
            Some(current) if current == url => {}
            Some(_) => git_in(&dir, &["remote", "set-url", "origin", &url])?,
            None => git_in(&dir, &["remote", "add", "origin", &url])?,
        }
        let local = LocalStore::open(&dir)?;
        Ok(Place {
            local,
            remote: "origin".into(),
            scope: Scope::Everything,
            global: true,
        })
    }

    /// The command a message should tell the user to run: `lore sync[ --global] <rest>`.
    fn command(&self, rest: &str) -> String {
        let mut c = "lore sync".to_owned();
        if self.global {
            c.push_str(" --global");
        }
        if !rest.is_empty() {
            c.push(' ');
            c.push_str(rest);
        }
        c
    }

    /// What the place is called in messages.
    fn what(&self) -> &'static str {
        if self.global {
            "the global store"
        } else {
            "this repository"
        }
    }

    /// The store's header here and this machine's key for it, for the commands that change
    /// the store's secrets (passphrase, rotate).
    fn current_key(&self, ctx: &Ctx) -> anyhow::Result<(StoreHeader, lore::crypto::DataKey)> {
        let Some(header) = self.local.header()? else {
            bail!(
                "{} has no lore store here yet: run '{}' and '{}' first",
                self.what(),
                self.command("setup"),
                self.command("")
            );
        };
        let keys = ctx.key_store()?;
        match keys.load(header.store_id_hex())? {
            Some(k) if header.verify_key(&k).is_ok() => Ok((header, k)),
            _ => bail!(
                "no key for this store on this machine: run '{}' first",
                self.command("setup")
            ),
        }
    }

    fn git(&self) -> Git {
        Git {
            program: lore::git::program(),
            git_dir: self.local.repo().git_dir().to_path_buf(),
            verbosity: 0,
            progress: false,
            in_helper: false,
        }
    }
}

/// Asks for the global store's remote on a terminal and saves it in config.toml.
fn ask_global_remote(ctx: &Ctx) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "the global store needs a remote: set one with 'lore config set sync_global_remote URL', then run 'lore sync --global setup' again"
        );
    }
    eprint!("Remote for the global store (a git URL or path): ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the remote")?;
    let url = line.trim().to_owned();
    if url.is_empty() {
        bail!("no remote given; nothing was set up");
    }
    let mut config = ctx.config()?;
    config.set("sync_global_remote", &url)?;
    config.save()?;
    Ok(url)
}

/// A local path made absolute (git would read a relative one from wherever it runs);
/// anything else as it is.
fn absolute_if_path(url: &str) -> String {
    let path = Path::new(url);
    if path.exists() {
        std::fs::canonicalize(path)
            .unwrap_or_else(|_| PathBuf::from(url))
            .to_string_lossy()
            .into_owned()
    } else {
        url.to_owned()
    }
}

fn git_in(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = lore::git::command(&lore::git::program())
        .args(args)
        .current_dir(dir)
        .env("GIT_DIR", dir)
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!(
            "git {} failed in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn git_output(dir: &Path, args: &[&str]) -> Option<String> {
    let out = lore::git::command(&lore::git::program())
        .args(args)
        .env("GIT_DIR", dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn unlock(
    place: &Place,
    header: &StoreHeader,
    pass: &str,
) -> anyhow::Result<lore::crypto::DataKey> {
    header.unlock(pass.as_bytes()).map_err(|e| match e {
        CryptoError::WrongPassphrase => anyhow::anyhow!(
            "wrong passphrase for this store; nothing was stored: run '{}' again",
            place.command("setup")
        ),
        e => e.into(),
    })
}

/// Where passphrases come from: LORE_PASSPHRASE, standard input, or a prompt without echo.
struct PassphraseSource {
    from_stdin: bool,
    env: Option<Zeroizing<String>>,
}

impl PassphraseSource {
    fn new(from_stdin: bool) -> Self {
        let env = std::env::var("LORE_PASSPHRASE")
            .ok()
            .filter(|p| !p.is_empty())
            .map(Zeroizing::new);
        PassphraseSource { from_stdin, env }
    }

    fn read(&mut self, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
        if self.from_stdin {
            // One line answers every prompt: there is no one to confirm it.
            if let Some(p) = &self.env {
                return Ok(p.clone());
            }
            let mut line = Zeroizing::new(String::new());
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the passphrase from standard input")?;
            let trimmed = Zeroizing::new(line.trim_end_matches(['\n', '\r']).to_owned());
            if trimmed.is_empty() {
                bail!("--passphrase-stdin: standard input held no passphrase");
            }
            self.env = Some(trimmed.clone());
            return Ok(trimmed);
        }
        if let Some(p) = &self.env {
            return Ok(p.clone());
        }
        if !std::io::stdin().is_terminal() {
            bail!(
                "no passphrase: run this on a terminal, or pass --passphrase-stdin, or set LORE_PASSPHRASE"
            );
        }
        let _ = std::io::stderr().flush();
        let p = rpassword::prompt_password(prompt).context("cannot read the passphrase")?;
        Ok(Zeroizing::new(p))
    }

    /// A new passphrase: read twice (once with --passphrase-stdin), at least
    /// [`MIN_PASSPHRASE`] characters. `nothing` says what did not happen on a mismatch.
    fn new_passphrase(&mut self, first: &str, nothing: &str) -> anyhow::Result<Zeroizing<String>> {
        let pass = self.read(first)?;
        if pass.chars().count() < MIN_PASSPHRASE {
            bail!("the passphrase is too short: use at least {MIN_PASSPHRASE} characters");
        }
        let confirm = self.read("Confirm passphrase: ")?;
        if *confirm != *pass {
            bail!("the two passphrases differ; {nothing}");
        }
        Ok(pass)
    }
}
