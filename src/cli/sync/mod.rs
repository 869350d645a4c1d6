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
    #[arg(long, short, conflicts_with = "json")]
    quiet: bool,
    #[command(flatten)]
    json: crate::cli::output::JsonArg,
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
    /// Make a strong new passphrase (150 random bits), print it once and use it.
    #[arg(long, conflicts_with = "passphrase_stdin")]
    generate: bool,
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
        None => run::run(
            ctx,
            &Place::open(ctx, global, remote)?,
            args.quiet,
            args.json.json,
        ),
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

/// Where passphrases come from. The current passphrase: standard input with
/// `--passphrase-stdin` (which wins over the environment), else LORE_PASSPHRASE, else a prompt
/// without echo. A new passphrase: `--generate`, else standard input, else the prompt (asked
/// twice), never LORE_PASSPHRASE (a variable left set from another store must not silently
/// become this one's passphrase).
struct PassphraseSource {
    from_stdin: bool,
    generate: bool,
    /// The line standard input held, once read: it answers every later prompt.
    line: Option<Zeroizing<String>>,
}

impl PassphraseSource {
    fn new(args: &SecretArgs) -> Self {
        PassphraseSource {
            from_stdin: args.passphrase_stdin,
            generate: args.generate,
            line: None,
        }
    }

    /// Refuses `--generate` where an existing passphrase is needed.
    fn no_generate(&self, why: &str) -> anyhow::Result<()> {
        if self.generate {
            bail!("--generate makes a new passphrase, but {why}: run this without it");
        }
        Ok(())
    }

    /// The first line of standard input, read once.
    fn stdin_line(&mut self) -> anyhow::Result<Zeroizing<String>> {
        if let Some(line) = &self.line {
            return Ok(line.clone());
        }
        let line = read_stdin_line().context("cannot read the passphrase from standard input")?;
        if line.is_empty() {
            bail!("--passphrase-stdin: standard input held no passphrase");
        }
        self.line = Some(line.clone());
        Ok(line)
    }

    /// A current passphrase (to join or unlock a store).
    fn read(&mut self, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
        if self.from_stdin {
            return self.stdin_line();
        }
        if let Some(p) = std::env::var(lore::git::PASSPHRASE_ENV)
            .ok()
            .map(Zeroizing::new)
            .filter(|p| !p.is_empty())
        {
            return Ok(p);
        }
        if !std::io::stdin().is_terminal() {
            bail!(
                "no passphrase: run this on a terminal, or pass --passphrase-stdin, or set LORE_PASSPHRASE"
            );
        }
        prompt_hidden(prompt)
    }

    /// A new passphrase: generated (and printed) with `--generate`; else one line of standard
    /// input with `--passphrase-stdin`; else typed twice at the prompt. At least
    /// [`MIN_PASSPHRASE`] characters, not the current one (`is_current` says whether it is),
    /// and a warning when zxcvbn finds it weak. `nothing` says what did not happen on a refusal.
    fn new_passphrase(
        &mut self,
        nothing: &str,
        is_current: &dyn Fn(&str) -> bool,
    ) -> anyhow::Result<Zeroizing<String>> {
        let pass = if self.generate {
            if self.from_stdin {
                bail!("--generate and --passphrase-stdin do not go together: pick one; {nothing}");
            }
            let pass = lore::crypto::passphrase::generate()?;
            let mut shown = Zeroizing::new(String::with_capacity(200));
            shown.push_str(
                "Generated passphrase (shown once: keep it in your password manager and give it \
                 to your team over a private channel):\n\n    ",
            );
            shown.push_str(&pass);
            shown.push_str("\n\n");
            write_unbuffered(&shown).context("cannot print the generated passphrase")?;
            return Ok(pass);
        } else if self.from_stdin {
            self.stdin_line()?
        } else if std::env::var_os(lore::git::PASSPHRASE_ENV).is_some_and(|p| !p.is_empty()) {
            bail!(
                "{} is set, but a new passphrase is never taken from the environment: pass \
                 --passphrase-stdin (or --generate), or unset it and type the passphrase at the \
                 prompt; {nothing}",
                lore::git::PASSPHRASE_ENV
            );
        } else if !std::io::stdin().is_terminal() {
            bail!(
                "no new passphrase: run this on a terminal, or pass --passphrase-stdin or \
                 --generate; {nothing}"
            );
        } else {
            let pass = prompt_hidden("New passphrase: ")?;
            check_new(&pass, nothing, is_current)?;
            let confirm = prompt_hidden("Confirm passphrase: ")?;
            if *confirm != *pass {
                bail!("the two passphrases differ; {nothing}");
            }
            return Ok(pass);
        };
        check_new(&pass, nothing, is_current)?;
        Ok(pass)
    }
}

/// Refuses a new passphrase that is too short or the current one; warns when it is weak.
fn check_new(pass: &str, nothing: &str, is_current: &dyn Fn(&str) -> bool) -> anyhow::Result<()> {
    if pass.chars().count() < MIN_PASSPHRASE {
        bail!("the passphrase is too short: use at least {MIN_PASSPHRASE} characters; {nothing}");
    }
    if is_current(pass) {
        bail!(
            "the new passphrase is the current one: choose another (or use --generate); {nothing}"
        );
    }
    let s = lore::crypto::passphrase::strength(pass, &["lore", "sync", "passphrase", "team"]);
    if s.is_weak() {
        eprintln!(
            "warning: this passphrase is weak (zxcvbn score {}/4, about 10^{:.0} guesses): \
             whoever gets a copy of the store can try guesses offline; a longer one, or \
             --generate, is safer",
            s.score, s.guesses_log10
        );
    }
    Ok(())
}

/// Writes `text` to standard output through a duplicate of its descriptor, after flushing
/// what std's buffer holds: std's stdout buffer keeps the bytes it wrote (until overwritten),
/// so a secret written with `println!` would stay in memory, unwiped, for the process's life.
fn write_unbuffered(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    std::io::stdout().flush()?;
    #[cfg(unix)]
    let handle = {
        use std::os::fd::AsFd as _;
        std::io::stdout().as_fd().try_clone_to_owned()?
    };
    #[cfg(windows)]
    let handle = {
        use std::os::windows::io::AsHandle as _;
        std::io::stdout().as_handle().try_clone_to_owned()?
    };
    std::fs::File::from(handle).write_all(text.as_bytes())
}

/// A prompt on the terminal, without echo.
fn prompt_hidden(prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    let _ = std::io::stderr().flush();
    let p = rpassword::prompt_password(prompt).context("cannot read the passphrase")?;
    Ok(Zeroizing::new(p))
}

/// The first line of standard input (without its line ending), read one byte at a time from a
/// duplicate of the descriptor: nothing past the newline is consumed and no copy is left in
/// std's stdin buffer; every byte lands in a buffer that is wiped when dropped. At most 4 KiB.
fn read_stdin_line() -> anyhow::Result<Zeroizing<String>> {
    use std::io::Read as _;
    const MAX: usize = 4096;
    #[cfg(unix)]
    let handle = {
        use std::os::fd::AsFd as _;
        std::io::stdin().as_fd().try_clone_to_owned()?
    };
    #[cfg(windows)]
    let handle = {
        use std::os::windows::io::AsHandle as _;
        std::io::stdin().as_handle().try_clone_to_owned()?
    };
    let mut file = std::fs::File::from(handle);
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX + 1));
    let mut byte = Zeroizing::new([0u8; 1]);
    loop {
        match file.read(&mut byte[..]) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => {
                if bytes.len() == MAX {
                    bail!("the passphrase on standard input is longer than {MAX} bytes");
                }
                bytes.push(byte[0]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    match std::str::from_utf8(&bytes) {
        Ok(s) => Ok(Zeroizing::new(s.to_owned())),
        Err(_) => bail!("the passphrase on standard input is not UTF-8"),
    }
}
