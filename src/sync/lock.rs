//! One sync at a time per repository, and recovery from a sync that was killed.
//!
//! `lore/sync.lock` in the repository's common git directory is held (an OS file lock, which
//! goes with the process however it ends) for the whole sync, so a hook's sync and the user's,
//! or two worktrees', take turns. Beside it, `lore/sync.running` exists exactly while a sync
//! runs. Finding it when taking the lock means the last sync was killed in the middle, maybe
//! inside a ref update, leaving git's lock files behind (`packed-refs.lock`, `<ref>.lock`
//! under `refs/lore/`); git would refuse every later update until someone deleted them by
//! hand. Those that were made while that sync ran, and before this one started, are its own
//! and are removed.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::SyncError;

/// Held for the length of a sync; dropping it ends the sync's claim.
#[derive(Debug)]
pub struct SyncLock {
    _file: File,
    running: PathBuf,
}

impl SyncLock {
    /// Waits for the repository whose common git directory is `common_dir` to be free, cleans
    /// up after a killed sync, and marks this one as running.
    pub fn acquire(common_dir: &Path) -> Result<SyncLock, SyncError> {
        let dir = common_dir.join("lore");
        let path = dir.join("sync.lock");
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SyncError::Io { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        file.lock().map_err(io(&path))?;
        let acquired = SystemTime::now();
        let running = dir.join("sync.running");
        if let Ok(meta) = std::fs::metadata(&running)
            && let Ok(started) = meta.modified()
        {
            remove_stale_locks(common_dir, started, acquired);
        }
        std::fs::write(&running, std::process::id().to_string()).map_err(io(&running))?;
        Ok(SyncLock {
            _file: file,
            running,
        })
    }
}

impl Drop for SyncLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.running);
    }
}

/// Removes `packed-refs.lock` and the `.lock` files under `refs/lore/` made between `from`
/// (the killed sync's start) and `until` (this one's).
fn remove_stale_locks(common_dir: &Path, from: SystemTime, until: SystemTime) {
    let stale = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= from && t <= until)
    };
    let packed = common_dir.join("packed-refs.lock");
    if stale(&packed) {
        let _ = std::fs::remove_file(&packed);
    }
    let mut folders = vec![common_dir.join("refs").join("lore")];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => folders.push(p),
                Ok(_) if p.extension().is_some_and(|e| e == "lock") && stale(&p) => {
                    let _ = std::fs::remove_file(&p);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_syncs_lock_files_are_removed_and_others_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let git = tmp.path();
        std::fs::create_dir_all(git.join("refs/lore/remotes/origin")).unwrap();
        // A lock file from long before, which is not the killed sync's.
        let old = git.join("refs/lore/remotes/origin/old.lock");
        std::fs::write(&old, "").unwrap();
        let long_ago = SystemTime::now() - std::time::Duration::from_secs(3600);
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        // A sync started, made lock files and was killed: its OS lock went with it, its mark
        // stayed.
        let running = git.join("lore/sync.running");
        std::fs::create_dir_all(git.join("lore")).unwrap();
        std::fs::write(&running, "12345").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(git.join("packed-refs.lock"), "").unwrap();
        std::fs::write(git.join("refs/lore/remotes/origin/sessions.lock"), "").unwrap();
        let second = SyncLock::acquire(git).unwrap();
        assert!(!git.join("packed-refs.lock").exists());
        assert!(!git.join("refs/lore/remotes/origin/sessions.lock").exists());
        assert!(
            old.exists(),
            "a lock from before the killed sync is not touched"
        );
        drop(second);
        assert!(!running.exists(), "a finished sync leaves no mark");
    }
}
