//! Where transcripts live: each tool's default folders, and walking the paths a user names.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::Candidate;
use crate::model::Tool;

/// The folders `lore import` scans when it is given no path.
///
/// Built by the caller from the environment (`$CLAUDE_CONFIG_DIR`, `$CODEX_HOME`, `$HOME`) so
/// that the library never reads process state behind the caller's back.
#[derive(Debug, Clone, Default)]
pub struct DefaultLocations {
    /// `$CLAUDE_CONFIG_DIR`, or `~/.claude` and (where it exists) `~/.config/claude`.
    pub claude: Vec<PathBuf>,
    /// `$CODEX_HOME` or `~/.codex`.
    pub codex: Option<PathBuf>,
    /// `~/.gemini`.
    pub gemini: Option<PathBuf>,
    /// Aider keeps one history per repository; these are the files (or folders holding
    /// `.aider.chat.history.md`) to read.
    pub aider: Vec<PathBuf>,
    /// `$COPILOT_HOME` or `~/.copilot` (GitHub Copilot CLI).
    pub copilot: Option<PathBuf>,
    /// `~/.cursor` (Cursor's agent transcripts).
    pub cursor: Option<PathBuf>,
    /// `$QWEN_HOME` or `~/.qwen` (Qwen Code).
    pub qwen: Option<PathBuf>,
    /// `$PI_CODING_AGENT_DIR` or `~/.pi/agent` (Pi).
    pub pi: Option<PathBuf>,
    /// `~/.factory` (Factory Droid).
    pub droid: Option<PathBuf>,
    /// `~/.kiro` (Kiro CLI).
    pub kiro: Option<PathBuf>,
    /// `$CONTINUE_GLOBAL_DIR` or `~/.continue` (Continue).
    pub continue_dev: Option<PathBuf>,
    /// VS Code's (and its forks') `User/globalStorage` folders, where Cline, Roo Code and Kilo
    /// Code keep `<extension id>/tasks/<task id>/`.
    pub vscode: Vec<PathBuf>,
    /// `~/Documents/Cline` (config `cline_dir`): Cline's own folder, whose `Hooks/` scripts
    /// it runs. Hooks only: its tasks are under `vscode`.
    pub cline: Option<PathBuf>,
    /// `$XDG_DATA_HOME/amp` or `~/.local/share/amp` (Amp's local threads, until 2026).
    pub amp: Option<PathBuf>,
    /// Cursor IDE's `User` folders (`~/.config/Cursor/User`, `~/Library/Application
    /// Support/Cursor/User`, config `cursor_ide_dir`): `globalStorage/state.vscdb` holds its
    /// conversations.
    pub cursor_ide: Vec<PathBuf>,
    /// OpenCode's data folder (`$XDG_DATA_HOME/opencode`, else `~/.local/share/opencode`),
    /// holding `opencode.db` (or a channel's `opencode-<channel>.db`); or one database file.
    pub opencode: Option<PathBuf>,
    /// Crush keeps one database per project (`<project>/.crush/crush.db`): the projects (or
    /// database files) named in the config's `crush_paths`.
    pub crush: Vec<PathBuf>,
    /// Goose's data folder (`$XDG_DATA_HOME/goose`, else `~/.local/share/goose`), holding
    /// `sessions/sessions.db`.
    pub goose: Option<PathBuf>,
    /// Kilo CLI's data folder (`$XDG_DATA_HOME/kilo`, else `~/.local/share/kilo`) holding
    /// `kilo.db`; or the database file itself (`$KILO_DB`).
    pub kilo: Option<PathBuf>,
}

impl DefaultLocations {
    /// Every transcript under the default locations, each tagged with its tool.
    pub fn candidates(&self) -> Vec<Candidate> {
        let mut out = Vec::new();
        for root in &self.claude {
            // projects/<dir>/<id>.jsonl, projects/<dir>/agent-<id>.jsonl and
            // projects/<dir>/<id>/subagents/agent-<id>.jsonl. tool-results/ holds no transcripts.
            walk(&root.join("projects"), Some(4), &mut |p| {
                let rel = p.strip_prefix(root.join("projects")).unwrap_or(p);
                let depth = rel.components().count();
                let in_subagents = rel
                    .parent()
                    .and_then(Path::file_name)
                    .is_some_and(|n| n == "subagents");
                if has_ext(p, "jsonl") && (depth == 2 || (depth == 4 && in_subagents)) {
                    out.push(tagged(p, Tool::ClaudeCode));
                }
            });
        }
        if let Some(root) = &self.codex {
            for sub in ["sessions", "archived_sessions"] {
                walk(&root.join(sub), None, &mut |p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    if name.starts_with("rollout-") && (has_ext(p, "jsonl") || has_ext(p, "json")) {
                        out.push(tagged(p, Tool::Codex));
                    }
                });
            }
        }
        if let Some(root) = &self.gemini {
            // tmp/<project>/chats/<file>.jsonl|.json and chats/<parent>/<id>.jsonl (sub-agents);
            // tmp/<project>/logs.json and checkpoint-<tag>.json.
            let tmp = root.join("tmp");
            walk(&tmp, Some(4), &mut |p| {
                let in_chats = p
                    .ancestors()
                    .skip(1)
                    .take(2)
                    .any(|a| a.file_name().is_some_and(|n| n == "chats"));
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let beside_chats = p
                    .strip_prefix(&tmp)
                    .is_ok_and(|r| r.components().count() == 2)
                    && (name == "logs.json"
                        || (name.starts_with("checkpoint-") && has_ext(p, "json")));
                if (in_chats && (has_ext(p, "jsonl") || has_ext(p, "json"))) || beside_chats {
                    out.push(tagged(p, Tool::Gemini));
                }
            });
        }
        if let Some(root) = &self.copilot {
            // session-state/<session id>/events.jsonl
            let state = root.join("session-state");
            walk(&state, Some(2), &mut |p| {
                if is_copilot_events(&state, p) {
                    out.push(tagged(p, Tool::Copilot));
                }
            });
        }
        if let Some(root) = &self.cursor {
            // projects/<slug>/agent-transcripts/<id>.jsonl and …/<id>/<id>.jsonl
            let projects = root.join("projects");
            walk(&projects, Some(4), &mut |p| {
                if is_cursor_transcript(&projects, p) {
                    out.push(tagged(p, Tool::Cursor));
                }
            });
        }
        if let Some(root) = &self.qwen {
            // projects/<slug>/chats/<id>.jsonl; tmp/<hash>/{logs.json, checkpoint-*.json,
            // chats/session-*}.
            walk(root, Some(4), &mut |p| {
                if is_qwen_file(root, p) {
                    out.push(tagged(p, Tool::Qwen));
                }
            });
        }
        if let Some(root) = &self.pi {
            // sessions/--<cwd>--/<time>_<id>.jsonl
            let sessions = root.join("sessions");
            walk(&sessions, Some(2), &mut |p| {
                if is_pi_session(&sessions, p) {
                    out.push(tagged(p, Tool::Pi));
                }
            });
        }
        if let Some(root) = &self.droid {
            // sessions/<cwd slug>/<id>.jsonl
            let sessions = root.join("sessions");
            walk(&sessions, Some(2), &mut |p| {
                if is_pi_session(&sessions, p) {
                    out.push(tagged(p, Tool::Droid));
                }
            });
        }
        if let Some(root) = &self.kiro {
            // sessions/cli/<id>.jsonl
            let cli = root.join("sessions/cli");
            walk(&cli, Some(1), &mut |p| {
                if has_ext(p, "jsonl") {
                    out.push(tagged(p, Tool::Kiro));
                }
            });
        }
        if let Some(root) = &self.continue_dev {
            // sessions/<id>.json (sessions.json is the index)
            let sessions = root.join("sessions");
            walk(&sessions, Some(1), &mut |p| {
                if is_continue_session(p) {
                    out.push(tagged(p, Tool::Continue));
                }
            });
        }
        for root in &self.vscode {
            // <extension id>/tasks/<task id>/api_conversation_history.json (else ui_messages.json)
            walk(root, Some(4), &mut |p| {
                if let Some(tool) = cline_task_file(root, p) {
                    out.push(tagged(p, tool));
                }
            });
        }
        for user in &self.cursor_ide {
            let db = user.join("globalStorage/state.vscdb");
            if db.is_file() {
                out.push(tagged(&db, Tool::Cursor));
            }
        }
        for p in &self.crush {
            let db = crush_db(p);
            if db.is_file() {
                out.push(tagged(&db, Tool::Crush));
            }
        }
        if let Some(db) = self.goose.as_ref().map(|g| g.join("sessions/sessions.db"))
            && db.is_file()
        {
            out.push(tagged(&db, Tool::Goose));
        }
        for (root, tool) in [(&self.opencode, Tool::OpenCode), (&self.kilo, Tool::Kilo)] {
            let Some(root) = root else { continue };
            if root.is_file() {
                out.push(tagged(root, tool));
                continue;
            }
            walk(root, Some(1), &mut |p| {
                if is_database_of(tool, root, p) {
                    out.push(tagged(p, tool));
                }
            });
            // Before 1.2, OpenCode kept a JSON tree: a file per session names the rest.
            if tool == Tool::OpenCode {
                walk(&root.join("storage/session"), Some(2), &mut |p| {
                    if is_storage_session(root, p) {
                        out.push(tagged(p, tool));
                    }
                });
            }
        }
        if let Some(root) = &self.amp {
            // threads/T-<id>.json
            walk(&root.join("threads"), Some(1), &mut |p| {
                if is_amp_thread(p) {
                    out.push(tagged(p, Tool::Amp));
                }
            });
        }
        for p in &self.aider {
            let file = if p.is_dir() {
                p.join(".aider.chat.history.md")
            } else {
                p.clone()
            };
            if file.is_file() {
                out.push(tagged(&file, Tool::Aider));
            }
        }
        out
    }
}

impl DefaultLocations {
    /// The tool whose transcript `p` would be under these locations (the rules of
    /// [`DefaultLocations::candidates`], for one path): what `lore watch` asks of each changed file.
    pub fn tool_of(&self, p: &Path) -> Option<Tool> {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let hidden = |rel: &Path| {
            rel.components()
                .rev()
                .skip(1)
                .any(|c| c.as_os_str().to_str().is_some_and(|n| n.starts_with('.')))
        };
        for root in &self.claude {
            let Ok(rel) = p.strip_prefix(root.join("projects")) else {
                continue;
            };
            if hidden(rel) {
                continue;
            }
            let depth = rel.components().count();
            let in_subagents = rel
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "subagents");
            return (has_ext(p, "jsonl") && (depth == 2 || (depth == 4 && in_subagents)))
                .then_some(Tool::ClaudeCode);
        }
        if let Some(root) = &self.codex {
            for sub in ["sessions", "archived_sessions"] {
                if let Ok(rel) = p.strip_prefix(root.join(sub))
                    && !hidden(rel)
                {
                    return (name.starts_with("rollout-")
                        && (has_ext(p, "jsonl") || has_ext(p, "json")))
                    .then_some(Tool::Codex);
                }
            }
        }
        if let Some(root) = &self.gemini
            && let Ok(rel) = p.strip_prefix(root.join("tmp"))
            && !hidden(rel)
        {
            let depth = rel.components().count();
            let in_chats = p
                .ancestors()
                .skip(1)
                .take(2)
                .any(|a| a.file_name().is_some_and(|n| n == "chats"));
            let beside_chats = depth == 2
                && (name == "logs.json" || (name.starts_with("checkpoint-") && has_ext(p, "json")));
            return (depth <= 4
                && ((in_chats && (has_ext(p, "jsonl") || has_ext(p, "json"))) || beside_chats))
                .then_some(Tool::Gemini);
        }
        if let Some(root) = &self.copilot {
            let state = root.join("session-state");
            if let Ok(rel) = p.strip_prefix(&state)
                && !hidden(rel)
            {
                return is_copilot_events(&state, p).then_some(Tool::Copilot);
            }
        }
        if let Some(root) = &self.cursor {
            let projects = root.join("projects");
            if let Ok(rel) = p.strip_prefix(&projects)
                && !hidden(rel)
            {
                return is_cursor_transcript(&projects, p).then_some(Tool::Cursor);
            }
        }
        if let Some(root) = &self.qwen
            && let Ok(rel) = p.strip_prefix(root)
            && !hidden(rel)
        {
            return is_qwen_file(root, p).then_some(Tool::Qwen);
        }
        if let Some(root) = &self.pi {
            let sessions = root.join("sessions");
            if let Ok(rel) = p.strip_prefix(&sessions)
                && !hidden(rel)
            {
                return is_pi_session(&sessions, p).then_some(Tool::Pi);
            }
        }
        if let Some(root) = &self.droid {
            let sessions = root.join("sessions");
            if let Ok(rel) = p.strip_prefix(&sessions)
                && !hidden(rel)
            {
                return is_pi_session(&sessions, p).then_some(Tool::Droid);
            }
        }
        if let Some(root) = &self.kiro
            && let Ok(rel) = p.strip_prefix(root.join("sessions/cli"))
        {
            return (has_ext(p, "jsonl") && rel.components().count() == 1).then_some(Tool::Kiro);
        }
        if let Some(root) = &self.continue_dev
            && let Ok(rel) = p.strip_prefix(root.join("sessions"))
        {
            return (rel.components().count() == 1 && is_continue_session(p))
                .then_some(Tool::Continue);
        }
        for root in &self.vscode {
            if p.starts_with(root) {
                return cline_task_file(root, p);
            }
        }
        if let Some(root) = &self.amp
            && let Ok(rel) = p.strip_prefix(root.join("threads"))
        {
            return (rel.components().count() == 1 && is_amp_thread(p)).then_some(Tool::Amp);
        }
        if self
            .cursor_ide
            .iter()
            .any(|u| p == u.join("globalStorage/state.vscdb"))
        {
            return Some(Tool::Cursor);
        }
        if self.crush.iter().any(|c| p == crush_db(c)) {
            return Some(Tool::Crush);
        }
        if self
            .goose
            .as_ref()
            .is_some_and(|g| p == g.join("sessions/sessions.db"))
        {
            return Some(Tool::Goose);
        }
        for (root, tool) in [(&self.opencode, Tool::OpenCode), (&self.kilo, Tool::Kilo)] {
            let Some(root) = root else { continue };
            if p == root.as_path()
                || is_database_of(tool, root, p)
                || (tool == Tool::OpenCode && is_storage_session(root, p))
            {
                return Some(tool);
            }
        }
        for a in &self.aider {
            let file = if a.extension().is_some() || a.is_file() {
                a.clone()
            } else {
                a.join(".aider.chat.history.md")
            };
            if p == file {
                return Some(Tool::Aider);
            }
        }
        None
    }

    /// The folders to watch for these locations: each tool's folder that exists.
    pub fn roots(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .claude
            .iter()
            .chain(&self.codex)
            .chain(&self.gemini)
            .chain(&self.copilot)
            .chain(&self.cursor)
            .chain(&self.qwen)
            .chain(&self.pi)
            .chain(&self.droid)
            .chain(&self.kiro)
            .chain(&self.continue_dev)
            .chain(&self.vscode)
            .chain(&self.amp)
            .chain(&self.opencode)
            .chain(&self.kilo)
            .chain(&self.goose)
            .filter(|p| p.is_dir())
            .cloned()
            .collect();
        for c in &self.crush {
            if let Some(d) = crush_db(c).parent().filter(|d| d.is_dir()) {
                v.push(d.to_path_buf());
            }
        }
        for u in &self.cursor_ide {
            let g = u.join("globalStorage");
            if g.is_dir() {
                v.push(g);
            }
        }
        for a in &self.aider {
            let dir = if a.is_dir() {
                Some(a.as_path())
            } else {
                a.parent()
            };
            if let Some(d) = dir.filter(|d| d.is_dir()) {
                v.push(d.to_path_buf());
            }
        }
        v
    }
}

impl DefaultLocations {
    /// The folder a tool keeps its transcripts under (for Aider, the first history configured).
    pub fn root_of(&self, tool: Tool) -> Option<PathBuf> {
        match tool {
            Tool::ClaudeCode => self.claude.first().cloned(),
            Tool::Codex => self.codex.clone(),
            Tool::Gemini => self.gemini.clone(),
            Tool::Copilot => self.copilot.clone(),
            Tool::Qwen => self.qwen.clone(),
            Tool::Pi => self.pi.clone(),
            Tool::Droid => self.droid.clone(),
            Tool::Kiro => self.kiro.clone(),
            Tool::Continue => self.continue_dev.clone(),
            Tool::Amp => self.amp.clone(),
            Tool::Cline | Tool::RooCode | Tool::KiloCode => {
                let id = super::cline::EXTENSIONS
                    .iter()
                    .find(|(_, t)| *t == tool)
                    .map(|(id, _)| *id)?;
                let dirs: Vec<PathBuf> = self.vscode.iter().map(|r| r.join(id)).collect();
                dirs.iter().find(|d| d.is_dir()).or(dirs.first()).cloned()
            }
            // The agent's folder, else the IDE's where only the IDE is installed.
            Tool::Cursor => self
                .cursor
                .clone()
                .filter(|c| c.exists())
                .or_else(|| self.cursor_ide.iter().find(|u| u.exists()).cloned())
                .or_else(|| self.cursor.clone()),
            Tool::OpenCode => self.opencode.clone(),
            Tool::Kilo => self.kilo.clone(),
            Tool::Crush => self.crush.first().map(|c| crush_db(c)),
            Tool::Goose => self.goose.clone(),
            Tool::Aider => self.aider.first().cloned(),
        }
    }
}

/// `<state>/<session id>/events.jsonl`.
fn is_copilot_events(state: &Path, p: &Path) -> bool {
    p.file_name().is_some_and(|n| n == "events.jsonl")
        && p.strip_prefix(state)
            .is_ok_and(|r| r.components().count() == 2)
}

/// `<projects>/<slug>/agent-transcripts/<id>.jsonl` or `…/agent-transcripts/<id>/<id>.jsonl`.
fn is_cursor_transcript(projects: &Path, p: &Path) -> bool {
    if !has_ext(p, "jsonl") {
        return false;
    }
    let Ok(rel) = p.strip_prefix(projects) else {
        return false;
    };
    let parts: Vec<&std::ffi::OsStr> = rel.iter().collect();
    match parts.as_slice() {
        [_, dir, _] => *dir == "agent-transcripts",
        [_, dir, id, file] => {
            *dir == "agent-transcripts" && Path::new(file).file_stem() == Some(*id)
        }
        _ => false,
    }
}

/// Qwen Code under `root`: `projects/<slug>/chats/<id>.jsonl`, and the Gemini-shaped
/// `tmp/<hash>/logs.json`, `tmp/<hash>/checkpoint-<tag>.json`, `tmp/<hash>/chats/session-*`.
fn is_qwen_file(root: &Path, p: &Path) -> bool {
    let Ok(rel) = p.strip_prefix(root) else {
        return false;
    };
    let parts: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
    match parts.as_slice() {
        ["projects", _, "chats", _] => has_ext(p, "jsonl"),
        ["tmp", _, name] => {
            *name == "logs.json" || (name.starts_with("checkpoint-") && has_ext(p, "json"))
        }
        ["tmp", _, "chats", name] => {
            name.starts_with("session-") && (has_ext(p, "json") || has_ext(p, "jsonl"))
        }
        _ => false,
    }
}

/// A Cline-family task file under a `globalStorage` folder, with its tool:
/// `<extension id>/tasks/<id>/api_conversation_history.json`, or `ui_messages.json` when the
/// task has no API history.
fn cline_task_file(root: &Path, p: &Path) -> Option<Tool> {
    let rel = p.strip_prefix(root).ok()?;
    let parts: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
    let [ext, "tasks", _, file] = parts.as_slice() else {
        return None;
    };
    let lower = ext.to_ascii_lowercase();
    let tool = super::cline::EXTENSIONS
        .iter()
        .find(|(id, _)| *id == lower)
        .map(|(_, t)| *t)?;
    let wanted = *file == "api_conversation_history.json"
        || (*file == "ui_messages.json"
            && !p.with_file_name("api_conversation_history.json").exists());
    wanted.then_some(tool)
}

/// `T-<id>.json` (an Amp thread).
fn is_amp_thread(p: &Path) -> bool {
    has_ext(p, "json")
        && p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("T-"))
}

/// A Continue session file: `<id>.json`, not the `sessions.json` index.
fn is_continue_session(p: &Path) -> bool {
    has_ext(p, "json") && p.file_name().is_some_and(|n| n != "sessions.json")
}

/// `<sessions>/<cwd folder>/<file>.jsonl` (Pi, Factory Droid).
fn is_pi_session(sessions: &Path, p: &Path) -> bool {
    has_ext(p, "jsonl")
        && p.strip_prefix(sessions)
            .is_ok_and(|r| r.components().count() == 2)
}

/// A configured Crush path: a database file as it is, a project folder's `.crush/crush.db`.
fn crush_db(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.join(".crush/crush.db")
    } else {
        p.to_path_buf()
    }
}

/// `<root>/opencode.db`, `<root>/opencode-<channel>.db` (and `kilo…` for Kilo CLI), not their
/// `-wal`/`-shm` companions.
fn is_database_of(tool: Tool, root: &Path, p: &Path) -> bool {
    let prefix = match tool {
        Tool::OpenCode => "opencode",
        Tool::Kilo => "kilo",
        _ => return false,
    };
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    p.parent() == Some(root) && name.starts_with(prefix) && has_ext(p, "db")
}

/// Files under the paths a user named: files as they are, folders walked (hidden folders and
/// files that cannot be transcripts by their name are left out), sorted.
pub fn discover(paths: &[PathBuf], tool: Option<Tool>) -> std::io::Result<Vec<Candidate>> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        if meta.is_file() {
            out.push(Candidate {
                path: path.clone(),
                tool,
            });
            continue;
        }
        walk(path, None, &mut |p| {
            if is_transcript_name(p) {
                out.push(Candidate {
                    path: p.to_path_buf(),
                    tool,
                });
            }
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    Ok(out)
}

/// `<root>/storage/session/<project>/ses_….json`: an OpenCode session before 1.2.
fn is_storage_session(root: &Path, p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with("ses_")
        && super::opencode_storage::storage_of(p).is_some_and(|s| s == root.join("storage"))
}

fn is_transcript_name(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    // An OpenCode message or part is read with its session file.
    if super::opencode_storage::is_companion(p) {
        return false;
    }
    name.ends_with(".aider.chat.history.md")
        || has_ext(p, "jsonl")
        || has_ext(p, "json")
        || has_ext(p, "md")
        || has_ext(p, "db")
        || has_ext(p, "vscdb")
}

fn has_ext(p: &Path, ext: &str) -> bool {
    p.extension().is_some_and(|e| e == ext)
}

fn tagged(p: &Path, tool: Tool) -> Candidate {
    Candidate {
        path: p.to_path_buf(),
        tool: Some(tool),
    }
}

/// Calls `f` for every regular file under `root` (not following symlinks, skipping hidden
/// folders below the root), in a stable order. A missing root is simply empty.
fn walk(root: &Path, max_depth: Option<usize>, f: &mut dyn FnMut(&Path)) {
    let mut w = WalkDir::new(root).follow_links(false).sort_by_file_name();
    if let Some(d) = max_depth {
        w = w.max_depth(d);
    }
    let it = w.into_iter().filter_entry(|e| {
        e.depth() == 0
            || !e.file_type().is_dir()
            || !e.file_name().to_str().is_some_and(|n| n.starts_with('.'))
    });
    for entry in it.flatten() {
        if entry.file_type().is_file() {
            f(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn touch(p: &Path) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, b"{}\n").unwrap();
    }

    #[test]
    fn default_locations_find_each_layout() {
        let d = tempfile::tempdir().unwrap();
        let c = d.path().join("claude");
        touch(&c.join("projects/-home-u-x/aaa.jsonl"));
        touch(&c.join("projects/-home-u-x/agent-1.jsonl"));
        touch(&c.join("projects/-home-u-x/aaa/subagents/agent-2.jsonl"));
        touch(&c.join("projects/-home-u-x/aaa/tool-results/big.jsonl"));
        let x = d.path().join("codex");
        touch(&x.join("sessions/2026/03/11/rollout-2026-03-11T10-00-00-u.jsonl"));
        touch(&x.join("sessions/rollout-old.jsonl"));
        touch(&x.join("sessions/notes.jsonl"));
        let g = d.path().join("gemini");
        touch(&g.join("tmp/slug/chats/session-1.jsonl"));
        touch(&g.join("tmp/slug/chats/session-0.json"));
        touch(&g.join("tmp/slug/logs.json"));
        let k = d.path().join("copilot");
        touch(&k.join("session-state/0a1b/events.jsonl"));
        touch(&k.join("session-state/0a1b/workspace.yaml"));
        touch(&k.join("session-state/0a1b/checkpoints/events.jsonl"));
        let u = d.path().join("cursor");
        touch(&u.join("projects/p-x/agent-transcripts/c1.jsonl"));
        touch(&u.join("projects/p-x/agent-transcripts/c2/c2.jsonl"));
        touch(&u.join("projects/p-x/agent-transcripts/c1.txt"));
        touch(&u.join("projects/p-x/other/c3.jsonl"));
        let q = d.path().join("qwen");
        touch(&q.join("projects/c--w/chats/0f1e.jsonl"));
        touch(&q.join("projects/c--w/chats/notes.txt"));
        touch(&q.join("tmp/ab12/logs.json"));
        touch(&q.join("tmp/ab12/checkpoint-x.json"));
        touch(&q.join("tmp/ab12/chats/session-1.json"));
        touch(&q.join("todos/0f1e.json"));
        touch(&q.join("debug/0f1e.txt"));
        let pi = d.path().join("pi");
        touch(&pi.join("sessions/--home-u-x--/2026-04-20T03-24-41-541Z_0a1b.jsonl"));
        touch(&pi.join("sessions/stray.jsonl"));
        touch(&pi.join("settings.json"));
        let f = d.path().join("factory");
        touch(&f.join("sessions/-home-u-x/1e49.jsonl"));
        touch(&f.join("sessions/-home-u-x/1e49.settings.json"));
        let k2 = d.path().join("kiro");
        touch(&k2.join("sessions/cli/4760.jsonl"));
        touch(&k2.join("sessions/cli/4760.json"));
        touch(&k2.join("sessions/cli/4760.lock"));
        let cont = d.path().join("continue");
        touch(&cont.join("sessions/09fc.json"));
        touch(&cont.join("sessions/sessions.json"));
        let gs = d.path().join("gs");
        touch(&gs.join("saoudrizwan.claude-dev/tasks/1769053680585/api_conversation_history.json"));
        touch(&gs.join("saoudrizwan.claude-dev/tasks/1769053680585/ui_messages.json"));
        touch(&gs.join("saoudrizwan.claude-dev/tasks/1769053680585/task_metadata.json"));
        touch(&gs.join("rooveterinaryinc.roo-cline/tasks/1763475462391/ui_messages.json"));
        touch(&gs.join("other.ext/tasks/1/api_conversation_history.json"));
        let amp = d.path().join("amp");
        touch(&amp.join("threads/T-16c2.json"));
        touch(&amp.join("history.jsonl"));
        touch(&amp.join("session.json"));
        let loc = DefaultLocations {
            claude: vec![c],
            codex: Some(x),
            gemini: Some(g),
            aider: vec![],
            copilot: Some(k),
            cursor: Some(u),
            qwen: Some(q),
            pi: Some(pi),
            droid: Some(f),
            kiro: Some(k2),
            continue_dev: Some(cont),
            vscode: vec![gs],
            cline: None,
            amp: Some(amp),
            cursor_ide: vec![],
            crush: vec![],
            goose: None,
            opencode: None,
            kilo: None,
        };
        for c in loc.candidates() {
            assert_eq!(loc.tool_of(&c.path), c.tool, "{}", c.path.display());
        }
        for not in [
            "claude/projects/-home-u-x/aaa/tool-results/big.jsonl",
            "codex/sessions/notes.jsonl",
            "claude/settings.json",
            "gemini/tmp/slug/other.json",
            "copilot/session-state/0a1b/workspace.yaml",
            "copilot/session-state/0a1b/checkpoints/events.jsonl",
            "cursor/projects/p-x/agent-transcripts/c1.txt",
            "cursor/projects/p-x/other/c3.jsonl",
            "qwen/projects/c--w/chats/notes.txt",
            "qwen/todos/0f1e.json",
            "qwen/settings.json",
            "pi/sessions/stray.jsonl",
            "pi/settings.json",
            "factory/sessions/-home-u-x/1e49.settings.json",
            "kiro/sessions/cli/4760.json",
            "kiro/sessions/cli/4760.lock",
            "continue/sessions/sessions.json",
            "gs/saoudrizwan.claude-dev/tasks/1769053680585/ui_messages.json",
            "gs/saoudrizwan.claude-dev/tasks/1769053680585/task_metadata.json",
            "gs/other.ext/tasks/1/api_conversation_history.json",
            "amp/history.jsonl",
            "amp/session.json",
        ] {
            assert_eq!(loc.tool_of(&d.path().join(not)), None, "{not}");
        }
        let names: Vec<String> = loc
            .candidates()
            .iter()
            .map(|c| c.path.strip_prefix(d.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            vec![
                "claude/projects/-home-u-x/aaa/subagents/agent-2.jsonl",
                "claude/projects/-home-u-x/aaa.jsonl",
                "claude/projects/-home-u-x/agent-1.jsonl",
                "codex/sessions/2026/03/11/rollout-2026-03-11T10-00-00-u.jsonl",
                "codex/sessions/rollout-old.jsonl",
                "gemini/tmp/slug/chats/session-0.json",
                "gemini/tmp/slug/chats/session-1.jsonl",
                "gemini/tmp/slug/logs.json",
                "copilot/session-state/0a1b/events.jsonl",
                "cursor/projects/p-x/agent-transcripts/c1.jsonl",
                "cursor/projects/p-x/agent-transcripts/c2/c2.jsonl",
                "qwen/projects/c--w/chats/0f1e.jsonl",
                "qwen/tmp/ab12/chats/session-1.json",
                "qwen/tmp/ab12/checkpoint-x.json",
                "qwen/tmp/ab12/logs.json",
                "pi/sessions/--home-u-x--/2026-04-20T03-24-41-541Z_0a1b.jsonl",
                "factory/sessions/-home-u-x/1e49.jsonl",
                "kiro/sessions/cli/4760.jsonl",
                "continue/sessions/09fc.json",
                "gs/rooveterinaryinc.roo-cline/tasks/1763475462391/ui_messages.json",
                "gs/saoudrizwan.claude-dev/tasks/1769053680585/api_conversation_history.json",
                "amp/threads/T-16c2.json",
            ]
        );
    }

    #[test]
    fn discover_walks_folders_and_skips_hidden_ones() {
        let d = tempfile::tempdir().unwrap();
        touch(&d.path().join("a.jsonl"));
        touch(&d.path().join("sub/b.json"));
        touch(&d.path().join(".git/c.jsonl"));
        touch(&d.path().join("image.png"));
        let found = discover(&[d.path().to_path_buf()], None).unwrap();
        assert_eq!(found.len(), 2);
        assert!(discover(&[d.path().join("missing")], None).is_err());
    }

    #[test]
    fn database_locations_find_each_tools_file_and_not_its_companions() {
        let d = tempfile::tempdir().unwrap();
        let o = d.path().join("opencode");
        touch(&o.join("opencode.db"));
        touch(&o.join("opencode.db-wal"));
        touch(&o.join("opencode-stable.db"));
        touch(&o.join("storage/session/9f0e/ses_a.json"));
        touch(&o.join("storage/message/ses_a/msg_1.json"));
        touch(&o.join("storage/part/msg_1/prt_1.json"));
        touch(&o.join("storage/session/x.json"));
        let k = d.path().join("elsewhere/kilo.db");
        touch(&k);
        let g = d.path().join("goose");
        touch(&g.join("sessions/sessions.db"));
        let u = d.path().join("Cursor/User");
        touch(&u.join("globalStorage/state.vscdb"));
        touch(&u.join("workspaceStorage/1/state.vscdb"));
        let project = d.path().join("proj");
        touch(&project.join(".crush/crush.db"));
        let loc = DefaultLocations {
            opencode: Some(o),
            kilo: Some(k),
            goose: Some(g),
            cursor_ide: vec![u],
            crush: vec![project],
            ..DefaultLocations::default()
        };
        let found: Vec<(String, Option<Tool>)> = loc
            .candidates()
            .iter()
            .map(|c| {
                assert_eq!(loc.tool_of(&c.path), c.tool, "{}", c.path.display());
                (
                    c.path.strip_prefix(d.path()).unwrap().display().to_string(),
                    c.tool,
                )
            })
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    "Cursor/User/globalStorage/state.vscdb".into(),
                    Some(Tool::Cursor)
                ),
                ("proj/.crush/crush.db".into(), Some(Tool::Crush)),
                ("goose/sessions/sessions.db".into(), Some(Tool::Goose)),
                ("opencode/opencode-stable.db".into(), Some(Tool::OpenCode)),
                ("opencode/opencode.db".into(), Some(Tool::OpenCode)),
                (
                    "opencode/storage/session/9f0e/ses_a.json".into(),
                    Some(Tool::OpenCode)
                ),
                ("elsewhere/kilo.db".into(), Some(Tool::Kilo)),
            ]
        );
        for not in [
            "opencode/opencode.db-wal",
            "opencode/storage/session/x.json",
            "opencode/storage/message/ses_a/msg_1.json",
            "opencode/storage/part/msg_1/prt_1.json",
            "Cursor/User/workspaceStorage/1/state.vscdb",
        ] {
            assert_eq!(loc.tool_of(&d.path().join(not)), None, "{not}");
        }
    }
}
