//! `lore unlink SESSION [--commit REV | --all]`: remove links, as one revertible commit.

use std::process::ExitCode;

use anstream::println;
use anyhow::Context as _;
use clap::Args;

use lore::link::{Git, GitError};

use super::Ctx;
use super::link::short;

#[derive(Args)]
pub struct UnlinkArgs {
    /// The session: its id, or any unique beginning of it.
    session: String,
    /// The linked commit to remove (default HEAD): anything git resolves, or the beginning
    /// of the id as the link records it (`lore show SESSION` lists them).
    #[arg(long, value_name = "REV", conflicts_with = "all")]
    commit: Option<String>,
    /// Remove every link of the session.
    #[arg(long)]
    all: bool,
}

pub fn run(ctx: &Ctx, args: UnlinkArgs) -> anyhow::Result<ExitCode> {
    let Some(mut store) = ctx.home.open_store_readable()? else {
        anyhow::bail!(
            "no session matches '{}': nothing has been imported yet",
            args.session
        );
    };
    let session = store.session(&args.session)?;
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
    let message = match targets.as_slice() {
        [one] => format!("unlink: session {} from {}", session.id, short(one)),
        many => format!("unlink: session {} from {} commits", session.id, many.len()),
    };
    store.write(&message, |w| {
        for c in &targets {
            w.remove_link(&session.id, c)?;
        }
        Ok::<_, lore::store::StoreError>(())
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
