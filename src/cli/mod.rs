//! Argument parsing and dispatch; one module per command.

mod annotate;
mod apply;
mod blame;
mod completions;
mod config;
mod db;
mod delete;
mod doctor;
mod history;
mod hooks;
mod import;
mod import_hook;
mod init;
mod link;
mod links;
mod mcp;
mod migrate;
mod output;
mod pager;
mod plan;
mod private_home;
mod read;
mod reflog;
mod revert;
mod schema;
mod search;
mod sessions;
mod show;
mod show_commit;
mod status;
mod sync;
mod tag;
mod unlink;
mod verify;
mod watch;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use lore::config::Config;
use lore::db::Filter;
use lore::home::Home;

/// lore keeps the reasoning behind your code: it imports AI coding sessions into a local
/// database you can search, and links them to commits.
#[derive(Parser)]
#[command(name = "lore", version, about, max_term_width = 100)]
pub struct Cli {
    /// When to use colour.
    #[arg(long, global = true, value_name = "WHEN")]
    color: Option<ColorWhen>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Start here: find your coding agents, import their history, and capture every new session.
    Init(init::InitArgs),
    /// Import transcripts as the agents write them; --install runs it at each login.
    Watch(watch::WatchArgs),
    /// Import transcripts: every default location, or the files and folders given.
    Import(import::ImportArgs),
    /// List sessions, newest first.
    Sessions(sessions::SessionsArgs),
    /// Show one session: its details and conversation (--all adds tool output); or, with --commit, the sessions linked to a commit.
    Show(show::ShowArgs),
    /// Search message text.
    Search(search::SearchArgs),
    /// Delete a session; it will not be imported again.
    Delete(delete::DeleteArgs),
    /// Link sessions to commits: one by hand, the ones running now, or by score.
    Link(link::LinkArgs),
    /// Remove links between a session and commits, or every link a filter selects.
    Unlink(unlink::UnlinkArgs),
    /// List links with their evidence, filtered by kind, confidence, commit range, session.
    Links(links::LinksArgs),
    /// Tag a session (or take a tag off with --remove); `lore sessions --tag` filters by it.
    Tag(tag::TagArgs),
    /// Add a note to a session; `lore show` prints it.
    Annotate(annotate::AnnotateArgs),
    /// The reasoning behind lines of a file: their commits, linked sessions and messages.
    Blame(blame::BlameArgs),
    /// Read and change settings in config.toml.
    Config(config::ConfigArgs),
    /// Show what lore holds and where.
    Status(status::StatusArgs),
    /// Share sessions through the repository's git remote, encrypted.
    Sync(sync::SyncArgs),
    /// Install, remove or show lore's git hooks: sync on push, no unencrypted store pushed, link on commit.
    Hooks(hooks::HooksArgs),
    /// Apply a plan (JSON operations) to a database as one revertible commit.
    Apply(apply::ApplyArgs),
    /// Show what a plan would change, writing nothing.
    Plan(plan::PlanArgs),
    /// List commits, newest first.
    History(history::HistoryArgs),
    /// Show a commit and every row and table it changed.
    ShowCommit(show_commit::ShowCommitArgs),
    /// Undo a commit with a new commit, after checking for conflicts.
    Revert(revert::RevertArgs),
    /// Check the history chain; with --full, the data too.
    Verify(verify::VerifyArgs),
    /// Every move of the head.
    Reflog(reflog::ReflogArgs),
    /// Run one read-only SQL query on lore.db (or --db) and print its rows.
    Read(read::ReadArgs),
    /// Tables, columns, schema hash and head: what to read before writing a plan.
    Schema(schema::SchemaArgs),
    /// Check what syncing needs: git, the helper, lore.db, the key, hooks, the helper's cache.
    Doctor(doctor::DoctorArgs),
    /// Bring a varalys/lore database into lore as one revertible commit; the source is not changed.
    Migrate(migrate::MigrateArgs),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
    /// Serve the archive to coding agents over MCP (Model Context Protocol), read-only.
    Mcp(mcp::McpArgs),
}

/// Filters shared by `sessions` and `search`.
#[derive(Args, Clone, Default)]
pub struct FilterArgs {
    /// Only sessions that ran in this repository (a path inside it; `.` for the current one).
    #[arg(long, value_name = "PATH")]
    repo: Option<PathBuf>,
    /// Only sessions from this tool.
    #[arg(long, value_name = "TOOL", value_parser = parse_tool)]
    tool: Option<lore::model::Tool>,
    /// Only sessions on this git branch.
    #[arg(long, value_name = "BRANCH")]
    branch: Option<String>,
    /// Only sessions with this tag (`lore tag`).
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// Only sessions active since: a date (2026-03-01), a timestamp, or an age (7d, "2 weeks").
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only sessions started before: a date, a timestamp, or an age.
    #[arg(long, value_name = "WHEN")]
    until: Option<String>,
}

fn parse_tool(s: &str) -> Result<lore::model::Tool, String> {
    s.parse()
        .map_err(|e: lore::model::UnknownName| e.to_string())
}

impl FilterArgs {
    fn spec(&self) -> lore::answer::FilterSpec {
        lore::answer::FilterSpec {
            repo: self.repo.clone(),
            tool: self.tool,
            branch: self.branch.clone(),
            tag: self.tag.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
        }
    }

    /// With `--repo`: adds to `filter` the sessions that belong to that repository by its
    /// identity (`lore::answer::FilterSpec::add_identity`).
    fn add_identity(&self, filter: &mut Filter, store: &lore::db::Db) -> anyhow::Result<()> {
        Ok(self.spec().add_identity(filter, store)?)
    }

    fn to_filter(&self) -> anyhow::Result<Filter> {
        Ok(self.spec().to_filter()?)
    }
}

/// What every command needs: where lore lives and how to print.
pub struct Ctx {
    pub home: Home,
    pub user_home: Option<PathBuf>,
    config_path: PathBuf,
}

impl Ctx {
    /// The configuration; a broken config.toml is an error only for commands that read it.
    pub fn config(&self) -> anyhow::Result<Config> {
        Ok(Config::load(&self.config_path)?)
    }

    /// The redactor for sessions that leave the machine, from the `redact`, `redact_patterns`
    /// and `redact_allow` settings.
    pub fn redactor(&self) -> anyhow::Result<lore::redact::Redactor> {
        let config = self.config()?;
        Ok(
            lore::redact::Redactor::new(config.redact(), &config.redact_patterns())?
                .with_allow(&config.redact_allow())?,
        )
    }

    /// This home's sync keys, in the OS keychain unless `LORE_KEYCHAIN` or the `keychain`
    /// setting says not to.
    pub fn key_store(&self) -> anyhow::Result<lore::keys::KeyStore> {
        let env = std::env::var("LORE_KEYCHAIN").ok();
        let wanted = lore::keys::keychain_wanted(env.as_deref(), self.config()?.flag("keychain"))
            .map_err(anyhow::Error::msg)?;
        Ok(self.home.key_store(wanted))
    }
}

/// What `lore` alone prints: what lore is and where to start (the whole help is `lore --help`).
const START_HERE: &str = "\
lore keeps the reasoning behind your code: it imports your AI coding sessions (Claude Code,
Codex, Gemini, Copilot, Cursor, OpenCode, Aider and a dozen more) into a local database you
can search, and links them to commits.

Start here:
  lore init                find your coding agents, import their sessions, keep importing

Then:
  lore sessions            the sessions, newest first
  lore search WORDS        the messages that mention something
  lore blame FILE:LINE     the sessions and messages behind a line of code

'lore mcp serve' lets a coding agent ask lore itself (docs/mcp.md). Every command: lore --help.
";

pub fn main() -> ExitCode {
    if std::env::args_os().len() == 1 {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(START_HERE.as_bytes());
        return ExitCode::SUCCESS;
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if output::is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let mut err = anstream::stderr();
            let red = anstyle::Style::new()
                .bold()
                .fg_color(Some(anstyle::AnsiColor::Red.into()));
            let _ = writeln!(err, "{red}error:{red:#} {}", output::one_line(&e));
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let env = |k: &str| std::env::var_os(k).map(PathBuf::from);
    let user_home = env("HOME");
    let home = Home::locate(env("LORE_HOME"), user_home.clone())?;
    let ctx = Ctx {
        config_path: home.config_path(),
        home,
        user_home,
    };
    private_home::tighten(&ctx.home);
    let color = match cli.color {
        Some(c) => c,
        None => match ctx.config().ok().and_then(|c| c.text("color")).as_deref() {
            Some("always") => ColorWhen::Always,
            Some("never") => ColorWhen::Never,
            _ => ColorWhen::Auto,
        },
    };
    match color {
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
        ColorWhen::Auto => {}
    }
    match cli.command {
        Command::Init(a) => init::run(&ctx, a),
        Command::Import(a) => import::run(&ctx, a),
        Command::Watch(a) => watch::run(&ctx, a),
        Command::Sessions(a) => sessions::run(&ctx, a),
        Command::Show(a) => show::run(&ctx, a),
        Command::Search(a) => search::run(&ctx, a),
        Command::Delete(a) => delete::run(&ctx, a),
        Command::Link(a) => link::run(&ctx, a),
        Command::Unlink(a) => unlink::run(&ctx, a),
        Command::Links(a) => links::run(&ctx, a),
        Command::Tag(a) => tag::run(&ctx, a),
        Command::Annotate(a) => annotate::run(&ctx, a),
        Command::Blame(a) => blame::run(&ctx, a),
        Command::Config(a) => config::run(&ctx, a),
        Command::Status(a) => status::run(&ctx, a),
        Command::Sync(a) => sync::run(&ctx, a),
        Command::Hooks(a) => hooks::run(&ctx, a),
        Command::Apply(a) => apply::run(&ctx, a),
        Command::Plan(a) => plan::run(&ctx, a),
        Command::History(a) => history::run(&ctx, a),
        Command::ShowCommit(a) => show_commit::run(&ctx, a),
        Command::Revert(a) => revert::run(&ctx, a),
        Command::Verify(a) => verify::run(&ctx, a),
        Command::Reflog(a) => reflog::run(&ctx, a),
        Command::Read(a) => read::run(&ctx, a),
        Command::Schema(a) => schema::run(&ctx, a),
        Command::Doctor(a) => doctor::run(&ctx, a),
        Command::Migrate(a) => migrate::run(&ctx, a),
        Command::Completions(a) => completions::run(a),
        Command::Mcp(a) => mcp::run(&ctx, a),
    }
}
