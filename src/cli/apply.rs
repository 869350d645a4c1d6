//! `lore apply [-f FILE|-] [--db PATH] [--json]`: apply a plan as one commit.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use lore::versioning::{apply, plan::Plan};

use super::Ctx;
use super::db::{DbArg, Mode, in_transaction, read_plan};
use super::output::print_json;

#[derive(Args)]
pub struct ApplyArgs {
    /// The plan file; `-` or nothing reads standard input.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    json: super::output::JsonArg,
}

pub fn run(ctx: &Ctx, args: ApplyArgs) -> anyhow::Result<ExitCode> {
    let plan = Plan::parse(&read_plan(args.file.as_ref())?)?;
    let mut conn = args.db.open(ctx, Mode::Write)?;
    let summary = in_transaction(&mut conn, |c| Ok(apply::apply(c, &plan)?))?;
    if args.json.json {
        print_json(&super::output::db_commit_summary(&summary))?;
    } else {
        println!("{}", summary.commit_id);
    }
    Ok(ExitCode::SUCCESS)
}
