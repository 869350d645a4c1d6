//! `lore blame FILE[:LINE[-END]] [-L START,END] [--json | --markdown]`: for each commit that
//! last changed the lines, the sessions linked to it and the messages that explain it.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use lore::blame::{self, Blame, BlameCommit, LineRange, Reasoning};
use lore::link::Git;

use super::Ctx;
use super::link::short;
use super::output::{BOLD, DIM, ID, local_time, short_id};

#[derive(Args)]
pub struct BlameArgs {
    /// The file, optionally with lines: src/lib.rs, src/lib.rs:42, src/lib.rs:40-60.
    target: String,
    /// The lines to blame, in git blame's numeric forms: START,END, START,+COUNT, END,-COUNT,
    /// START or START, (to the end), ,END (from line 1); also START-END. git's /regex/ and
    /// :funcname forms are not supported.
    #[arg(short = 'L', value_name = "START,END", allow_hyphen_values = true)]
    lines: Option<String>,
    /// At most this many messages per session (0: every matching message). Not `-n`: git
    /// blame's -n is --show-number.
    #[arg(long, value_name = "N", default_value_t = 3)]
    messages: usize,
    #[command(flatten)]
    json: super::output::JsonArg,
    /// Print Markdown, for a pull request or a document.
    #[arg(long, conflicts_with = "json")]
    markdown: bool,
}

pub fn run(ctx: &Ctx, args: BlameArgs) -> anyhow::Result<ExitCode> {
    let (file, mut range) = blame::parse_target(&args.target)?;
    if let Some(l) = &args.lines {
        if range.is_some() {
            anyhow::bail!(
                "lines given twice ('{}' and -L {l}): use one of FILE:START-END or -L START,END",
                args.target
            );
        }
        range = Some(LineRange::parse_option(l)?);
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let git = Git::discover(&Git::program_from_env(), &cwd)?;
    let b = lore::answer::blame_file(&git, &cwd, &file, range)?;
    // In a shallow clone, git gives every line older than the clone's boundary to the
    // boundary commit: say so, once, on stderr (the output itself stays parseable).
    let boundaries = git.shallow_boundaries()?;
    let shallow: Vec<&str> = b
        .commits
        .iter()
        .filter(|c| boundaries.contains(&c.id))
        .map(|c| c.id.as_str())
        .collect();
    for id in &shallow {
        anstream::eprintln!(
            "warning: this repository is a shallow clone: lines older than its oldest commit \
             are attributed to the boundary commit {}, which did not write them all; 'git \
             fetch --unshallow' gives their real commits.",
            short(id)
        );
    }
    let store = ctx.home.open_db_readable()?;
    let mut reasoner = store
        .as_ref()
        .map(|s| blame::Reasoner::new(s, args.messages));
    let here = local_machine(ctx);
    let mut out = anstream::stdout().lock();
    if args.json.json {
        // Not through anstream, which strips control characters (U+007F) from a pipe: JSON
        // escapes what needs escaping itself.
        json(&mut std::io::stdout().lock(), &mut reasoner, &b, &shallow)?;
    } else if args.markdown {
        markdown(&mut out, &mut reasoner, &b, here.as_deref())?;
    } else {
        text(&mut out, &mut reasoner, &b, here.as_deref())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The reasoning for `commit`, none without a lore.db.
fn reasons(
    reasoner: &mut Option<blame::Reasoner<'_>>,
    b: &Blame,
    commit: &BlameCommit,
) -> anyhow::Result<blame::Found> {
    match reasoner {
        Some(r) => Ok(r.commit(b, commit)?),
        None => Ok(blame::Found::default()),
    }
}

/// `3-5, 9, 12-14`: a commit's lines as runs.
fn runs(lines: &[u32]) -> Vec<(u32, u32)> {
    lore::answer::runs(lines)
}

fn runs_text(lines: &[u32]) -> String {
    runs(lines)
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn header(b: &Blame) -> String {
    let lines = b.lines.len();
    let commits = b.commits.iter().filter(|c| !c.uncommitted()).count();
    let range = match b.range {
        Some(r) if r.start == r.end => format!("line {}", r.start),
        Some(r) => format!("lines {}-{}", r.start, r.end),
        None => format!("{lines} line{}", if lines == 1 { "" } else { "s" }),
    };
    format!(
        "{}, {range}, from {commits} commit{}",
        b.path,
        if commits == 1 { "" } else { "s" }
    )
}

/// How the session is linked, and whether it came from another machine (a teammate's, by
/// sync): `explicit link, 1.00, from another machine`.
fn link_text(r: &Reasoning, here: Option<&str>) -> String {
    let mut s = match &r.link {
        Some(link) => format!(
            "{}; {} link, {:.2}",
            evidence_text(r),
            link.kind.as_str(),
            link.confidence
        ),
        None => format!(
            "{}; found by content only, not linked to this commit",
            evidence_text(r)
        ),
    };
    // No machine id here means nothing was ever imported here: every session came by sync.
    if here != Some(r.session.machine_id.as_str()) {
        s.push_str(", from another machine");
    }
    s
}

/// The strongest evidence this session has for these lines: it wrote them, it wrote to the
/// file, or it is only linked to the commit (and why).
fn evidence_text(r: &Reasoning) -> String {
    if r.wrote_lines > 0 {
        if r.lines_considered == 1 {
            return "wrote this line".to_owned();
        }
        if r.wrote_lines == r.lines_considered {
            return "wrote these lines".to_owned();
        }
        return format!(
            "wrote {} of these {} lines",
            r.wrote_lines, r.lines_considered
        );
    }
    if r.wrote_file {
        return "edited the file".to_owned();
    }
    match r.evidence.as_ref().map(|e| e.describe()) {
        Some(why) if !why.is_empty() => format!("linked to the commit: {why}"),
        _ => "linked to the commit, no evidence recorded".to_owned(),
    }
}

/// This machine's id, if lore has made one (made by the first import; reading never makes
/// one).
fn local_machine(ctx: &Ctx) -> Option<String> {
    std::fs::read_to_string(ctx.home.machine_id_path())
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn mention_text(m: blame::Mention) -> &'static str {
    match m {
        blame::Mention::Code => "quotes the code",
        blame::Mention::BeforeEdit => "just before the edit",
        blame::Mention::BeforeFileEdit => "just before an edit of the file",
        blame::Mention::File => "names the file",
    }
}

fn who(e: &blame::Excerpt) -> String {
    let role = match e.kind {
        lore::model::Kind::Thinking => "assistant (thinking)",
        _ => e.role.as_str(),
    };
    match e.timestamp {
        Some(_) => format!("{role}, {}", local_time(e.timestamp)),
        None => role.to_owned(),
    }
}

fn text(
    out: &mut impl Write,
    reasoner: &mut Option<blame::Reasoner<'_>>,
    b: &Blame,
    here: Option<&str>,
) -> anyhow::Result<()> {
    writeln!(out, "{BOLD}{}{BOLD:#}", header(b))?;
    if b.lines.is_empty() {
        writeln!(out, "\nThe file is empty: nothing to blame.")?;
        return Ok(());
    }
    let width = b.lines.last().map_or(1, |l| l.line.to_string().len());
    for (i, c) in b.commits.iter().enumerate() {
        writeln!(out)?;
        if c.uncommitted() {
            writeln!(out, "{BOLD}Not committed yet{BOLD:#}")?;
        } else {
            writeln!(
                out,
                "{ID}{}{ID:#} {BOLD}{}{BOLD:#}",
                short(&c.id),
                c.subject
            )?;
            let renamed = if c.path != b.path {
                format!(", as {}", c.path)
            } else {
                String::new()
            };
            writeln!(
                out,
                "{DIM}{} <{}>, {}{renamed}{DIM:#}",
                c.author,
                c.author_email,
                local_time(Some(c.author_time))
            )?;
        }
        let mut prev: Option<u32> = None;
        for l in b.lines.iter().filter(|l| l.commit == i) {
            if prev.is_some_and(|p| p + 1 != l.line) {
                writeln!(out, "{DIM}{:>width$} ⋮{DIM:#}", "")?;
            }
            writeln!(out, "{DIM}{:>width$} │{DIM:#} {}", l.line, l.text)?;
            prev = Some(l.line);
        }
        let found = reasons(reasoner, b, c)?;
        if c.uncommitted() {
            writeln!(
                out,
                "  These lines are not committed yet: commit them, then link the session \
                 with 'lore link SESSION'."
            )?;
        } else if found.sessions.is_empty() {
            writeln!(out, "  No reasoning linked to {}.", short(&c.id))?;
        }
        for r in &found.sessions {
            let s = &r.session;
            writeln!(
                out,
                "  {BOLD}Session{BOLD:#} {ID}{}{ID:#} {}, {} {DIM}({}, {}){DIM:#}",
                short_id(&s.id, s.parent_id.as_deref()),
                s.title.as_deref().unwrap_or("(untitled)"),
                s.tool,
                local_time(s.started_at.or(s.updated_at)),
                link_text(r, here)
            )?;
            if r.messages.is_empty() {
                writeln!(
                    out,
                    "    No message names {} or quotes these lines; 'lore show {}' has the whole session.",
                    b.path,
                    short_id(&s.id, s.parent_id.as_deref())
                )?;
            }
            for m in &r.messages {
                writeln!(
                    out,
                    "    {DIM}{} ({}):{DIM:#}",
                    who(m),
                    mention_text(m.mention)
                )?;
                for line in m.text.lines() {
                    writeln!(out, "      {line}")?;
                }
            }
            if r.matched > r.messages.len() {
                writeln!(
                    out,
                    "    {DIM}… {} more (lore blame -n 0 shows every one){DIM:#}",
                    r.matched - r.messages.len()
                )?;
            }
        }
        if found.more_by_content > 0 {
            writeln!(out, "  {DIM}{}{DIM:#}", more_text(found.more_by_content))?;
        }
    }
    Ok(())
}

/// `… 3 more sessions wrote some of these lines (found by content)`.
fn more_text(n: usize) -> String {
    format!(
        "… {n} more session{} wrote some of these lines (found by content; the ones that wrote \
         the most are shown)",
        if n == 1 { "" } else { "s" }
    )
}

fn fence_for(text: &str) -> String {
    let mut best = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat(best.max(2) + 1)
}

fn markdown(
    out: &mut impl Write,
    reasoner: &mut Option<blame::Reasoner<'_>>,
    b: &Blame,
    here: Option<&str>,
) -> anyhow::Result<()> {
    writeln!(out, "# lore blame {}\n", header(b))?;
    for (i, c) in b.commits.iter().enumerate() {
        let code: Vec<String> = b
            .lines
            .iter()
            .filter(|l| l.commit == i)
            .map(|l| format!("{:>5} | {}", l.line, l.text))
            .collect();
        let code = code.join("\n");
        if c.uncommitted() {
            writeln!(
                out,
                "## Not committed yet (lines {})\n",
                runs_text(&c.lines)
            )?;
        } else {
            writeln!(out, "## `{}` {}\n", short(&c.id), c.subject)?;
            write!(
                out,
                "*{} <{}>, {}, lines {}",
                c.author,
                c.author_email,
                local_time(Some(c.author_time)),
                runs_text(&c.lines)
            )?;
            if c.path != b.path {
                write!(out, ", as `{}`", c.path)?;
            }
            writeln!(out, "*\n")?;
        }
        let fence = fence_for(&code);
        writeln!(out, "{fence}\n{code}\n{fence}\n")?;
        let found = reasons(reasoner, b, c)?;
        if c.uncommitted() {
            writeln!(out, "These lines are not committed yet.\n")?;
        } else if found.sessions.is_empty() {
            writeln!(out, "No reasoning linked to `{}`.\n", short(&c.id))?;
        }
        for r in &found.sessions {
            let s = &r.session;
            writeln!(
                out,
                "### Session `{}`: {}\n\n{}, {} ({})\n",
                s.id,
                s.title.as_deref().unwrap_or("(untitled)"),
                s.tool,
                local_time(s.started_at.or(s.updated_at)),
                link_text(r, here)
            )?;
            for m in &r.messages {
                writeln!(out, "**{}** ({}):\n", who(m), mention_text(m.mention))?;
                for line in m.text.lines() {
                    writeln!(out, "> {line}")?;
                }
                writeln!(out)?;
            }
        }
        if found.more_by_content > 0 {
            writeln!(out, "*{}*\n", more_text(found.more_by_content))?;
        }
    }
    Ok(())
}

fn json(
    out: &mut impl Write,
    reasoner: &mut Option<blame::Reasoner<'_>>,
    b: &Blame,
    shallow: &[&str],
) -> anyhow::Result<()> {
    let value = lore::answer::blame_json(b, reasoner.as_mut(), shallow)?;
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)?;
    Ok(())
}
