//! `lore import --hook claude|codex|gemini|qwen`: what an agent runs when a session ends, a turn
//! completes or the context is compacted. Reads the agent's JSON (stdin; Codex: the last
//! argument), imports just that transcript, and exits 0 whatever happens: an agent must never
//! be blocked or failed by lore. Nothing is printed and nothing is asked; each run is one line
//! in `LORE_HOME/logs/hooks.log`. Run twice or at once, the second import finds the file
//! unchanged or waits for the first one's write (SQLite's lock). Spec: docs/capture.md.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;

use lore::agents::Agent;
use lore::agents::hook_input::{self, MAX_PAYLOAD};
use lore::import::default_locations;

use super::Ctx;

/// Runs the hook; always succeeds.
pub fn run(ctx: &Ctx, agent: Agent, args: &[std::path::PathBuf]) -> ExitCode {
    let started = Instant::now();
    let outcome = import(ctx, agent, args);
    let ms = started.elapsed().as_millis();
    let line = match outcome {
        Ok(s) => format!("hook {agent}: {s} ({ms} ms)"),
        Err(e) => format!(
            "hook {agent}: error: {} ({ms} ms)",
            super::output::one_line(&e)
        ),
    };
    let _ = lore::logfile::append(&lore::logfile::path(ctx.home.root(), "hooks.log"), &line);
    ExitCode::SUCCESS
}

fn payload(agent: Agent, args: &[std::path::PathBuf]) -> anyhow::Result<String> {
    // Codex's notify appends the JSON as the last argument.
    if agent == Agent::Codex
        && let Some(last) = args.last()
    {
        return Ok(last.to_string_lossy().into_owned());
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        anyhow::bail!("no hook input (stdin is a terminal; an agent pipes its JSON here)");
    }
    let mut buf = Vec::new();
    stdin
        .lock()
        .take(MAX_PAYLOAD as u64 + 1)
        .read_to_end(&mut buf)
        .context("cannot read the hook input")?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn import(ctx: &Ctx, agent: Agent, args: &[std::path::PathBuf]) -> anyhow::Result<String> {
    let text = payload(agent, args)?;
    let event = hook_input::parse(agent, &text)?;
    let config = ctx.config()?;
    let env = |k: &str| std::env::var(k).ok();
    let loc = default_locations(&config, &env, ctx.user_home.as_deref());
    let candidates = hook_input::transcripts(agent, &event, &loc)?;
    let first = candidates
        .first()
        .map(|c| c.path.display().to_string())
        .unwrap_or_default();
    let files = candidates.len();
    let mut store = ctx.home.open_db()?;
    let machine_id = ctx.home.machine_id()?;
    let s = lore::import::import(&mut store, candidates, &machine_id, None, &mut |_| {})?;
    let mut out = format!(
        "{} {first}{}: {} new, {} updated, {} unchanged",
        event.event.as_deref().unwrap_or("event"),
        if files > 1 {
            format!(" (+{} sub-agent files)", files - 1)
        } else {
            String::new()
        },
        s.new_sessions,
        s.updated_sessions,
        s.unchanged_files + s.unchanged_sessions
    );
    if let Some(p) = s.problems.iter().find(|p| p.line.is_none()) {
        out.push_str(&format!("; skipped: {}", p.message));
    }
    Ok(out)
}
