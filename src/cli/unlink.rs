//! `lore unlink SESSION [--commit REV | --all] [--dry-run]`: remove links, as one revertible
//! commit; `lore unlink [SESSION] --kind K --max-confidence X --commits RANGE …`: every link
//! the filters of `lore links` select. Refuses no session and no filter. docs/links.md.

use std::process::ExitCode;

use anstream::println;
use anyhow::Context as _;
use clap::Args;

use lore::link::{Git, GitError};

use super::Ctx;
use super::link::short;
use super::links::LinkFilter;

#[derive(Args)]
pub struct UnlinkArgs {
    /// The session: its id, or any unique beginning of it (optional with filters).
    session: Option<String>,
    /// The linked commit to remove (default HEAD): anything git resolves, or the beginning
    /// of the id as the link records it (`lore show SESSION` lists them).
    #[arg(long, value_name = "REV", conflicts_with = "all")]
    commit: Option<String>,
    /// Remove every link of the session.
    #[arg(long)]
    all: bool,
    /// Remove every link these filters select (as `lore links` lists them).
    #[command(flatten)]
    filter: LinkFilter,
    /// Print what would be removed; write nothing.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(ctx: &Ctx, args: UnlinkArgs) -> anyhow::Result<ExitCode> {
    if args.filter.is_set() {
        if args.commit.is_some() || args.all {
            anyhow::bail!(
                "--commit and --all are for one session; with --kind, --min-confidence, \
                 --max-confidence or --commits the filters alone select the links"
            );
        }
        return bulk(ctx, &args);
    }
    let Some(wanted) = args.session.as_deref() else {
        anyhow::bail!(
            "which links? give a session ('lore unlink SESSION'), or filters to remove links in \
             bulk (--kind, --min-confidence, --max-confidence, --commits; 'lore links' lists them)"
        );
    };
    let Some(mut store) = ctx.home.open_db_readable()? else {
        anyhow::bail!("no session matches '{wanted}': nothing has been imported yet");
    };
    let session = store.session(wanted)?;
    let links = store.links(&session.id)?;
    let targets: Vec<String> = if args.all {
        links.iter().map(|l| l.commit.clone()).collect()
    } else {
        let rev = args.commit.as_deref().unwrap_or("HEAD");
        // The commit as this repository names it, when lore runs in one that knows it.
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        let full = match Git::discover(&Git::program_from_env(), &cwd) {
            Ok(git) => match git.resolve_commit(rev) {
                Ok(id) => Some(id),
                Err(GitError::UnknownRevision(_) | GitError::NoCommits) => None,
                Err(e) => return Err(e.into()),
            },
            Err(GitError::NotARepository(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let matches: Vec<String> = links
            .iter()
            .filter(|l| match &full {
                // The full id, or a link recorded with an abbreviation of it.
                Some(f) => l.commit == *f || (l.commit.len() >= 7 && f.starts_with(&l.commit)),
                None => rev.len() >= 4 && l.commit.starts_with(rev),
            })
            .map(|l| l.commit.clone())
            .collect();
        match matches.len() {
            0 if full.is_none() && args.commit.is_none() => anyhow::bail!(
                "no commit to unlink: run this in the repository, or pass --commit with the id \
                 ('lore show {}' lists its links)",
                session.id
            ),
            0 => anyhow::bail!(
                "session {} is not linked to {rev}; 'lore show {}' lists its links",
                session.id,
                session.id
            ),
            // With the commit resolved, every match names it (recorded whole, or abbreviated
            // as Aider writes it): all of them go.
            _ if full.is_some() => matches,
            1 => matches,
            n => anyhow::bail!(
                "'{rev}' matches {n} links of session {}; give more digits of the commit id",
                session.id
            ),
        }
    };
    if targets.is_empty() {
        println!("Session {} has no links; nothing to remove.", session.id);
        return Ok(ExitCode::SUCCESS);
    }
    if args.dry_run {
        for c in &targets {
            println!("Would unlink session {} from {}.", session.id, short(c));
        }
        println!("Dry run: nothing written.");
        return Ok(ExitCode::SUCCESS);
    }
    let message = match targets.as_slice() {
        [one] => format!("unlink: session {} from {}", session.id, short(one)),
        many => format!("unlink: session {} from {} commits", session.id, many.len()),
    };
    store.write(&message, |w| {
        for c in &targets {
            w.remove_link(&session.id, c)?;
        }
        Ok::<_, lore::db::DbError>(())
    })?;
    for c in &targets {
        println!("Unlinked session {} from {}.", session.id, short(c));
    }
    println!(
        "'lore sync' takes it back for teammates too; 'lore revert' undoes this here, \
         'lore link' makes it again."
    );
    Ok(ExitCode::SUCCESS)
}

/// `lore unlink` by filters: every link they select, in one commit.
fn bulk(ctx: &Ctx, args: &UnlinkArgs) -> anyhow::Result<ExitCode> {
    let Some(mut store) = ctx.home.open_db_readable()? else {
        args.filter.query(None)?;
        if let Some(s) = &args.session {
            anyhow::bail!("no session matches '{s}': nothing has been imported yet");
        }
        println!("No links match; nothing to remove.");
        return Ok(ExitCode::SUCCESS);
    };
    let rows = super::links::select(&store, &args.filter, args.session.as_deref())?;
    if rows.is_empty() {
        println!("No links match; nothing to remove.");
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if args.dry_run {
        "Would unlink"
    } else {
        "Unlinked"
    };
    if args.dry_run {
        for r in &rows {
            println!("{verb} {}", super::links::row_text(r));
        }
        println!("Dry run: nothing written.");
        return Ok(ExitCode::SUCCESS);
    }
    let n = rows.len();
    let message = format!(
        "unlink: {n} link{} by filter",
        if n == 1 { "" } else { "s" }
    );
    store.write(&message, |w| {
        for r in &rows {
            w.remove_link(&r.session.id, &r.link.commit)?;
        }
        Ok::<_, lore::db::DbError>(())
    })?;
    for r in &rows {
        println!("{verb} {}", super::links::row_text(r));
    }
    println!(
        "{n} link{} removed in one commit: 'lore revert' undoes it; 'lore sync' takes them back \
         for teammates too.",
        if n == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}
