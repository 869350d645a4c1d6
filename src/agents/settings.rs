//! Editing another tool's settings file, and taking the edit back.
//!
//! Every edit: follows a symlink to edit its target; refuses a file that does not parse (which
//! file, which line) and changes nothing; backs the file up once (before lore's first edit,
//! under `LORE_HOME/init/backups/`); writes atomically (a temporary file beside it, renamed
//! over it) with the file's own permissions; and records what it wrote in
//! `LORE_HOME/init/installed.json`. Undo restores the backup byte for byte when the file is
//! still what lore wrote; when someone changed it since, it removes only lore's own entries.
//! Spec: docs/capture.md, "What `lore init` edits" and "Undo".

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::json_edit::{self, JsonEditError, Node};
use super::{Agent, HookCommand};

/// Why a settings file was not edited.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{path}: {source}; lore changed nothing (fix the file, then run this again)")]
    Json {
        path: PathBuf,
        source: JsonEditError,
    },
    #[error(
        "{path}: not valid TOML at {detail}; lore changed nothing (fix the file, then run this again)"
    )]
    Toml { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the record of what lore installed is damaged: {message}")]
    Manifest { path: PathBuf, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SettingsError + '_ {
    move |source| SettingsError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What installing did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// lore's hook was added.
    Added { path: PathBuf },
    /// lore's hook was there already; the file was not touched.
    AlreadyThere { path: PathBuf },
    /// The setting holds another program and has room for one only (Codex `notify`): left alone.
    Occupied { path: PathBuf, existing: String },
}

/// What undo did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undone {
    /// The file is back to its bytes before lore's first edit (or gone, if lore created it).
    Restored { path: PathBuf },
    /// The file changed after lore's edit: only lore's own entries were taken out.
    EntriesRemoved { path: PathBuf },
    /// The file no longer exists; nothing to do.
    Gone { path: PathBuf },
    /// A file lore created whole (a skill, a completion script) was removed, with the folders
    /// lore made for it.
    Removed { path: PathBuf },
    /// A file lore created was changed since: left as it is.
    Kept { path: PathBuf },
}

/// The record of lore's edits (`LORE_HOME/init/installed.json`, format 1).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    files: Vec<Entry>,
    /// Files lore created whole (not edits of another tool's file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    created: Vec<Created>,
}

/// A file lore created whole, and the folders it made for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Created {
    path: PathBuf,
    /// SHA-256 of what lore wrote.
    written: String,
    /// The folders lore created for it, outermost first.
    #[serde(default)]
    dirs: Vec<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    agent: Agent,
    /// The file edited (a symlink's target).
    path: PathBuf,
    /// The copy made before lore's first edit; `None` when lore created the file.
    backup: Option<PathBuf>,
    /// SHA-256 of what lore last wrote.
    written: String,
    /// `cleanupPeriodDays` before lore raised it (`Value::Null`: it was not set), when it did.
    #[serde(default)]
    old_retention: Option<Value>,
    #[serde(default)]
    new_retention: Option<u64>,
}

impl Serialize for Agent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Agent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Where lore keeps the record and the backups: `LORE_HOME/init`.
#[derive(Debug, Clone)]
pub struct StateDir {
    pub dir: PathBuf,
}

impl StateDir {
    pub fn new(lore_home: &Path) -> StateDir {
        StateDir {
            dir: lore_home.join("init"),
        }
    }

    fn manifest_path(&self) -> PathBuf {
        self.dir.join("installed.json")
    }

    fn load(&self) -> Result<Manifest, SettingsError> {
        let p = self.manifest_path();
        match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| SettingsError::Manifest {
                path: p,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest {
                format: 1,
                files: vec![],
                created: vec![],
            }),
            Err(e) => Err(io(&p)(e)),
        }
    }

    fn save(&self, m: &Manifest) -> Result<(), SettingsError> {
        let p = self.manifest_path();
        if m.files.is_empty() && m.created.is_empty() {
            return match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&p)(e)),
                _ => Ok(()),
            };
        }
        make_private_dir(&self.dir)?;
        let bytes = serde_json::to_vec_pretty(m).expect("the manifest serialises");
        write_atomic(&p, &bytes, Some(0o600)).map_err(io(&p))
    }

    /// Whether lore has edited any file (there is something to undo).
    pub fn has_edits(&self) -> Result<bool, SettingsError> {
        let m = self.load()?;
        Ok(!m.files.is_empty() || !m.created.is_empty())
    }
}

fn make_private_dir(dir: &Path) -> Result<(), SettingsError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).map_err(io(dir))
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed over it.
/// `mode`: the permissions to give it (the old file's), else 0600.
fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.lore-{}.tmp", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(mode.unwrap_or(0o600)))?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

/// The file to edit: a symlink's final target (even one that does not exist yet).
pub fn resolve(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    // A dangling link: follow it by hand, a few hops.
    let mut p = path.to_path_buf();
    for _ in 0..16 {
        match std::fs::read_link(&p) {
            Ok(t) => {
                p = if t.is_absolute() {
                    t
                } else {
                    p.parent().unwrap_or(Path::new("/")).join(t)
                }
            }
            Err(_) => break,
        }
    }
    p
}

/// Applies `edit` to the file at `path` (its text, `None` when it does not exist), which
/// returns the new text, or `None` for no change; records the edit.
pub(super) fn edit_file(
    state: &StateDir,
    agent: Agent,
    path: &Path,
    edit: impl FnOnce(Option<&str>) -> Result<Option<String>, SettingsError>,
    note: impl FnOnce(&mut EntryNote),
) -> Result<bool, SettingsError> {
    let target = resolve(path);
    let old = match std::fs::read(&target) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&target)(e)),
    };
    let old_text = match &old {
        Some(b) => Some(
            String::from_utf8(b.clone()).map_err(|_| SettingsError::Json {
                path: target.clone(),
                source: JsonEditError::Syntax {
                    line: 1,
                    column: 1,
                    message: "not UTF-8 text".into(),
                },
            })?,
        ),
        None => None,
    };
    let Some(new) = edit(old_text.as_deref())? else {
        return Ok(false);
    };
    let mut manifest = state.load()?;
    let pos = manifest.files.iter().position(|e| e.path == target);
    let mut entry = match pos {
        Some(i) => manifest.files[i].clone(),
        None => {
            // The one backup: the file as it was before lore's first edit.
            let backup = match &old {
                Some(bytes) => {
                    let dir = state.dir.join("backups");
                    make_private_dir(&dir)?;
                    let name = target
                        .file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or("settings");
                    let b = dir.join(format!("{agent}-{name}"));
                    write_atomic(&b, bytes, Some(0o600)).map_err(io(&b))?;
                    Some(b)
                }
                None => None,
            };
            Entry {
                agent,
                path: target.clone(),
                backup,
                written: String::new(),
                old_retention: None,
                new_retention: None,
            }
        }
    };
    let mut n = EntryNote {
        old_retention: entry.old_retention.clone(),
        new_retention: entry.new_retention,
    };
    note(&mut n);
    entry.old_retention = n.old_retention;
    entry.new_retention = n.new_retention;
    entry.written = sha(new.as_bytes());
    // Record first: if the write fails, undo finds the file unchanged and restores the backup
    // (the same bytes).
    match pos {
        Some(i) => manifest.files[i] = entry,
        None => manifest.files.push(entry),
    }
    state.save(&manifest)?;
    #[cfg(unix)]
    let mode = std::fs::metadata(&target).ok().map(|m| mode_of(&m));
    #[cfg(not(unix))]
    let mode = None;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    write_atomic(&target, new.as_bytes(), mode).map_err(io(&target))?;
    Ok(true)
}

/// What an edit wants remembered for undo.
pub struct EntryNote {
    old_retention: Option<Value>,
    new_retention: Option<u64>,
}

pub(super) fn parse_json(path: &Path, text: &str) -> Result<Node, SettingsError> {
    // An empty file is an empty object.
    let text = if text.trim().is_empty() { "{}" } else { text };
    let node = json_edit::parse(text).map_err(|source| SettingsError::Json {
        path: path.to_owned(),
        source,
    })?;
    if !matches!(node, Node::Object { .. }) {
        return Err(SettingsError::Json {
            path: path.to_owned(),
            source: JsonEditError::Shape {
                key: "the top level".into(),
                expected: "an object",
            },
        });
    }
    Ok(node)
}

pub(super) fn shape(path: &Path, key: &str, expected: &'static str) -> SettingsError {
    SettingsError::Json {
        path: path.to_owned(),
        source: JsonEditError::Shape {
            key: key.to_owned(),
            expected,
        },
    }
}

/// Adds lore's hook group for each of `events` to a Claude Code / Gemini CLI settings text;
/// `None` when every event already has it.
pub fn add_json_hooks(
    path: &Path,
    text: Option<&str>,
    events: &[&str],
    group: &Value,
    marker: &str,
) -> Result<Option<String>, SettingsError> {
    add_hook_groups(path, text, Some("hooks"), events, group, marker)
}

/// [`add_json_hooks`] with the events under `container` (`hooks`), or at the top of the file
/// (`None`: Factory Droid's `hooks.json`).
pub fn add_hook_groups(
    path: &Path,
    text: Option<&str>,
    container: Option<&str>,
    events: &[&str],
    group: &Value,
    marker: &str,
) -> Result<Option<String>, SettingsError> {
    let mut text = match text {
        Some(t) if !t.trim().is_empty() => t.to_owned(),
        Some(t) => format!("{{}}{}", if t.ends_with('\n') { "\n" } else { "" }),
        None => "{}\n".to_owned(),
    };
    let prefix = container.map(|c| format!("{c}.")).unwrap_or_default();
    let mut changed = false;
    for event in events {
        let root = parse_json(path, &text)?;
        let holder = match container {
            None => &root,
            Some(key) => match root.get(key) {
                Some(h) => &h.value,
                None => {
                    text = json_edit::insert_member(&text, &root, key, &json!({ *event: [group] }));
                    changed = true;
                    continue;
                }
            },
        };
        if !matches!(holder, Node::Object { .. }) {
            return Err(shape(path, container.unwrap_or("the file"), "an object"));
        }
        let Some(list) = holder.get(event) else {
            text = json_edit::insert_member(&text, holder, event, &json!([group]));
            changed = true;
            continue;
        };
        let Node::Array { items, .. } = &list.value else {
            return Err(shape(path, &format!("{prefix}{event}"), "an array"));
        };
        if items
            .iter()
            .any(|i| i.value(&text).to_string().contains(marker))
        {
            continue;
        }
        text = json_edit::push_item(&text, &list.value, group);
        changed = true;
    }
    Ok(changed.then_some(text))
}

/// Takes every hook whose command holds `marker` out of a settings text, and the group, event
/// list and `hooks` object that held only it; `None` when there was none.
pub fn remove_json_hooks(
    path: &Path,
    text: &str,
    marker: &str,
) -> Result<Option<String>, SettingsError> {
    remove_hook_groups(path, text, Some("hooks"), marker)
}

/// [`remove_json_hooks`] with the events under `container`, or at the top of the file.
pub fn remove_hook_groups(
    path: &Path,
    text: &str,
    container: Option<&str>,
    marker: &str,
) -> Result<Option<String>, SettingsError> {
    let mut text = text.to_owned();
    let mut changed = false;
    'again: loop {
        let root = parse_json(path, &text)?;
        let holder = match container {
            None => &root,
            Some(key) => match root.get(key) {
                Some(h) => &h.value,
                None => break,
            },
        };
        let Node::Object {
            members: events, ..
        } = holder
        else {
            break;
        };
        for ev in events {
            let Node::Array { items: groups, .. } = &ev.value else {
                continue;
            };
            for (gi, group) in groups.iter().enumerate() {
                let Some(entries) = group.get("hooks") else {
                    continue;
                };
                let Node::Array { items, .. } = &entries.value else {
                    continue;
                };
                for (hi, h) in items.iter().enumerate() {
                    let is_lore = h
                        .get("command")
                        .and_then(|c| c.value.value(&text).as_str().map(|s| s.contains(marker)))
                        .unwrap_or(false);
                    if !is_lore {
                        continue;
                    }
                    text = if items.len() > 1 {
                        json_edit::remove_item(&text, &entries.value, hi)
                    } else if groups.len() > 1 {
                        json_edit::remove_item(&text, &ev.value, gi)
                    } else if events.len() > 1 || container.is_none() {
                        json_edit::remove_member(&text, holder, &ev.key)
                    } else {
                        json_edit::remove_member(&text, &root, container.unwrap_or("hooks"))
                    };
                    changed = true;
                    continue 'again;
                }
            }
        }
        break;
    }
    Ok(changed.then_some(text))
}

/// Adds `entry` for each of `events` to a hooks file of the shape Cursor and Copilot CLI read,
/// `{"version": 1, "hooks": {"<event>": [entry, …]}}` (entries, not Claude Code's groups);
/// `None` when every event already has it. `version` is added when the file has none.
pub fn add_flat_hooks(
    path: &Path,
    text: Option<&str>,
    events: &[&str],
    entry: &Value,
    marker: &str,
) -> Result<Option<String>, SettingsError> {
    // The same walk as Claude Code's groups: here the list items are the entries themselves.
    let Some(text) = add_hook_groups(path, text, Some("hooks"), events, entry, marker)? else {
        return Ok(None);
    };
    let root = parse_json(path, &text)?;
    if root.get("version").is_some() {
        return Ok(Some(text));
    }
    Ok(Some(json_edit::insert_member(
        &text,
        &root,
        "version",
        &json!(1),
    )))
}

/// Takes every entry whose `command` (or Copilot CLI's `bash`) holds `marker` out of a hooks
/// file of [`add_flat_hooks`]'s shape, and the event list and `hooks` object that held only
/// it; `None` when there was none.
pub fn remove_flat_hooks(
    path: &Path,
    text: &str,
    marker: &str,
) -> Result<Option<String>, SettingsError> {
    let mut text = text.to_owned();
    let mut changed = false;
    'again: loop {
        let root = parse_json(path, &text)?;
        let Some(hooks) = root.get("hooks") else {
            break;
        };
        let Node::Object {
            members: events, ..
        } = &hooks.value
        else {
            break;
        };
        for ev in events {
            let Node::Array { items, .. } = &ev.value else {
                continue;
            };
            for (i, item) in items.iter().enumerate() {
                let is_lore = ["command", "bash"].iter().any(|k| {
                    item.get(k)
                        .and_then(|c| c.value.value(&text).as_str().map(|s| s.contains(marker)))
                        .unwrap_or(false)
                });
                if !is_lore {
                    continue;
                }
                text = if items.len() > 1 {
                    json_edit::remove_item(&text, &ev.value, i)
                } else if events.len() > 1 {
                    json_edit::remove_member(&text, &hooks.value, &ev.key)
                } else {
                    json_edit::remove_member(&text, &root, "hooks")
                };
                changed = true;
                continue 'again;
            }
        }
        break;
    }
    Ok(changed.then_some(text))
}

/// Whether `path` is Droid's `hooks.json` (events at the top) rather than its `settings.json`.
fn is_droid_hooks_json(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "hooks.json")
}

/// Cline's hook script of lore's own (`Hooks/TaskComplete`, `Hooks/TaskCancel`): Cline runs
/// the executable named after the event with a JSON object on stdin (`taskId`, ...) and reads
/// `{"cancel": false}` from its stdout to go on. lore's own output goes nowhere.
fn cline_hook_script(command: &HookCommand) -> String {
    format!(
        "#!/bin/sh\n\
         # lore: imports this Cline task into lore when it ends or is cancelled.\n\
         # Written by `lore init`; `lore init --undo` removes it.\n\
         {} >/dev/null 2>&1\n\
         echo '{{\"cancel\": false}}'\n",
        command.shell(Agent::Cline)
    )
}

/// Copilot CLI's hook file of lore's own (`hooks/lore.json`): each of its events runs lore.
fn copilot_hooks_file(command: &HookCommand) -> String {
    let entry = json!({
        "type": "command",
        "bash": command.shell(Agent::Copilot),
        "timeoutSec": 30,
    });
    let hooks: serde_json::Map<String, Value> = Agent::Copilot
        .events()
        .iter()
        .map(|e| ((*e).to_owned(), json!([entry])))
        .collect();
    let mut out =
        serde_json::to_string_pretty(&json!({"version": 1, "hooks": hooks})).unwrap_or_default();
    out.push('\n');
    out
}

pub(super) fn parse_toml(path: &Path, text: &str) -> Result<toml_edit::DocumentMut, SettingsError> {
    text.parse::<toml_edit::DocumentMut>()
        .map_err(|e| SettingsError::Toml {
            path: path.to_owned(),
            detail: toml_detail(&e),
        })
}

fn toml_detail(e: &toml_edit::TomlError) -> String {
    // "TOML parse error at line 3, column 7\n  |\n3 | ...\n ... message": keep the position
    // and the message, one line.
    let s = e.to_string();
    let mut lines = s.lines();
    let first = lines.next().unwrap_or("");
    let pos = first
        .strip_prefix("TOML parse error at ")
        .unwrap_or(first)
        .to_owned();
    let message = s
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('|') && !l.contains(" | "))
        .unwrap_or("")
        .trim()
        .to_owned();
    if message.is_empty() || message == first {
        pos
    } else {
        format!("{pos}: {message}")
    }
}

/// Installs lore's hook for `agent` in its settings file at `path`.
pub fn install_hook(
    state: &StateDir,
    agent: Agent,
    path: &Path,
    command: &HookCommand,
) -> Result<Installed, SettingsError> {
    let target = resolve(path);
    let marker = HookCommand::marker(agent);
    let mut occupied = None;
    let changed = match agent {
        // A file of lore's own: created, and removed by undo.
        Agent::Copilot => {
            return create_file(state, &target, copilot_hooks_file(command).as_bytes());
        }
        // Scripts of lore's own, one per event, in the folder Cline reads (not wherever a
        // symlinked first script leads).
        Agent::Cline => {
            let dir = path.parent().unwrap_or(Path::new("."));
            let script = cline_hook_script(command);
            let mut each = Vec::new();
            for event in agent.events() {
                each.push(create_file_with_mode(
                    state,
                    &dir.join(event),
                    script.as_bytes(),
                    0o755,
                )?);
            }
            // Someone else's script for an event wins the report; then a new one.
            return Ok(each
                .iter()
                .find(|i| matches!(i, Installed::Occupied { .. }))
                .or_else(|| each.iter().find(|i| matches!(i, Installed::Added { .. })))
                .cloned()
                .unwrap_or(Installed::AlreadyThere { path: target }));
        }
        Agent::Cursor => {
            let entry = json!({"command": command.shell(agent), "timeout": 30});
            edit_file(
                state,
                agent,
                path,
                |text| add_flat_hooks(&target, text, agent.events(), &entry, &marker),
                |_| {},
            )?
        }
        Agent::Droid => {
            let group = json!({ "hooks": [{"type": "command", "command": command.shell(agent)}] });
            // hooks.json holds the events themselves; settings.json under `hooks`.
            let container = (!is_droid_hooks_json(&target)).then_some("hooks");
            edit_file(
                state,
                agent,
                path,
                |text| add_hook_groups(&target, text, container, agent.events(), &group, &marker),
                |_| {},
            )?
        }
        Agent::Claude | Agent::Gemini | Agent::Qwen => {
            let mut hook = json!({"type": "command", "command": command.shell(agent)});
            if agent == Agent::Gemini {
                hook["name"] = json!("lore");
            }
            let group = json!({ "hooks": [hook] });
            edit_file(
                state,
                agent,
                path,
                |text| add_json_hooks(&target, text, agent.events(), &group, &marker),
                |_| {},
            )?
        }
        Agent::Codex => edit_file(
            state,
            agent,
            path,
            |text| {
                let text = text.unwrap_or("");
                let mut doc = parse_toml(&target, text)?;
                if let Some(existing) = doc.get("notify") {
                    let s = existing.to_string();
                    if !s.contains("\"--hook\"") || !s.contains("\"codex\"") {
                        occupied = Some(s.trim().to_owned());
                    }
                    return Ok(None);
                }
                let mut arr = toml_edit::Array::new();
                for a in command.argv(agent) {
                    arr.push(a);
                }
                // A root key: toml_edit places it before the first [table].
                doc.insert("notify", toml_edit::value(arr));
                let mut out = doc.to_string();
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                Ok(Some(out))
            },
            |_| {},
        )?,
    };
    Ok(match (changed, occupied) {
        (true, _) => Installed::Added { path: target },
        (false, Some(existing)) => Installed::Occupied {
            path: target,
            existing,
        },
        (false, None) => Installed::AlreadyThere { path: target },
    })
}

/// Whether lore's hook is in `agent`'s settings text.
pub fn hook_present(agent: Agent, path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    match agent {
        Agent::Claude
        | Agent::Gemini
        | Agent::Qwen
        | Agent::Copilot
        | Agent::Cursor
        | Agent::Droid => text.contains(&HookCommand::marker(agent)),
        // Every event's script, not only the first.
        Agent::Cline => {
            let dir = path.parent().unwrap_or(Path::new("."));
            agent.events().iter().all(|e| {
                std::fs::read_to_string(dir.join(e))
                    .is_ok_and(|t| t.contains(&HookCommand::marker(agent)))
            })
        }
        Agent::Codex => text
            .parse::<toml_edit::DocumentMut>()
            .ok()
            .and_then(|d| d.get("notify").map(|n| n.to_string()))
            .is_some_and(|s| s.contains("\"--hook\"") && s.contains("\"codex\"")),
    }
}

/// Sets Claude Code's `cleanupPeriodDays` in the settings file at `path` to `days`.
pub fn set_claude_retention(
    state: &StateDir,
    path: &Path,
    days: u64,
) -> Result<bool, SettingsError> {
    let target = resolve(path);
    let old = std::cell::RefCell::new(Value::Null);
    edit_file(
        state,
        Agent::Claude,
        path,
        |text| {
            let text = match text {
                Some(t) if !t.trim().is_empty() => t.to_owned(),
                _ => "{}\n".to_owned(),
            };
            let root = parse_json(&target, &text)?;
            Ok(Some(match root.get("cleanupPeriodDays") {
                Some(m) => {
                    let was = m.value.value(&text);
                    let same = was == json!(days);
                    *old.borrow_mut() = was;
                    if same {
                        return Ok(None);
                    }
                    json_edit::replace_value(&text, &m.value, &json!(days))
                }
                None => json_edit::insert_member(&text, &root, "cleanupPeriodDays", &json!(days)),
            }))
        },
        |n| {
            // The value before lore's first change is the one undo puts back.
            if n.old_retention.is_none() {
                n.old_retention = Some(old.borrow().clone());
            }
            n.new_retention = Some(days);
        },
    )
}

/// Takes back every edit lore recorded.
pub fn undo(state: &StateDir) -> Result<Vec<Undone>, SettingsError> {
    let mut manifest = state.load()?;
    let mut done = Vec::new();
    while let Some(c) = manifest.created.pop() {
        done.push(undo_created(&c)?);
        state.save(&manifest)?;
    }
    while let Some(entry) = manifest.files.first().cloned() {
        done.push(undo_one(&entry)?);
        if let Some(b) = &entry.backup {
            let _ = std::fs::remove_file(b);
        }
        manifest.files.remove(0);
        state.save(&manifest)?;
    }
    let _ = std::fs::remove_dir(state.dir.join("backups"));
    let _ = std::fs::remove_dir(&state.dir);
    Ok(done)
}

/// Creates the file at `path` holding `bytes` (with the folders it needs), and records it so
/// that undo removes it. A file already there is left alone unless lore created it and it is
/// still what lore wrote (then it is brought up to date).
pub fn create_file(
    state: &StateDir,
    path: &Path,
    bytes: &[u8],
) -> Result<Installed, SettingsError> {
    create_file_with_mode(state, path, bytes, 0o644)
}

/// [`create_file`] with the file's mode (0755 for a script an agent runs).
fn create_file_with_mode(
    state: &StateDir,
    path: &Path,
    bytes: &[u8],
    mode: u32,
) -> Result<Installed, SettingsError> {
    let mut manifest = state.load()?;
    let pos = manifest.created.iter().position(|c| c.path == path);
    match std::fs::read(path) {
        Ok(current) => {
            if current == bytes {
                // A script of lore's that lost its execute bit would never run: give it back.
                #[cfg(unix)]
                if mode & 0o111 != 0
                    && let Ok(meta) = std::fs::metadata(path)
                    && mode_of(&meta) & 0o111 == 0
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                        .map_err(io(path))?;
                    return Ok(Installed::Added {
                        path: path.to_owned(),
                    });
                }
                return Ok(Installed::AlreadyThere {
                    path: path.to_owned(),
                });
            }
            let Some(i) = pos.filter(|&i| manifest.created[i].written == sha(&current)) else {
                return Ok(Installed::Occupied {
                    path: path.to_owned(),
                    existing: "a file lore did not write".to_owned(),
                });
            };
            manifest.created[i].written = sha(bytes);
            state.save(&manifest)?;
            write_atomic(path, bytes, Some(mode)).map_err(io(path))?;
            Ok(Installed::Added {
                path: path.to_owned(),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut dirs = Vec::new();
            let mut d = path.parent();
            while let Some(dir) = d {
                if dir.as_os_str().is_empty() || dir.exists() {
                    break;
                }
                dirs.push(dir.to_owned());
                d = dir.parent();
            }
            dirs.reverse();
            // Record first: if the write fails, undo finds no file, or one that is lore's.
            manifest.created.push(Created {
                path: path.to_owned(),
                written: sha(bytes),
                dirs: dirs.clone(),
            });
            state.save(&manifest)?;
            for dir in &dirs {
                std::fs::create_dir(dir).map_err(io(dir))?;
            }
            write_atomic(path, bytes, Some(mode)).map_err(io(path))?;
            Ok(Installed::Added {
                path: path.to_owned(),
            })
        }
        Err(e) => Err(io(path)(e)),
    }
}

fn undo_created(c: &Created) -> Result<Undone, SettingsError> {
    let path = c.path.clone();
    match std::fs::read(&path) {
        Ok(b) if sha(&b) == c.written => std::fs::remove_file(&path).map_err(io(&path))?,
        Ok(_) => return Ok(Undone::Kept { path }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&path)(e)),
    }
    // The folders lore made, innermost first, each only if nothing else was put in it since.
    for dir in c.dirs.iter().rev() {
        if std::fs::remove_dir(dir).is_err() {
            break;
        }
    }
    Ok(Undone::Removed { path })
}

fn undo_one(e: &Entry) -> Result<Undone, SettingsError> {
    let path = e.path.clone();
    let current = match std::fs::read(&path) {
        Ok(b) => b,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Undone::Gone { path });
        }
        Err(err) => return Err(io(&path)(err)),
    };
    if sha(&current) == e.written {
        match &e.backup {
            Some(b) => {
                let bytes = std::fs::read(b).map_err(io(b))?;
                #[cfg(unix)]
                let mode = std::fs::metadata(&path).ok().map(|m| mode_of(&m));
                #[cfg(not(unix))]
                let mode = None;
                write_atomic(&path, &bytes, mode).map_err(io(&path))?;
            }
            None => std::fs::remove_file(&path).map_err(io(&path))?,
        }
        return Ok(Undone::Restored { path });
    }
    // Changed since: take out lore's entries only.
    let text = String::from_utf8_lossy(&current).into_owned();
    let marker = HookCommand::marker(e.agent);
    let mut new = text.clone();
    match e.agent {
        Agent::Claude | Agent::Gemini | Agent::Qwen => {
            if let Some(t) = remove_json_hooks(&path, &new, &marker)? {
                new = t;
            }
            if let Some(t) = super::register::remove_json_mcp(&path, &new)? {
                new = t;
            }
            if let (Some(old), Some(set)) = (&e.old_retention, e.new_retention) {
                let root = parse_json(&path, &new)?;
                if let Some(m) = root.get("cleanupPeriodDays")
                    && m.value.value(&new) == json!(set)
                {
                    new = if old.is_null() {
                        json_edit::remove_member(&new, &root, "cleanupPeriodDays")
                    } else {
                        json_edit::replace_value(&new, &m.value, old)
                    };
                }
            }
        }
        Agent::Copilot | Agent::Cursor => {
            if let Some(t) = remove_flat_hooks(&path, &new, &marker)? {
                new = t;
            }
        }
        Agent::Droid => {
            let container = (!is_droid_hooks_json(&path)).then_some("hooks");
            if let Some(t) = remove_hook_groups(&path, &new, container, &marker)? {
                new = t;
            }
        }
        // Scripts lore created: undo removes them as created files, never edits them.
        Agent::Cline => {}
        Agent::Codex => {
            let mut doc = parse_toml(&path, &new)?;
            if hook_present(Agent::Codex, &path) {
                doc.remove("notify");
                new = doc.to_string();
            }
            if super::register::remove_toml_mcp(&mut doc) {
                new = doc.to_string();
            }
        }
    }
    if new != text {
        #[cfg(unix)]
        let mode = std::fs::metadata(&path).ok().map(|m| mode_of(&m));
        #[cfg(not(unix))]
        let mode = None;
        write_atomic(&path, new.as_bytes(), mode).map_err(io(&path))?;
    }
    Ok(Undone::EntriesRemoved { path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_beside_another_hook_and_removes_only_lores() {
        let p = Path::new("settings.json");
        let text = r#"{
  "model": "opus",
  "hooks": {
    "Stop": [
      {
        "hooks": [
          { "type": "command", "command": "other-tool --stop" }
        ]
      }
    ]
  }
}
"#;
        let group = json!({"hooks": [{"type": "command", "command": "lore import --hook claude"}]});
        let marker = "import --hook claude";
        let added = add_json_hooks(p, Some(text), &["SessionEnd", "Stop"], &group, marker)
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_str(&added).unwrap();
        assert_eq!(v["hooks"]["Stop"].as_array().unwrap().len(), 2);
        assert_eq!(
            v["hooks"]["Stop"][0]["hooks"][0]["command"],
            "other-tool --stop"
        );
        assert_eq!(v["hooks"]["SessionEnd"][0], group);
        assert_eq!(v["model"], "opus");
        // Again: nothing to do.
        assert!(
            add_json_hooks(p, Some(&added), &["SessionEnd", "Stop"], &group, marker)
                .unwrap()
                .is_none()
        );
        let removed = remove_json_hooks(p, &added, marker).unwrap().unwrap();
        assert_eq!(removed, text);
        assert!(remove_json_hooks(p, text, marker).unwrap().is_none());
    }

    #[test]
    fn refuses_what_does_not_parse() {
        let p = Path::new("s.json");
        let err = add_json_hooks(p, Some("{\n\"a\": }"), &["Stop"], &json!({}), "m").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let err =
            add_json_hooks(p, Some("{\"hooks\": []}"), &["Stop"], &json!({}), "m").unwrap_err();
        assert!(
            err.to_string().contains("`hooks` is not an object"),
            "{err}"
        );
        let err = parse_toml(Path::new("c.toml"), "a = 1\nb = \n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
