//! `lore show ID [--json | --markdown]`, `lore show --commit REV [--json]`

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use lore::model::{Kind, Message, Role};

use super::Ctx;
use super::output::{BOLD, DIM, ID, iso, local_time};
use super::sessions::session_json;

#[derive(Args)]
pub struct ShowArgs {
    /// The session id, or any unique beginning of it.
    #[arg(required_unless_present = "commit")]
    id: Option<String>,
    /// Instead of a session: the sessions linked to this commit (anything git resolves).
    #[arg(long, value_name = "REV", conflicts_with_all = ["id", "markdown"])]
    commit: Option<String>,
    /// Print JSON: the session and all its messages.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print Markdown, for pasting into a pull request or a document.
    #[arg(long)]
    markdown: bool,
}

pub fn run(ctx: &Ctx, args: ShowArgs) -> anyhow::Result<ExitCode> {
    if let Some(rev) = &args.commit {
        return commit(ctx, rev, args.json);
    }
    let id = args.id.as_deref().unwrap_or_default();
    let Some(store) = ctx.home.open_db_readable()? else {
        anyhow::bail!(
            "no session matches '{id}': nothing has been imported yet; run 'lore import'"
        );
    };
    let s = store.session(id)?;
    let links = store.links(&s.id)?;
    let evidence = store.link_evidence(&s.id)?;
    let why = |l: &lore::model::Link| {
        lore::link::Evidence::of_link(l.kind, evidence.get(&l.commit).and_then(|e| e.as_deref()))
    };
    let tags = store.tags(&s.id)?;
    let notes = store.annotations(&s.id)?;
    if args.json {
        // Straight to stdout, not through anstream: it strips control characters (U+007F,
        // which JSON need not escape) when stdout is a pipe. JSON escapes the others itself.
        let mut out = std::io::stdout().lock();
        // Streamed: the messages are written one by one, whatever the session's size.
        let mut head = session_json(&s);
        head["links"] = links
            .iter()
            .map(|l| lore::answer::link_json(l, evidence.get(&l.commit).and_then(|e| e.as_deref())))
            .collect::<Vec<_>>()
            .into();
        head["tags"] = serde_json::to_value(&tags)?;
        head["annotations"] = notes
            .iter()
            .map(|(body, at)| serde_json::json!({"body": body, "created_at": iso(Some(*at))}))
            .collect::<Vec<_>>()
            .into();
        let head = serde_json::to_string_pretty(&head)?;
        let head = head.trim_end().trim_end_matches('}').trim_end();
        write!(out, "{head},\n  \"messages\": [")?;
        // A session's ordinals run from 0 without gaps (db::merge numbers them), in the order
        // for_each_message gives.
        let mut ordinal = 0u64;
        store.for_each_message(&s.id, |m| {
            let v = serde_json::json!({
                "ordinal": ordinal, "role": m.role, "kind": m.kind,
                "created_at": iso(m.timestamp), "tool_name": m.tool_name, "content": m.content,
            });
            write!(out, "{}\n    {}", if ordinal == 0 { "" } else { "," }, v)?;
            ordinal += 1;
            Ok(())
        })?;
        writeln!(out, "{}]\n}}", if ordinal == 0 { "" } else { "\n  " })?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = anstream::stdout().lock();

    let title = s.title.clone().unwrap_or_else(|| "(untitled)".into());
    let tool = match (&s.tool_version, &s.model) {
        (Some(v), Some(m)) => format!("{} {v}, {m}", s.tool),
        (Some(v), None) => format!("{} {v}", s.tool),
        (None, Some(m)) => format!("{}, {m}", s.tool),
        (None, None) => s.tool.clone(),
    };
    let where_ = match (&s.cwd, &s.git_branch) {
        (Some(c), Some(b)) => format!("{c} (branch {b})"),
        (Some(c), None) => c.clone(),
        (None, Some(b)) => format!("branch {b}"),
        (None, None) => "-".into(),
    };
    let commits: Vec<String> = links
        .iter()
        .map(|l| {
            let why = why(l).map(|e| e.describe()).unwrap_or_default();
            if why.is_empty() {
                format!("{} ({})", l.commit, l.kind.as_str())
            } else {
                format!("{} ({}: {why})", l.commit, l.kind.as_str())
            }
        })
        .collect();

    if args.markdown {
        writeln!(out, "# {title}\n")?;
        writeln!(out, "- **Session:** `{}`", s.id)?;
        writeln!(out, "- **Tool:** {tool}")?;
        writeln!(out, "- **Started:** {}", local_time(s.started_at))?;
        writeln!(out, "- **Updated:** {}", local_time(s.updated_at))?;
        writeln!(out, "- **Where:** {where_}")?;
        if !commits.is_empty() {
            writeln!(out, "- **Commits:** {}", commits.join(", "))?;
        }
        store.for_each_message(&s.id, |m| write_markdown(&mut out, &m))?;
        return Ok(ExitCode::SUCCESS);
    }

    writeln!(out, "{BOLD}{title}{BOLD:#}")?;
    writeln!(out, "{DIM}Session{DIM:#}  {ID}{}{ID:#}", s.id)?;
    writeln!(out, "{DIM}Tool{DIM:#}     {tool}")?;
    writeln!(
        out,
        "{DIM}Time{DIM:#}     {} → {}",
        local_time(s.started_at),
        local_time(s.updated_at)
    )?;
    writeln!(out, "{DIM}Where{DIM:#}    {where_}")?;
    if let Some(p) = &s.parent_id {
        writeln!(out, "{DIM}Parent{DIM:#}   {p}")?;
    }
    if !commits.is_empty() {
        writeln!(out, "{DIM}Commits{DIM:#}  {}", commits.join(", "))?;
    }
    if !tags.is_empty() {
        writeln!(out, "{DIM}Tags{DIM:#}     {}", tags.join(", "))?;
    }
    for (body, at) in &notes {
        writeln!(
            out,
            "{DIM}Note{DIM:#}     {} {DIM}({}){DIM:#}",
            body,
            local_time(Some(*at))
        )?;
    }
    writeln!(out, "{DIM}Messages{DIM:#} {}", s.message_count)?;
    store.for_each_message(&s.id, |m| write_text(&mut out, &m))?;
    Ok(ExitCode::SUCCESS)
}

fn heading(m: &Message) -> String {
    let who = match (m.role, m.kind) {
        (_, Kind::Thinking) => "assistant (thinking)".to_owned(),
        (_, Kind::ToolUse) => format!("tool call: {}", m.tool_name.as_deref().unwrap_or("?")),
        (_, Kind::ToolResult) => format!("tool result: {}", m.tool_name.as_deref().unwrap_or("?")),
        (Role::User, _) => "user".to_owned(),
        (Role::Assistant, _) => "assistant".to_owned(),
        (Role::Tool, _) => "tool".to_owned(),
        (Role::System, _) => "system".to_owned(),
    };
    match m.timestamp {
        Some(_) => format!("{who} · {}", local_time(m.timestamp)),
        None => who,
    }
}

fn write_text(out: &mut impl Write, m: &Message) -> std::io::Result<()> {
    let style = match m.role {
        Role::User => BOLD,
        _ => DIM,
    };
    writeln!(out, "\n{style}── {} ──{style:#}", heading(m))?;
    writeln!(out, "{}", m.content.trim_end())
}

fn write_markdown(out: &mut impl Write, m: &Message) -> std::io::Result<()> {
    writeln!(out, "\n## {}\n", heading(m))?;
    match m.kind {
        Kind::ToolUse | Kind::ToolResult => {
            // A fence longer than any backtick run inside keeps the block intact.
            let longest = longest_backtick_run(&m.content);
            let fence = "`".repeat(longest.max(2) + 1);
            writeln!(out, "{fence}\n{}\n{fence}", m.content.trim_end())
        }
        Kind::Thinking => {
            for line in m.content.trim_end().lines() {
                writeln!(out, "> {line}")?;
            }
            Ok(())
        }
        Kind::Text => writeln!(out, "{}", m.content.trim_end()),
    }
}

fn longest_backtick_run(s: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// `lore show --commit REV`: the commit, and every session linked to it.
fn commit(ctx: &Ctx, rev: &str, json: bool) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let git = lore::link::Git::discover(&lore::link::Git::program_from_env(), &cwd)?;
    let store = ctx.home.open_db_readable()?;
    if json {
        let v = lore::answer::commit_sessions(store.as_ref(), &git, rev)?;
        super::output::print_json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    let id = git.resolve_commit(rev)?;
    let info = git.commit_info(&id)?;
    let linked = match &store {
        Some(s) => s.sessions_for_commit(&id)?,
        None => Vec::new(),
    };
    let mut out = anstream::stdout().lock();
    let short = super::link::short(&info.id);
    writeln!(out, "{ID}{short}{ID:#} {BOLD}{}{BOLD:#}", info.subject)?;
    writeln!(
        out,
        "{DIM}{} <{}>, {}{DIM:#}",
        info.author,
        info.author_email,
        local_time(Some(info.author_time))
    )?;
    if linked.is_empty() {
        writeln!(out, "No reasoning linked to {short}.")?;
        return Ok(ExitCode::SUCCESS);
    }
    for l in &linked {
        let s = &l.session;
        writeln!(
            out,
            "{ID}{}{ID:#}  {}  {}  {} {:.2}  {}",
            super::output::short_id(&s.id, s.parent_id.as_deref()),
            s.tool,
            local_time(s.started_at.or(s.updated_at)),
            l.link.kind.as_str(),
            l.link.confidence,
            s.title.as_deref().unwrap_or("(untitled)")
        )?;
        let why = lore::link::Evidence::of_link(l.link.kind, l.evidence.as_deref())
            .map(|e| e.describe())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "no evidence recorded".to_owned());
        writeln!(out, "  {DIM}why: {why}{DIM:#}")?;
    }
    Ok(ExitCode::SUCCESS)
}
