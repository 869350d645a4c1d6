//! `lore import`: read transcripts into the store.
//!
//! A worker thread stats each candidate file, skips it when its fingerprint is unchanged since
//! the last import, and otherwise parses it; the calling thread writes what the worker parsed.
//! A bounded channel between the two keeps memory to a few files at a time, whatever the size
//! of the corpus. Writes are batched into transactions of at most [`BATCH_SESSIONS`] sessions
//! or [`BATCH_BYTES`] bytes of transcript, each labelled with what it imported.
//!
//! Nothing stored is ever removed by an import: a transcript that vanished (the tools delete
//! them after 30 days) leaves its session in place, a bad file is reported and skipped, and a
//! session read from several copies of its transcript holds the union of their messages
//! ([`crate::db::Copy`]; docs/importers.md, "Merge, never replace").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};

use crate::capture::{self, Candidate, ParseError, ParseReport};
use crate::db::{Copy, Db, DbError, SaveOutcome, SourceRecord, Writer};
use crate::model::Tool;

/// Bumped when an importer changes what it extracts, so that unchanged files are read again.
/// (2: message identities, so that sessions are merged, never replaced. 3: Gemini's turn-limit
/// notice is a system message; fingerprints end with the file's digest. 4: Codex forks start at
/// their own first turn; Aider reasoning, commands, quotes, multi-line output and ids from
/// content; tool inputs keep their key order.)
const PARSER_VERSION: u32 = 4;

/// At most this many sessions are written in one transaction.
pub const BATCH_SESSIONS: usize = 2_000;
/// At most this many bytes of transcript are written in one transaction.
pub const BATCH_BYTES: u64 = 256 * 1024 * 1024;

/// A file that could not be imported whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    /// The line, for a problem with one line; `None` when the whole file was skipped.
    pub line: Option<u64>,
    pub message: String,
}

/// Counts per tool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToolCounts {
    pub new: usize,
    pub updated: usize,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Files considered.
    pub files: usize,
    /// Files skipped because they had not changed since the last import.
    pub unchanged_files: usize,
    /// Files read and parsed.
    pub parsed_files: usize,
    pub bytes_parsed: u64,
    pub new_sessions: usize,
    pub updated_sessions: usize,
    /// Sessions read again that had not changed.
    pub unchanged_sessions: usize,
    /// Sessions not imported because they were deleted with `lore delete`.
    pub deleted_sessions: usize,
    /// Files whose last line was still being written; it is read on a later import.
    pub truncated_files: usize,
    pub by_tool: BTreeMap<Tool, ToolCounts>,
    pub problems: Vec<Problem>,
    /// The description of each transaction written.
    pub changes: Vec<String>,
}

/// Progress, reported after every file.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub files_done: usize,
    pub files_total: usize,
    pub bytes_done: u64,
}

/// Errors that stop an import. Problems with single files do not: they are in
/// [`Summary::problems`].
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the import worker stopped unexpectedly")]
    Worker,
}

/// What the worker found for one file.
enum Item {
    Unchanged,
    Read {
        path: String,
        fingerprint: String,
        bytes: u64,
        tool: Option<Tool>,
        /// An SQLite database (OpenCode, Cursor's state.vscdb, …): see [`write_item`].
        database: bool,
        result: Result<ParseReport, ParseError>,
    },
    /// The file could not even be looked at (vanished meanwhile, no permission).
    Unreadable {
        path: PathBuf,
        message: String,
    },
}

/// Imports `candidates` into `store`, stamping new sessions with `machine_id`.
///
/// `force` makes every file be read as that tool's format. `progress` is called after each
/// file.
pub fn import(
    store: &mut Db,
    candidates: Vec<Candidate>,
    machine_id: &str,
    force: Option<Tool>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, ImportError> {
    let mut summary = Summary {
        files: candidates.len(),
        ..Summary::default()
    };
    let files_total = candidates.len();
    let db_path = store.path().to_owned();
    let (tx, rx) = sync_channel::<Item>(4);

    std::thread::scope(|scope| -> Result<(), ImportError> {
        let worker = scope.spawn(move || -> Result<(), DbError> {
            // The worker's own connection, to look up fingerprints while the writer writes.
            let reader = Db::open_read_only(&db_path)?;
            for c in candidates {
                let item = examine(&reader, &c, force)?;
                if tx.send(item).is_err() {
                    break; // the writer stopped; its error is the one to report
                }
            }
            Ok(())
        });
        let written = write_all(store, rx, machine_id, &mut summary, files_total, progress);
        let worked = worker.join().map_err(|_| ImportError::Worker)?;
        written?;
        worked?;
        Ok(())
    })?;
    Ok(summary)
}

/// The part of a fingerprint `stat` gives: parser version, size and modification time. An
/// SQLite database's `-wal` companion (where a running tool writes first) counts as part of
/// the file: `v3:<size>+<wal size>:<time>+<wal time>`; so do the message and part files of an
/// OpenCode storage session.
fn stat_of(path: &Path, meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    let mut size = meta.len().to_string();
    let mut time = format!("{}.{:09}", meta.mtime(), meta.mtime_nsec());
    if let Ok(wal) = std::fs::metadata(capture::sqlite::companion(path, "-wal"))
        && wal.is_file()
    {
        size.push_str(&format!("+{}", wal.len()));
        time.push_str(&format!("+{}.{:09}", wal.mtime(), wal.mtime_nsec()));
    }
    // An OpenCode storage session: its message and part files are its content too
    // (`+<count>f<total size>`, `+<newest time>`).
    let tree = capture::opencode_storage::tree_files(path);
    if !tree.is_empty() {
        let (mut total, mut newest) = (0u64, (0i64, 0i64));
        for m in tree.iter().filter_map(|f| std::fs::metadata(f).ok()) {
            total += m.len();
            newest = newest.max((m.mtime(), m.mtime_nsec()));
        }
        size.push_str(&format!("+{}f{total}", tree.len()));
        time.push_str(&format!("+{}.{:09}", newest.0, newest.1));
    }
    format!("v{PARSER_VERSION}:{size}:{time}")
}

/// The BLAKE3 digest of the file's bytes (then its `-wal`'s, when it has one, and an OpenCode
/// storage session's message and part files), in hex: what a fingerprint ends with.
fn digest_of(path: &Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path)?)?;
    match std::fs::File::open(capture::sqlite::companion(path, "-wal")) {
        Ok(wal) if wal.metadata().is_ok_and(|m| m.is_file()) => {
            hasher.update(b"\0-wal\0");
            hasher.update_reader(wal)?;
        }
        _ => {}
    }
    for f in capture::opencode_storage::tree_files(path) {
        // A file that vanished meanwhile is simply not part of the digest.
        if let Ok(file) = std::fs::File::open(&f) {
            hasher.update(b"\0");
            hasher.update(f.file_name().map_or(&[][..], |n| n.as_encoded_bytes()));
            hasher.update(b"\0");
            hasher.update_reader(file)?;
        }
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Whether the file a stored fingerprint describes is the file now: the same `stat` part
/// (nothing was even opened), or, when only the time differs (a `touch`, a copy that kept
/// the bytes), the same digest. `digest` is computed at most once, on demand.
fn unchanged_since(
    stored: &str,
    stat: &str,
    path: &Path,
    digest: &mut Option<String>,
) -> std::io::Result<bool> {
    let Some((stored_stat, stored_digest)) = stored.rsplit_once(':') else {
        return Ok(false);
    };
    if stored_stat == stat {
        return Ok(true);
    }
    // Same parser version and size (the text before the time): worth hashing.
    let prefix = |s: &str| s.rsplit_once(':').map(|(p, _)| p.to_owned());
    if prefix(stored_stat).is_none() || prefix(stored_stat) != prefix(stat) {
        return Ok(false);
    }
    if digest.is_none() {
        *digest = Some(digest_of(path)?);
    }
    Ok(digest.as_deref() == Some(stored_digest))
}

fn examine(reader: &Db, c: &Candidate, force: Option<Tool>) -> Result<Item, DbError> {
    let path = std::fs::canonicalize(&c.path).unwrap_or_else(|_| c.path.clone());
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) => {
            return Ok(Item::Unreadable {
                path: c.path.clone(),
                message: e.to_string(),
            });
        }
    };
    let key = path.to_string_lossy().into_owned();
    let stat = stat_of(&path, &meta);
    let wanted = force.or(c.tool);
    let unreadable = |e: std::io::Error| Item::Unreadable {
        path: c.path.clone(),
        message: e.to_string(),
    };
    let mut digest = None;
    if let Some((old, old_tool)) = reader.source_state(&key)? {
        let same_tool = wanted.is_none() || wanted.map(Tool::as_str) == old_tool.as_deref();
        match unchanged_since(&old, &stat, &path, &mut digest) {
            Ok(true) if same_tool => return Ok(Item::Unchanged),
            Ok(_) => {}
            Err(e) => return Ok(unreadable(e)),
        }
    }
    // Hashed before parsing: if the file grows meanwhile, the digest is of the older bytes
    // and the next import reads it again (never the other way round).
    let digest = match digest {
        Some(d) => d,
        None => match digest_of(&path) {
            Ok(d) => d,
            Err(e) => return Ok(unreadable(e)),
        },
    };
    let fingerprint = format!("{stat}:{digest}");
    let tool = match wanted {
        Some(t) => Some(t),
        None => match capture::detect(&path) {
            Ok(t) => t,
            Err(e) => return Ok(unreadable(e)),
        },
    };
    let result = match tool {
        _ if meta.len() == 0 => Err(ParseError::Empty),
        Some(t) => capture::parse_file(t, &path),
        None => Err(ParseError::Unrecognised),
    };
    Ok(Item::Read {
        path: key,
        fingerprint,
        bytes: meta.len(),
        tool,
        database: capture::sqlite::is_sqlite_file(&path).unwrap_or(false),
        result,
    })
}

fn write_all(
    store: &mut Db,
    rx: Receiver<Item>,
    machine_id: &str,
    summary: &mut Summary,
    files_total: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), ImportError> {
    let mut files_done = 0usize;
    let mut bytes_done = 0u64;
    let mut pending: Option<Item> = None;
    loop {
        // One transaction per batch; `pending` carries the item that did not fit.
        let mut batch = BatchCounts::default();
        let more = store.write("import", |w| -> Result<bool, ImportError> {
            loop {
                let item = match pending.take() {
                    Some(i) => i,
                    None => match rx.recv() {
                        Ok(i) => i,
                        Err(_) => {
                            w.set_message(batch.message());
                            return Ok(false);
                        }
                    },
                };
                if let Item::Read {
                    result: Ok(r),
                    bytes,
                    ..
                } = &item
                {
                    let full = batch.sessions + r.sessions.len() > BATCH_SESSIONS
                        || batch.bytes + bytes > BATCH_BYTES;
                    if full && batch.sessions > 0 {
                        pending = Some(item);
                        w.set_message(batch.message());
                        return Ok(true);
                    }
                }
                let bytes = write_item(w, item, machine_id, summary, &mut batch)?;
                files_done += 1;
                bytes_done += bytes;
                progress(Progress {
                    files_done,
                    files_total,
                    bytes_done,
                });
            }
        })?;
        if batch.touched() {
            summary.changes.push(batch.message());
        }
        if !more {
            return Ok(());
        }
    }
}

/// What one transaction holds, for its description and size limit.
#[derive(Default)]
struct BatchCounts {
    sessions: usize,
    bytes: u64,
    by_tool: BTreeMap<Tool, usize>,
    files_recorded: usize,
}

impl BatchCounts {
    fn touched(&self) -> bool {
        self.sessions > 0 || self.files_recorded > 0
    }

    fn message(&self) -> String {
        let n = self.sessions;
        let noun = if n == 1 { "session" } else { "sessions" };
        let tools: Vec<&Tool> = self.by_tool.keys().collect();
        match tools.as_slice() {
            [] => format!(
                "import: no sessions ({} files checked)",
                self.files_recorded
            ),
            [tool] => format!("import: {n} {noun} from {tool}"),
            _ => {
                let parts: Vec<String> = self
                    .by_tool
                    .iter()
                    .map(|(t, c)| format!("{c} {t}"))
                    .collect();
                format!("import: {n} {noun} ({})", parts.join(", "))
            }
        }
    }
}

/// Writes one file's results; returns the bytes it accounted for.
fn write_item(
    w: &mut Writer<'_>,
    item: Item,
    machine_id: &str,
    summary: &mut Summary,
    batch: &mut BatchCounts,
) -> Result<u64, ImportError> {
    let now = crate::versioning::now_ms();
    match item {
        Item::Unchanged => {
            summary.unchanged_files += 1;
            Ok(0)
        }
        Item::Unreadable { path, message } => {
            summary.problems.push(Problem {
                path,
                line: None,
                message: format!("cannot read: {message}"),
            });
            Ok(0)
        }
        Item::Read {
            path,
            fingerprint,
            bytes,
            tool,
            database,
            result,
        } => {
            let record = |w: &mut Writer<'_>, outcome: &str| {
                w.record_source(&SourceRecord {
                    path: &path,
                    fingerprint: &fingerprint,
                    tool: tool.map(Tool::as_str),
                    outcome,
                    checked_at: now,
                })
            };
            let report = match result {
                Ok(r) => r,
                Err(e) => {
                    // Not recorded: a file that holds no session changes nothing, so it writes
                    // no commit; it is looked at (and reported) again on the next import.
                    summary.problems.push(Problem {
                        path: PathBuf::from(&path),
                        line: None,
                        message: format!("{e}; skipped"),
                    });
                    return Ok(bytes);
                }
            };
            summary.parsed_files += 1;
            summary.bytes_parsed += bytes;
            batch.bytes += bytes;
            if report.truncated_tail {
                summary.truncated_files += 1;
            }
            for issue in report.issues {
                summary.problems.push(Problem {
                    path: PathBuf::from(&path),
                    line: Some(issue.line),
                    message: issue.message,
                });
            }
            let mut changed = 0usize;
            for (n, session) in report.sessions.iter().enumerate() {
                // A session an earlier lore stored under another id keeps that id here.
                let renamed;
                let legacy = report.legacy_ids.get(n).and_then(Option::as_ref);
                let session = match earlier_id(w, session, legacy, &path)? {
                    Some(old) => {
                        let mut s = session.clone();
                        s.info.id = old;
                        renamed = s;
                        &renamed
                    }
                    None => session,
                };
                // A database holds many sessions and changes for reasons of its own: each
                // session's fingerprint is that of what the file says about it, so a session
                // that did not change is not rewritten (and writes no commit).
                let session_fp = if database {
                    session_fingerprint(session)
                } else {
                    fingerprint.clone()
                };
                let copy = Copy {
                    parsed: session,
                    keys: report.keys.get(n).map_or(&[], Vec::as_slice),
                    path: &path,
                    fingerprint: &session_fp,
                };
                let outcome = w.merge_session(&copy, machine_id)?;
                let tool = session.info.tool;
                match outcome {
                    SaveOutcome::Inserted => {
                        summary.new_sessions += 1;
                        summary.by_tool.entry(tool).or_default().new += 1;
                    }
                    SaveOutcome::Updated => {
                        summary.updated_sessions += 1;
                        summary.by_tool.entry(tool).or_default().updated += 1;
                    }
                    SaveOutcome::Unchanged => summary.unchanged_sessions += 1,
                    SaveOutcome::Tombstoned => summary.deleted_sessions += 1,
                }
                if matches!(outcome, SaveOutcome::Inserted | SaveOutcome::Updated) {
                    changed += 1;
                    batch.sessions += 1;
                    *batch.by_tool.entry(session.info.tool).or_default() += 1;
                }
            }
            // A tool rewrites its database for much besides its conversations (window state,
            // settings): when no session changed, the new fingerprint is not worth a commit.
            // The database is read again next time; `not_imported` knows it as imported.
            if database && changed == 0 {
                return Ok(bytes);
            }
            batch.files_recorded += 1;
            record(w, "imported")?;
            Ok(bytes)
        }
    }
}

/// For a session read from a database: `v<parser>:session:<BLAKE3 of what was read>`.
fn session_fingerprint(session: &crate::model::ParsedSession) -> String {
    let mut hasher = blake3::Hasher::new();
    if let Ok(bytes) = serde_json::to_vec(&(&session.info, &session.messages)) {
        hasher.update(&bytes);
    }
    format!("v{PARSER_VERSION}:session:{}", hasher.finalize().to_hex())
}

/// The id lore.db holds `session` under, when an earlier lore named it otherwise and lore.db
/// holds nothing under its id now. Aider (ids made from the file's path before parser version
/// 4): the id this path gave, else an Aider session with the same start and first message
/// whose id is the one its own recorded path gave (the repository moved since).
fn earlier_id(
    w: &Writer<'_>,
    session: &crate::model::ParsedSession,
    legacy: Option<&capture::LegacyId>,
    path: &str,
) -> Result<Option<String>, DbError> {
    let Some(capture::LegacyId::AiderPath { header }) = legacy else {
        return Ok(None);
    };
    if w.knows_session(&session.info.id)? {
        return Ok(None);
    }
    let here = capture::aider::legacy_id(path, header);
    if w.knows_session(&here)? {
        return Ok(Some(here));
    }
    let Some(first) = session.messages.first() else {
        return Ok(None);
    };
    Ok(
        w.aider_sessions_like(session.info.started_at, &first.content)?
            .into_iter()
            .find(|(id, source)| {
                source
                    .as_deref()
                    .is_some_and(|p| capture::aider::legacy_id(p, header) == *id)
            })
            .map(|(id, _)| id),
    )
}

/// The paths a plain `lore import` reads, from the environment and the config.
pub fn default_locations(
    config: &crate::config::Config,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> capture::DefaultLocations {
    use crate::config::expand_tilde;
    let dir = |key: &str, var: Option<&str>, fallback: &str| -> Option<PathBuf> {
        if let Some(p) = config.text(key) {
            return Some(expand_tilde(&p, home));
        }
        if let Some(v) = var.and_then(env).filter(|v| !v.is_empty()) {
            return Some(PathBuf::from(v));
        }
        home.map(|h| h.join(fallback))
    };
    // Claude Code keeps its folder in `$CLAUDE_CONFIG_DIR` when set, else `~/.claude`; some
    // 1.0 releases used `~/.config/claude` instead, so that one is read too where it exists
    // (and is not the same folder).
    let mut claude: Vec<PathBuf> = dir("claude_dir", Some("CLAUDE_CONFIG_DIR"), ".claude")
        .into_iter()
        .collect();
    let explicit = config.text("claude_dir").is_some()
        || env("CLAUDE_CONFIG_DIR").is_some_and(|v| !v.is_empty());
    if let Some(xdg) = home.map(|h| h.join(".config/claude"))
        && !explicit
        && xdg.is_dir()
    {
        let same = |a: &Path, b: &Path| matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y);
        if !claude.iter().any(|c| same(c, &xdg)) {
            claude.push(xdg);
        }
    }
    capture::DefaultLocations {
        claude,
        codex: dir("codex_dir", Some("CODEX_HOME"), ".codex"),
        gemini: dir("gemini_dir", None, ".gemini"),
        aider: config
            .list("aider_paths")
            .iter()
            .map(|p| expand_tilde(p, home))
            .collect(),
        copilot: dir("copilot_dir", Some("COPILOT_HOME"), ".copilot"),
        cursor: dir("cursor_dir", None, ".cursor"),
        qwen: dir("qwen_dir", Some("QWEN_HOME"), ".qwen"),
        pi: dir("pi_dir", Some("PI_CODING_AGENT_DIR"), ".pi/agent"),
        droid: dir("factory_dir", None, ".factory"),
        kiro: dir("kiro_dir", None, ".kiro"),
        continue_dev: dir("continue_dir", Some("CONTINUE_GLOBAL_DIR"), ".continue"),
        vscode: vscode_global_storage(config, env, home),
        cline: dir("cline_dir", None, "Documents/Cline"),
        amp: config
            .text("amp_dir")
            .map(|p| expand_tilde(&p, home))
            .or_else(|| xdg_data(env, home, "amp")),
        cursor_ide: match config.text("cursor_ide_dir") {
            Some(p) => vec![expand_tilde(&p, home)],
            None => home
                .map(|h| {
                    [
                        ".config/Cursor/User",
                        "Library/Application Support/Cursor/User",
                    ]
                    .iter()
                    .map(|rel| h.join(rel))
                    .filter(|p| p.is_dir())
                    .collect()
                })
                .unwrap_or_default(),
        },
        crush: config
            .list("crush_paths")
            .iter()
            .map(|p| expand_tilde(p, home))
            .collect(),
        goose: config
            .text("goose_dir")
            .map(|p| expand_tilde(&p, home))
            .or_else(|| xdg_data(env, home, "goose")),
        opencode: config
            .text("opencode_dir")
            .map(|p| expand_tilde(&p, home))
            .or_else(|| xdg_data(env, home, "opencode")),
        kilo: config
            .text("kilo_dir")
            .map(|p| expand_tilde(&p, home))
            .or_else(|| env("KILO_DB").filter(|v| !v.is_empty()).map(PathBuf::from))
            .or_else(|| xdg_data(env, home, "kilo")),
    }
}

/// `$XDG_DATA_HOME/<name>` (an absolute value only, as the XDG rules say), else
/// `~/.local/share/<name>`.
fn xdg_data(
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
    name: &str,
) -> Option<PathBuf> {
    match env("XDG_DATA_HOME").filter(|v| v.starts_with('/')) {
        Some(d) => Some(PathBuf::from(d).join(name)),
        None => home.map(|h| h.join(".local/share").join(name)),
    }
}

/// VS Code's and its forks' `User/globalStorage` folders on Linux, macOS and Windows
/// (`$APPDATA`), and those of VS Code servers (Remote-SSH, Codespaces); the `vscode_dirs`
/// setting replaces the list.
fn vscode_global_storage(
    config: &crate::config::Config,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Vec<PathBuf> {
    use crate::config::expand_tilde;
    let set = config.list("vscode_dirs");
    if !set.is_empty() {
        return set.iter().map(|p| expand_tilde(p, home)).collect();
    }
    let Some(home) = home else {
        return Vec::new();
    };
    let editors = ["Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf"];
    let appdata = env("APPDATA")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join("AppData/Roaming"));
    let mut out = Vec::new();
    for base in [
        home.join(".config"),
        home.join("Library/Application Support"),
        appdata,
    ] {
        for e in editors {
            out.push(base.join(e).join("User/globalStorage"));
        }
    }
    for server in [
        ".vscode-server",
        ".vscode-remote",
        ".cursor-server",
        ".windsurf-server",
    ] {
        out.push(home.join(server).join("data/User/globalStorage"));
    }
    out
}

/// The candidates whose current content is not in the store: never imported, or changed
/// since their last import. `store` `None` (no database yet): all of them. A file that
/// vanished meanwhile, and an empty one, are left out. For the warnings of `lore status`, `lore doctor` and
/// `lore init`.
pub fn not_imported<'a>(
    store: Option<&Db>,
    candidates: &'a [Candidate],
) -> Result<Vec<&'a Candidate>, DbError> {
    let mut out = Vec::new();
    for c in candidates {
        let path = std::fs::canonicalize(&c.path).unwrap_or_else(|_| c.path.clone());
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        // An empty file holds nothing to lose (a tool that created its log and wrote nothing
        // yet): it is not waiting to be imported.
        if meta.len() == 0 {
            continue;
        }
        let seen = match store {
            // A database once imported counts as imported: its bytes change with every
            // window the tool opens (see `write_item`).
            Some(s) => s
                .source_state(&path.to_string_lossy())?
                .is_some_and(|(fp, _)| {
                    capture::sqlite::is_sqlite_file(&path).unwrap_or(false)
                        || unchanged_since(&fp, &stat_of(&path, &meta), &path, &mut None)
                            .unwrap_or(false)
                }),
            None => false,
        };
        if !seen {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::aider;
    use crate::db::Filter;

    const HISTORY: &str = "# aider chat started at 2026-01-01 00:00:00\n\n> Aider v0.86.2  \n\n#### hi  \n\nHello.\n\n# aider chat started at 2026-01-02 00:00:00\n\n#### again  \n";

    fn ids(db: &Db) -> Vec<String> {
        let mut ids: Vec<String> = db
            .sessions(&Filter::default(), 100)
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        ids.sort();
        ids
    }

    fn run(db: &mut Db, file: &Path) -> Summary {
        let c = Candidate {
            path: file.to_path_buf(),
            tool: Some(Tool::Aider),
        };
        import(db, vec![c], "m", None, &mut |_| {}).unwrap()
    }

    #[test]
    fn aider_sessions_stored_under_their_old_path_ids_keep_them() {
        let d = tempfile::tempdir().unwrap();
        let repo = d.path().join("repo");
        std::fs::create_dir(&repo).unwrap();
        let file = repo.join(".aider.chat.history.md");
        std::fs::write(&file, HISTORY).unwrap();
        let canonical = std::fs::canonicalize(&file).unwrap();
        let key = canonical.to_string_lossy().into_owned();
        let parsed = capture::parse_file(Tool::Aider, &canonical).unwrap();
        let old = aider::legacy_id(&key, "2026-01-01 00:00:00");
        assert_ne!(parsed.sessions[0].info.id, old);

        // lore.db as an earlier lore left it: the first block stored under its path-based id.
        let mut db = Db::open(&d.path().join("lore.db")).unwrap();
        let mut stored = parsed.sessions[0].clone();
        stored.info.id = old.clone();
        stored.messages.truncate(1);
        db.write("old import", |w| -> Result<(), DbError> {
            w.merge_session(
                &Copy {
                    parsed: &stored,
                    keys: &parsed.keys[0][..1],
                    path: &key,
                    fingerprint: "v3:old",
                },
                "m",
            )?;
            Ok(())
        })
        .unwrap();

        let summary = run(&mut db, &file);
        assert_eq!(summary.new_sessions, 1, "only the second block is new");
        assert_eq!(
            summary.updated_sessions, 1,
            "the old one is brought up to date"
        );
        let mut want = vec![old.clone(), parsed.sessions[1].info.id.clone()];
        want.sort();
        assert_eq!(ids(&db), want);
        assert_eq!(db.session(&old).unwrap().message_count, 2);

        // The same history read from another path (a moved or cloned repository) adds nothing.
        let moved = d.path().join("moved");
        std::fs::create_dir(&moved).unwrap();
        std::fs::copy(&file, moved.join(".aider.chat.history.md")).unwrap();
        let again = run(&mut db, &moved.join(".aider.chat.history.md"));
        assert_eq!(again.new_sessions, 0);
        assert_eq!(ids(&db), want);
    }
}
