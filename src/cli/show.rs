//! `lore show ID [--json | --markdown] [--role R,…] [--all] [--message N | --around N [-C K]]
//! [--no-pager]`, `lore show --commit REV [--json]`
//!
//! The text view hides tool output and system text (one line says what and how to see it),
//! shows tool calls decoded and edits as diffs (lore::reading), lists sub-agents, and pages
//! on a terminal (pager.rs). `--json` keeps its shape and takes none of the reading flags.
//! Read docs/reading.md.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use anstyle::{AnsiColor, Style};
use lore::db::Db;
use lore::db::query::PagedMessage;
use lore::model::{Kind, Message, Role};
use lore::reading::{DiffLine, Hidden};

use super::Ctx;
use super::output::{BOLD, DIM, ID, fit, iso, local_time, short_id};
use super::sessions::session_json;

#[derive(Args)]
pub struct ShowArgs {
    /// The session id, or any unique beginning of it.
    #[arg(required_unless_present = "commit")]
    id: Option<String>,
    /// Instead of a session: the sessions linked to this commit (anything git resolves).
    #[arg(
        long,
        value_name = "REV",
        conflicts_with_all = ["id", "markdown", "role", "all", "message", "around"]
    )]
    commit: Option<String>,
    /// Print JSON: the session and all its messages.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print Markdown, for pasting into a pull request or a document.
    #[arg(long)]
    markdown: bool,
    /// Only messages of these roles: a comma list of user, assistant, tool, system.
    #[arg(long, value_name = "ROLES", conflicts_with = "json")]
    role: Option<String>,
    /// Show everything: tool output and system/injected text are hidden by default.
    #[arg(short, long, conflicts_with = "json")]
    all: bool,
    /// Only message N (the number `lore search` prints), in full.
    #[arg(long, value_name = "N", conflicts_with_all = ["json", "around"])]
    message: Option<u64>,
    /// Message N with a few messages either side (-C sets how many).
    #[arg(long, value_name = "N", conflicts_with = "json")]
    around: Option<u64>,
    /// How many messages --around shows either side of N.
    #[arg(
        short = 'C',
        long,
        value_name = "K",
        default_value_t = 3,
        requires = "around"
    )]
    context: u64,
    /// Never start a pager (one is used on a terminal: LORE_PAGER, PAGER, or less).
    #[arg(long)]
    no_pager: bool,
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
    let roles = match &args.role {
        Some(list) => lore::reading::parse_roles(list)?,
        None => Vec::new(),
    };
    let range = Range::of(&store, &s.id, &args, &roles)?;
    let children = store.children(&s.id)?;
    let spawned: Vec<Option<String>> = children
        .iter()
        .map(|c| store.first_prompt(&c.id))
        .collect::<Result<_, _>>()?;
    let mut out = super::pager::start(args.no_pager);

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
        range.each(&store, &s.id, &roles, false, |p| {
            Ok(write_markdown(&mut out, &p.message)?)
        })?;
        if range.whole() && !children.is_empty() {
            writeln!(out, "\n## Sub-agents\n")?;
            for c in &children {
                writeln!(
                    out,
                    "- `{}` {} ({} messages)",
                    c.id,
                    c.title.as_deref().unwrap_or("(untitled)"),
                    c.message_count
                )?;
            }
        }
        out.finish()?;
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

    // What the default view leaves out: a tool's output unless --all, --role tool or the
    // message asked for by number; system text likewise.
    let hides = |p: &PagedMessage| {
        !args.all
            && range.focus != Some(p.ordinal)
            && lore::reading::hidden_by_default(p.message.role, p.message.kind)
                .is_some_and(|_| !roles.contains(&p.message.role))
    };
    let omit_output = !args.all && !roles.contains(&Role::Tool);
    let mut hidden = HiddenRun::default();
    range.each(&store, &s.id, &roles, omit_output, |p| {
        if hides(p) {
            hidden.add(p);
            return Ok(());
        }
        hidden.flush(&mut out)?;
        let full;
        let p = if p.message.content.is_empty() && p.chars > 0 {
            // Its output was left unread; this one is shown, so read it.
            full = store.messages_page(&s.id, p.ordinal, &[], false, 1)?;
            full.first().unwrap_or(p)
        } else {
            p
        };
        write_text(&mut out, p)?;
        if p.message.kind == Kind::ToolUse {
            let call = lore::reading::decode_call(p.message.tool_name.as_deref(), &p.message.content);
            if let Some(prompt) = &call.prompt {
                for (c, first) in children.iter().zip(&spawned) {
                    if first.as_deref().map(str::trim) == Some(prompt.trim()) {
                        let short = short_id(&c.id, c.parent_id.as_deref());
                        writeln!(
                            out,
                            "{DIM}↳ sub-agent{DIM:#} {ID}{short}{ID:#} {DIM}({} messages): lore show {short}{DIM:#}",
                            c.message_count
                        )?;
                    }
                }
            }
        }
        Ok(())
    })?;
    hidden.flush(&mut out)?;
    if range.whole() && !children.is_empty() {
        writeln!(out, "\n{BOLD}Sub-agents{BOLD:#}")?;
        for c in &children {
            writeln!(
                out,
                "  {ID}{}{ID:#}  {}  {DIM}{} messages{DIM:#}",
                short_id(&c.id, c.parent_id.as_deref()),
                fit(c.title.as_deref().unwrap_or("(untitled)"), 60),
                c.message_count
            )?;
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// How many messages are read from the database at a time.
const PAGE: usize = 200;

/// The ordinals a view shows: all, one (`--message`), or one with context (`--around`).
struct Range {
    from: i64,
    to: Option<i64>,
    /// The message asked for by number: shown in full even when the view would hide it.
    focus: Option<i64>,
}

impl Range {
    fn of(store: &Db, id: &str, args: &ShowArgs, roles: &[Role]) -> anyhow::Result<Range> {
        let Some(n) = args.message.or(args.around) else {
            return Ok(Range {
                from: 0,
                to: None,
                focus: None,
            });
        };
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let short = short_id(id, None);
        match store.ordinal_range(id)? {
            None => anyhow::bail!("session {short} has no messages, so no message {n}"),
            Some((lo, hi)) if n < lo || n > hi => anyhow::bail!(
                "session {short} has no message {n}: its messages are numbered {lo} to {hi}"
            ),
            Some(_) => {}
        }
        if args.message.is_some() {
            let found = store.messages_page(id, n, roles, true, 1)?;
            if found.first().map(|p| p.ordinal) != Some(n) {
                let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                anyhow::bail!(
                    "message {n} of session {short} is not one of the roles asked for ({}); drop --role to see it",
                    names.join(",")
                );
            }
            return Ok(Range {
                from: n,
                to: Some(n),
                focus: Some(n),
            });
        }
        let k = i64::try_from(args.context).unwrap_or(i64::MAX);
        Ok(Range {
            from: n.saturating_sub(k).max(0),
            to: Some(n.saturating_add(k)),
            focus: Some(n),
        })
    }

    /// Whether the view is the whole session.
    fn whole(&self) -> bool {
        self.focus.is_none()
    }

    /// Calls `f` with each message in the range whose role is in `roles` (all when empty), in
    /// order, reading [`PAGE`] at a time; with `omit_output`, tool results come without their
    /// content (and `chars` its length).
    fn each(
        &self,
        store: &Db,
        id: &str,
        roles: &[Role],
        omit_output: bool,
        mut f: impl FnMut(&PagedMessage) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut from = self.from;
        loop {
            let page = store.messages_page(id, from, roles, omit_output, PAGE)?;
            for p in &page {
                if self.to.is_some_and(|t| p.ordinal > t) {
                    return Ok(());
                }
                f(p)?;
            }
            match page.last() {
                Some(last) if page.len() == PAGE => from = last.ordinal + 1,
                _ => return Ok(()),
            }
        }
    }
}

/// Consecutive messages the view left out, told in one line where they were.
#[derive(Default)]
struct HiddenRun {
    outputs: u64,
    chars: i64,
    system: u64,
}

impl HiddenRun {
    fn add(&mut self, p: &PagedMessage) {
        match lore::reading::hidden_by_default(p.message.role, p.message.kind) {
            Some(Hidden::ToolOutput) => {
                self.outputs += 1;
                self.chars += p.chars;
            }
            Some(Hidden::System) => self.system += 1,
            None => {}
        }
    }

    fn flush(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let mut what = Vec::new();
        if self.outputs > 0 {
            what.push(format!(
                "{} tool output{} ({} chars)",
                self.outputs,
                if self.outputs == 1 { "" } else { "s" },
                self.chars
            ));
        }
        if self.system > 0 {
            what.push(format!(
                "{} system message{}",
                self.system,
                if self.system == 1 { "" } else { "s" }
            ));
        }
        if !what.is_empty() {
            writeln!(
                out,
                "\n{DIM}⋯ hidden: {}; --all shows them{DIM:#}",
                what.join(", ")
            )?;
        }
        *self = HiddenRun::default();
        Ok(())
    }
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

const ADDED: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
const REMOVED: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
const HUNK: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)));

fn write_text(out: &mut impl Write, p: &PagedMessage) -> std::io::Result<()> {
    let m = &p.message;
    let style = match m.role {
        Role::User => BOLD,
        _ => DIM,
    };
    writeln!(out, "\n{style}── #{} {} ──{style:#}", p.ordinal, heading(m))?;
    match m.kind {
        Kind::ToolUse => write_call(out, m),
        Kind::Thinking => writeln!(out, "{DIM}{}{DIM:#}", m.content.trim_end()),
        _ => writeln!(out, "{}", m.content.trim_end()),
    }
}

/// A tool call: its input as `key: value` lines, and what it edits or writes as a diff.
fn write_call(out: &mut impl Write, m: &Message) -> std::io::Result<()> {
    let call = lore::reading::decode_call(m.tool_name.as_deref(), &m.content);
    for (key, value) in &call.fields {
        let value = value.trim_end();
        match key {
            None => writeln!(out, "{value}")?,
            Some(k) if value.contains('\n') => {
                writeln!(out, "{DIM}{k}:{DIM:#}")?;
                for line in value.lines() {
                    writeln!(out, "  {line}")?;
                }
            }
            Some(k) => writeln!(out, "{DIM}{k}:{DIM:#} {value}")?,
        }
    }
    for d in &call.diffs {
        if let Some(path) = &d.path {
            writeln!(out, "{BOLD}--- {path}\n+++ {path}{BOLD:#}")?;
        }
        for line in &d.lines {
            let style = match line {
                DiffLine::Header(_) => BOLD,
                DiffLine::Hunk(_) => HUNK,
                DiffLine::Added(_) => ADDED,
                DiffLine::Removed(_) => REMOVED,
                DiffLine::Context(_) => Style::new(),
            };
            writeln!(out, "{style}{}{style:#}", line.text())?;
        }
    }
    Ok(())
}

fn write_markdown(out: &mut dyn Write, m: &Message) -> std::io::Result<()> {
    writeln!(out, "\n## {}\n", heading(m))?;
    // A fence longer than any backtick run inside keeps the block intact.
    let fenced = |out: &mut dyn Write, lang: &str, text: &str| {
        let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
        writeln!(out, "{fence}{lang}\n{}\n{fence}", text.trim_end())
    };
    match m.kind {
        Kind::ToolUse => {
            // Decoded as in the text view: `key: value` lines, then each edit as a diff.
            let call = lore::reading::decode_call(m.tool_name.as_deref(), &m.content);
            let mut fields = String::new();
            for (key, value) in &call.fields {
                match key {
                    Some(k) => fields.push_str(&format!("{k}: {}\n", value.trim_end())),
                    None => fields.push_str(&format!("{}\n", value.trim_end())),
                }
            }
            if !fields.is_empty() {
                fenced(out, "", &fields)?;
            }
            for d in &call.diffs {
                let mut text = String::new();
                if let Some(path) = &d.path {
                    text.push_str(&format!("--- {path}\n+++ {path}\n"));
                }
                for line in &d.lines {
                    text.push_str(&line.text());
                    text.push('\n');
                }
                fenced(out, "diff", &text)?;
            }
            Ok(())
        }
        Kind::ToolResult => fenced(out, "", &m.content),
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
