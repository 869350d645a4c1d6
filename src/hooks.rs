//! The git hooks lore installs in a repository (`lore hooks`): where they go, what they say,
//! and installing, removing and describing them. No printing; docs/hooks.md tells the whole
//! story.
//!
//! Two hooks, each a small POSIX sh script recognised by [`MARKER`]. `post-commit` runs the
//! hook it replaced (moved aside to `post-commit.lore-chained`), then `lore link --current
//! --hook`, quietly and never failing the commit. `pre-push`, on every `git push`
//!
//! 1. runs the pre-push hook that was there before lore's (moved aside to
//!    `pre-push.lore-chained`), with the same arguments and input, and stops the push when
//!    that hook fails;
//! 2. refuses a push to a URL that is not `lore::` when anything it sends reaches a commit of
//!    the plaintext store (`refs/lore/*`), whatever the destination ref: only
//!    `git-remote-lore` encrypts it; and refuses a `lore::` push when the `git-remote-lore`
//!    git would run is not lore's own;
//! 3. runs `lore sync --quiet` with the remote being pushed to, best effort: never a prompt,
//!    never a failed push, nothing at all where no store or no key is set up.
//!
//! [`guard`] says whether that leak guard actually runs: a hook git does not look at (hidden
//! by a later `core.hooksPath`, as husky sets) or cannot run guards nothing. What no hook can
//! stop (`git bundle`, a copied `.git`, a clone without hooks) is listed in docs/hooks.md.

use std::ffi::OsStr;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// The line that marks a hook as lore's.
pub const MARKER: &str = "# installed by lore hooks";

/// What a hook lore replaced is renamed to: `<hook><CHAINED_SUFFIX>`, beside it.
pub const CHAINED_SUFFIX: &str = ".lore-chained";

/// Set around the hook's own `lore sync`, so that the push that sync makes does not sync
/// again.
pub const HOOK_ENV: &str = "LORE_HOOK_ACTIVE";

/// Why hooks could not be found, installed or removed.
#[derive(Debug, thiserror::Error)]
pub enum HooksError {
    /// `git rev-parse` failed: not a repository, or no git.
    #[error("not inside a git repository: run this in the repository whose hooks you want ({0})")]
    NotARepository(String),
    /// The file system refused.
    #[error("cannot {what} {path}: {source}")]
    Io {
        /// What lore was doing (`read`, `write`, `rename`, …).
        what: &'static str,
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A hook that is not lore's is in place and the file it would be moved to is taken.
    #[error(
        "cannot chain the existing {hook} hook: {chained} already exists; move one of them away \
         and run 'lore hooks install' again",
        chained = chained.display()
    )]
    ChainedExists {
        /// The hook's name.
        hook: &'static str,
        /// The file in the way.
        chained: PathBuf,
    },
}

/// A hook lore installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// Runs before `git push` sends anything.
    PrePush,
    /// Runs after `git commit` made a commit: links the sessions running now to it.
    PostCommit,
}

impl Hook {
    /// Every hook lore installs, in the order `lore hooks` handles them.
    pub const ALL: &'static [Hook] = &[Hook::PrePush, Hook::PostCommit];

    /// The hook's file name, as git knows it.
    pub fn name(self) -> &'static str {
        match self {
            Hook::PrePush => "pre-push",
            Hook::PostCommit => "post-commit",
        }
    }

    /// The script lore writes for this hook, calling lore at `lore` (or `lore` on PATH when
    /// that file is gone by the time the hook runs).
    pub fn script(self, lore: &Path) -> Vec<u8> {
        let body = match self {
            Hook::PrePush => PRE_PUSH,
            Hook::PostCommit => POST_COMMIT,
        };
        let chained = format!("{}{CHAINED_SUFFIX}", self.name());
        let mut out = Vec::with_capacity(body.len() + 128);
        let (head, tail) = body.split_once("@LORE@").expect("template has @LORE@");
        out.extend_from_slice(head.replace("@MARKER@", MARKER).as_bytes());
        out.extend_from_slice(&sh_quote(lore.as_os_str()));
        out.extend_from_slice(tail.replace("@CHAINED@", &chained).as_bytes());
        out
    }
}

/// The pre-push script. `@MARKER@`, `@LORE@` (a quoted path) and `@CHAINED@` are filled in.
const PRE_PUSH: &str = r#"#!/bin/sh
@MARKER@ ('lore hooks uninstall' removes it and puts back the hook it chained).
#
# On every push: runs the pre-push hook that was here before lore's, if any; refuses to push
# refs/lore/* (the plaintext session store) to a remote that is not a lore:: remote; then
# shares sessions with 'lore sync --quiet', best effort: never a prompt, never a failed push.

lore_bin=@LORE@
[ -x "$lore_bin" ] || lore_bin=lore

remote=$1
url=$2
# The refs being pushed, '<local ref> <local oid> <remote ref> <remote oid>' a line: read
# once, then given to the chained hook and to the checks below.
refs=$(cat)
feed() {
    if [ -n "$refs" ]; then printf '%s\n' "$refs"; fi
}

# 1. The hook that was here before lore's: same arguments, same input; its failure stops
#    the push.
case $0 in
*/*) hooks=${0%/*} ;;
*) hooks=. ;;
esac
chained=$hooks/@CHAINED@
if [ -x "$chained" ]; then
    feed | "$chained" "$@" || exit $?
fi

# 2. The leak guard. refs/lore/* hold sessions in plaintext (all but refs/lore/wire/*, the
#    ciphertext the helper keeps); only git-remote-lore encrypts them. A push to a URL that is
#    not lore:: is refused when anything it sends reaches one of their commits, whatever the
#    ref names say ('refs/lore/sessions:refs/heads/x', 'refs/*:refs/backup/*',
#    '<sha>:refs/tags/x', --mirror). A push to a lore:: URL is let through only when the
#    git-remote-lore that git will run is lore's own (the same file as, or a byte-for-byte copy
#    of, the one beside this hook's lore). The helper's own inner push
#    (LORE_REMOTE_HELPER_ACTIVE) carries only ciphertext; a deletion (an all-zero local oid)
#    carries nothing.
where=$remote
if [ "$url" != "$remote" ]; then where="$remote ($url)"; fi
case $url in
lore::*)
    helper=$(command -v git-remote-lore 2>/dev/null) || helper=
    case $lore_bin in
    */*) lore_path=$lore_bin ;;
    *) lore_path=$(command -v "$lore_bin" 2>/dev/null) || lore_path= ;;
    esac
    expected=${lore_path%/*}/git-remote-lore
    if [ -z "$helper" ] || [ -z "$lore_path" ] ||
        ! { [ "$helper" -ef "$expected" ] || cmp -s "$helper" "$expected"; }; then
        echo "lore: push refused: the git-remote-lore git would run (${helper:-none on PATH}) is not lore's own ($expected), so nothing says it encrypts." >&2
        echo "lore: install lore and git-remote-lore together (cargo install puts both in one folder) and put that folder first on PATH." >&2
        exit 1
    fi
    ;;
*)
    if [ -z "${LORE_REMOTE_HELPER_ACTIVE:-}" ]; then
        plain=$(git for-each-ref --format='%(refname) %(objectname)' refs/lore/ 2>/dev/null |
            while read -r name oid; do
                case $name in
                refs/lore/wire/*) ;;
                *) printf '%s\n' "$oid" ;;
                esac
            done)
        if [ -n "$plain" ]; then
            total=$(git rev-list --count $plain) || total=
            # Whether what the push sends from $1 holds any of the plaintext store: a commit
            # (or a tag of one) that reaches one of its commits, or one of its trees or blobs.
            # Anything git cannot answer counts as a leak.
            reaches() {
                [ -n "$total" ] || return 0
                commit=$(git rev-parse -q --verify "$1^{commit}" 2>/dev/null) || commit=
                if [ -n "$commit" ]; then
                    rest=$(git rev-list --count $plain --not "$commit" 2>/dev/null) || return 0
                    [ "$rest" -lt "$total" ]
                else
                    object=$(git rev-parse -q --verify "$1^{}" 2>/dev/null) || return 0
                    git rev-list --objects $plain 2>/dev/null | cut -d' ' -f1 | grep -qx "$object"
                fi
            }
            leaked=$(feed | while read -r lref loid rref roid; do
                case $loid in
                *[!0]*) if reaches "$loid"; then printf '%s\n' "$rref"; fi ;;
                esac
            done)
            if [ -n "$leaked" ]; then
                for ref in $leaked; do
                    echo "lore: push refused: $ref would reach $where unencrypted." >&2
                done
                echo "lore: it holds commits of refs/lore/*, your sessions in plaintext; only a lore:: remote encrypts them." >&2
                echo "lore: push the store with 'git push lore::$remote refs/lore/sessions', or run 'lore sync'." >&2
                exit 1
            fi
        fi
    fi
    ;;
esac

# 3. Share sessions, best effort. Not on lore's own pushes (this hook's sync, the helper's
#    inner push), not when only refs/lore/* are pushed, not for a remote given as a URL, and
#    nothing where this repository has no store or no key.
[ -z "${LORE_HOOK_ACTIVE:-}" ] || exit 0
[ -z "${LORE_REMOTE_HELPER_ACTIVE:-}" ] || exit 0
code=$(feed | while read -r lref loid rref roid; do
    case $rref in
    refs/lore/*) ;;
    *) echo x ;;
    esac
done)
[ -n "$code" ] || exit 0
git config --get "remote.$remote.url" >/dev/null 2>&1 || exit 0
[ -n "$(git for-each-ref --count=1 --format=x refs/lore/ 2>/dev/null)" ] || exit 0
command -v "$lore_bin" >/dev/null 2>&1 || exit 0
state=$(LORE_HOOK_ACTIVE=1 "$lore_bin" sync status --remote "$remote" --json </dev/null 2>/dev/null) || exit 0
case $state in
*'"store": true'*) ;;
*) exit 0 ;;
esac
case $state in
*'"key": "missing"'* | *'"key": "unreadable"'*) exit 0 ;;
esac
if ! LORE_HOOK_ACTIVE=1 GIT_TERMINAL_PROMPT=0 "$lore_bin" sync --quiet --remote "$remote" </dev/null; then
    echo "lore: sharing sessions failed (the push goes on); run 'lore sync' to try again." >&2
fi
exit 0
"#;

/// The post-commit script. `@MARKER@`, `@LORE@` (a quoted path) and `@CHAINED@` are filled
/// in. git ignores a post-commit hook's status; the chained hook's is passed on all the same.
const POST_COMMIT: &str = r#"#!/bin/sh
@MARKER@ ('lore hooks uninstall' removes it and puts back the hook it chained).
#
# After every commit: runs the post-commit hook that was here before lore's, if any; then links
# the sessions of this repository that are running, or stopped in the last few minutes, to the
# new commit with 'lore link --current --hook'. Best effort and quiet: a commit never fails
# because of lore.

lore_bin=@LORE@
[ -x "$lore_bin" ] || lore_bin=lore

case $0 in
*/*) hooks=${0%/*} ;;
*) hooks=. ;;
esac
chained=$hooks/@CHAINED@
status=0
if [ -x "$chained" ]; then
    "$chained" "$@" || status=$?
fi

if [ -z "${LORE_HOOK_ACTIVE:-}" ] && command -v "$lore_bin" >/dev/null 2>&1; then
    LORE_HOOK_ACTIVE=1 "$lore_bin" link --current --hook </dev/null >/dev/null 2>&1 || true
fi
exit $status
"#;

/// `s` as one sh word: single-quoted, each `'` written `'\''`.
fn sh_quote(s: &OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = vec![b'\''];
    for &b in s.as_bytes() {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

/// The hooks folder of the repository holding `cwd`, as git would use it: `core.hooksPath`
/// (relative to the work tree when relative) or else `$GIT_DIR/hooks` (the common one, in a
/// worktree). Asks `git` (the program given) with `rev-parse --git-path hooks`.
pub fn hooks_dir(git: &OsStr, cwd: &Path) -> Result<PathBuf, HooksError> {
    let run = |args: &[&str]| {
        crate::git::command(git)
            .args(args)
            .current_dir(cwd)
            .output()
            .map_err(|e| HooksError::NotARepository(format!("cannot run git: {e}")))
    };
    let out = run(&["rev-parse", "--path-format=absolute", "--git-path", "hooks"])?;
    let out = if out.status.success() {
        out
    } else {
        // git before 2.31 has no --path-format; its answer is relative to cwd.
        run(&["rev-parse", "--git-path", "hooks"])?
    };
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(HooksError::NotARepository(if why.is_empty() {
            "git rev-parse failed".to_owned()
        } else {
            why
        }));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let path = PathBuf::from(text.trim_end_matches(['\n', '\r']));
    Ok(if path.is_absolute() {
        path
    } else {
        cwd.join(path)
    })
}

/// Whether the leak guard (lore's pre-push hook) runs when git pushes from a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// lore's pre-push hook is where git looks, and executable.
    Active {
        /// The hook.
        path: PathBuf,
    },
    /// No lore pre-push hook where git looks, nor anywhere it used to look.
    Missing {
        /// Where git looks for hooks.
        dir: PathBuf,
    },
    /// lore's hook is installed where git no longer looks: `core.hooksPath` was set (by husky,
    /// say) after `lore hooks install`.
    Hidden {
        /// Where lore's hook is.
        installed: PathBuf,
        /// Where git looks now.
        dir: PathBuf,
    },
    /// lore's hook is there but not executable, so git skips it.
    NotExecutable {
        /// The hook.
        path: PathBuf,
    },
}

/// Whether the leak guard runs for pushes from the repository holding `cwd`: lore's pre-push
/// hook where git looks for hooks now (`core.hooksPath` included), executable; or, when it is
/// not there, whether it sits in the folder git used before `core.hooksPath` hid it.
pub fn guard(git: &OsStr, cwd: &Path) -> Result<Guard, HooksError> {
    let dir = hooks_dir(git, cwd)?;
    let hooks = Hooks::new(&dir);
    let path = hooks.path(Hook::PrePush);
    if let Occupant::Lore(_) = hooks.occupant(Hook::PrePush)? {
        return Ok(if is_executable(&path) {
            Guard::Active { path }
        } else {
            Guard::NotExecutable { path }
        });
    }
    // The default folder, `$GIT_COMMON_DIR/hooks`, which core.hooksPath overrides.
    let out = crate::git::command(git)
        .args(["rev-parse", "--path-format=absolute", "--git-common-dir"])
        .current_dir(cwd)
        .output()
        .map_err(|e| HooksError::NotARepository(format!("cannot run git: {e}")))?;
    if out.status.success() {
        let common =
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim_end_matches(['\n', '\r']));
        let default = Hooks::new(common.join("hooks"));
        if default.dir() != dir.as_path()
            && matches!(default.occupant(Hook::PrePush)?, Occupant::Lore(_))
        {
            return Ok(Guard::Hidden {
                installed: default.path(Hook::PrePush),
                dir,
            });
        }
    }
    Ok(Guard::Missing { dir })
}

/// Where a hook stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// lore's hook is not there.
    Absent,
    /// lore's hook is there, alone.
    Installed,
    /// lore's hook is there and runs the hook that was there before it.
    Chained,
}

/// A hook's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookStatus {
    pub hook: Hook,
    pub state: State,
    /// Where the hook is (or would be).
    pub path: PathBuf,
    /// The hook lore's runs first, when [`State::Chained`].
    pub chained: Option<PathBuf>,
    /// A hook that is not lore's is at `path` (so lore's is absent; installing chains it).
    pub other: bool,
}

/// What `install` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// Wrote lore's hook where there was none.
    Fresh,
    /// Moved the hook that was there aside and wrote lore's, which runs it first.
    Chained,
    /// lore's hook was already there, exactly as it would be written: nothing changed.
    Unchanged,
    /// lore's hook was there, but different (another lore, an older script): rewritten.
    Updated,
}

/// What `uninstall` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uninstalled {
    /// Removed lore's hook.
    Removed,
    /// Removed lore's hook and put back the hook it chained.
    Restored,
    /// lore's hook was not there: nothing changed.
    NotInstalled,
}

/// The hooks folder of one repository.
#[derive(Debug, Clone)]
pub struct Hooks {
    dir: PathBuf,
}

impl Hooks {
    /// The hooks in `dir` (from [`hooks_dir`]); nothing is created until an install.
    pub fn new(dir: impl Into<PathBuf>) -> Hooks {
        Hooks { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where `hook` is.
    pub fn path(&self, hook: Hook) -> PathBuf {
        self.dir.join(hook.name())
    }

    /// Where the hook lore's replaced is kept.
    pub fn chained_path(&self, hook: Hook) -> PathBuf {
        self.dir.join(format!("{}{CHAINED_SUFFIX}", hook.name()))
    }

    /// What is at `hook`'s path: nothing, lore's hook, or another.
    fn occupant(&self, hook: Hook) -> Result<Occupant, HooksError> {
        let path = self.path(hook);
        if !exists(&path)? {
            return Ok(Occupant::Nothing);
        }
        // A file that cannot be read (a dangling link, say) is not lore's.
        Ok(match fs::read(&path) {
            Ok(bytes) if is_lores(&bytes) => Occupant::Lore(bytes),
            _ => Occupant::Other,
        })
    }

    /// Where `hook` stands.
    pub fn status(&self, hook: Hook) -> Result<HookStatus, HooksError> {
        let chained = self.chained_path(hook);
        let (state, other) = match self.occupant(hook)? {
            Occupant::Nothing => (State::Absent, false),
            Occupant::Other => (State::Absent, true),
            Occupant::Lore(_) if exists(&chained)? => (State::Chained, false),
            Occupant::Lore(_) => (State::Installed, false),
        };
        Ok(HookStatus {
            hook,
            state,
            path: self.path(hook),
            chained: (state == State::Chained).then_some(chained),
            other,
        })
    }

    /// Installs lore's `hook`, calling lore at `lore`. A hook that is not lore's is moved
    /// aside (to [`Hooks::chained_path`]) and run first by lore's. Installing again changes
    /// nothing.
    pub fn install(&self, hook: Hook, lore: &Path) -> Result<Installed, HooksError> {
        let path = self.path(hook);
        let chained = self.chained_path(hook);
        let script = hook.script(lore);
        let outcome = match self.occupant(hook)? {
            Occupant::Lore(bytes) if bytes == script && is_executable(&path) => {
                return Ok(Installed::Unchanged);
            }
            Occupant::Lore(_) => Installed::Updated,
            Occupant::Other => {
                if exists(&chained)? {
                    return Err(HooksError::ChainedExists {
                        hook: hook.name(),
                        chained,
                    });
                }
                rename(&path, &chained)?;
                if let Err(e) = write_script(&self.dir, &path, &script) {
                    // Put the hook back rather than leave the repository with none.
                    let _ = fs::rename(&chained, &path);
                    return Err(e);
                }
                return Ok(Installed::Chained);
            }
            Occupant::Nothing if exists(&chained)? => Installed::Chained,
            Occupant::Nothing => Installed::Fresh,
        };
        fs::create_dir_all(&self.dir).map_err(|source| HooksError::Io {
            what: "create",
            path: self.dir.clone(),
            source,
        })?;
        write_script(&self.dir, &path, &script)?;
        Ok(outcome)
    }

    /// Removes lore's `hook` and puts back the hook it chained, as it was.
    pub fn uninstall(&self, hook: Hook) -> Result<Uninstalled, HooksError> {
        let path = self.path(hook);
        let chained = self.chained_path(hook);
        match self.occupant(hook)? {
            Occupant::Other => Ok(Uninstalled::NotInstalled),
            Occupant::Nothing => {
                // lore's hook removed by hand: still put back the one it kept.
                if exists(&chained)? {
                    rename(&chained, &path)?;
                    Ok(Uninstalled::Restored)
                } else {
                    Ok(Uninstalled::NotInstalled)
                }
            }
            Occupant::Lore(_) => {
                if exists(&chained)? {
                    rename(&chained, &path)?;
                    Ok(Uninstalled::Restored)
                } else {
                    fs::remove_file(&path).map_err(|source| HooksError::Io {
                        what: "remove",
                        path: path.clone(),
                        source,
                    })?;
                    Ok(Uninstalled::Removed)
                }
            }
        }
    }
}

enum Occupant {
    Nothing,
    Lore(Vec<u8>),
    Other,
}

/// Whether a hook's content is lore's: its marker on a line of its own (up to the comment's
/// end), among the first lines.
fn is_lores(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .take(5)
        .any(|line| line.starts_with(MARKER.as_bytes()))
}

/// Whether anything (a dangling link included) is at `path`.
fn exists(path: &Path) -> Result<bool, HooksError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(source) => Err(HooksError::Io {
            what: "read",
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

fn rename(from: &Path, to: &Path) -> Result<(), HooksError> {
    fs::rename(from, to).map_err(|source| HooksError::Io {
        what: "rename",
        path: from.to_path_buf(),
        source,
    })
}

/// Writes `script` at `path`, mode 0755, atomically (a temporary file beside it, renamed).
fn write_script(dir: &Path, path: &Path, script: &[u8]) -> Result<(), HooksError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.lore-tmp"));
    let io = |what, source| HooksError::Io {
        what,
        path: tmp.clone(),
        source,
    };
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o755)
        .open(&tmp)
        .map_err(|e| io("write", e))?;
    let written = f
        .write_all(script)
        .and_then(|()| f.sync_all())
        .and_then(|()| {
            // The umask may have taken bits away from 0755.
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))
        });
    drop(f);
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io("write", e));
    }
    if let Err(source) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(HooksError::Io {
            what: "write",
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_quotes_the_path_and_is_recognised() {
        let s = Hook::PrePush.script(Path::new("/opt/it's here/lore"));
        let text = String::from_utf8(s.clone()).unwrap();
        assert!(text.starts_with("#!/bin/sh\n# installed by lore hooks"));
        assert!(text.contains("lore_bin='/opt/it'\\''s here/lore'\n"));
        assert!(text.contains("chained=$hooks/pre-push.lore-chained\n"));
        for hole in ["@MARKER@", "@LORE@", "@CHAINED@"] {
            assert!(!text.contains(hole));
        }
        assert!(is_lores(&s));
        assert!(!is_lores(b"#!/bin/sh\nexit 0\n"));
    }

    #[test]
    fn the_post_commit_script_chains_and_links_quietly() {
        let s = Hook::PostCommit.script(Path::new("/usr/bin/lore"));
        let text = String::from_utf8(s.clone()).unwrap();
        assert!(text.contains("chained=$hooks/post-commit.lore-chained\n"));
        assert!(text.contains("link --current --hook </dev/null >/dev/null 2>&1 || true"));
        assert!(text.ends_with("exit $status\n"));
        assert!(is_lores(&s));
    }

    #[test]
    fn install_chain_and_uninstall_in_a_folder() {
        let d = tempfile::tempdir().unwrap();
        let hooks = Hooks::new(d.path().join("hooks"));
        let lore = Path::new("/usr/bin/lore");
        assert_eq!(hooks.status(Hook::PrePush).unwrap().state, State::Absent);
        assert_eq!(
            hooks.install(Hook::PrePush, lore).unwrap(),
            Installed::Fresh
        );
        assert_eq!(
            hooks.install(Hook::PrePush, lore).unwrap(),
            Installed::Unchanged
        );
        assert_eq!(
            hooks
                .install(Hook::PrePush, Path::new("/elsewhere/lore"))
                .unwrap(),
            Installed::Updated
        );
        assert_eq!(
            hooks.uninstall(Hook::PrePush).unwrap(),
            Uninstalled::Removed
        );
        assert_eq!(
            hooks.uninstall(Hook::PrePush).unwrap(),
            Uninstalled::NotInstalled
        );

        fs::write(hooks.path(Hook::PrePush), b"#!/bin/sh\nexit 3\n").unwrap();
        let st = hooks.status(Hook::PrePush).unwrap();
        assert_eq!((st.state, st.other), (State::Absent, true));
        assert_eq!(
            hooks.install(Hook::PrePush, lore).unwrap(),
            Installed::Chained
        );
        let st = hooks.status(Hook::PrePush).unwrap();
        assert_eq!(st.state, State::Chained);
        assert_eq!(st.chained, Some(hooks.chained_path(Hook::PrePush)));
        assert_eq!(
            hooks.uninstall(Hook::PrePush).unwrap(),
            Uninstalled::Restored
        );
        assert_eq!(
            fs::read(hooks.path(Hook::PrePush)).unwrap(),
            b"#!/bin/sh\nexit 3\n"
        );
        assert!(!exists(&hooks.chained_path(Hook::PrePush)).unwrap());
    }

    #[test]
    fn a_taken_chained_name_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let hooks = Hooks::new(d.path());
        fs::write(hooks.path(Hook::PrePush), b"mine").unwrap();
        fs::write(hooks.chained_path(Hook::PrePush), b"older").unwrap();
        assert!(matches!(
            hooks.install(Hook::PrePush, Path::new("/usr/bin/lore")),
            Err(HooksError::ChainedExists { .. })
        ));
        assert_eq!(fs::read(hooks.path(Hook::PrePush)).unwrap(), b"mine");
    }
}
