//! `lore mcp serve`: the archive as an MCP server on stdin/stdout, read-only (src/mcp.rs,
//! docs/mcp.md).

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::Ctx;

#[derive(Args)]
pub struct McpArgs {
    #[command(subcommand)]
    command: McpCommand,
}

#[derive(Subcommand)]
enum McpCommand {
    /// Serve the archive to a coding agent over stdio (read-only): `claude mcp add lore -- lore mcp serve`.
    Serve,
}

pub fn run(ctx: &Ctx, args: McpArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        McpCommand::Serve => {
            let cwd = std::env::current_dir().context("cannot read the current folder")?;
            lore::mcp::serve(ctx.home.clone(), cwd)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
