//! The coding agents lore captures from without being asked: where each keeps its settings,
//! how lore registers its hook with them (and takes it back), what a hook hands lore, and when
//! a tool's retention setting will delete transcripts.
//!
//! Refuses to edit a settings file that does not parse (JSON, TOML) and never replaces another
//! tool's hook: lore's is added beside it. Every edit is recorded so that `lore init --undo`
//! restores the file byte for byte. Spec: docs/capture.md. (Not lore's git hooks: those are
//! `crate::hooks`, docs/hooks.md. `crate::capture` is the importers.)

pub mod hook_input;
pub mod json_edit;
pub mod retention;
pub mod settings;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::capture::DefaultLocations;
use crate::model::Tool;

/// An agent with a hook system lore can register with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Agent {
    Claude,
    Codex,
    Gemini,
}

impl Agent {
    pub const ALL: [Agent; 3] = [Agent::Claude, Agent::Codex, Agent::Gemini];

    /// The name used by `lore import --hook NAME`.
    pub fn as_str(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini",
        }
    }

    pub fn tool(self) -> Tool {
        match self {
            Agent::Claude => Tool::ClaudeCode,
            Agent::Codex => Tool::Codex,
            Agent::Gemini => Tool::Gemini,
        }
    }

    /// What people call it.
    pub fn display_name(self) -> &'static str {
        match self {
            Agent::Claude => "Claude Code",
            Agent::Codex => "Codex CLI",
            Agent::Gemini => "Gemini CLI",
        }
    }

    /// The agent's folder (`~/.claude`, `$CODEX_HOME`, `~/.gemini`) as lore's default
    /// locations give it.
    pub fn root(self, loc: &DefaultLocations) -> Option<PathBuf> {
        match self {
            Agent::Claude => loc.claude.clone(),
            Agent::Codex => loc.codex.clone(),
            Agent::Gemini => loc.gemini.clone(),
        }
    }

    /// The user settings file lore's hook goes into.
    pub fn settings_file(self, root: &Path) -> PathBuf {
        match self {
            Agent::Claude | Agent::Gemini => root.join("settings.json"),
            Agent::Codex => root.join("config.toml"),
        }
    }

    /// The events lore's hook is registered for (Codex has one `notify` program instead).
    pub fn events(self) -> &'static [&'static str] {
        match self {
            // Stop: after every reply, so a session is in lore while it runs; SessionEnd and
            // PreCompact: before the transcript is closed or compacted.
            Agent::Claude => &["SessionEnd", "Stop", "PreCompact"],
            Agent::Gemini => &["SessionEnd", "AfterAgent", "PreCompress"],
            Agent::Codex => &[],
        }
    }
}

impl fmt::Display for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Agent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "claude" | "claude-code" => Ok(Agent::Claude),
            "codex" => Ok(Agent::Codex),
            "gemini" => Ok(Agent::Gemini),
            _ => Err(format!(
                "unknown agent '{s}' (expected claude, codex or gemini)"
            )),
        }
    }
}

/// The command an agent runs: this lore binary, `import --hook AGENT`.
#[derive(Debug, Clone)]
pub struct HookCommand {
    pub exe: PathBuf,
}

impl HookCommand {
    /// What tells lore's hook apart from any other: `import --hook AGENT`.
    pub fn marker(agent: Agent) -> String {
        format!("import --hook {agent}")
    }

    /// A shell command line (Claude Code and Gemini CLI run hooks through a shell).
    pub fn shell(&self, agent: Agent) -> String {
        format!(
            "{} {}",
            shell_quote(&self.exe.to_string_lossy()),
            Self::marker(agent)
        )
    }

    /// An argument vector (Codex's `notify` runs a program and appends its JSON argument).
    pub fn argv(&self, agent: Agent) -> Vec<String> {
        vec![
            self.exe.to_string_lossy().into_owned(),
            "import".into(),
            "--hook".into(),
            agent.as_str().into(),
        ]
    }
}

/// `s` as one POSIX shell word.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_paths_for_the_shell() {
        assert_eq!(shell_quote("/usr/bin/lore"), "/usr/bin/lore");
        assert_eq!(shell_quote("/a b/it's"), r"'/a b/it'\''s'");
        let c = HookCommand {
            exe: PathBuf::from("/x y/lore"),
        };
        assert_eq!(c.shell(Agent::Claude), "'/x y/lore' import --hook claude");
    }
}
