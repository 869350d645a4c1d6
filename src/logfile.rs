//! Log files under LORE_HOME (`logs/hooks.log`, `logs/watch.log`) for the commands that run
//! with nobody watching: an agent's hook, the watcher. One line per event, appended; a log
//! past [`MAX_BYTES`] is moved to `NAME.1` (one old copy kept). Never transcript content:
//! events, paths, counts and errors only. Spec: docs/capture.md, "Logs".

use std::io::Write;
use std::path::{Path, PathBuf};

/// A log is rotated when it grows past this.
pub const MAX_BYTES: u64 = 1024 * 1024;

/// `LORE_HOME/logs/NAME`.
pub fn path(lore_home: &Path, name: &str) -> PathBuf {
    lore_home.join("logs").join(name)
}

/// Appends one line, stamped with the time (UTC, RFC 3339), to the log at `path`; creates the
/// folder (0700) and the file (0600) as needed.
pub fn append(path: &Path, line: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)?;
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_BYTES) {
        let mut old = path.as_os_str().to_owned();
        old.push(".1");
        let _ = std::fs::rename(path, PathBuf::from(old));
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    let now = jiff::Timestamp::now()
        .round(jiff::Unit::Millisecond)
        .unwrap_or(jiff::Timestamp::now());
    // One line, whatever the message holds.
    let line = line.replace(['\n', '\r'], " ");
    f.write_all(format!("{now} {line}\n").as_bytes())
}
