//! Finding the git repository a path belongs to, without running git.

use std::path::{Path, PathBuf};

/// The top folder of the repository (or worktree) holding `path`: the nearest ancestor with a
/// `.git` entry (a folder, or a file for worktrees and submodules). `path` should be absolute
/// and canonical; `None` outside any repository.
pub fn root_of(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .find(|p| p.join(".git").exists())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nearest_repository() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("r/.git")).unwrap();
        std::fs::create_dir_all(d.path().join("r/src/deep")).unwrap();
        assert_eq!(
            root_of(&d.path().join("r/src/deep")),
            Some(d.path().join("r"))
        );
        assert_eq!(root_of(&d.path().join("r")), Some(d.path().join("r")));
    }
}
