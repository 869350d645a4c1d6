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
pub mod register;
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
    /// Qwen Code: Claude Code's hook settings shape in `~/.qwen/settings.json`.
    Qwen,
    /// GitHub Copilot CLI: a hooks file of lore's own in `~/.copilot/hooks/`.
    Copilot,
    /// Cursor (the IDE and its CLI agent): `~/.cursor/hooks.json`.
    Cursor,
    /// Factory Droid: Claude Code's hook groups in `~/.factory/hooks.json`, else in
    /// `~/.factory/settings.json`.
    Droid,
    /// Cline (the VS Code extension): executable scripts of lore's own, one per event, in
    /// `~/Documents/Cline/Hooks/`.
    Cline,
}

impl Agent {
    pub const ALL: [Agent; 8] = [
        Agent::Claude,
        Agent::Codex,
        Agent::Gemini,
        Agent::Qwen,
        Agent::Copilot,
        Agent::Cursor,
        Agent::Droid,
        Agent::Cline,
    ];

    /// The name used by `lore import --hook NAME`.
    pub fn as_str(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini",
            Agent::Qwen => "qwen",
            Agent::Copilot => "copilot",
            Agent::Cursor => "cursor",
            Agent::Droid => "droid",
            Agent::Cline => "cline",
        }
    }

    pub fn tool(self) -> Tool {
        match self {
            Agent::Claude => Tool::ClaudeCode,
            Agent::Codex => Tool::Codex,
            Agent::Gemini => Tool::Gemini,
            Agent::Qwen => Tool::Qwen,
            Agent::Copilot => Tool::Copilot,
            Agent::Cursor => Tool::Cursor,
            Agent::Droid => Tool::Droid,
            Agent::Cline => Tool::Cline,
        }
    }

    /// What people call it.
    pub fn display_name(self) -> &'static str {
        match self {
            Agent::Claude => "Claude Code",
            Agent::Codex => "Codex CLI",
            Agent::Gemini => "Gemini CLI",
            Agent::Qwen => "Qwen Code",
            Agent::Copilot => "GitHub Copilot CLI",
            Agent::Cursor => "Cursor",
            Agent::Droid => "Factory Droid",
            Agent::Cline => "Cline",
        }
    }

    /// The agent's folder (`~/.claude`, `$CODEX_HOME`, `~/.gemini`) as lore's default
    /// locations give it.
    pub fn root(self, loc: &DefaultLocations) -> Option<PathBuf> {
        match self {
            // The first: $CLAUDE_CONFIG_DIR or ~/.claude, where Claude Code's settings are.
            Agent::Claude => loc.claude.first().cloned(),
            Agent::Codex => loc.codex.clone(),
            Agent::Gemini => loc.gemini.clone(),
            Agent::Qwen => loc.qwen.clone(),
            Agent::Copilot => loc.copilot.clone(),
            Agent::Cursor => loc.cursor.clone(),
            Agent::Droid => loc.droid.clone(),
            Agent::Cline => loc.cline.clone(),
        }
    }

    /// The user settings file lore's hook goes into.
    pub fn settings_file(self, root: &Path) -> PathBuf {
        match self {
            Agent::Claude | Agent::Gemini | Agent::Qwen => root.join("settings.json"),
            Agent::Codex => root.join("config.toml"),
            // Copilot CLI reads every `*.json` in `hooks/`: this one is lore's alone.
            Agent::Copilot => root.join("hooks").join("lore.json"),
            Agent::Cursor => root.join("hooks.json"),
            // Droid reads `hooks.json` (0.136 and later) and, only when there is none, the
            // `hooks` of `settings.json` (every version with hooks).
            Agent::Droid => {
                let hooks = root.join("hooks.json");
                if hooks.exists() {
                    hooks
                } else {
                    root.join("settings.json")
                }
            }
            // One script per event (`Hooks/TaskComplete`, `Hooks/TaskCancel`): this is the
            // first; `settings::install_hook` writes each.
            Agent::Cline => root.join("Hooks").join(self.events()[0]),
        }
    }

    /// Whether `lore init` can also give the agent lore's MCP server and skill (Copilot CLI,
    /// Cursor and Droid: not yet, docs/capture.md).
    pub fn has_access_registration(self) -> bool {
        matches!(
            self,
            Agent::Claude | Agent::Codex | Agent::Gemini | Agent::Qwen
        )
    }

    /// The events lore's hook is registered for (Codex has one `notify` program instead).
    pub fn events(self) -> &'static [&'static str] {
        match self {
            // Stop: after every reply, so a session is in lore while it runs; SessionEnd and
            // PreCompact: before the transcript is closed or compacted.
            Agent::Claude => &["SessionEnd", "Stop", "PreCompact"],
            Agent::Gemini => &["SessionEnd", "AfterAgent", "PreCompress"],
            // Qwen Code's hooks take Claude Code's event names.
            Agent::Qwen => &["SessionEnd", "Stop", "PreCompact"],
            // camelCase names: Copilot CLI then sends camelCase fields (`sessionId`,
            // `transcriptPath`).
            Agent::Copilot => &["agentStop", "sessionEnd", "preCompact"],
            Agent::Cursor => &["stop", "sessionEnd", "preCompact"],
            // Claude Code's event names.
            Agent::Droid => &["SessionEnd", "Stop", "PreCompact"],
            // A task that ends or is cancelled; a task is resumed later under the same id.
            Agent::Cline => &["TaskComplete", "TaskCancel"],
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
            "qwen" | "qwen-code" => Ok(Agent::Qwen),
            "copilot" => Ok(Agent::Copilot),
            "cursor" => Ok(Agent::Cursor),
            "droid" | "factory" => Ok(Agent::Droid),
            "cline" => Ok(Agent::Cline),
            _ => Err(format!(
                "unknown agent '{s}' (expected claude, codex, gemini, qwen, copilot, cursor, droid or cline)"
            )),
        }
    }
}

/// A coding tool found on this machine.
#[derive(Debug, Clone)]
pub struct Detected {
    pub tool: Tool,
    /// Its folder (`~/.claude`, ...), or for Aider the first history configured.
    pub root: PathBuf,
    /// The agent lore can register a hook with; `None`: the tool has no hook system (Aider).
    pub agent: Option<Agent>,
    /// Its transcripts on disk.
    pub transcripts: Vec<crate::capture::Candidate>,
}

/// The tools whose folders exist under `loc`, with their transcripts, in [`Tool::ALL`] order.
pub fn detect(loc: &DefaultLocations) -> Vec<Detected> {
    let all = loc.candidates();
    let mut out = Vec::new();
    for tool in Tool::ALL {
        let agent = Agent::ALL.into_iter().find(|a| a.tool() == tool);
        // The agent's own folder, where its hook settings go; else (Cursor's IDE without
        // `~/.cursor`) wherever the tool's transcripts are, with no hook to offer.
        // Cline's own folder (`~/Documents/Cline`) may not exist yet while the extension has
        // tasks: its hook scripts go there all the same.
        let has_own_folder = |a: Agent, r: &PathBuf| {
            r.is_dir() || (a == Agent::Cline && all.iter().any(|c| c.tool == Some(tool)))
        };
        let (root, agent) = match agent.and_then(|a| a.root(loc).filter(|r| has_own_folder(a, r))) {
            Some(r) => (Some(r), agent),
            None => (loc.root_of(tool).filter(|r| r.exists()), None),
        };
        let transcripts: Vec<_> = all
            .iter()
            .filter(|c| c.tool == Some(tool))
            .cloned()
            .collect();
        if let Some(root) = root
            && (agent.is_some() || !transcripts.is_empty())
        {
            out.push(Detected {
                tool,
                root,
                agent,
                transcripts,
            });
        }
    }
    out
}

/// The command an agent runs: this lore binary, `import --hook AGENT`.
#[derive(Debug, Clone)]
pub struct HookCommand {
    pub exe: PathBuf,
    /// Set when lore runs with a `LORE_HOME` of its own: the hook must import there too,
    /// whatever environment the agent starts it in.
    pub lore_home: Option<PathBuf>,
}

impl HookCommand {
    /// What tells lore's hook apart from any other: `import --hook AGENT`.
    pub fn marker(agent: Agent) -> String {
        format!("import --hook {agent}")
    }

    /// A shell command line (Claude Code and Gemini CLI run hooks through a shell).
    pub fn shell(&self, agent: Agent) -> String {
        let home = match &self.lore_home {
            Some(h) => format!("LORE_HOME={} ", shell_quote(&h.to_string_lossy())),
            None => String::new(),
        };
        format!(
            "{home}{} {}",
            shell_quote(&self.exe.to_string_lossy()),
            Self::marker(agent)
        )
    }

    /// An argument vector (Codex's `notify` runs a program and appends its JSON argument).
    pub fn argv(&self, agent: Agent) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(h) = &self.lore_home {
            v.push("env".to_owned());
            v.push(format!("LORE_HOME={}", h.to_string_lossy()));
        }
        v.extend([
            self.exe.to_string_lossy().into_owned(),
            "import".into(),
            "--hook".into(),
            agent.as_str().into(),
        ]);
        v
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
        let mut c = HookCommand {
            exe: PathBuf::from("/x y/lore"),
            lore_home: None,
        };
        assert_eq!(c.shell(Agent::Claude), "'/x y/lore' import --hook claude");
        c.lore_home = Some(PathBuf::from("/h/.lore"));
        assert_eq!(
            c.shell(Agent::Gemini),
            "LORE_HOME=/h/.lore '/x y/lore' import --hook gemini"
        );
        assert_eq!(c.argv(Agent::Codex)[..2], ["env", "LORE_HOME=/h/.lore"]);
    }
}
