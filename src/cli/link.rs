//! `lore link SESSION [--commit REV]`, `lore link --current`, `lore link --auto`: join
//! sessions to commits (docs/links.md). Each run that links anything is one commit in
//! `lore history` that `lore revert` undoes.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anstream::println;
use anyhow::Context as _;
use clap::{ArgGroup, Args};

use lore::db::Db;
use lore::link::{self, Git};
use lore::model::{Link, LinkKind};
use lore::versioning::now_ms;

use super::Ctx;
use super::output::{DIM, ID, local_time, short_id};

#[derive(Args)]
#[command(group(ArgGroup::new("what").required(true).args(["session", "current", "auto"])))]
pub struct LinkArgs {
    /// The session to link: its id, or any unique beginning of it.
    session: Option<String>,
    /// The commit to link to (default HEAD): an id, a branch, a tag, HEAD~2, …
    #[arg(long, value_name = "REV", conflicts_with = "auto")]
    commit: Option<String>,
    /// Link the sessions of this repository, active in the last 4 hours, whose tool calls
    /// wrote a file or a line the commit changed (what the post-commit hook runs).
    #[arg(long)]
    current: bool,
    /// Find links by scoring sessions against commits: branch, files touched, time. Also
    /// finds linked commits again after amend or rebase, by patch id.
    #[arg(long)]
    auto: bool,
    /// With --auto: sessions active since, and commits made since (default: 30 days).
    #[arg(long, value_name = "WHEN", conflicts_with_all = ["session", "current"])]
    since: Option<String>,
    /// With --auto: print what would be linked, and link nothing.
    #[arg(long, conflicts_with_all = ["session", "current"])]
    dry_run: bool,
    #[command(flatten)]
    json: super::output::JsonArg,
    /// Run by the post-commit hook: links are of kind `hook`, and nothing is printed.
    #[arg(long, conflicts_with_all = ["session", "auto", "json"], hide = true)]
    hook: bool,
}

pub fn run(ctx: &Ctx, args: LinkArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let git = Git::discover(&Git::program_from_env(), &cwd)?;
    if args.auto {
        return auto(ctx, &git, &args);
    }
    if args.current {
        return current(ctx, &git, &args);
    }
    let Some(id) = args.session.as_deref() else {
        anyhow::bail!("name a session, or pass --current or --auto");
    };
    let Some(mut store) = ctx.home.open_db_readable()? else {
        anyhow::bail!(
            "no session matches '{id}': nothing has been imported yet; run 'lore import'"
        );
    };
    let session = store.session(id)?;
    let rev = args.commit.as_deref().unwrap_or("HEAD");
    let commit = git.resolve_commit(rev)?;
    let info = git.commit_info(&commit)?;
    let link = Link {
        commit: commit.clone(),
        kind: LinkKind::Explicit,
        confidence: 1.0,
    };
    // An explicit link replaces a link of any other kind (an `auto` link of 1.00 included):
    // it is "already linked" only when it is explicit already.
    let existing = store.links(&session.id)?;
    if existing.iter().any(|l| {
        l.commit == commit && l.kind == LinkKind::Explicit && l.confidence >= link.confidence
    }) {
        if args.json.json {
            let mut v = explicit_json(&session.id, &commit, &info.subject, false);
            v["link"] = lore::answer::link_json(
                &link,
                store
                    .link_evidence(&session.id)?
                    .get(&commit)
                    .and_then(|e| e.as_deref()),
            );
            super::output::print_json(&v)?;
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "Session {} is already linked to {} {}.",
            session.id,
            short(&commit),
            info.subject
        );
        return Ok(ExitCode::SUCCESS);
    }
    let message = format!("link: session {} to {}", session.id, short(&commit));
    let mut evidence = link::Evidence::parse(
        store
            .link_evidence(&session.id)?
            .get(&commit)
            .and_then(|e| e.as_deref()),
    )
    .unwrap_or_default();
    evidence.merge(&link::evidence_for(&store, &git, &session, &commit)?);
    evidence.user = true;
    store.write(&message, |w| {
        w.set_link(&session.id, &link)?;
        w.set_link_evidence(&session.id, &commit, &evidence.to_json())
    })?;
    if args.json.json {
        let mut v = explicit_json(&session.id, &commit, &info.subject, true);
        v["link"] = lore::answer::link_json(&link, Some(evidence.to_json().as_str()));
        super::output::print_json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Linked session {} ({}) to {} {}.",
        session.id,
        session.title.as_deref().unwrap_or("untitled"),
        short(&commit),
        info.subject
    );
    Ok(ExitCode::SUCCESS)
}

/// `lore link SESSION --json` (docs/json.md) without its `link`: `linked` is false when the
/// session was linked to the commit already.
fn explicit_json(session: &str, sha: &str, subject: &str, linked: bool) -> serde_json::Value {
    serde_json::json!({
        "session_id": session,
        "commit": {"sha": sha, "subject": subject},
        "linked": linked,
    })
}

/// `lore link --current --json` (docs/json.md): the links made and the sessions left out.
fn current_json(
    sha: &str,
    made: &[(&str, &Link, &lore::link::Evidence)],
    without: &[lore::db::SessionRow],
) -> serde_json::Value {
    serde_json::json!({
        "commit": {"sha": sha},
        "links": made.iter().map(|(s, l, e)| serde_json::json!({
            "session_id": s,
            "sha": l.commit,
            "kind": l.kind,
            "confidence": l.confidence,
            "evidence": e,
        })).collect::<Vec<_>>(),
        "not_linked": without.iter().map(|s| serde_json::json!({
            "session_id": s.id,
            "reason": "its tool calls wrote no file and no line of the commit",
        })).collect::<Vec<_>>(),
    })
}

/// The first 12 digits of a commit id, as lore prints them.
pub fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn current(ctx: &Ctx, git: &Git, args: &LinkArgs) -> anyhow::Result<ExitCode> {
    let quiet = args.hook;
    let rev = args.commit.as_deref().unwrap_or("HEAD");
    let commit = git.resolve_commit(rev)?;
    // The post-commit hook runs for every commit a rebase or cherry-pick replays: those are
    // old work, linked (if at all) to the commits they copy; `lore link --auto` finds them
    // again by patch id.
    if args.hook && git.replay_in_progress()?.is_some() {
        return Ok(ExitCode::SUCCESS);
    }
    let now = now_ms();
    let Some(mut store) = refresh_recent(ctx, git)? else {
        if args.json.json {
            super::output::print_json(&current_json(&commit, &[], &[]))?;
        } else if !quiet {
            println!("No session of this repository has been imported; nothing linked.");
        }
        return Ok(ExitCode::SUCCESS);
    };
    let candidates = link::current_candidates(&store, git, &commit, now)?;
    let (kind, by_user) = if args.hook {
        (LinkKind::Hook, false)
    } else {
        (LinkKind::Explicit, true)
    };
    let mut todo = Vec::new();
    let mut without = Vec::new();
    for c in candidates {
        if !c.evidence.has_work() {
            without.push(c.session);
            continue;
        }
        let linked = store
            .links(&c.session.id)?
            .iter()
            .any(|l| l.commit == commit);
        if !linked {
            todo.push(c);
        }
    }
    if todo.is_empty() {
        if args.json.json {
            super::output::print_json(&current_json(&commit, &[], &without))?;
        } else if !quiet {
            print_without(&without, &commit);
            println!(
                "No session of this repository active in the last {} hours wrote a file or a \
                 line that {} changed{}; nothing linked. 'lore link SESSION' links one by hand.",
                link::LOOKBACK_MS / 3_600_000,
                short(&commit),
                if without.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({} session{} looked at)",
                        without.len(),
                        if without.len() == 1 { "" } else { "s" }
                    )
                }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let message = format!(
        "link: {} session{} to {}{}",
        todo.len(),
        if todo.len() == 1 { "" } else { "s" },
        short(&commit),
        if args.hook { " (post-commit hook)" } else { "" }
    );
    let links: Vec<(Link, lore::link::Evidence)> = todo
        .iter()
        .map(|c| {
            let mut evidence = c.evidence.clone();
            evidence.user = by_user;
            // By hand the user vouches for the session, but the confidence still says what
            // the session did: 0.9 at most unless it wrote the commit's lines.
            let confidence = if by_user {
                let mut work = evidence.clone();
                work.user = false;
                work.confidence().max(0.9)
            } else {
                evidence.confidence()
            };
            (
                Link {
                    commit: commit.clone(),
                    kind,
                    confidence,
                },
                evidence,
            )
        })
        .collect();
    store.write(&message, |w| {
        for (c, (link, evidence)) in todo.iter().zip(&links) {
            w.set_link(&c.session.id, link)?;
            w.set_link_evidence(&c.session.id, &link.commit, &evidence.to_json())?;
        }
        Ok::<_, lore::db::DbError>(())
    })?;
    if args.json.json {
        let made: Vec<_> = todo
            .iter()
            .zip(&links)
            .map(|(c, (l, e))| (c.session.id.as_str(), l, e))
            .collect();
        super::output::print_json(&current_json(&commit, &made, &without))?;
    } else if !quiet {
        for (c, (link, evidence)) in todo.iter().zip(&links) {
            println!(
                "Linked session {} ({}) to {} ({:.2}: {}).",
                c.session.id,
                c.session.title.as_deref().unwrap_or("untitled"),
                short(&commit),
                link.confidence,
                evidence.describe()
            );
        }
        print_without(&without, &commit);
    }
    Ok(ExitCode::SUCCESS)
}

/// Says which sessions `lore link --current` left out, and why.
fn print_without(without: &[lore::db::SessionRow], commit: &str) {
    for s in without {
        println!(
            "Not linked: session {} ({}): its tool calls wrote no file and no line of {}.",
            s.id,
            s.title.as_deref().unwrap_or("untitled"),
            short(commit)
        );
    }
}

/// Imports the transcripts in the default locations that changed in the last
/// [`link::LOOKBACK_MS`], so that the sessions that wrote the commit are in lore.db before
/// they are linked.
/// Returns the store, or `None` when there is no lore.db and nothing to import (then none is
/// created).
fn refresh_recent(ctx: &Ctx, git: &Git) -> anyhow::Result<Option<Db>> {
    let config = ctx.config()?;
    let env = |k: &str| std::env::var(k).ok();
    let mut loc = lore::import::default_locations(&config, &env, ctx.user_home.as_deref());
    if git.root().join(".aider.chat.history.md").is_file() {
        loc.aider.push(git.root().to_path_buf());
    }
    let cutoff = SystemTime::now()
        .checked_sub(Duration::from_millis(link::LOOKBACK_MS as u64))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let recent: Vec<_> = loc
        .candidates()
        .into_iter()
        .filter(|c| {
            std::fs::metadata(&c.path)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= cutoff)
        })
        .collect();
    if recent.is_empty() {
        return Ok(ctx.home.open_db_readable()?);
    }
    let mut store = ctx.home.open_db()?;
    let machine_id = ctx.home.machine_id()?;
    lore::import::import(&mut store, recent, &machine_id, None, &mut |_| {})?;
    Ok(Some(store))
}

fn auto(ctx: &Ctx, git: &Git, args: &LinkArgs) -> anyhow::Result<ExitCode> {
    let since = match &args.since {
        Some(s) => super::output::parse_when(s, false).context("--since")?,
        None => now_ms() - 30 * 24 * 3600 * 1000,
    };
    let threshold = ctx
        .config()?
        .fraction("link_auto_threshold")
        .unwrap_or(link::DEFAULT_THRESHOLD);
    let Some(mut store) = ctx.home.open_db_readable()? else {
        if args.json.json {
            let empty = link::AutoPlan::default();
            super::output::print_json(&auto_json(&empty, threshold, args.dry_run))?;
            return Ok(ExitCode::SUCCESS);
        }
        println!("Nothing has been imported yet; nothing to link. Run 'lore import' first.");
        return Ok(ExitCode::SUCCESS);
    };
    let plan = link::plan_auto(&store, git, since, threshold)?;
    if args.json.json {
        super::output::print_json(&auto_json(&plan, threshold, args.dry_run))?;
    }
    let verb = if args.dry_run { "Would link" } else { "Linked" };
    for p in plan.proposals.iter().filter(|_| !args.json.json) {
        let sid = short_id(&p.session.id, p.session.parent_id.as_deref());
        match (&p.relinked_from, &p.score) {
            (Some(_), _) if p.by_content => println!(
                "{verb} session {ID}{sid}{ID:#} to {ID}{}{ID:#} {}: it carries the lines of \
                 linked commit{} {} (a squash, cherry-pick or rebase; found by content).",
                short(&p.commit.id),
                p.commit.subject,
                if p.evidence.carried_from.len() == 1 {
                    ""
                } else {
                    "s"
                },
                p.evidence
                    .carried_from
                    .iter()
                    .map(|c| short(c))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (Some(old), _) => println!(
                "{verb} session {ID}{sid}{ID:#} to {ID}{}{ID:#} {}: it was linked to {}, which \
                 amend or rebase rewrote; {} has the same patch (git patch-id).",
                short(&p.commit.id),
                p.commit.subject,
                short(old),
                short(&p.commit.id),
            ),
            (None, None) if p.by_content => println!(
                "{verb} session {ID}{sid}{ID:#} to {ID}{}{ID:#} {}: its messages wrote {} of the \
                 commit's {} added lines (found by content: a squash, cherry-pick or rebase of \
                 its work), {:.2}.",
                short(&p.commit.id),
                p.commit.subject,
                p.evidence.lines,
                p.evidence.lines_added,
                p.link.confidence,
            ),
            (None, Some(s)) => println!(
                "{verb} session {ID}{sid}{ID:#} to {ID}{}{ID:#} {} {DIM}(score {:.2}: branch \
                 {:.2}, files {:.2} ({} of {}), time {:.2}, {:.0} min apart){DIM:#}",
                short(&p.commit.id),
                p.commit.subject,
                s.total,
                s.branch,
                s.files,
                s.files_matched,
                s.files_changed,
                s.time,
                s.minutes_apart
            ),
            (None, None) => {}
        }
    }
    for l in plan.lost.iter().filter(|_| !args.json.json) {
        println!(
            "Session {ID}{}{ID:#}: linked commit {} is on no branch any more (amended or \
             rebased), and {}; its link is kept.",
            short_id(&l.session_id, None),
            short(&l.commit),
            l.reason
        );
    }
    if plan.proposals.is_empty() {
        if args.json.json {
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "No new links: {} session{} and {} commit{} since {} looked at; {}.",
            plan.sessions,
            if plan.sessions == 1 { "" } else { "s" },
            plan.commits,
            if plan.commits == 1 { "" } else { "s" },
            local_time(Some(since)),
            why_none(&plan, threshold)
        );
        return Ok(ExitCode::SUCCESS);
    }
    if args.dry_run {
        if !args.json.json {
            println!("Dry run: nothing written.");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let n = plan.proposals.len();
    let message = format!(
        "link: {n} link{} by lore link --auto",
        if n == 1 { "" } else { "s" }
    );
    store.write(&message, |w| {
        for p in &plan.proposals {
            if w.set_link(&p.session.id, &p.link)? {
                w.set_link_evidence(&p.session.id, &p.link.commit, &p.evidence.to_json())?;
            }
        }
        Ok::<_, lore::db::DbError>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Why `lore link --auto` proposed nothing, from the pairs it left out.
fn why_none(plan: &link::AutoPlan, threshold: f64) -> String {
    let pairs = |n: usize| format!("{n} pair{}", if n == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    if plan.already_linked > 0 {
        parts.push(format!("{} linked already", pairs(plan.already_linked)));
    }
    if plan.no_shared_file > 0 {
        parts.push(format!(
            "{} with no file of the session's changed",
            pairs(plan.no_shared_file)
        ));
    }
    if plan.below_threshold > 0 {
        parts.push(format!(
            "{} scoring under {threshold:.2}",
            pairs(plan.below_threshold)
        ));
    }
    if parts.is_empty() {
        return format!(
            "no commit authored within {} minutes of a session's activity",
            link::AUTO_WINDOW_MS / 60_000
        );
    }
    format!("of a session and a commit near it, {}", parts.join(", "))
}

/// `lore link --auto --json`: every link made (or proposed), with its score or the commit it
/// replaces, and the rewritten commits not found again.
fn auto_json(plan: &link::AutoPlan, threshold: f64, dry_run: bool) -> serde_json::Value {
    serde_json::json!({
        "dry_run": dry_run,
        "threshold": threshold,
        "session_count": plan.sessions,
        "commit_count": plan.commits,
        "links": plan.proposals.iter().map(|p| serde_json::json!({
            "session_id": p.session.id,
            "commit": {"sha": p.commit.id, "subject": p.commit.subject},
            "kind": p.link.kind,
            "confidence": p.link.confidence,
            "score": p.score.map(|s| serde_json::json!({
                "total": s.total,
                "branch": s.branch,
                "files": s.files,
                "time": s.time,
                "minutes_apart": s.minutes_apart,
                "files_matched": s.files_matched,
                "files_changed": s.files_changed,
            })),
            "relinked_from": p.relinked_from,
            "by_content": p.by_content,
            "evidence": p.evidence,
        })).collect::<Vec<_>>(),
        "lost": plan.lost.iter().map(|l| serde_json::json!({
            "session_id": l.session_id,
            "sha": l.commit,
            "reason": l.reason,
        })).collect::<Vec<_>>(),
    })
}
