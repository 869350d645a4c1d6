//! `lore import [PATH…] [--tool TOOL] [--quiet] [--json]`

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use lore::capture::{self, Candidate};
use lore::import::{Summary, default_locations};
use lore::model::Tool;

use super::Ctx;
use super::output::{DIM, WARN};

#[derive(Args)]
pub struct ImportArgs {
    /// Transcript files or folders to import; without any, every default location is scanned.
    paths: Vec<PathBuf>,
    /// Read every file as this tool's format instead of detecting it.
    #[arg(long, value_name = "TOOL", value_parser = super::parse_tool)]
    tool: Option<Tool>,
    /// Print nothing but errors.
    #[arg(short, long, conflicts_with = "json")]
    quiet: bool,
    /// List every problem, not only the first ones.
    #[arg(short, long, conflicts_with = "json")]
    verbose: bool,
    // With --json: every problem is in the JSON, and nothing goes to stderr but an error.
    #[command(flatten)]
    json: super::output::JsonArg,
    /// Run as an agent's hook (claude, codex, gemini, qwen, copilot, cursor or droid): read its JSON,
    /// import that one transcript, print nothing, always exit 0 (errors go to
    /// LORE_HOME/logs/hooks.log).
    #[arg(long, value_name = "AGENT", value_parser = parse_agent, conflicts_with_all = ["tool", "quiet", "verbose", "json"])]
    hook: Option<lore::agents::Agent>,
}

fn parse_agent(s: &str) -> Result<lore::agents::Agent, String> {
    s.parse()
}

/// Problems listed before "and N more".
const PROBLEMS_SHOWN: usize = 20;

pub fn run(ctx: &Ctx, args: ImportArgs) -> anyhow::Result<ExitCode> {
    if let Some(agent) = args.hook {
        return Ok(super::import_hook::run(ctx, agent, &args.paths));
    }
    let config = ctx.config()?;
    let (candidates, scanned) = if args.paths.is_empty() {
        let env = |k: &str| std::env::var(k).ok();
        let mut loc = default_locations(&config, &env, ctx.user_home.as_deref());
        // Aider keeps its history in the repository it ran in: read the current one's too.
        if let Some(root) = std::env::current_dir()
            .ok()
            .and_then(|d| lore::repo::root_of(&d))
            && root.join(".aider.chat.history.md").is_file()
        {
            loc.aider.push(root);
        }
        let dirs: Vec<String> = loc
            .claude
            .iter()
            .chain([&loc.codex, &loc.gemini].into_iter().flatten())
            .map(|p| p.display().to_string())
            .collect();
        (loc.candidates(), dirs)
    } else {
        let found = capture::discover(&args.paths, args.tool).context("cannot import")?;
        (found, Vec::new())
    };
    if let Some(t) = args.tool {
        // --tool with default locations narrows the scan to that tool.
        if args.paths.is_empty() {
            let only: Vec<Candidate> = candidates
                .into_iter()
                .filter(|c| c.tool == Some(t))
                .collect();
            return finish(ctx, args, only, scanned);
        }
    }
    finish(ctx, args, candidates, scanned)
}

fn finish(
    ctx: &Ctx,
    args: ImportArgs,
    candidates: Vec<Candidate>,
    scanned: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let mut err = anstream::stderr();
    if candidates.is_empty() {
        if args.json.json {
            super::output::print_json(&summary_json(&Summary::default()))?;
        } else if !args.quiet {
            if scanned.is_empty() {
                writeln!(err, "No transcripts found in the paths given.")?;
            } else {
                writeln!(
                    err,
                    "No transcripts found in {}. Import a file or folder with: lore import PATH",
                    scanned.join(", ")
                )?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let named_files_only = !args.paths.is_empty() && args.paths.iter().all(|p| p.is_file());
    let mut store = ctx.home.open_db()?;
    let machine_id = ctx.home.machine_id()?;

    let bar = if args.quiet || args.json.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::with_draw_target(
            Some(candidates.len() as u64),
            ProgressDrawTarget::stderr(),
        );
        b.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} files {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    };
    let summary = lore::import::import(&mut store, candidates, &machine_id, args.tool, &mut |p| {
        bar.set_position(p.files_done as u64);
        bar.set_message(format!("{:.1} MB", p.bytes_done as f64 / 1e6));
    })?;
    bar.finish_and_clear();

    if args.json.json {
        super::output::print_json(&summary_json(&summary))?;
    } else if !args.quiet {
        report(&summary, args.verbose)?;
    }
    let nothing_read = summary.parsed_files == 0 && summary.unchanged_files == 0;
    if named_files_only && nothing_read && !summary.problems.is_empty() {
        anyhow::bail!(
            "nothing imported: {} named file{} could not be read as a transcript (see above); pass --tool to force a format",
            summary.problems.len(),
            if summary.problems.len() == 1 { "" } else { "s" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn report(s: &Summary, verbose: bool) -> anyhow::Result<()> {
    let mut err = anstream::stderr();
    let shown = if verbose {
        s.problems.len()
    } else {
        PROBLEMS_SHOWN
    };
    for p in s.problems.iter().take(shown) {
        let at = match p.line {
            Some(l) => format!("{}:{l}", p.path.display()),
            None => p.path.display().to_string(),
        };
        writeln!(err, "{WARN}warning:{WARN:#} {at}: {}", p.message)?;
    }
    if s.problems.len() > shown {
        writeln!(
            err,
            "{WARN}warning:{WARN:#} … and {} more problems (run with --verbose to see all)",
            s.problems.len() - shown
        )?;
    }
    let mut out = anstream::stdout();
    let sessions = |n: usize| if n == 1 { "session" } else { "sessions" };
    let mut line = format!(
        "Imported {} new {}, updated {}",
        s.new_sessions,
        sessions(s.new_sessions),
        s.updated_sessions
    );
    if !s.by_tool.is_empty() {
        let parts: Vec<String> = s
            .by_tool
            .iter()
            .map(|(t, c)| format!("{t}: {} new, {} updated", c.new, c.updated))
            .collect();
        line.push_str(&format!(" ({})", parts.join("; ")));
    }
    line.push('.');
    writeln!(out, "{line}")?;
    let mut notes = Vec::new();
    if s.unchanged_files > 0 {
        notes.push(format!(
            "{} {} unchanged since the last import",
            s.unchanged_files,
            if s.unchanged_files == 1 {
                "file"
            } else {
                "files"
            }
        ));
    }
    if s.unchanged_sessions > 0 {
        notes.push(format!(
            "{} {} read again with no change",
            s.unchanged_sessions,
            sessions(s.unchanged_sessions)
        ));
    }
    if s.deleted_sessions > 0 {
        notes.push(format!(
            "{} deleted {} not brought back",
            s.deleted_sessions,
            sessions(s.deleted_sessions)
        ));
    }
    if s.truncated_files > 0 {
        notes.push(format!(
            "{} still being written (their last line is read next time)",
            if s.truncated_files == 1 {
                "1 transcript is".to_owned()
            } else {
                format!("{} transcripts are", s.truncated_files)
            }
        ));
    }
    let skipped = s.problems.iter().filter(|p| p.line.is_none()).count();
    if skipped > 0 {
        notes.push(format!(
            "{skipped} {} skipped",
            if skipped == 1 { "file" } else { "files" }
        ));
    }
    if !notes.is_empty() {
        writeln!(out, "{DIM}{}.{DIM:#}", capitalise(&notes.join("; ")))?;
    }
    Ok(())
}

/// What an import did, as JSON (docs/json.md).
fn summary_json(s: &Summary) -> serde_json::Value {
    serde_json::json!({
        "file_count": s.files,
        "parsed_file_count": s.parsed_files,
        "unchanged_file_count": s.unchanged_files,
        "truncated_file_count": s.truncated_files,
        "new_session_count": s.new_sessions,
        "updated_session_count": s.updated_sessions,
        "unchanged_session_count": s.unchanged_sessions,
        "deleted_session_count": s.deleted_sessions,
        "by_tool": s.by_tool.iter().map(|(t, c)| (t.to_string(), serde_json::json!({
            "new_session_count": c.new,
            "updated_session_count": c.updated,
        }))).collect::<serde_json::Map<_, _>>(),
        "problems": s.problems.iter().map(|p| serde_json::json!({
            "path": p.path,
            "line": p.line,
            "message": p.message,
        })).collect::<Vec<_>>(),
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `lore import` of every default location, with its progress bar and report (for `lore init`).
pub(super) fn import_defaults(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    run(
        ctx,
        ImportArgs {
            paths: Vec::new(),
            tool: None,
            quiet: false,
            verbose: false,
            json: super::output::JsonArg::default(),
            hook: None,
        },
    )
}
