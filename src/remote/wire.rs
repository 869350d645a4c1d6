//! The wire is the user's own git.
//!
//! The helper never speaks a network protocol itself: it runs `git ls-remote`, `git fetch` and
//! `git push` against the underlying remote, so credential helpers, ssh config, `insteadOf`
//! and proxies keep working. A fixed number of processes per operation, never one per object.
//! A child's stdout is either read by the helper or sent to stderr: the protocol pipe to git
//! carries nothing but protocol.

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::RemoteError;

/// Set in the environment of every git the helper runs; a helper that finds it set is being
/// run by itself (a `lore::` URL pointing at another `lore::` URL) and stops.
pub const NESTED_ENV: &str = "LORE_REMOTE_HELPER_ACTIVE";

/// Set by `lore sync` for its fetch: the helper must bring the sessions or fail (rather than
/// leave out a store it has no key for, as it does for `git clone lore::…`).
pub const REQUIRED_ENV: &str = "LORE_SESSIONS_REQUIRED";

/// How to run git for one helper session.
#[derive(Debug, Clone)]
pub struct Git {
    /// The git program (`git` from PATH unless told otherwise).
    pub program: OsString,
    /// The repository git works in (the helper's `GIT_DIR`).
    pub git_dir: PathBuf,
    /// git's `-q` (0), default (1) or `-v` (2 and more).
    pub verbosity: u32,
    /// Whether to ask for progress output.
    pub progress: bool,
    /// Whether this git runs inside the helper (its children must not start the helper
    /// again); false for the user's own commands, such as `lore sync`'s.
    pub in_helper: bool,
}

/// A ref a remote advertises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    pub name: String,
    pub oid: String,
}

/// What `git ls-remote --symref` said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advertised {
    pub refs: Vec<RemoteRef>,
    /// The ref the remote's HEAD points at, when it is a symbolic ref.
    pub head_target: Option<String>,
}

/// One line of `git push --porcelain`: the flag, the destination ref, and the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushResult {
    pub flag: char,
    pub dst: String,
    pub summary: String,
}

impl Git {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = crate::git::command(&self.program);
        cmd.args(args).env("GIT_DIR", &self.git_dir);
        if self.in_helper {
            cmd.env(NESTED_ENV, "1");
        }
        cmd
    }

    /// The inner git's chatter (`From …`, `To …`) would repeat what the outer git says, so it
    /// is quiet unless git was asked for `-v`; progress still shows when git asked for it.
    fn quiet_flags(&self, args: &mut Vec<String>) {
        args.push(if self.verbosity >= 2 { "-v" } else { "-q" }.into());
        args.push(if self.progress {
            "--progress".into()
        } else {
            "--no-progress".into()
        });
    }

    /// The URL of remote `name` (`--push`: its push URL), with `insteadOf` applied, as
    /// `git remote get-url` gives it.
    pub fn remote_url(&self, name: &str, push: bool) -> Result<String, RemoteError> {
        let mut args = vec!["remote", "get-url"];
        if push {
            args.push("--push");
        }
        args.push("--");
        args.push(name);
        let out = self
            .command(&args)
            .stderr(Stdio::null())
            .output()
            .map_err(spawn)?;
        if !out.status.success() {
            return Err(RemoteError::NoSuchRemote(name.to_owned()));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Whether git config `key` is true (false when unset or not a boolean).
    pub fn config_bool(&self, key: &str) -> bool {
        self.command(&["config", "--bool", "--get", key])
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success() && o.stdout.trim_ascii() == b"true")
    }

    /// The repository's work trees (`git worktree list --porcelain`); empty for a bare one.
    pub fn worktrees(&self) -> Result<Vec<PathBuf>, RemoteError> {
        let out = self
            .command(&["worktree", "list", "--porcelain"])
            .stderr(Stdio::null())
            .output()
            .map_err(spawn)?;
        if !out.status.success() {
            return Ok(Vec::new());
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("worktree "))
            .map(PathBuf::from)
            .collect())
    }

    /// `git gc --auto --quiet`: git packs loose objects and many packs together when its own
    /// limits (gc.auto, gc.autoPackLimit) say so, and does nothing otherwise. Best effort. Not
    /// detached: a gc left running in the background would hold `packed-refs.lock` while the
    /// next lore command needs it.
    pub fn gc_auto(&self) {
        let _ = self
            .command(&["-c", "gc.autoDetach=false", "gc", "--auto", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// The refs `url` advertises.
    pub fn ls_remote(&self, url: &str) -> Result<Advertised, RemoteError> {
        let out = self
            .command(&["ls-remote", "--symref", "--", url])
            .stderr(Stdio::inherit())
            .output()
            .map_err(spawn)?;
        if !out.status.success() {
            return Err(RemoteError::Git {
                what: format!("git ls-remote {url}"),
                code: out.status.code(),
            });
        }
        Ok(parse_ls_remote(&String::from_utf8_lossy(&out.stdout)))
    }

    /// Where ref `name` points on `remote` (a remote's name or a URL), as
    /// `git ls-remote <remote> <name>` tells: one git process, the cheapest look at a remote.
    pub fn ls_remote_ref(&self, remote: &str, name: &str) -> Result<Option<String>, RemoteError> {
        let out = self
            .command(&["ls-remote", "--", remote, name])
            .stderr(Stdio::inherit())
            .output()
            .map_err(spawn)?;
        if !out.status.success() {
            return Err(RemoteError::Git {
                what: format!("git ls-remote {remote}"),
                code: out.status.code(),
            });
        }
        let adv = parse_ls_remote(&String::from_utf8_lossy(&out.stdout));
        Ok(adv.refs.into_iter().find(|r| r.name == name).map(|r| r.oid))
    }

    /// Fetches `refspecs` from `url` into this repository, leaving FETCH_HEAD alone.
    pub fn fetch(&self, url: &str, refspecs: &[String]) -> Result<(), RemoteError> {
        self.fetch_as(url, refspecs, false)
    }

    /// [`Git::fetch`] of a store through the helper (`lore::` URL) that must bring the
    /// sessions: the helper fails rather than leave out a store it has no key for.
    pub fn fetch_sessions(&self, url: &str, refspecs: &[String]) -> Result<(), RemoteError> {
        self.fetch_as(url, refspecs, true)
    }

    fn fetch_as(&self, url: &str, refspecs: &[String], required: bool) -> Result<(), RemoteError> {
        let mut args: Vec<String> = vec![
            "fetch".into(),
            "--no-write-fetch-head".into(),
            "--no-tags".into(),
            "--no-recurse-submodules".into(),
            "--no-auto-maintenance".into(),
        ];
        self.quiet_flags(&mut args);
        args.push("--".into());
        args.push(url.into());
        args.extend(refspecs.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = self.command(&args);
        if required {
            for_lore_sync(&mut cmd);
        }
        let status = cmd
            .stdout(to_stderr()?)
            .stderr(Stdio::inherit())
            .status()
            .map_err(spawn)?;
        if !status.success() {
            return Err(RemoteError::Git {
                what: format!("git fetch {url}"),
                code: status.code(),
            });
        }
        Ok(())
    }

    /// Pushes with `git push --porcelain <flags> <url> <refspecs>` and reads the result of
    /// each ref. A push git refused as a whole (no per-ref lines) is an error.
    pub fn push(
        &self,
        url: &str,
        flags: &[String],
        refspecs: &[String],
    ) -> Result<Vec<PushResult>, RemoteError> {
        // No -q here: with it git push prints no porcelain lines on success. Its stdout is
        // read by the helper, so nothing reaches the user twice anyway.
        let mut args: Vec<String> = vec!["push".into(), "--porcelain".into()];
        if self.in_helper {
            // The user's pre-push hooks ran for the push they made (`git push lore::…`, or not
            // at all for `lore sync`); the ciphertext going out on their behalf is not theirs
            // to vet, and a hook that runs a test suite must not run twice.
            args.push("--no-verify".into());
        }
        if self.verbosity >= 2 {
            args.push("-v".into());
        }
        args.push(
            if self.progress {
                "--progress"
            } else {
                "--no-progress"
            }
            .into(),
        );
        args.extend(flags.iter().cloned());
        args.push("--".into());
        args.push(url.into());
        args.extend(refspecs.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Without progress, git's stderr is held back: a push that lost a race (the lease on
        // the remote's tip failed, or the server could not lock the ref) is retried by the
        // caller, and the server's "cannot lock ref" lines would only alarm. Anything else
        // is passed on.
        let out = self
            .command(&args)
            .stderr(if self.progress {
                Stdio::inherit()
            } else {
                Stdio::piped()
            })
            .output()
            .map_err(spawn)?;
        let results = parse_porcelain(&String::from_utf8_lossy(&out.stdout));
        let raced = results.iter().any(|r| {
            r.flag == '!'
                && ["(stale info)", "(fetch first)", "(failed to update ref)"]
                    .iter()
                    .any(|why| r.summary.ends_with(why))
        });
        let retried = raced && out.status.code() == Some(1);
        if !retried && !out.stderr.is_empty() {
            use std::io::Write as _;
            let _ = std::io::stderr().write_all(&out.stderr);
        }
        if results.is_empty() && !out.status.success() {
            return Err(RemoteError::Git {
                what: format!("git push {url}"),
                code: out.status.code(),
            });
        }
        Ok(results)
    }
}

/// Readies a git that `lore sync` runs against its own helper (a `lore::` URL): the helper
/// must bring the sessions or fail, and may need the passphrase (CI), which no other git
/// ever gets.
fn for_lore_sync(cmd: &mut Command) {
    cmd.env(REQUIRED_ENV, "1");
    // Wiped here once handed over; `Command` keeps its own copy (docs/sync.md, "Passphrases
    // in memory").
    if let Some(p) = std::env::var(crate::git::PASSPHRASE_ENV)
        .ok()
        .map(zeroize::Zeroizing::new)
    {
        cmd.env(crate::git::PASSPHRASE_ENV, p.as_str());
    }
}

fn spawn(e: std::io::Error) -> RemoteError {
    RemoteError::Io(format!("cannot run git: {e}"))
}

/// A handle on our stderr for a child's stdout.
fn to_stderr() -> Result<Stdio, RemoteError> {
    let fd = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| RemoteError::Io(e.to_string()))?;
    Ok(Stdio::from(fd))
}

/// Parses `git ls-remote --symref` output: `ref: <target>\tHEAD` and `<oid>\t<name>` lines.
/// Peeled tag lines (`^{}`) are dropped: git asks a helper for refs, not peeled values.
pub fn parse_ls_remote(text: &str) -> Advertised {
    let mut adv = Advertised::default();
    for line in text.lines() {
        let Some((left, name)) = line.split_once('\t') else {
            continue;
        };
        if let Some(target) = left.strip_prefix("ref: ") {
            if name == "HEAD" {
                adv.head_target = Some(target.to_owned());
            }
            continue;
        }
        if name.ends_with("^{}") || !super::protocol::is_hex_oid(left) {
            continue;
        }
        adv.refs.push(RemoteRef {
            name: name.to_owned(),
            oid: left.to_owned(),
        });
    }
    adv
}

/// Parses `git push --porcelain` output: `<flag>\t<src>:<dst>\t<summary>` per ref.
pub fn parse_porcelain(text: &str) -> Vec<PushResult> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, '\t');
            let flag = parts.next()?;
            let spec = parts.next()?;
            let summary = parts.next().unwrap_or("");
            let mut chars = flag.chars();
            let flag = chars.next()?;
            if chars.next().is_some() {
                return None;
            }
            let (_, dst) = spec.rsplit_once(':')?;
            Some(PushResult {
                flag,
                dst: dst.to_owned(),
                summary: summary.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ls_remote() {
        let a = "1".repeat(40);
        let b = "2".repeat(40);
        let text = format!(
            "ref: refs/heads/main\tHEAD\n{a}\tHEAD\n{a}\trefs/heads/main\n{b}\trefs/tags/v1\n{a}\trefs/tags/v1^{{}}\n"
        );
        let adv = parse_ls_remote(&text);
        assert_eq!(adv.head_target.as_deref(), Some("refs/heads/main"));
        let names: Vec<&str> = adv.refs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["HEAD", "refs/heads/main", "refs/tags/v1"]);
    }

    #[test]
    fn reads_push_porcelain() {
        let text = "To /tmp/x\n*\trefs/heads/a:refs/heads/a\t[new branch]\n!\tabc:refs/lore/sessions\t[rejected] (stale info)\nDone\n";
        let r = parse_porcelain(text);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].flag, '!');
        assert_eq!(r[1].dst, "refs/lore/sessions");
        assert_eq!(r[1].summary, "[rejected] (stale info)");
    }
}
