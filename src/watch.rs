//! `lore watch`: the file-system watch over every default transcript location, the debounce
//! that waits for a transcript to stop changing before it is read, the lock that keeps one
//! watcher per home, and the user-service files that start it at login (systemd on Linux,
//! launchd on macOS).
//!
//! Idle costs nothing: the watcher blocks in the kernel (inotify, FSEvents) until a file
//! changes, and wakes on a timer only while a change is waiting for its quiet period. It
//! refuses to run twice for one home (`LORE_HOME/watch.lock`, an advisory lock the kernel drops
//! when the process dies). It reads nothing itself: it hands the caller the files to import.
//! Spec: docs/capture.md, "lore watch".

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::capture::{Candidate, DefaultLocations};
use crate::model::Tool;

/// A transcript is read once it has not changed for this long...
pub const QUIET: Duration = Duration::from_millis(1500);
/// ...or, while it keeps changing, at least this often.
pub const MAX_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("lore watch is already running for this home{}", match .pid { Some(p) => format!(" (pid {p})"), None => String::new() })]
    AlreadyRunning { pid: Option<u32> },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot watch {path}: {source}")]
    Notify {
        path: PathBuf,
        source: notify::Error,
    },
    #[error("the file-system watch stopped")]
    Stopped,
}

/// The one-watcher-per-home lock, held while this value lives.
pub struct Lock {
    _file: File,
}

/// `LORE_HOME/watch.lock`.
pub fn lock_path(lore_home: &Path) -> PathBuf {
    lore_home.join("watch.lock")
}

/// Takes the lock at `path` and writes this process's id into it; a watcher already holding it
/// is [`WatchError::AlreadyRunning`].
pub fn lock(path: &Path) -> Result<Lock, WatchError> {
    use std::io::{Seek, Write};
    let io = |source| WatchError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io)?;
    if !try_lock(&file) {
        return Err(WatchError::AlreadyRunning {
            pid: read_pid(path),
        });
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    Ok(Lock { _file: file })
}

/// The id of the watcher holding the lock at `path`, `None` when no watcher runs.
pub fn running(path: &Path) -> Option<Option<u32>> {
    let file = std::fs::OpenOptions::new().read(true).open(path).ok()?;
    if try_lock(&file) {
        return None; // free (dropping the file releases it)
    }
    Some(read_pid(path))
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(unix)]
fn try_lock(file: &File) -> bool {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor this function borrows; no memory is passed.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn try_lock(file: &File) -> bool {
    file.try_lock().is_ok()
}

/// Changed transcripts waiting for their quiet period.
#[derive(Debug, Default)]
pub struct Debounce {
    /// path → (tool, first change, last change)
    pending: HashMap<PathBuf, (Tool, Instant, Instant)>,
}

impl Debounce {
    pub fn note(&mut self, path: PathBuf, tool: Tool, now: Instant) {
        self.pending
            .entry(path)
            .and_modify(|e| e.2 = now)
            .or_insert((tool, now, now));
    }

    fn due_at(first: Instant, last: Instant) -> Instant {
        (last + QUIET).min(first + MAX_WAIT)
    }

    /// When the next transcript is due; `None`: nothing waits.
    pub fn next_due(&self) -> Option<Instant> {
        self.pending
            .values()
            .map(|&(_, f, l)| Self::due_at(f, l))
            .min()
    }

    /// Takes the transcripts due at `now`, sorted by path.
    pub fn take_due(&mut self, now: Instant) -> Vec<Candidate> {
        let due: Vec<PathBuf> = self
            .pending
            .iter()
            .filter(|(_, (_, f, l))| Self::due_at(*f, *l) <= now)
            .map(|(p, _)| p.clone())
            .collect();
        let mut out: Vec<Candidate> = due
            .into_iter()
            .filter_map(|p| {
                self.pending.remove(&p).map(|(tool, _, _)| Candidate {
                    path: p,
                    tool: Some(tool),
                })
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }
}

/// The watch over every default location.
pub struct Watch {
    loc: DefaultLocations,
    watcher: RecommendedWatcher,
    rx: Receiver<notify::Result<Event>>,
    debounce: Debounce,
    /// Tool folders that did not exist at start: their parent is watched until they appear.
    missing: Vec<PathBuf>,
    /// What is watched (for the caller to say).
    pub watched: Vec<PathBuf>,
}

impl Watch {
    /// Starts watching every tool folder of `loc` that exists, and the parent of each that
    /// does not, so a tool installed later is picked up.
    pub fn start(loc: DefaultLocations) -> Result<Watch, WatchError> {
        let (tx, rx) = channel();
        let mut watcher = notify::recommended_watcher(move |e| {
            let _ = tx.send(e);
        })
        .map_err(|source| WatchError::Notify {
            path: PathBuf::new(),
            source,
        })?;
        let mut watched = Vec::new();
        let mut missing = Vec::new();
        let mut tool_dirs: Vec<PathBuf> = loc
            .claude
            .iter()
            .chain(&loc.codex)
            .chain(&loc.gemini)
            .cloned()
            .collect();
        for r in loc.roots() {
            if !tool_dirs.contains(&r) {
                tool_dirs.push(r);
            }
        }
        for dir in tool_dirs {
            if dir.is_dir() {
                watcher
                    .watch(&dir, RecursiveMode::Recursive)
                    .map_err(|source| WatchError::Notify {
                        path: dir.clone(),
                        source,
                    })?;
                watched.push(dir);
            } else if let Some(parent) = dir.parent().filter(|p| p.is_dir()) {
                if !watched.iter().any(|w| w == parent) {
                    // Not fatal: the folder may be unreadable; the others are still watched.
                    if watcher.watch(parent, RecursiveMode::NonRecursive).is_ok() {
                        watched.push(parent.to_path_buf());
                    }
                }
                missing.push(dir);
            }
        }
        Ok(Watch {
            loc,
            watcher,
            rx,
            debounce: Debounce::default(),
            missing,
            watched,
        })
    }

    fn handle(&mut self, event: Event) {
        let interesting = matches!(
            event.kind,
            EventKind::Create(_) | EventKind::Modify(_) | EventKind::Any
        ) && !matches!(
            event.kind,
            EventKind::Modify(notify::event::ModifyKind::Metadata(_))
        );
        if !interesting {
            return;
        }
        let now = Instant::now();
        for path in event.paths {
            if let Some(i) = self.missing.iter().position(|m| *m == path) {
                if path.is_dir() && self.watcher.watch(&path, RecursiveMode::Recursive).is_ok() {
                    self.watched.push(path.clone());
                    self.missing.remove(i);
                }
                continue;
            }
            if let Some((path, tool)) = transcript_of(&self.loc, path) {
                self.debounce.note(path, tool, now);
            }
        }
    }

    /// Blocks until transcripts are due and returns them. Sleeps in the kernel while nothing
    /// changes.
    pub fn next_batch(&mut self) -> Result<Vec<Candidate>, WatchError> {
        loop {
            let now = Instant::now();
            let due = self.debounce.take_due(now);
            if !due.is_empty() {
                return Ok(due);
            }
            let received = match self.debounce.next_due() {
                None => self.rx.recv().map_err(|_| WatchError::Stopped)?,
                Some(at) => match self.rx.recv_timeout(at.saturating_duration_since(now)) {
                    Ok(e) => e,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return Err(WatchError::Stopped),
                },
            };
            // A watch error (a queue overflow) loses events, not the watch: go on.
            if let Ok(event) = received {
                self.handle(event);
            }
        }
    }
}

/// The kinds of user service `lore watch --install` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// A systemd user unit (Linux).
    Systemd,
    /// A launchd agent (macOS).
    Launchd,
}

/// The systemd unit's name.
pub const SYSTEMD_UNIT: &str = "lore-watch.service";
/// The launchd agent's label.
pub const LAUNCHD_LABEL: &str = "dev.lore.watch";

impl ServiceKind {
    /// This platform's kind.
    pub fn native() -> ServiceKind {
        if cfg!(target_os = "macos") {
            ServiceKind::Launchd
        } else {
            ServiceKind::Systemd
        }
    }

    /// Where the file goes: `$XDG_CONFIG_HOME/systemd/user/lore-watch.service` (default
    /// `~/.config`), or `~/Library/LaunchAgents/dev.lore.watch.plist`.
    pub fn path(self, user_home: &Path, xdg_config: Option<&Path>) -> PathBuf {
        match self {
            ServiceKind::Systemd => xdg_config
                .map(Path::to_path_buf)
                .unwrap_or_else(|| user_home.join(".config"))
                .join("systemd/user")
                .join(SYSTEMD_UNIT),
            ServiceKind::Launchd => user_home
                .join("Library/LaunchAgents")
                .join(format!("{LAUNCHD_LABEL}.plist")),
        }
    }

    /// The file's text: run `exe watch`, with `LORE_HOME` when lore runs with one of its own.
    pub fn render(self, exe: &Path, lore_home: Option<&Path>, log: &Path) -> String {
        match self {
            ServiceKind::Systemd => {
                let env = lore_home
                    .map(|h| {
                        format!(
                            "Environment=\"LORE_HOME={}\"\n",
                            systemd_escape(&h.to_string_lossy())
                        )
                    })
                    .unwrap_or_default();
                format!(
                    "# Written by `lore watch --install`; `lore watch --uninstall` removes it.\n\
                     [Unit]\n\
                     Description=lore watch: import coding-agent transcripts as they change\n\
                     \n\
                     [Service]\n\
                     Type=simple\n\
                     ExecStart=\"{}\" watch\n\
                     {env}\
                     Restart=on-failure\n\
                     RestartSec=30\n\
                     Nice=10\n\
                     \n\
                     [Install]\n\
                     WantedBy=default.target\n",
                    systemd_escape(&exe.to_string_lossy())
                )
            }
            ServiceKind::Launchd => {
                let env = lore_home
                    .map(|h| {
                        format!(
                            "  <key>EnvironmentVariables</key>\n  <dict>\n    <key>LORE_HOME</key>\n    <string>{}</string>\n  </dict>\n",
                            xml_escape(&h.to_string_lossy())
                        )
                    })
                    .unwrap_or_default();
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                     <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
                     <!-- Written by lore watch (install); its uninstall removes it. -->\n\
                     <plist version=\"1.0\">\n\
                     <dict>\n  \
                     <key>Label</key>\n  <string>{LAUNCHD_LABEL}</string>\n  \
                     <key>ProgramArguments</key>\n  <array>\n    <string>{}</string>\n    <string>watch</string>\n  </array>\n\
                     {env}  \
                     <key>RunAtLoad</key>\n  <true/>\n  \
                     <key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>\n  </dict>\n  \
                     <key>ProcessType</key>\n  <string>Background</string>\n  \
                     <key>StandardErrorPath</key>\n  <string>{}</string>\n\
                     </dict>\n\
                     </plist>\n",
                    xml_escape(&exe.to_string_lossy()),
                    xml_escape(&log.to_string_lossy()),
                )
            }
        }
    }
}

/// A value for a systemd unit inside double quotes: `\` and `"` escaped, `%` doubled.
/// The transcript a changed file belongs to, with its tool: the file itself, or for an SQLite
/// database's `-wal` (where a running tool writes first), the database.
fn transcript_of(loc: &DefaultLocations, path: PathBuf) -> Option<(PathBuf, Tool)> {
    if let Some(tool) = loc.tool_of(&path) {
        return Some((path, tool));
    }
    // A message or part of an OpenCode storage session: its session file is what is read.
    if let Some(session) = crate::capture::opencode_storage::session_file_of(&path) {
        return (loc.tool_of(&session) == Some(Tool::OpenCode))
            .then_some((session, Tool::OpenCode));
    }
    let db = PathBuf::from(path.to_str()?.strip_suffix("-wal")?);
    let tool = loc.tool_of(&db)?;
    crate::capture::sqlite::is_sqlite_file(&db)
        .unwrap_or(false)
        .then_some((db, tool))
}

fn systemd_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_change_of_a_databases_wal_is_a_change_of_the_database() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("opencode");
        std::fs::create_dir_all(&root).unwrap();
        let db = root.join("opencode.db");
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t(x);")
            .unwrap();
        let loc = DefaultLocations {
            opencode: Some(root.clone()),
            ..DefaultLocations::default()
        };
        let wal = root.join("opencode.db-wal");
        assert_eq!(transcript_of(&loc, wal), Some((db.clone(), Tool::OpenCode)));
        assert_eq!(transcript_of(&loc, root.join("opencode.db-shm")), None);
        assert_eq!(transcript_of(&loc, db.clone()), Some((db, Tool::OpenCode)));
        drop(c);
    }

    use super::*;

    #[test]
    fn a_change_of_an_opencode_message_or_part_is_a_change_of_its_session() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("opencode");
        let storage = root.join("storage");
        let session = storage.join("session/p1/ses_1.json");
        for dir in ["session/p1", "message/ses_1", "part/msg_1"] {
            std::fs::create_dir_all(storage.join(dir)).unwrap();
        }
        std::fs::write(&session, r#"{"id":"ses_1","projectID":"p1","time":{}}"#).unwrap();
        let msg = storage.join("message/ses_1/msg_1.json");
        std::fs::write(&msg, r#"{"id":"msg_1","sessionID":"ses_1"}"#).unwrap();
        let part = storage.join("part/msg_1/prt_1.json");
        std::fs::write(&part, r#"{"id":"prt_1","sessionID":"ses_1"}"#).unwrap();
        let loc = DefaultLocations {
            opencode: Some(root.clone()),
            ..DefaultLocations::default()
        };
        let want = Some((session.clone(), Tool::OpenCode));
        assert_eq!(transcript_of(&loc, session.clone()), want);
        assert_eq!(transcript_of(&loc, msg), want);
        assert_eq!(transcript_of(&loc, part), want);
        // A tree outside OpenCode's folder is not watched for.
        let other = DefaultLocations::default();
        assert_eq!(transcript_of(&other, session), None);
    }

    #[test]
    fn debounce_waits_for_quiet_but_not_forever() {
        let mut d = Debounce::default();
        let t0 = Instant::now();
        assert!(d.next_due().is_none());
        d.note("a".into(), Tool::Codex, t0);
        assert_eq!(d.next_due(), Some(t0 + QUIET));
        assert!(d.take_due(t0 + QUIET / 2).is_empty());
        // Written in pieces: each write pushes it back, up to MAX_WAIT after the first.
        let mut t = t0;
        while t < t0 + MAX_WAIT {
            t += QUIET / 2;
            d.note("a".into(), Tool::Codex, t);
            if t + QUIET / 2 < t0 + MAX_WAIT {
                assert!(d.take_due(t).is_empty());
            }
        }
        let due = d.take_due(t0 + MAX_WAIT);
        assert_eq!(due.len(), 1);
        assert!(d.next_due().is_none());
    }

    #[test]
    fn one_watcher_per_lock() {
        let dir = tempfile::tempdir().unwrap();
        let p = lock_path(dir.path());
        assert!(running(&p).is_none());
        let held = lock(&p).unwrap();
        assert_eq!(running(&p), Some(Some(std::process::id())));
        assert!(matches!(lock(&p), Err(WatchError::AlreadyRunning { .. })));
        drop(held);
        assert!(running(&p).is_none());
        assert!(lock(&p).is_ok());
    }

    #[test]
    fn service_files_carry_the_program_and_home() {
        let s = ServiceKind::Systemd.render(
            Path::new("/opt/my lore/lore"),
            Some(Path::new("/h/.lore")),
            Path::new("/h/.lore/logs/watch.log"),
        );
        assert!(s.contains("ExecStart=\"/opt/my lore/lore\" watch\n"), "{s}");
        assert!(s.contains("Environment=\"LORE_HOME=/h/.lore\"\n"));
        let p = ServiceKind::Launchd.render(Path::new("/a&b/lore"), None, Path::new("/l"));
        assert!(p.contains("<string>/a&amp;b/lore</string>"));
        assert!(!p.contains("EnvironmentVariables"));
    }
}
