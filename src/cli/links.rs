//! `lore links [--kind K] [--min-confidence X] [--max-confidence X] [--commits RANGE]
//! [--session S] [--json]`: every link with its evidence, filtered; the same filters select
//! the links `lore unlink` removes in bulk. Refuses a confidence outside 0–1 or reversed
//! bounds, an unknown kind, and a commit range outside a git repository or naming nothing.
//! Spec: docs/links.md, "`lore links`".

use std::process::ExitCode;

use anstream::println;
use anyhow::Context as _;
use clap::Args;

use lore::db::{Db, LinkQuery, LinkRow};
use lore::link::{Evidence, Git};
use lore::model::LinkKind;

use super::Ctx;
use super::link::short;
use super::output::{DIM, ID, iso, local_time, short_id};

/// Which links: shared by `lore links` and `lore unlink` in bulk.
#[derive(Args, Debug, Clone, Default)]
pub struct LinkFilter {
    /// Links of this kind only (explicit, hook, import, auto); repeat for several.
    #[arg(long = "kind", value_name = "KIND")]
    pub kinds: Vec<String>,
    /// Links at least this sure (0 to 1).
    #[arg(long, value_name = "X")]
    pub min_confidence: Option<f64>,
    /// Links at most this sure (0 to 1).
    #[arg(long, value_name = "X")]
    pub max_confidence: Option<f64>,
    /// Links to the commits of a range of this repository (`main..feature`, `HEAD~5..`), or
    /// to the one commit a revision names.
    #[arg(long, value_name = "RANGE")]
    pub commits: Option<String>,
}

impl LinkFilter {
    /// Whether any filter is given.
    pub fn is_set(&self) -> bool {
        !self.kinds.is_empty()
            || self.min_confidence.is_some()
            || self.max_confidence.is_some()
            || self.commits.is_some()
    }

    /// The store's query for these filters (the commit range read by git in the current
    /// folder's repository).
    pub fn query(&self, session: Option<String>) -> anyhow::Result<LinkQuery> {
        let mut kinds = Vec::new();
        for k in &self.kinds {
            let kind: LinkKind = k.parse().map_err(|_| {
                anyhow::anyhow!(
                    "--kind {k}: not a kind of link; use explicit, hook, import or auto"
                )
            })?;
            if kind == LinkKind::Removed {
                anyhow::bail!(
                    "--kind removed: links taken back are not listed; use explicit, hook, import or auto"
                );
            }
            kinds.push(kind);
        }
        for (flag, v) in [
            ("--min-confidence", self.min_confidence),
            ("--max-confidence", self.max_confidence),
        ] {
            if let Some(x) = v
                && !(0.0..=1.0).contains(&x)
            {
                anyhow::bail!("{flag} {x}: a confidence is between 0 and 1");
            }
        }
        if let (Some(lo), Some(hi)) = (self.min_confidence, self.max_confidence)
            && lo > hi
        {
            anyhow::bail!(
                "--min-confidence {lo} is above --max-confidence {hi}: no link can match"
            );
        }
        let commits = match &self.commits {
            None => None,
            Some(range) => {
                let cwd = std::env::current_dir().context("cannot read the current folder")?;
                let git = Git::discover(&Git::program_from_env(), &cwd)?;
                Some(git.commits_in(range)?)
            }
        };
        Ok(LinkQuery {
            kinds,
            min_confidence: self.min_confidence,
            max_confidence: self.max_confidence,
            session,
            commits,
        })
    }
}

#[derive(Args)]
pub struct LinksArgs {
    #[command(flatten)]
    filter: LinkFilter,
    /// Links of this session only: its id, or any unique beginning of it.
    #[arg(long, value_name = "SESSION")]
    session: Option<String>,
    #[command(flatten)]
    json: crate::cli::output::JsonArg,
}

/// The evidence of a link for people: what was recorded, or what its kind implies.
pub fn why(row: &LinkRow) -> String {
    match Evidence::of_link(row.link.kind, row.evidence.as_deref()).map(|e| e.describe()) {
        Some(w) if !w.is_empty() => w,
        _ => "no evidence recorded".to_owned(),
    }
}

/// One link as JSON (`lore links --json`, `lore unlink --json`).
pub fn row_json(row: &LinkRow) -> serde_json::Value {
    serde_json::json!({
        "session": {
            "id": row.session.id,
            "tool": row.session.tool,
            "title": row.session.title,
        },
        "sha": row.link.commit,
        "kind": row.link.kind,
        "confidence": row.link.confidence,
        "created_at": iso(Some(row.created_at)),
        "evidence": Evidence::of_link(row.link.kind, row.evidence.as_deref()),
    })
}

/// One link as a line of text.
pub fn row_text(row: &LinkRow) -> String {
    let s = &row.session;
    format!(
        "{ID}{}{ID:#} {ID}{}{ID:#} {} {:.2} {DIM}{}{DIM:#}: {} {DIM}({}){DIM:#}",
        short_id(&s.id, s.parent_id.as_deref()),
        short(&row.link.commit),
        row.link.kind.as_str(),
        row.link.confidence,
        local_time(Some(row.created_at)),
        s.title.as_deref().unwrap_or("(untitled)"),
        why(row)
    )
}

/// The links `filter` (and `session`) select in `store`.
pub fn select(
    store: &Db,
    filter: &LinkFilter,
    session: Option<&str>,
) -> anyhow::Result<Vec<LinkRow>> {
    let session = match session {
        Some(s) => Some(store.session(s)?.id),
        None => None,
    };
    Ok(store.all_links(&filter.query(session)?)?)
}

pub fn run(ctx: &Ctx, args: LinksArgs) -> anyhow::Result<ExitCode> {
    let rows = match ctx.home.open_db_readable()? {
        Some(store) => select(&store, &args.filter, args.session.as_deref())?,
        None => {
            // Check the filters all the same: a bad one is an error with or without links.
            args.filter.query(None)?;
            if let Some(s) = &args.session {
                anyhow::bail!("no session matches '{s}': nothing has been imported yet");
            }
            Vec::new()
        }
    };
    if args.json.json {
        super::output::print_json(&serde_json::json!({
            "links": rows.iter().map(row_json).collect::<Vec<_>>(),
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!(
            "No links{}.",
            if args.filter.is_set() || args.session.is_some() {
                " match"
            } else {
                " yet: 'lore link' makes one, 'lore link --auto' finds them"
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    for row in &rows {
        println!("{}", row_text(row));
    }
    println!(
        "{DIM}{} link{}{DIM:#}",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}
