//! The user's `git`, run in a work tree for the questions links and blame ask: which commit a
//! revision names, what a commit changed, its patch id, and the blame of a file.
//!
//! Every call is one process whose output is read as it comes; nothing here writes to the
//! repository. Messages are read in the C locale, so that the few git errors lore recognises
//! (a path git does not know) are recognised whatever the user's language.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why git could not answer.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// `git rev-parse --show-toplevel` failed where lore was run.
    #[error("not inside a git repository ({0}): run this in the repository whose commits you mean")]
    NotARepository(PathBuf),
    /// A revision that names no commit.
    #[error("unknown revision '{0}': give a commit id, a branch, a tag or HEAD~N")]
    UnknownRevision(String),
    /// A revision asked for in a repository that has no commit at all.
    #[error("this repository has no commits yet: make a first commit, then run this again")]
    NoCommits,
    /// git could not be started.
    #[error("cannot run {program}: {source}; is git installed and on PATH?")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    /// git ran and failed.
    #[error("git {command} failed: {message}")]
    Failed { command: String, message: String },
}

/// One commit as links and blame describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// The full id.
    pub id: String,
    /// The first line of the message.
    pub subject: String,
    pub author: String,
    pub author_email: String,
    /// Author time, Unix ms.
    pub author_time: i64,
    /// Committer time, Unix ms: when the commit was made (or last rewritten).
    pub commit_time: i64,
}

/// How to run git in one work tree.
#[derive(Debug, Clone)]
pub struct Git {
    program: OsString,
    root: PathBuf,
}

impl Git {
    /// The repository holding `cwd`, run with `program` (`git`, or `LORE_GIT`).
    pub fn discover(program: &OsStr, cwd: &Path) -> Result<Git, GitError> {
        let probe = Git {
            program: program.to_owned(),
            root: cwd.to_owned(),
        };
        match probe.run(&["rev-parse", "--show-toplevel"]) {
            Ok(out) => {
                let top = String::from_utf8_lossy(&out).trim_end().to_owned();
                if top.is_empty() {
                    // A bare repository or inside .git: no work tree to blame or link.
                    return Err(GitError::NotARepository(cwd.to_owned()));
                }
                let root = PathBuf::from(top);
                let root = std::fs::canonicalize(&root).unwrap_or(root);
                Ok(Git {
                    program: program.to_owned(),
                    root,
                })
            }
            Err(GitError::Failed { .. }) => Err(GitError::NotARepository(cwd.to_owned())),
            Err(e) => Err(e),
        }
    }

    /// The `git` to run: `LORE_GIT` when set (tests, unusual installs), else `git` on PATH.
    pub fn program_from_env() -> OsString {
        crate::git::program()
    }

    /// The top of the work tree (symlinks resolved).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A `git` command in the work tree, in the C locale, never prompting, printing file
    /// names as they are (`core.quotePath=false`: no octal escapes for non-ASCII bytes; a
    /// name with a `"`, a `\` or a control character is still quoted, see [`unquote_path`]).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = crate::git::command(&self.program);
        c.args(["-c", "core.quotePath=false"])
            .args(args)
            .current_dir(&self.root)
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0");
        c
    }

    /// Runs git and returns its stdout; a failure carries the first line of its stderr.
    pub fn run(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        self.run_input(args, None)
    }

    /// Runs git with `input` on its stdin.
    pub fn run_input(&self, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, GitError> {
        let mut c = self.command(args);
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        if input.is_some() {
            c.stdin(Stdio::piped());
        }
        let mut child = c.spawn().map_err(|source| self.spawn_error(source))?;
        if let Some(bytes) = input
            && let Some(mut stdin) = child.stdin.take()
        {
            // Written from a thread: git may fill its stdout pipe before reading all input.
            let bytes = bytes.to_vec();
            let writer = std::thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            });
            let out = child
                .wait_with_output()
                .map_err(|source| self.spawn_error(source))?;
            let _ = writer.join();
            return self.check(args, out);
        }
        let out = child
            .wait_with_output()
            .map_err(|source| self.spawn_error(source))?;
        self.check(args, out)
    }

    fn check(&self, args: &[&str], out: std::process::Output) -> Result<Vec<u8>, GitError> {
        if out.status.success() {
            return Ok(out.stdout);
        }
        Err(GitError::Failed {
            command: args.first().copied().unwrap_or("").to_owned(),
            message: first_error_line(&out.stderr),
        })
    }

    pub(crate) fn spawn_error(&self, source: std::io::Error) -> GitError {
        GitError::Spawn {
            program: self.program.to_string_lossy().into_owned(),
            source,
        }
    }

    /// The full id of the commit `rev` names: resolved first, then peeled (an annotated tag
    /// names its commit). Peeling after resolving keeps every form git reads: `rev^{commit}`
    /// written at once would make `:/text` search for `text^{commit}`.
    pub fn resolve_commit(&self, rev: &str) -> Result<String, GitError> {
        if rev.starts_with('-') {
            return Err(GitError::UnknownRevision(rev.to_owned()));
        }
        let Some(object) = self.rev_parse(rev)? else {
            return Err(self.unknown(rev));
        };
        match self.rev_parse(&format!("{object}^{{commit}}"))? {
            Some(id) => Ok(id),
            None => Err(GitError::UnknownRevision(rev.to_owned())),
        }
    }

    /// `git rev-parse --verify` of one revision: the object id, `None` when it names none.
    fn rev_parse(&self, rev: &str) -> Result<Option<String>, GitError> {
        match self.run(&["rev-parse", "--verify", "--quiet", "--end-of-options", rev]) {
            Ok(out) => {
                let id = String::from_utf8_lossy(&out).trim().to_owned();
                Ok((!id.is_empty()).then_some(id))
            }
            Err(GitError::Failed { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The error for a revision that names nothing: [`GitError::NoCommits`] when nothing
    /// could (no ref, no HEAD: a new repository), else [`GitError::UnknownRevision`].
    fn unknown(&self, rev: &str) -> GitError {
        match self.has_commits() {
            Ok(false) => GitError::NoCommits,
            _ => GitError::UnknownRevision(rev.to_owned()),
        }
    }

    /// The commits of `range` (`A..B`, `A...B`, `A..`; anything `git rev-list` reads as a
    /// range), or of the one commit `range` names when it is not a range: full ids.
    pub fn commits_in(&self, range: &str) -> Result<Vec<String>, GitError> {
        if range.starts_with('-') {
            return Err(GitError::UnknownRevision(range.to_owned()));
        }
        if !range.contains("..") {
            return Ok(vec![self.resolve_commit(range)?]);
        }
        for end in range.split("...").flat_map(|p| p.split("..")) {
            if !end.is_empty() {
                self.resolve_commit(end)?;
            }
        }
        let out = self.run(&["rev-list", "--end-of-options", range])?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .map(str::to_owned)
            .collect())
    }

    /// Whether the repository has any commit: on HEAD or any ref.
    pub fn has_commits(&self) -> Result<bool, GitError> {
        let out = self.run(&["rev-list", "-n", "1", "--all"])?;
        Ok(!out.iter().all(u8::is_ascii_whitespace))
    }

    /// The git operation replaying commits in this work tree, if one is in progress: a
    /// rebase, a cherry-pick or a revert of several commits, `git am`. git runs post-commit for
    /// every commit such an operation makes, and those are old work replayed, not new work.
    /// Read from the git dir (the work tree's own, in a linked worktree), as `git status`
    /// does: `rebase-merge/`, `rebase-apply/`, `CHERRY_PICK_HEAD`, `REVERT_HEAD`,
    /// `sequencer/`.
    pub fn replay_in_progress(&self) -> Result<Option<&'static str>, GitError> {
        let out = self.run(&["rev-parse", "--absolute-git-dir"])?;
        let dir = PathBuf::from(String::from_utf8_lossy(&out).trim_end_matches('\n'));
        let markers = [
            ("rebase-merge", "a rebase"),
            ("rebase-apply", "a rebase or git am"),
            ("CHERRY_PICK_HEAD", "a cherry-pick"),
            ("REVERT_HEAD", "a revert"),
            ("sequencer", "a cherry-pick or revert"),
        ];
        Ok(markers
            .iter()
            .find(|(name, _)| dir.join(name).symlink_metadata().is_ok())
            .map(|&(_, what)| what))
    }

    /// Subject, author and dates of commit `id` (a full id, or anything git resolves).
    pub fn commit_info(&self, id: &str) -> Result<CommitInfo, GitError> {
        let out = self.run(&[
            "show",
            "-s",
            "--format=%H%x00%an%x00%ae%x00%at%x00%ct%x00%s",
            "--end-of-options",
            id,
        ])?;
        let text = String::from_utf8_lossy(&out);
        parse_info(text.trim_end_matches('\n'))
            .ok_or_else(|| GitError::UnknownRevision(id.to_owned()))
    }

    /// Whether commit `id` is reachable from any local branch or remote-tracking branch: a
    /// commit that amend or rebase left behind is not.
    pub fn is_on_a_branch(&self, id: &str) -> Result<bool, GitError> {
        let out = self.run(&[
            "for-each-ref",
            "--count=1",
            "--format=%(refname)",
            "--contains",
            id,
            "refs/heads",
            "refs/remotes",
        ])?;
        Ok(!out.iter().all(u8::is_ascii_whitespace))
    }

    /// The stable patch id of commit `id` (`git patch-id --stable`), `None` for a commit with
    /// no diff (a merge, an empty commit).
    pub fn patch_id(&self, id: &str) -> Result<Option<String>, GitError> {
        let mut first = None;
        self.patch_ids(
            &["show", "--no-color", "--format=commit %H", "-p", id],
            |patch, _| {
                if first.is_none() && !patch.is_empty() {
                    first = Some(patch.to_owned());
                }
            },
        )?;
        Ok(first)
    }

    /// The stable patch id of every commit on a branch committed since `since_secs` (Unix
    /// seconds): patch id → commit ids. Two processes in all, however many commits, the
    /// diffs streamed from one to the other.
    pub fn patch_ids_since(
        &self,
        since_secs: i64,
    ) -> Result<std::collections::HashMap<String, Vec<String>>, GitError> {
        let since = since_arg(since_secs);
        let mut map: std::collections::HashMap<String, Vec<String>> = Default::default();
        self.patch_ids(
            &[
                "log",
                "--branches",
                "--remotes",
                "--no-merges",
                "--no-color",
                &since,
                "--format=commit %H",
                "-p",
            ],
            |patch, commit| {
                map.entry(patch.to_owned())
                    .or_default()
                    .push(commit.to_owned())
            },
        )?;
        Ok(map)
    }

    /// Runs `git <diff_args>` (commits as `commit <id>` headers with their diffs) piped into
    /// `git patch-id --stable`, and calls `each(patch id, commit id)` for every line the
    /// latter prints. Nothing is held but a line: the diffs go from one process to the other.
    fn patch_ids(
        &self,
        diff_args: &[&str],
        mut each: impl FnMut(&str, &str),
    ) -> Result<(), GitError> {
        let mut diff = self
            .command(diff_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        let diff_errors = drain(diff.stderr.take());
        let Some(diff_out) = diff.stdout.take() else {
            let _ = diff.kill();
            let _ = diff.wait();
            return Err(self.failed(diff_args, "no output"));
        };
        let spawned = self
            .command(&["patch-id", "--stable"])
            .stdin(Stdio::from(diff_out))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut ids = match spawned {
            Ok(c) => c,
            Err(e) => {
                // Its input pipe is closed with the failed command: the first git stops.
                let _ = diff.wait();
                return Err(self.spawn_error(e));
            }
        };
        let id_errors = drain(ids.stderr.take());
        let mut read_error = None;
        if let Some(out) = ids.stdout.take() {
            let mut r = BufReader::new(out);
            let mut line = String::new();
            loop {
                line.clear();
                match r.read_line(&mut line) {
                    Ok(0) => break,
                    Ok(_) => {
                        if let Some((patch, commit)) = line.trim_end().split_once(' ') {
                            each(patch, commit);
                        }
                    }
                    Err(e) => {
                        read_error = Some(e.to_string());
                        break;
                    }
                }
            }
        }
        let ids_status = ids.wait().map_err(|e| self.spawn_error(e))?;
        let diff_status = diff.wait().map_err(|e| self.spawn_error(e))?;
        let diff_errors = diff_errors.join().unwrap_or_default();
        let id_errors = id_errors.join().unwrap_or_default();
        if !diff_status.success() {
            return Err(self.failed(diff_args, &first_error_line(&diff_errors)));
        }
        if !ids_status.success() {
            return Err(self.failed(&["patch-id"], &first_error_line(&id_errors)));
        }
        match read_error {
            Some(e) => Err(self.failed(&["patch-id"], &e)),
            None => Ok(()),
        }
    }

    fn failed(&self, args: &[&str], message: &str) -> GitError {
        GitError::Failed {
            command: args.first().copied().unwrap_or("").to_owned(),
            message: message.to_owned(),
        }
    }

    /// What commit `id` changed: the files (paths in the commit, NUL-safe) and the diff
    /// (`git diff-tree -p -U0`, against its first parent; a root commit against nothing; a
    /// merge gives nothing: its changes are its parents').
    pub fn commit_changes(&self, id: &str) -> Result<(Vec<String>, String), GitError> {
        let names = self.run(&[
            "diff-tree",
            "--no-commit-id",
            "--root",
            "-r",
            "-z",
            "--name-only",
            "--end-of-options",
            id,
        ])?;
        let files = String::from_utf8_lossy(&names)
            .split('\0')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        let diff = self.run(&[
            "diff-tree",
            "--no-commit-id",
            "--root",
            "-r",
            "-p",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--end-of-options",
            id,
        ])?;
        Ok((files, String::from_utf8_lossy(&diff).into_owned()))
    }

    /// The added lines (normalised, significant: [`super::evidence::added_lines`]) of every
    /// commit on a local or remote-tracking branch committed since `since_secs`, merges
    /// excluded, newest first: what `lore link --auto` compares with linked commits to find
    /// squashes, cherry-picks and rebases. git's output is read one commit at a time.
    pub fn added_lines_since(
        &self,
        since_secs: i64,
    ) -> Result<Vec<(String, Vec<String>)>, GitError> {
        let since = since_arg(since_secs);
        let args = [
            "log",
            "--branches",
            "--remotes",
            "--no-merges",
            "--no-color",
            "--no-ext-diff",
            &since,
            "-p",
            "-U0",
            "--format=%x01%H",
        ];
        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        let errors = drain(child.stderr.take());
        let mut commits = Vec::new();
        let mut read_error = None;
        if let Some(out) = child.stdout.take() {
            let mut r = BufReader::new(out);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\x01', &mut buf) {
                    Ok(0) => break,
                    Ok(_) => {
                        if buf.last() == Some(&b'\x01') {
                            buf.pop();
                        }
                        let text = String::from_utf8_lossy(&buf);
                        let (id, diff) = text.split_once('\n').unwrap_or((&text, ""));
                        let id = id.trim();
                        if !id.is_empty() {
                            commits.push((id.to_owned(), super::evidence::added_lines(diff)));
                        }
                    }
                    Err(e) => {
                        read_error = Some(e.to_string());
                        break;
                    }
                }
            }
        }
        let status = child.wait().map_err(|e| self.spawn_error(e))?;
        let errors = errors.join().unwrap_or_default();
        if !status.success() {
            return Err(self.failed(&args, &first_error_line(&errors)));
        }
        match read_error {
            Some(e) => Err(self.failed(&args, &e)),
            None => Ok(commits),
        }
    }

    /// The root commits of the history HEAD is on: the repository's identity, the same in
    /// every clone of it (empty for a repository without commits).
    pub fn root_commits(&self) -> Result<Vec<String>, GitError> {
        match self.run(&["rev-list", "--max-parents=0", "HEAD", "--"]) {
            Ok(out) => Ok(String::from_utf8_lossy(&out)
                .lines()
                .map(str::to_owned)
                .collect()),
            Err(GitError::Failed { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Which of `revs` (full or abbreviated ids) name a commit of this repository: one
    /// `git cat-file --batch-check` for all of them.
    pub fn existing_commits(&self, revs: &[String]) -> Result<Vec<bool>, GitError> {
        if revs.is_empty() {
            return Ok(Vec::new());
        }
        let mut input = String::new();
        for r in revs {
            // Ids only: a name with a newline or a space would shift the answers.
            let id: String = r.chars().filter(char::is_ascii_hexdigit).collect();
            input.push_str(if id.len() >= 7 { &id } else { "0000000" });
            input.push('\n');
        }
        let out = self.run_input(
            &["cat-file", "--batch-check=%(objecttype)"],
            Some(input.as_bytes()),
        )?;
        let text = String::from_utf8_lossy(&out);
        Ok(text.lines().map(|l| l.trim() == "commit").collect())
    }

    /// The boundary commits of a shallow clone (empty when the clone is complete): `git
    /// blame` gives every line older than a boundary to the boundary commit. Read from the
    /// repository's `shallow` file, as git does.
    pub fn shallow_boundaries(&self) -> Result<Vec<String>, GitError> {
        let out = self.run(&["rev-parse", "--is-shallow-repository"])?;
        if String::from_utf8_lossy(&out).trim() != "true" {
            return Ok(Vec::new());
        }
        let out = self.run(&[
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            "shallow",
        ])?;
        let path = PathBuf::from(String::from_utf8_lossy(&out).trim_end_matches('\n'));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// The commits of every local branch committed since `since_secs`, newest first, with
    /// the files each changed. git's output is read one commit at a time.
    pub fn commits_since(
        &self,
        since_secs: i64,
    ) -> Result<Vec<(CommitInfo, Vec<String>)>, GitError> {
        let since = since_arg(since_secs);
        let args = [
            "log",
            "--branches",
            "--no-merges",
            &since,
            "-z",
            "--name-only",
            "--format=%x01%H%x00%an%x00%ae%x00%at%x00%ct%x00%s",
        ];
        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        let errors = drain(child.stderr.take());
        let mut commits = Vec::new();
        let mut read_error = None;
        if let Some(out) = child.stdout.take() {
            let mut r = BufReader::new(out);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\x01', &mut buf) {
                    Ok(0) => break,
                    Ok(_) => {
                        if buf.last() == Some(&b'\x01') {
                            buf.pop();
                        }
                        if let Some(c) = parse_record(&String::from_utf8_lossy(&buf)) {
                            commits.push(c);
                        }
                    }
                    Err(e) => {
                        read_error = Some(e.to_string());
                        break;
                    }
                }
            }
        }
        let status = child.wait().map_err(|e| self.spawn_error(e))?;
        let errors = errors.join().unwrap_or_default();
        if !status.success() {
            return Err(self.failed(&args, &first_error_line(&errors)));
        }
        match read_error {
            Some(e) => Err(self.failed(&args, &e)),
            None => Ok(commits),
        }
    }

    /// The commits on local branch `branch` committed since `since_secs`.
    pub fn branch_commits(
        &self,
        branch: &str,
        since_secs: i64,
    ) -> Result<std::collections::HashSet<String>, GitError> {
        let since = since_arg(since_secs);
        let full = format!("refs/heads/{branch}");
        match self.run(&["rev-list", &since, &full, "--"]) {
            Ok(out) => Ok(String::from_utf8_lossy(&out)
                .lines()
                .map(str::to_owned)
                .collect()),
            // A branch that is gone matches nothing.
            Err(GitError::Failed { .. }) => Ok(Default::default()),
            Err(e) => Err(e),
        }
    }
}

/// `--since` for a time in Unix seconds (clamped at 0), as git reads it whatever its number of
/// digits: a bare number is a timestamp to git only from 9 digits on (before 1973 it is read
/// as a date of some other form), and `@<seconds>` only with a time zone after it.
fn since_arg(since_secs: i64) -> String {
    format!("--since=@{} +0000", since_secs.max(0))
}

/// One commit of `commits_since`'s log: header fields, then (after a newline) the
/// NUL-separated names of the files it changed. `None` for the empty text before the first.
fn parse_record(record: &str) -> Option<(CommitInfo, Vec<String>)> {
    if record.is_empty() {
        return None;
    }
    let (head, files) = match record.split_once('\n') {
        Some((h, f)) => (h, f),
        None => (record.trim_end_matches('\0'), ""),
    };
    let info = parse_info(head.trim_end_matches('\0'))?;
    let files = files
        .split('\0')
        .map(|f| f.trim_matches('\n'))
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    Some((info, files))
}

/// Reads a child's stderr to the end on a thread, so that a chatty git never blocks on a full
/// pipe; join for the bytes.
fn drain(stderr: Option<std::process::ChildStderr>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(mut e) = stderr {
            let _ = e.read_to_end(&mut s);
        }
        s
    })
}

/// `%H%x00%an%x00%ae%x00%at%x00%ct%x00%s`, parsed.
fn parse_info(line: &str) -> Option<CommitInfo> {
    let mut f = line.split('\0');
    let id = f.next()?.to_owned();
    let author = f.next()?.to_owned();
    let author_email = f.next()?.to_owned();
    let author_time = f.next()?.parse::<i64>().ok()? * 1000;
    let commit_time = f.next()?.parse::<i64>().ok()? * 1000;
    let subject = f.next().unwrap_or("").to_owned();
    if id.is_empty() {
        return None;
    }
    Some(CommitInfo {
        id,
        subject,
        author,
        author_email,
        author_time,
        commit_time,
    })
}

/// A file name as git prints it outside `-z` output: as is, or, when it holds a `"`, a `\`
/// or a control character (or any non-ASCII byte without `core.quotePath=false`), in double
/// quotes with C-style escapes (`\"`, `\\`, `\t`, `\n`, `\303\274` for the bytes of `ü`).
pub fn unquote_path(s: &str) -> String {
    let Some(inner) = s
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|_| s.len() >= 2)
    else {
        return s.to_owned();
    };
    let bytes = inner.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b != b'\\' || i >= bytes.len() {
            out.push(b);
            continue;
        }
        let e = bytes[i];
        i += 1;
        match e {
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'v' => out.push(0x0b),
            b'f' => out.push(0x0c),
            b'r' => out.push(b'\r'),
            b'0'..=b'3'
                if i + 1 < bytes.len()
                    && (b'0'..=b'7').contains(&bytes[i])
                    && (b'0'..=b'7').contains(&bytes[i + 1]) =>
            {
                out.push(((e - b'0') << 6) | ((bytes[i] - b'0') << 3) | (bytes[i + 1] - b'0'));
                i += 2;
            }
            other => out.push(other),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first meaningful line of git's stderr, without its `fatal: ` prefix.
pub(crate) fn first_error_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message");
    line.strip_prefix("fatal: ")
        .or_else(|| line.strip_prefix("error: "))
        .unwrap_or(line)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_info_lines_are_parsed() {
        let i = parse_info(&["abc", "Ann", "ann@x", "100", "200", "Fix: it"].join("\0")).unwrap();
        assert_eq!(i.id, "abc");
        assert_eq!(i.author_time, 100_000);
        assert_eq!(i.commit_time, 200_000);
        assert_eq!(i.subject, "Fix: it");
        assert!(parse_info("abc\0Ann").is_none());
        assert!(parse_info(&["abc", "Ann", "e", "notanumber", "200", "s"].join("\0")).is_none());
    }

    #[test]
    fn quoted_paths_are_decoded() {
        assert_eq!(unquote_path("src/plain.rs"), "src/plain.rs");
        assert_eq!(unquote_path("src/sub dir/ünï.txt"), "src/sub dir/ünï.txt");
        assert_eq!(
            unquote_path(r#""src/sub dir/\303\274n\303\257.txt""#),
            "src/sub dir/ünï.txt"
        );
        assert_eq!(unquote_path(r#""q\"uote\\d\tx""#), "q\"uote\\d\tx");
        assert_eq!(unquote_path("\""), "\"");
    }

    #[test]
    fn log_records_are_parsed_with_their_files() {
        let (info, files) = parse_record(
            &[
                "abc",
                "Ann",
                "ann@x",
                "100",
                "200",
                "Subject\0\nsrc/a.rs\0src/b c.rs\0",
            ]
            .join("\0"),
        )
        .unwrap();
        assert_eq!(info.id, "abc");
        assert_eq!(files, vec!["src/a.rs", "src/b c.rs"]);
        let (_, files) =
            parse_record(&["abc", "Ann", "e", "1", "2", "Empty\0"].join("\0")).unwrap();
        assert!(files.is_empty());
        assert!(parse_record("").is_none());
    }

    #[test]
    fn since_is_a_timestamp_whatever_its_digits() {
        assert_eq!(since_arg(31_534_200), "--since=@31534200 +0000");
        assert_eq!(since_arg(-5), "--since=@0 +0000");
    }

    #[test]
    fn git_errors_lose_their_prefix() {
        assert_eq!(
            first_error_line(b"\nfatal: no such path 'x' in HEAD\n"),
            "no such path 'x' in HEAD"
        );
        assert_eq!(first_error_line(b""), "no message");
    }
}
