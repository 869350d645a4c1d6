//! How a person (or an agent) reads a session: which messages are left out by default, which
//! roles a comma list names, and what a tool call asked for, decoded from its stored input
//! (`<name>: <json>`) into `key: value` fields and, for a call that edits or writes a file, a
//! unified diff.
//!
//! It reads nothing and prints nothing: `lore show` (src/cli/show.rs) renders what it returns,
//! and the MCP server's session pages ([`crate::answer::session_page`]) omit tool output by the
//! same rule ([`is_tool_output`]). It refuses nothing either: input that is not JSON, or JSON
//! of a shape it does not know, comes back as plain fields, never as an error.
//!
//! Spec: docs/reading.md (what `lore show` hides, and how tool calls are shown).

use serde_json::Value;

use crate::model::{Kind, Role, UnknownName};

/// Whether a message is a tool's output: what `lore show` hides and the MCP session pages
/// omit unless asked.
pub fn is_tool_output(kind: Kind) -> bool {
    kind == Kind::ToolResult
}

/// Why a message is left out of a session's text view by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// A tool's output ([`is_tool_output`]).
    ToolOutput,
    /// Text the tool injected itself (system prompts, reminders, status lines): role `system`.
    System,
}

/// Whether a message is left out of the text view unless everything is asked for: tool output
/// and system/injected text are; prompts, replies, thinking and tool calls are not.
pub fn hidden_by_default(role: Role, kind: Kind) -> Option<Hidden> {
    if is_tool_output(kind) || role == Role::Tool {
        Some(Hidden::ToolOutput)
    } else if role == Role::System {
        Some(Hidden::System)
    } else {
        None
    }
}

/// The roles of a comma list (`user,assistant`), each once, in the order given. Spaces around
/// a name are ignored; an empty list or an unknown name is an error naming the valid ones.
pub fn parse_roles(list: &str) -> Result<Vec<Role>, UnknownName> {
    let mut roles = Vec::new();
    for name in list.split(',') {
        let role: Role = name.trim().parse()?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
}

/// A tool call, decoded for reading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolCall {
    /// Its input's fields other than the ones shown as a diff, in the order stored; a key of
    /// `None` is input that was not a JSON object (a raw command or patch text).
    pub fields: Vec<(Option<String>, String)>,
    /// The files it edits or writes, each as a diff.
    pub diffs: Vec<FileDiff>,
    /// The prompt it gave a sub-agent (Claude's `Task`/`Agent`): the sub-agent's first prompt.
    pub prompt: Option<String>,
}

/// A change to one file, as a unified diff.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileDiff {
    /// The file, when the call names it.
    pub path: Option<String>,
    pub lines: Vec<DiffLine>,
}

/// A line of a [`FileDiff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    /// A patch's own header line (`*** Update File: a.rs`, `--- a/x`).
    Header(String),
    /// A hunk header (`@@ -1,3 +1,4 @@`).
    Hunk(String),
    Context(String),
    Removed(String),
    Added(String),
}

impl DiffLine {
    /// The line as a unified diff writes it (`+added`, `-removed`, ` context`).
    pub fn text(&self) -> String {
        match self {
            DiffLine::Header(s) | DiffLine::Hunk(s) => s.clone(),
            DiffLine::Context(s) => format!(" {s}"),
            DiffLine::Removed(s) => format!("-{s}"),
            DiffLine::Added(s) => format!("+{s}"),
        }
    }
}

/// Lines of context around each change in an edit's diff.
pub const DIFF_CONTEXT: usize = 3;

const PATH_KEYS: [&str; 5] = ["file_path", "path", "filePath", "target_file", "filename"];
const OLD_KEYS: [&str; 4] = ["old_string", "old_str", "oldString", "old_text"];
const NEW_KEYS: [&str; 4] = ["new_string", "new_str", "newString", "new_text"];
/// What a writing call (Write, write_file, create) puts in a new file.
const CONTENT_KEYS: [&str; 3] = ["content", "file_text", "contents"];

/// Decodes a stored tool call (`content` as lore stores it: `<name>: <input>`).
///
/// An edit (Claude's `Edit`/`MultiEdit`, Gemini's `replace`, Copilot's `edit`,
/// `str_replace_based_edit_tool`: an old and a new text) becomes a diff of the two; a patch
/// (Codex's and Cursor's `apply_patch`, a unified diff) its own lines; a call that writes a
/// whole file (`Write`, `write_file`, `create`) a diff from nothing. Every other input key is
/// a field.
pub fn decode_call(tool_name: Option<&str>, content: &str) -> ToolCall {
    let input = crate::content::tool_input(tool_name, content);
    let mut call = ToolCall::default();
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(input) else {
        if is_patch(input) {
            call.diffs.push(patch_diff(input));
        } else {
            call.fields.push((None, input.to_owned()));
        }
        return call;
    };
    let str_of = |keys: &[&'static str]| -> Option<(&'static str, &str)> {
        keys.iter()
            .find_map(|k| map.get(*k).and_then(Value::as_str).map(|s| (*k, s)))
    };
    let path = str_of(&PATH_KEYS);
    let mut used: Vec<&str> = Vec::new();
    if let (Some((ok, old)), Some((nk, new))) = (str_of(&OLD_KEYS), str_of(&NEW_KEYS)) {
        call.diffs.push(FileDiff {
            path: path.map(|(_, p)| p.to_owned()),
            lines: edit_diff(old, new),
        });
        used.extend([ok, nk]);
    } else if let Some(Value::Array(edits)) = map.get("edits") {
        // MultiEdit: several old/new pairs in one file.
        let mut lines = Vec::new();
        for e in edits {
            let pick = |keys: &[&str]| keys.iter().find_map(|k| e.get(*k).and_then(Value::as_str));
            if let (Some(old), Some(new)) = (pick(&OLD_KEYS), pick(&NEW_KEYS)) {
                lines.extend(edit_diff(old, new));
            }
        }
        if !lines.is_empty() {
            call.diffs.push(FileDiff {
                path: path.map(|(_, p)| p.to_owned()),
                lines,
            });
            used.push("edits");
        }
    } else if let Some((ck, text)) = str_of(&CONTENT_KEYS)
        && path.is_some()
        && crate::content::is_write_call(tool_name, content)
    {
        call.diffs.push(FileDiff {
            path: path.map(|(_, p)| p.to_owned()),
            lines: edit_diff("", text),
        });
        used.push(ck);
    }
    if !call.diffs.is_empty()
        && let Some((pk, _)) = path
    {
        // The diff's header names the file.
        used.push(pk);
    }
    for (k, v) in &map {
        if used.contains(&k.as_str()) {
            continue;
        }
        // A patch anywhere in the input: `{"input": "*** Begin Patch…"}` (Codex's custom
        // tool) or `{"command": ["apply_patch", "*** Begin Patch…"]}` (its shell).
        let patch = match v {
            Value::String(s) if is_patch(s) => Some(s.as_str()),
            Value::Array(items) => items.iter().filter_map(Value::as_str).find(|s| is_patch(s)),
            _ => None,
        };
        if let Some(p) = patch {
            call.diffs.push(patch_diff(p));
            continue;
        }
        if k == "prompt"
            && let Value::String(s) = v
        {
            call.prompt = Some(s.clone());
        }
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        call.fields.push((Some(k.clone()), text));
    }
    call
}

fn is_patch(s: &str) -> bool {
    s.trim_start().starts_with("*** Begin Patch")
        || s.starts_with("--- ")
        || s.starts_with("diff --git ")
}

/// The lines of a patch (Codex's `*** Begin Patch` format or a unified diff), sorted into
/// headers, hunks, context, removed and added lines.
fn patch_diff(patch: &str) -> FileDiff {
    let lines = patch
        .lines()
        .map(|l| {
            if l.starts_with("*** ")
                || l.starts_with("--- ")
                || l.starts_with("+++ ")
                || l.starts_with("diff --git ")
            {
                DiffLine::Header(l.to_owned())
            } else if l.starts_with("@@") {
                DiffLine::Hunk(l.to_owned())
            } else if let Some(r) = l.strip_prefix('+') {
                DiffLine::Added(r.to_owned())
            } else if let Some(r) = l.strip_prefix('-') {
                DiffLine::Removed(r.to_owned())
            } else {
                DiffLine::Context(l.strip_prefix(' ').unwrap_or(l).to_owned())
            }
        })
        .collect();
    FileDiff { path: None, lines }
}

/// `old` to `new` as unified-diff hunks with [`DIFF_CONTEXT`] lines of context.
pub fn edit_diff(old: &str, new: &str) -> Vec<DiffLine> {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::from_lines(old, new);
    let mut out = Vec::new();
    for hunk in diff
        .unified_diff()
        .context_radius(DIFF_CONTEXT)
        .iter_hunks()
    {
        out.push(DiffLine::Hunk(
            hunk.header().to_string().trim_end().to_owned(),
        ));
        for change in hunk.iter_changes() {
            let text = change.value().trim_end_matches(['\n', '\r']).to_owned();
            out.push(match change.tag() {
                ChangeTag::Equal => DiffLine::Context(text),
                ChangeTag::Delete => DiffLine::Removed(text),
                ChangeTag::Insert => DiffLine::Added(text),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(d: &FileDiff) -> Vec<String> {
        d.lines.iter().map(DiffLine::text).collect()
    }

    #[test]
    fn the_default_view_hides_tool_output_and_system_text_only() {
        assert_eq!(
            hidden_by_default(Role::Tool, Kind::ToolResult),
            Some(Hidden::ToolOutput)
        );
        assert_eq!(
            hidden_by_default(Role::System, Kind::Text),
            Some(Hidden::System)
        );
        assert_eq!(hidden_by_default(Role::User, Kind::Text), None);
        assert_eq!(hidden_by_default(Role::Assistant, Kind::Thinking), None);
        assert_eq!(hidden_by_default(Role::Assistant, Kind::ToolUse), None);
        assert!(is_tool_output(Kind::ToolResult) && !is_tool_output(Kind::ToolUse));
    }

    #[test]
    fn roles_parse_from_a_comma_list_and_bad_names_list_the_valid_ones() {
        assert_eq!(
            parse_roles("user, assistant,user").unwrap(),
            vec![Role::User, Role::Assistant]
        );
        let e = parse_roles("user,robot").unwrap_err().to_string();
        assert!(
            e.contains("'robot'") && e.contains("user, assistant, tool, system"),
            "{e}"
        );
        assert!(parse_roles("").is_err());
    }

    #[test]
    fn an_edit_becomes_a_diff_and_its_other_keys_fields() {
        let c = r#"Edit: {"file_path":"/r/a.rs","old_string":"one\ntwo\nthree","new_string":"one\n2\nthree","replace_all":false}"#;
        let call = decode_call(Some("Edit"), c);
        assert_eq!(call.diffs.len(), 1);
        assert_eq!(call.diffs[0].path.as_deref(), Some("/r/a.rs"));
        assert_eq!(
            texts(&call.diffs[0]),
            vec!["@@ -1,3 +1,3 @@", " one", "-two", "+2", " three"]
        );
        assert_eq!(
            call.fields,
            vec![(Some("replace_all".into()), "false".into())]
        );
    }

    #[test]
    fn other_tools_edits_are_diffs_too() {
        // Copilot's edit, Gemini's replace, MultiEdit, a Write, Codex's apply_patch both ways.
        let copilot = decode_call(
            Some("edit"),
            r#"edit: {"new_str":"b","old_str":"a","path":"x.md"}"#,
        );
        assert_eq!(texts(&copilot.diffs[0])[1..], ["-a", "+b"]);
        assert_eq!(copilot.diffs[0].path.as_deref(), Some("x.md"));
        let gemini = decode_call(
            Some("replace"),
            r#"replace: {"file_path":"c.conf","new_string":"o = 0.7","old_string":"o = 1.0","expected_replacements":1}"#,
        );
        assert_eq!(texts(&gemini.diffs[0])[1..], ["-o = 1.0", "+o = 0.7"]);
        let multi = decode_call(
            Some("MultiEdit"),
            r#"MultiEdit: {"file_path":"m.rs","edits":[{"old_string":"a","new_string":"b"},{"old_string":"c","new_string":"d"}]}"#,
        );
        assert_eq!(
            texts(&multi.diffs[0]),
            ["@@ -1 +1 @@", "-a", "+b", "@@ -1 +1 @@", "-c", "+d"]
        );
        let write = decode_call(
            Some("Write"),
            r#"Write: {"file_path":"n.txt","content":"x\ny\n"}"#,
        );
        assert_eq!(texts(&write.diffs[0])[1..], ["+x", "+y"]);
        let custom = decode_call(
            Some("apply_patch"),
            r#"apply_patch: {"input":"*** Begin Patch\n*** Update File: q.md\n@@\n-old\n+new\n ctx\n*** End Patch"}"#,
        );
        assert_eq!(
            custom.diffs[0].lines,
            vec![
                DiffLine::Header("*** Begin Patch".into()),
                DiffLine::Header("*** Update File: q.md".into()),
                DiffLine::Hunk("@@".into()),
                DiffLine::Removed("old".into()),
                DiffLine::Added("new".into()),
                DiffLine::Context("ctx".into()),
                DiffLine::Header("*** End Patch".into()),
            ]
        );
        assert!(custom.fields.is_empty());
        let shell = decode_call(
            Some("shell"),
            r#"shell: {"command":["apply_patch","*** Begin Patch\n*** Add File: n.md\n+hi\n*** End Patch"],"workdir":"/r"}"#,
        );
        assert_eq!(shell.diffs[0].lines[2], DiffLine::Added("hi".into()));
        assert_eq!(shell.fields, vec![(Some("workdir".into()), "/r".into())]);
        let raw = decode_call(
            Some("ApplyPatch"),
            "ApplyPatch: *** Begin Patch\n+x\n*** End Patch",
        );
        assert_eq!(raw.diffs[0].lines[1], DiffLine::Added("x".into()));
    }

    #[test]
    fn other_calls_are_fields_and_a_task_keeps_its_prompt() {
        let bash = decode_call(
            Some("Bash"),
            r#"Bash: {"command":"ls -la","description":"List"}"#,
        );
        assert!(bash.diffs.is_empty());
        assert_eq!(
            bash.fields,
            vec![
                (Some("command".into()), "ls -la".into()),
                (Some("description".into()), "List".into())
            ]
        );
        let task = decode_call(
            Some("Task"),
            r#"Task: {"description":"d","prompt":"Go look"}"#,
        );
        assert_eq!(task.prompt.as_deref(), Some("Go look"));
        // Not JSON, and a JSON that is not an object: the text as it is.
        assert_eq!(
            decode_call(Some("x"), "x: not json").fields,
            vec![(None, "not json".into())]
        );
        assert_eq!(
            decode_call(None, "[1,2]").fields,
            vec![(None, "[1,2]".into())]
        );
        // Reading a file is not writing it: no diff of its content key.
        let read = decode_call(Some("Read"), r#"Read: {"file_path":"a","content":"zz"}"#);
        assert!(read.diffs.is_empty());
    }
}
