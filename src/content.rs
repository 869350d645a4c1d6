//! What a message wrote: the lines and paths of a session's writing tool calls (Claude's
//! Write/Edit/MultiEdit/NotebookEdit, Codex's apply_patch and shell heredocs, Gemini's
//! write_file/replace, str_replace_based_edit_tool, …) and of Aider's SEARCH/REPLACE blocks,
//! normalised per line, and the 64-bit hash the content index stores for each line.
//!
//! It refuses nothing and reads nothing: it is given a message and returns what it wrote. A
//! tool call that only reads, searches or runs a command wrote nothing; text a call replaced
//! (`old_string`) is not written by it. The store keeps the index ([`crate::db`],
//! `_lore_content_lines`); link evidence and blame compare with the same lines.
//!
//! Spec: docs/links.md, "The content index" (normalisation, hash, known-answer vectors).

use std::collections::HashSet;

use sha2::{Digest, Sha256};

use crate::model::{Kind, Role};

/// Lines shorter than this once whitespace is normalised (`}`, `else {`, `return;`) are too
/// common to be evidence that a session wrote them.
pub const MIN_EVIDENCE_LINE: usize = 8;

/// A line as compared for evidence: surrounding whitespace dropped and every run of
/// whitespace inside made one space (re-indented code still matches).
pub fn normalise(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a normalised line is long and wordy enough to be evidence.
pub fn is_significant(line: &str) -> bool {
    line.chars().count() >= MIN_EVIDENCE_LINE && line.chars().any(char::is_alphanumeric)
}

/// The hash the content index stores for a normalised line: the first 8 bytes of the
/// SHA-256 of its UTF-8, read as a big-endian signed integer (SQLite's INTEGER).
pub fn line_hash(normalised: &str) -> i64 {
    let d = Sha256::digest(normalised.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

/// What writing messages produced: the paths they wrote to and the lines they wrote
/// (normalised with [`normalise`], significant ones only).
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
    /// Adds what one message wrote, if it writes: a writing tool call's input, a shell call's
    /// heredoc into a file, or an assistant's SEARCH/REPLACE blocks (Aider). Returns whether
    /// the message is one that writes.
    pub fn add_message(
        &mut self,
        role: Role,
        kind: Kind,
        tool_name: Option<&str>,
        content: &str,
    ) -> bool {
        match kind {
            Kind::ToolUse => {
                if is_write_call(tool_name, content) {
                    self.add_call(tool_input(tool_name, content));
                    true
                } else if content.contains("<<") {
                    self.add_heredocs(tool_input(tool_name, content))
                } else {
                    false
                }
            }
            Kind::Text if role == Role::Assistant && content.contains(">>>>>>> REPLACE") => {
                self.add_search_replace(content)
            }
            _ => false,
        }
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

    /// A shell command's heredocs that go into a file (`cat > f <<'EOF'`, `tee f <<EOF`):
    /// their bodies are written, the file after `>` (or `tee`) is a path. A heredoc fed to
    /// another command (`python <<EOF`) writes nothing. Returns whether one was found.
    fn add_heredocs(&mut self, input: &str) -> bool {
        let text = match serde_json::from_str::<serde_json::Value>(input) {
            Ok(v) => {
                let mut out = String::new();
                strings(&v, &mut out);
                out
            }
            Err(_) => input.to_owned(),
        };
        let mut found = false;
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let Some(at) = line.find("<<") else { continue };
            let (cmd, rest) = (&line[..at], &line[at + 2..]);
            let rest = rest.trim_start_matches('-').trim_start();
            let delimiter: String = rest
                .trim_start_matches(['\'', '"'])
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let after = &rest[rest
                .find(delimiter.as_str())
                .map_or(0, |i| i + delimiter.len())..];
            let target = redirect_target(cmd).or_else(|| redirect_target(after));
            if delimiter.is_empty() || target.is_none() {
                continue;
            }
            if let Some(t) = target {
                self.paths.push_str(&t);
                self.paths.push('\n');
            }
            found = true;
            for body in lines.by_ref() {
                if body.trim() == delimiter {
                    break;
                }
                self.add_line(body);
            }
        }
        found
    }

    /// An assistant's SEARCH/REPLACE blocks (Aider's diff edit format): the file name on the
    /// line before the fence is a path, the lines between `=======` and `>>>>>>> REPLACE` are
    /// written. Returns whether a block was found.
    fn add_search_replace(&mut self, text: &str) -> bool {
        let mut found = false;
        let mut previous: [&str; 2] = ["", ""];
        let mut in_replace = false;
        for line in text.lines() {
            let t = line.trim_end();
            if t.starts_with("<<<<<<< SEARCH") {
                // `path` then the opening fence, just before.
                let name = if previous[1].starts_with("```") {
                    previous[0]
                } else {
                    previous[1]
                };
                if !name.is_empty() && !name.contains(' ') {
                    self.paths.push_str(name.trim());
                    self.paths.push('\n');
                }
            } else if t == "=======" {
                in_replace = true;
            } else if t.starts_with(">>>>>>> REPLACE") {
                in_replace = false;
                found = true;
            } else if in_replace {
                self.add_line(line);
            }
            previous = [previous[1], t];
        }
        found
    }

    fn add_line(&mut self, line: &str) {
        let n = normalise(line);
        if is_significant(&n) {
            self.lines.insert(n);
        }
    }
}

/// Every string of a JSON value, one after the other, a line each.
fn strings(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The file a shell command writes to: the word after `>` or `>>`, or after `tee`.
fn redirect_target(cmd: &str) -> Option<String> {
    let word = |s: &str| -> Option<String> {
        let w: String = s
            .trim_start()
            .trim_start_matches(['\'', '"'])
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '\'' | '"' | ';' | '&' | '|' | '<'))
            .collect();
        // `2>&1`, `>/dev/null`: not a file the heredoc goes into.
        (!w.is_empty() && !w.starts_with('&') && !w.starts_with("/dev/")).then_some(w)
    };
    if let Some(at) = cmd.rfind('>') {
        return word(&cmd[at + 1..]);
    }
    let at = cmd.find("tee ")?;
    let rest = cmd[at + 4..].trim_start();
    let rest = rest.strip_prefix("-a ").unwrap_or(rest);
    word(rest)
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

/// The hashes of the lines one message wrote (empty for a message that writes nothing), each
/// once, sorted: what the content index stores for it.
pub fn message_hashes(role: Role, kind: Kind, tool_name: Option<&str>, content: &str) -> Vec<i64> {
    let mut w = Writes::default();
    if !w.add_message(role, kind, tool_name, content) {
        return Vec::new();
    }
    let mut out: Vec<i64> = w.lines.iter().map(|l| line_hash(l)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_hashes_match_the_known_answers_of_the_spec() {
        // docs/links.md, "The content index": sha256 of the normalised line, first 8 bytes.
        assert_eq!(line_hash("lore content line"), 0x0799_fd37_fdbd_e36e);
        assert_eq!(
            line_hash(r#"let s = "quoted \ text";"#),
            0x9235_ebbc_d855_7f4e_u64 as i64
        );
        assert_eq!(line_hash("naïve café → 東京"), 0x5904_5b1e_12bb_18af);
        assert_eq!(normalise("  \tlet   x =\t1;  "), "let x = 1;");
    }

    #[test]
    fn writes_read_paths_and_decoded_lines_not_replaced_text() {
        let mut w = Writes::default();
        assert!(w.add_message(
            Role::Assistant,
            Kind::ToolUse,
            Some("Edit"),
            r#"Edit: {"file_path":"/r/src/a.rs","old_string":"let gone = \"old\";","new_string":"let s = \"quoted \\\\ text\";\n\tlet  tabbed = 1;"}"#,
        ));
        assert!(w.lines.contains(r#"let s = "quoted \\ text";"#), "{w:?}");
        assert!(w.lines.contains("let tabbed = 1;"));
        assert!(!w.lines.iter().any(|l| l.contains("gone")));
        assert!(w.paths.contains("/r/src/a.rs"));
    }

    #[test]
    fn patches_give_headers_as_paths_and_plus_lines_as_written() {
        let mut w = Writes::default();
        w.add_call(
            r#"{"command":["apply_patch","*** Begin Patch\n*** Update File: docs/q.md\n@@\n-removed line here\n+added line here\n*** End Patch"]}"#,
        );
        assert!(w.lines.contains("added line here"));
        assert!(!w.lines.contains("removed line here"));
        assert!(w.paths.contains("docs/q.md"));
    }

    #[test]
    fn heredocs_into_a_file_are_written_and_others_are_not() {
        let mut w = Writes::default();
        let call = r#"shell: {"command":["bash","-lc","cat > src/gen.py <<'EOF'\ndef generated_function():\n    return 'made by a heredoc'\nEOF\npython3 - <<EOF\nprint('not written to a file')\nEOF"]}"#;
        assert!(w.add_message(Role::Assistant, Kind::ToolUse, Some("shell"), call));
        assert!(w.lines.contains("def generated_function():"), "{w:?}");
        assert!(w.lines.contains("return 'made by a heredoc'"));
        assert!(!w.lines.iter().any(|l| l.contains("not written")));
        assert!(w.paths.contains("src/gen.py"));
        let mut after = Writes::default();
        assert!(after.add_message(
            Role::Assistant,
            Kind::ToolUse,
            Some("Bash"),
            r#"Bash: {"command":"cat <<'EOF' > notes.md
the redirect comes after
EOF"}"#
        ));
        assert!(after.lines.contains("the redirect comes after"));
        assert!(after.paths.contains("notes.md"));
        let mut none = Writes::default();
        assert!(!none.add_message(
            Role::Assistant,
            Kind::ToolUse,
            Some("Bash"),
            r#"Bash: {"command":"python3 <<EOF\nprint('hello there')\nEOF"}"#
        ));
        assert!(!none.add_message(
            Role::Assistant,
            Kind::ToolUse,
            Some("Bash"),
            r#"Bash: {"command":"psql 2>/dev/null <<EOF\nselect 'not a file write';\nEOF"}"#
        ));
        assert!(none.lines.is_empty());
    }

    #[test]
    fn aiders_search_replace_blocks_write_their_replace_part() {
        let text = "I'll fix it.\n\nsrc/status.rs\n```rust\n<<<<<<< SEARCH\nfn old_version_of_it() {}\n=======\nfn new_version_of_it() {}\n>>>>>>> REPLACE\n```";
        let mut w = Writes::default();
        assert!(w.add_message(Role::Assistant, Kind::Text, None, text));
        assert!(w.lines.contains("fn new_version_of_it() {}"));
        assert!(!w.lines.contains("fn old_version_of_it() {}"));
        assert!(w.paths.contains("src/status.rs"));
        // A user quoting such a block wrote nothing.
        assert!(message_hashes(Role::User, Kind::Text, None, text).is_empty());
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
        assert!(
            message_hashes(
                Role::Assistant,
                Kind::ToolUse,
                Some("Read"),
                r#"Read: {"file_path":"/r/src/a.rs"}"#
            )
            .is_empty()
        );
    }
}
