//! `lore sync`: share this repository's sessions through its git remote, encrypted; with
//! `setup` (create or join the store) and `export` (write sessions into the local store).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use lore::crypto::{CryptoError, StoreHeader};
use lore::gitstore::LocalStore;
use lore::gitstore::local::export;
use lore::keys::KeyStore;
use lore::remote::wire::Git;
use lore::sync::{default_remote, remote_header, repo_session_ids, work_tree_root};

use super::Ctx;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SyncArgs {
    #[command(subcommand)]
    command: Option<SyncCommand>,
    /// The remote to sync with (default: the branch's upstream remote, else origin).
    #[arg(long, value_name = "NAME")]
    remote: Option<String>,
    /// Print nothing unless something goes wrong.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Subcommand)]
enum SyncCommand {
    /// Create this repository's encrypted store, or join the one its remote already has.
    Setup(SetupArgs),
    /// Write sessions from lore.db into the local refs/lore/sessions (no network).
    Export(ExportArgs),
    /// Where this repository's sync stands (no network: as of the last fetch).
    Status(StatusArgs),
    /// Change the store's passphrase (the data key stays; members already set up keep working).
    Passphrase(SecretArgs),
}

#[derive(Args)]
struct SecretArgs {
    /// Read the new passphrase from the first line of standard input.
    #[arg(long)]
    passphrase_stdin: bool,
}

#[derive(Args)]
struct StatusArgs {
    /// The remote (default: the branch's upstream remote, else origin).
    #[arg(long, value_name = "NAME")]
    remote: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct SetupArgs {
    /// The remote to sync with (default: the branch's upstream remote, else origin).
    #[arg(long, value_name = "NAME")]
    remote: Option<String>,
    /// Read the passphrase from the first line of standard input.
    #[arg(long)]
    passphrase_stdin: bool,
}

#[derive(Args)]
struct ExportArgs {
    /// Every session in lore.db, not only this repository's.
    #[arg(long, conflicts_with = "ids")]
    all: bool,
    /// Only these sessions (ids or unique beginnings).
    ids: Vec<String>,
}

pub fn run(ctx: &Ctx, args: SyncArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(SyncCommand::Setup(a)) => setup(ctx, a),
        Some(SyncCommand::Export(a)) => export_cmd(ctx, a),
        Some(SyncCommand::Status(a)) => status_cmd(ctx, a),
        Some(SyncCommand::Passphrase(a)) => change_passphrase(ctx, a),
        None => sync(ctx, args.remote, args.quiet),
    }
}

const MIN_PASSPHRASE: usize = 8;

fn open_repo() -> anyhow::Result<LocalStore> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    LocalStore::discover(&cwd)
        .map_err(|_| anyhow::anyhow!("not inside a git repository: run this in the repository whose sessions you want to sync"))
}

fn git_for(store: &LocalStore) -> Git {
    Git {
        program: std::env::var_os("LORE_GIT").unwrap_or_else(|| "git".into()),
        git_dir: store.repo().git_dir().to_path_buf(),
        verbosity: 0,
        progress: false,
        in_helper: false,
    }
}

fn setup(ctx: &Ctx, args: SetupArgs) -> anyhow::Result<ExitCode> {
    let local = open_repo()?;
    let remote = match args.remote {
        Some(r) => r,
        None => default_remote(&local).ok_or(lore::sync::SyncError::NoRemote)?,
    };
    let git = git_for(&local);
    let keys = KeyStore::new(ctx.home.keys_dir());
    let on_remote = remote_header(&git, &local, &remote)?;
    let here = local.header()?;
    if let (Some(r), Some(h)) = (&on_remote, &here)
        && r.store_id() != h.store_id()
    {
        bail!(
            "this repository's refs/lore/sessions holds store {} but {remote} holds store {}; \
             delete the local one (git update-ref -d refs/lore/sessions) to join the remote's",
            h.store_id_hex(),
            r.store_id_hex()
        );
    }
    let mut source = PassphraseSource::new(args.passphrase_stdin);
    match (on_remote, here) {
        (Some(header), _) => {
            println!("An existing Lore store was found on the remote.");
            let pass = source.read("Enter passphrase: ")?;
            let key = unlock(&header, &pass)?;
            keys.save(header.store_id_hex(), &key)?;
            println!("Passphrase verified. Run 'lore sync' to fetch reasoning history.");
        }
        (None, Some(header)) => {
            let pass = source.read("Enter passphrase: ")?;
            let key = unlock(&header, &pass)?;
            keys.save(header.store_id_hex(), &key)?;
            println!("Passphrase verified. Run 'lore sync' to push your sessions.");
        }
        (None, None) => {
            let pass = source.read("Enter passphrase: ")?;
            if pass.chars().count() < MIN_PASSPHRASE {
                bail!("the passphrase is too short: use at least {MIN_PASSPHRASE} characters");
            }
            let confirm = source.read("Confirm passphrase: ")?;
            if *confirm != *pass {
                bail!(
                    "the two passphrases differ; nothing was created: run 'lore sync setup' again"
                );
            }
            let (header, key) = StoreHeader::create(pass.as_bytes())?;
            keys.save(header.store_id_hex(), &key)?;
            local.write_header(&header, "lore: create store")?;
            println!("Store created. Run 'lore sync' to push your sessions.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn sync(ctx: &Ctx, remote: Option<String>, quiet: bool) -> anyhow::Result<ExitCode> {
    let local = open_repo()?;
    let remote = match remote {
        Some(r) => r,
        None => default_remote(&local).ok_or(lore::sync::SyncError::NoRemote)?,
    };
    // Set up here: a local store, or a remote store joined with `lore sync setup`.
    let ns = lore::remote::namespace(&remote);
    let joined = [lore::remote::tracking_ref(&ns), lore::remote::wire_ref(&ns)]
        .iter()
        .any(|name| {
            local
                .repo()
                .try_find_reference(name.as_str())
                .is_ok_and(|r| r.is_some())
        });
    if local.header()?.is_none() && !joined {
        bail!("this repository has no lore store yet: run 'lore sync setup' first");
    }
    let mut db = ctx.home.open_store()?;
    let git = git_for(&local);
    let roots = repo_roots(&local)?;
    let redactor = lore::redact::Redactor::from_config(&ctx.config()?)?;
    let mut cycle = lore::sync::cycle::Sync {
        db: &mut db,
        local: &local,
        git: &git,
        remote: &remote,
        roots,
        redactor: &redactor,
        keys: KeyStore::new(ctx.home.keys_dir()),
        // Read from the environment, never from argv.
        passphrase: std::env::var("LORE_PASSPHRASE")
            .ok()
            .filter(|p| !p.is_empty())
            .map(Zeroizing::new),
    };
    let report = cycle.run()?;
    if std::env::var_os("LORE_TRACE").is_some_and(|v| v == "1") {
        for (step, took) in &report.steps {
            eprintln!("lore sync: {step}: {:.1} ms", took.as_secs_f64() * 1e3);
        }
        for line in &report.push_trace {
            eprintln!(
                "lore sync: push: {}",
                line.trim_start_matches("git-remote-lore: ")
            );
        }
    }
    if !quiet {
        let pulled = report.added + report.updated + report.deleted;
        println!(
            "Pulled {pulled} session{} from {remote} ({} new, {} updated, {} deleted); pushed {} session{}.",
            if pulled == 1 { "" } else { "s" },
            report.added,
            report.updated,
            report.deleted,
            report.pushed,
            if report.pushed == 1 { "" } else { "s" },
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn status_cmd(ctx: &Ctx, args: StatusArgs) -> anyhow::Result<ExitCode> {
    use lore::sync::status::{KeyState, Relation, status};
    let local = open_repo()?;
    let remote = match args.remote {
        Some(r) => r,
        None => default_remote(&local).ok_or(lore::sync::SyncError::NoRemote)?,
    };
    let db = ctx.home.open_store_readable()?;
    let roots = repo_roots(&local)?;
    let roots: Vec<&std::path::Path> = roots.iter().map(|p| p.as_path()).collect();
    let passphrase_set = std::env::var_os("LORE_PASSPHRASE").is_some_and(|p| !p.is_empty());
    let keys = KeyStore::new(ctx.home.keys_dir());
    let redactor = lore::redact::Redactor::from_config(&ctx.config()?)?;
    let st = status(
        &local,
        db.as_ref(),
        &keys,
        passphrase_set,
        &remote,
        &roots,
        &redactor,
    )?;
    let key = match st.key {
        KeyState::Stored => "stored (key file)",
        KeyState::FromEnvironment => "from LORE_PASSPHRASE",
        KeyState::Missing => "missing (run 'lore sync setup')",
    };
    let relation = match st.relation {
        Relation::Nothing => "no store yet".to_owned(),
        Relation::NotPushed => format!("not yet pushed to {remote}"),
        Relation::NotFetched => format!("{remote}'s store not fetched yet: run 'lore sync'"),
        Relation::InSync => format!("in sync with {remote}"),
        Relation::Ahead(n) => format!("ahead of {remote} by {n} commit{}", plural(n)),
        Relation::Behind(n) => format!("behind {remote} by {n} commit{}", plural(n)),
        Relation::Diverged { ahead, behind } => {
            format!("diverged from {remote}: {ahead} ahead, {behind} behind")
        }
    };
    if args.json {
        super::output::print_json(&serde_json::json!({
            "remote": st.remote,
            "store": st.store_id.is_some(),
            "store_id": st.store_id,
            "key": match st.key {
                KeyState::Stored => "stored",
                KeyState::FromEnvironment => "environment",
                KeyState::Missing => "missing",
            },
            "pending": st.pending,
            "last_sync": st.last_sync.map(|ms| super::output::iso(Some(ms))),
            "ref": relation,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("Sync status (this repository)");
    println!(
        "Store: {}",
        if st.store_id.is_some() {
            "set up"
        } else {
            "not set up (run 'lore sync setup')"
        }
    );
    println!("Key: {key}");
    println!(
        "Pending: {} session{} not yet synced",
        st.pending,
        plural(st.pending)
    );
    println!(
        "Last sync: {}",
        st.last_sync
            .map_or_else(|| "never".to_owned(), super::output::ago)
    );
    println!("Ref: refs/lore/sessions ({relation})");
    Ok(ExitCode::SUCCESS)
}

/// `lore sync passphrase`: the data key wrapped under a new passphrase, in a new header in the
/// local store; the next `lore sync` pushes it.
fn change_passphrase(ctx: &Ctx, args: SecretArgs) -> anyhow::Result<ExitCode> {
    let local = open_repo()?;
    let Some(header) = local.header()? else {
        bail!(
            "this repository has no lore store here yet: run 'lore sync setup' and 'lore sync' first"
        );
    };
    let keys = KeyStore::new(ctx.home.keys_dir());
    let key = match keys.load(header.store_id_hex())? {
        Some(k) if header.verify_key(&k).is_ok() => k,
        _ => bail!("no key for this store on this machine: run 'lore sync setup' first"),
    };
    let mut source = PassphraseSource::new(args.passphrase_stdin);
    let pass = source.read("New passphrase: ")?;
    if pass.chars().count() < MIN_PASSPHRASE {
        bail!("the passphrase is too short: use at least {MIN_PASSPHRASE} characters");
    }
    let confirm = source.read("Confirm passphrase: ")?;
    if *confirm != *pass {
        bail!("the two passphrases differ; nothing was changed");
    }
    let new_header = header.rewrap(&key, pass.as_bytes())?;
    local.write_header(&new_header, "lore: change the passphrase")?;
    println!(
        "Passphrase changed. Run 'lore sync' to push it; members already set up keep working, \
         new members use the new passphrase."
    );
    Ok(ExitCode::SUCCESS)
}

/// Every work tree of this repository (linked worktrees too), else the current one.
fn repo_roots(local: &LocalStore) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut roots = lore::sync::work_tree_roots(local.repo());
    if roots.is_empty()
        && let Some(root) = work_tree_root(&std::env::current_dir()?)
    {
        roots.push(root);
    }
    Ok(roots)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn unlock(header: &StoreHeader, pass: &str) -> anyhow::Result<lore::crypto::DataKey> {
    header.unlock(pass.as_bytes()).map_err(|e| match e {
        CryptoError::WrongPassphrase => anyhow::anyhow!(
            "wrong passphrase for this store; nothing was stored: run 'lore sync setup' again"
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
}

fn export_cmd(ctx: &Ctx, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let local = open_repo()?;
    if local.header()?.is_none() {
        bail!("this repository has no lore store yet: run 'lore sync setup' first");
    }
    let Some(db) = ctx.home.open_store_readable()? else {
        println!("Nothing to export: lore.db is empty (run 'lore import').");
        return Ok(ExitCode::SUCCESS);
    };
    let ids: Vec<String> = if args.all {
        db.sessions(&Default::default(), usize::MAX >> 1)?
            .into_iter()
            .map(|s| s.id)
            .collect()
    } else if !args.ids.is_empty() {
        args.ids
            .iter()
            .map(|i| db.resolve_id(i))
            .collect::<Result<_, _>>()?
    } else {
        let mut ids = Vec::new();
        for root in repo_roots(&local)? {
            ids.extend(repo_session_ids(&db, &root)?);
        }
        ids
    };
    let redactor = lore::redact::Redactor::from_config(&ctx.config()?)?;
    let outcome = export(&db, &local, ids, &redactor)?;
    println!(
        "Wrote {} session{} to refs/lore/sessions ({} unchanged).",
        outcome.written,
        if outcome.written == 1 { "" } else { "s" },
        outcome.unchanged
    );
    Ok(ExitCode::SUCCESS)
}
