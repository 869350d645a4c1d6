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

use crate::model::{Kind, LinkKind};
use crate::store::Store;
use crate::store::query::ForEachError;

/// Lines shorter than this once whitespace is normalised (`}`, `else {`, `return;`) are too
/// common to be evidence that a session wrote them.
pub const MIN_EVIDENCE_LINE: usize = 8;

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

    /// The JSON stored in `links.evidence`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
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
        for c in &other.carried_from {
            if !self.carried_from.contains(c) {
                self.carried_from.push(c.clone());
            }
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

/// What a session's writing tool calls produced: the paths they wrote to and the lines they
/// wrote (normalised with [`normalise`]).
#[derive(Debug, Clone, Default)]
pub struct Writes {
    /// The paths named by writing tool calls, one a line (as the tools gave them: absolute,
    /// or relative to the session's folder).
    pub paths: String,
    /// Every line the writing tool calls produced, normalised, of at least
    /// [`MIN_EVIDENCE_LINE`] characters.
    pub lines: HashSet<String>,
}

impl Writes {
    /// Reads the writing tool calls of session `id`.
    pub fn of_session(store: &Store, id: &str) -> Result<Writes, ForEachError> {
        let mut w = Writes::default();
        store.for_each_message(id, |m| {
            if m.kind == Kind::ToolUse && is_write_call(m.tool_name.as_deref(), &m.content) {
                w.add_call(tool_input(m.tool_name.as_deref(), &m.content));
            }
            Ok(())
        })?;
        Ok(w)
    }

    /// Adds one writing tool call's input (JSON, or a raw patch).
    pub fn add_call(&mut self, content: &str) {
        match serde_json::from_str::<serde_json::Value>(content) {
            Ok(v) => self.add_value(None, &v),
            Err(_) => self.add_text(None, content),
        }
    }

    fn add_value(&mut self, key: Option<&str>, v: &serde_json::Value) {
        match v {
            serde_json::Value::String(s) => self.add_text(key, s),
            serde_json::Value::Array(items) => {
                for i in items {
                    self.add_value(key, i);
                }
            }
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    self.add_value(Some(k), v);
                }
            }
            _ => {}
        }
    }

    /// A string of a tool call's input: a path (under a key naming a path or file), text the
    /// call replaces (`old_string`: not written by it), a patch, or written text.
    fn add_text(&mut self, key: Option<&str>, s: &str) {
        let key = key.map(str::to_ascii_lowercase).unwrap_or_default();
        if key.starts_with("old") {
            return;
        }
        if (key.contains("path") || key.contains("file")) && !s.contains('\n') {
            self.paths.push_str(s);
            self.paths.push('\n');
            return;
        }
        if s.contains("*** Begin Patch") || s.contains("\n+++ ") || s.starts_with("+++ ") {
            self.add_patch(s);
            return;
        }
        for line in s.lines() {
            self.add_line(line);
        }
    }

    /// A patch (Codex's `apply_patch` format, or a unified diff): its file headers are paths,
    /// its `+` lines are written; removed and context lines are not.
    fn add_patch(&mut self, s: &str) {
        for line in s.lines() {
            let header = [
                "*** Add File: ",
                "*** Update File: ",
                "*** Move to: ",
                "+++ b/",
                "+++ ",
            ]
            .iter()
            .find_map(|h| line.strip_prefix(h));
            if let Some(path) = header {
                self.paths.push_str(path.trim());
                self.paths.push('\n');
            } else if let Some(added) = line.strip_prefix('+') {
                self.add_line(added);
            }
        }
    }

    fn add_line(&mut self, line: &str) {
        let n = normalise(line);
        if is_significant(&n) {
            self.lines.insert(n);
        }
    }

    /// Whether the writing tool calls named `file` (a path relative to the work tree at
    /// `root`; `cwd_rel` the session's folder in it), as [`super::names_file`] reads paths.
    pub fn wrote_file(&self, file: &str, root: &Path, cwd_rel: Option<&str>) -> bool {
        super::names_file(&self.paths, file, root, cwd_rel)
    }
}

/// The input of a tool call as lore stores it (`<name>: <input>`, see
/// `capture::jsonl::tool_use_text`): the part after the name, else the whole text.
pub fn tool_input<'a>(tool_name: Option<&str>, content: &'a str) -> &'a str {
    tool_name
        .and_then(|n| content.strip_prefix(n))
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(content)
}

/// Whether a tool call writes files: by its name (Write, Edit, MultiEdit, NotebookEdit,
/// apply_patch, write_file, replace, str_replace_based_edit_tool, create_file, …; not
/// TodoWrite, which writes a to-do list), or a shell call that runs `apply_patch` (Codex).
pub fn is_write_call(tool_name: Option<&str>, content: &str) -> bool {
    let name = tool_name.unwrap_or("").to_ascii_lowercase();
    if name.contains("todo") {
        return false;
    }
    ["write", "edit", "patch", "replace", "create", "insert"]
        .iter()
        .any(|w| name.contains(w))
        || content.contains("*** Begin Patch")
}

/// A line as compared for evidence: surrounding whitespace dropped and every run of
/// whitespace inside made one space (re-indented code still matches).
pub fn normalise(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a normalised line is long and wordy enough to be evidence.
pub fn is_significant(line: &str) -> bool {
    line.chars().count() >= MIN_EVIDENCE_LINE && line.chars().any(char::is_alphanumeric)
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
    fn writes_read_paths_and_decoded_lines_not_replaced_text() {
        let mut w = Writes::default();
        w.add_call(tool_input(
            Some("Edit"),
            r#"Edit: {"file_path":"/r/src/a.rs","old_string":"let gone = \"old\";","new_string":"let s = \"quoted \\\\ text\";\n\tlet  tabbed = 1;"}"#,
        ));
        assert!(w.lines.contains(r#"let s = "quoted \\ text";"#), "{w:?}");
        assert!(w.lines.contains("let tabbed = 1;"));
        assert!(!w.lines.iter().any(|l| l.contains("gone")));
        assert!(w.wrote_file("src/a.rs", Path::new("/r"), None));
        assert!(!w.wrote_file("src/b.rs", Path::new("/r"), None));
    }

    #[test]
    fn patches_give_headers_as_paths_and_plus_lines_as_written() {
        let mut w = Writes::default();
        w.add_call(
            r#"{"command":["apply_patch","*** Begin Patch\n*** Update File: docs/q.md\n@@\n-removed line here\n+added line here\n*** End Patch"]}"#,
        );
        assert!(w.lines.contains("added line here"));
        assert!(!w.lines.contains("removed line here"));
        assert!(w.wrote_file("docs/q.md", Path::new("/r"), None));
    }

    #[test]
    fn reading_is_not_writing() {
        assert!(is_write_call(Some("Edit"), "{}"));
        assert!(is_write_call(Some("write_file"), "{}"));
        assert!(is_write_call(
            Some("shell"),
            "apply_patch <<'EOF'\n*** Begin Patch"
        ));
        assert!(!is_write_call(Some("Read"), "{}"));
        assert!(!is_write_call(Some("TodoWrite"), "{}"));
        assert!(!is_write_call(Some("Bash"), r#"{"command":"cat a.rs"}"#));
    }

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
