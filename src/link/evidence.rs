//! Evidence for links: why a session is linked to a commit, and the confidence that follows
//! from it (docs/links.md, "Evidence"). Reads the files and lines a session's writing tool
//! calls (Write, Edit, MultiEdit, apply_patch, write_file, str_replace, …) produced, and
//! compares them with what a commit changed. A session whose tool calls only read or ran
//! commands has no file evidence: reading a file is not writing it. Nothing here writes.
//!
//! Spec: issue 16, "Evidence for every link".

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::db::Db;
use crate::db::query::ForEachError;
use crate::model::LinkKind;

pub use crate::content::{
    MIN_EVIDENCE_LINE, Writes, is_significant, is_write_call, normalise, tool_input,
};

/// Why a link exists. Stored as JSON in `links.evidence`; every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The commit's files that the session's writing tool calls wrote or edited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// How many files the commit changed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub files_changed: usize,
    /// Of the commit's added lines (of at least [`MIN_EVIDENCE_LINE`] characters), how many
    /// the session's writing tool calls produced.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lines: usize,
    /// How many such lines the commit added.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lines_added: usize,
    /// The user linked it (`lore link SESSION`, `lore link --current` by hand).
    #[serde(default, skip_serializing_if = "is_false")]
    pub user: bool,
    /// The transcript names the commit as one the session made (Aider's `Commit <sha>`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub transcript: bool,
    /// The linked commits whose changes this commit carries (a squash, a cherry-pick, a
    /// rebase with the old commits gone): the link was carried over by patch content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carried_from: Vec<String>,
    /// Found by the content index: the session's messages wrote `lines` of the commit's
    /// added lines, whatever commit first carried them (a squash merge, a cherry-pick, a
    /// rebase with the old commits gone).
    #[serde(default, skip_serializing_if = "is_false")]
    pub content: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Evidence {
    /// Reads the JSON of `links.evidence`; `None` for nothing or something unreadable.
    pub fn parse(json: Option<&str>) -> Option<Evidence> {
        serde_json::from_str(json?).ok()
    }

    /// The evidence of a link of `kind` whose recorded evidence is `json`: what was recorded,
    /// else what its kind says (a link made by hand: the user; an import link: the
    /// transcript); `None` when nothing is known (a hook or `--auto` link made before lore
    /// recorded evidence, or one that came by sync).
    pub fn of_link(kind: LinkKind, json: Option<&str>) -> Option<Evidence> {
        if let Some(e) = Evidence::parse(json) {
            return Some(e);
        }
        match kind {
            LinkKind::Explicit => Some(Evidence {
                user: true,
                ..Evidence::default()
            }),
            LinkKind::Import => Some(Evidence {
                transcript: true,
                ..Evidence::default()
            }),
            _ => None,
        }
    }

    /// The JSON stored in `links.evidence`, with `files` and `carried_from` sorted: equal
    /// evidence gives equal text on every machine, so a sync that joins it with a teammate's
    /// copy ([`Evidence::join`]) changes nothing when both know the same.
    pub fn to_json(&self) -> String {
        let mut e = self.clone();
        e.files.sort();
        e.files.dedup();
        e.carried_from.sort();
        e.carried_from.dedup();
        serde_json::to_string(&e).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Whether there is any evidence at all.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
            && self.lines == 0
            && !self.user
            && !self.transcript
            && self.carried_from.is_empty()
    }

    /// Whether the session wrote lines of the commit or edited its files: what the
    /// post-commit hook requires.
    pub fn has_work(&self) -> bool {
        self.lines > 0 || !self.files.is_empty()
    }

    /// The confidence the evidence supports, two decimals: 1.0 when the user linked it or the
    /// transcript names the commit; 0.7 + 0.3 × the share of the commit's added lines the
    /// session wrote, when it wrote any; else 0.4 + 0.3 × the share of the commit's files it
    /// edited; 0 without evidence.
    pub fn confidence(&self) -> f64 {
        let c = if self.user || self.transcript {
            1.0
        } else if self.lines > 0 {
            0.7 + 0.3 * share(self.lines, self.lines_added)
        } else if !self.files.is_empty() {
            0.4 + 0.3 * share(self.files.len(), self.files_changed)
        } else {
            0.0
        };
        (c * 100.0).round() / 100.0
    }

    /// Adds what `other` knows to this evidence.
    pub fn merge(&mut self, other: &Evidence) {
        for f in &other.files {
            if !self.files.contains(f) {
                self.files.push(f.clone());
            }
        }
        self.files_changed = self.files_changed.max(other.files_changed);
        if other.lines > self.lines {
            self.lines = other.lines;
            self.lines_added = other.lines_added;
        }
        self.user |= other.user;
        self.transcript |= other.transcript;
        self.content |= other.content;
        for c in &other.carried_from {
            if !self.carried_from.contains(c) {
                self.carried_from.push(c.clone());
            }
        }
    }

    /// The evidence two machines recorded for one link, joined: what either knows (files and
    /// carried commits united and sorted, the larger `files_changed`, the larger pair of
    /// (`lines`, `lines_added`), each flag set if either has it). The same whichever side is
    /// `self` and in whatever order versions arrive, so every machine ends with the same
    /// evidence (docs/store-format.md, "Record format 2").
    pub fn join(&self, other: &Evidence) -> Evidence {
        let union = |a: &[String], b: &[String]| -> Vec<String> {
            let mut v: Vec<String> = a.iter().chain(b).cloned().collect();
            v.sort();
            v.dedup();
            v
        };
        let (lines, lines_added) =
            (self.lines, self.lines_added).max((other.lines, other.lines_added));
        Evidence {
            files: union(&self.files, &other.files),
            files_changed: self.files_changed.max(other.files_changed),
            lines,
            lines_added,
            user: self.user || other.user,
            transcript: self.transcript || other.transcript,
            carried_from: union(&self.carried_from, &other.carried_from),
            content: self.content || other.content,
        }
    }

    /// One line for people: `wrote 3 of 4 added lines; edited src/a.rs; linked by the user`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.lines > 0 {
            parts.push(format!(
                "wrote {} of the commit's {} added line{}",
                self.lines,
                self.lines_added,
                if self.lines_added == 1 { "" } else { "s" }
            ));
        }
        if !self.files.is_empty() {
            let shown: Vec<&str> = self.files.iter().take(3).map(String::as_str).collect();
            let more = self.files.len().saturating_sub(shown.len());
            parts.push(format!(
                "edited {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        if self.user {
            parts.push("linked by the user".to_owned());
        }
        if self.transcript {
            parts.push("the transcript names the commit".to_owned());
        }
        if !self.carried_from.is_empty() {
            let shown: Vec<&str> = self
                .carried_from
                .iter()
                .map(|c| c.get(..12).unwrap_or(c))
                .collect();
            parts.push(format!("carries the changes of {}", shown.join(", ")));
        }
        if self.content {
            parts.push("found by content".to_owned());
        }
        parts.join("; ")
    }
}

fn share(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        (n as f64 / of as f64).min(1.0)
    }
}

impl Writes {
    /// Reads what the messages of session `id` wrote (writing tool calls, heredocs into
    /// files, SEARCH/REPLACE blocks; [`crate::content`]).
    pub fn of_session(store: &Db, id: &str) -> Result<Writes, ForEachError> {
        let mut w = Writes::default();
        store.for_each_message(id, |m| {
            w.add_message(m.role, m.kind, m.tool_name.as_deref(), &m.content);
            Ok(())
        })?;
        Ok(w)
    }

    /// Whether the writing tool calls named `file` (a path relative to the work tree at
    /// `root`; `cwd_rel` the session's folder in it), as [`super::names_file`] reads paths.
    pub fn wrote_file(&self, file: &str, root: &Path, cwd_rel: Option<&str>) -> bool {
        super::names_file(&self.paths, file, root, cwd_rel)
    }
}

/// The evidence a session's `writes` give for a commit that changed `files` and added
/// `added` lines (normalised, significant ones; see [`added_lines`]).
pub fn for_commit(
    writes: &Writes,
    files: &[String],
    added: &[String],
    root: &Path,
    cwd_rel: Option<&str>,
) -> Evidence {
    let wrote: Vec<String> = files
        .iter()
        .filter(|f| writes.wrote_file(f, root, cwd_rel))
        .cloned()
        .collect();
    let lines = added.iter().filter(|l| writes.lines.contains(*l)).count();
    Evidence {
        files: wrote,
        files_changed: files.len(),
        lines,
        lines_added: added.len(),
        ..Evidence::default()
    }
}

/// The added lines of a unified diff (`git diff-tree -p`), normalised, significant ones only,
/// each once.
pub fn added_lines(diff: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for line in diff.lines() {
        if line.starts_with("+++") {
            continue;
        }
        if let Some(added) = line.strip_prefix('+') {
            let n = normalise(added);
            if is_significant(&n) && seen.insert(n.clone()) {
                out.push(n);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_follows_the_evidence() {
        let none = Evidence::default();
        assert_eq!(none.confidence(), 0.0);
        let files = Evidence {
            files: vec!["a".into()],
            files_changed: 2,
            ..Evidence::default()
        };
        assert_eq!(files.confidence(), 0.55);
        let lines = Evidence {
            lines: 3,
            lines_added: 3,
            ..files.clone()
        };
        assert_eq!(lines.confidence(), 1.0);
        let user = Evidence {
            user: true,
            ..Evidence::default()
        };
        assert_eq!(user.confidence(), 1.0);
        let back = Evidence::parse(Some(&lines.to_json())).unwrap();
        assert_eq!(back, lines);
        assert_eq!(
            lines.describe(),
            "wrote 3 of the commit's 3 added lines; edited a"
        );
    }

    #[test]
    fn added_lines_skip_headers_and_short_lines() {
        let diff = "diff --git a/x b/x\n+++ b/x\n@@ -0,0 +1,3 @@\n+}\n+    let  x = compute();\n+let x = compute();\n";
        assert_eq!(added_lines(diff), vec!["let x = compute();".to_owned()]);
    }
}
