//! `lore config get|set|unset|list [--json]`

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use lore::config::{Config, KEYS, spec};

use super::Ctx;
use super::output::DIM;

#[derive(Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Print the value in effect for KEY.
    Get { key: String },
    /// Set KEY to VALUE (lists: comma-separated; redact_patterns: one pattern, or a TOML array).
    Set { key: String, value: String },
    /// Remove KEY, so its default applies again.
    Unset { key: String },
    /// Every key with its value and what it does.
    List {
        #[command(flatten)]
        json: super::output::JsonArg,
    },
}

pub fn run(ctx: &Ctx, args: ConfigArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Get { key } => {
            let spec = spec(&key)?;
            let config = ctx.config()?;
            match config.get_set(&key)? {
                Some(v) => println!("{v}"),
                None => println!("{}", spec.default),
            }
        }
        Action::Set { key, value } => {
            spec(&key)?;
            ctx.home.ensure()?;
            let mut config = ctx.config()?;
            config.set(&key, &value)?;
            config.save()?;
        }
        Action::Unset { key } => {
            spec(&key)?;
            let mut config = ctx.config()?;
            if config.unset(&key)? {
                config.save()?;
            }
        }
        Action::List { json } if json.json => list_json(&ctx.config()?)?,
        Action::List { .. } => list(&ctx.config()?)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `lore config list --json` (docs/json.md): every key, its value in effect, its default,
/// whether it is set, and what it does.
fn list_json(config: &Config) -> anyhow::Result<()> {
    let mut settings = Vec::new();
    for k in KEYS {
        let set = config.get_set(k.name)?;
        settings.push(serde_json::json!({
            "key": k.name,
            "value": set.as_ref().map_or_else(|| k.default.to_owned(), ToString::to_string),
            "default": k.default,
            "set": set.is_some(),
            "description": k.help,
        }));
    }
    super::output::print_json(&serde_json::json!({ "settings": settings }))
}

fn list(config: &Config) -> anyhow::Result<()> {
    let mut out = anstream::stdout().lock();
    for k in KEYS {
        let value = match config.get_set(k.name)? {
            Some(v) => v.to_string(),
            None => format!("{DIM}{} (default){DIM:#}", k.default),
        };
        writeln!(out, "{} = {value}", k.name)?;
        writeln!(out, "    {DIM}{}{DIM:#}", k.help)?;
    }
    Ok(())
}
