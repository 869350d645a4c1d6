//! `lore mcp serve`: the archive as a Model Context Protocol server over stdio, so that a coding
//! agent can ask it, before changing a line, why the line is as it is.
//!
//! The tools ([`TOOLS`]) are read-only: the server opens lore.db read-only for each call and
//! writes nothing. Their answers come from [`crate::answer`], the same code as the CLI's
//! `--json` outputs. What it refuses: unknown tools (a JSON-RPC invalid-params error), unknown
//! or wrong-typed arguments and every domain error (a tool result with `isError` and the
//! one-line message the CLI would print), page requests past [`crate::answer::MAX_PAGE_MESSAGES`]
//! (clamped, and the answer says so). Malformed JSON lines are ignored (rmcp's transport); the
//! server ends, cleanly, when the client closes its end. Read docs/mcp.md.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

use crate::answer::{self, AnswerError, FilterSpec, PageRequest};
use crate::blame::LineRange;
use crate::db::Db;
use crate::home::Home;
use crate::link::Git;
use crate::model::Role;

/// The most search hits or sessions one call returns; more is clamped.
pub const MAX_LIST: usize = 200;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot start the MCP server's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("the MCP client did not initialize the session: {0}")]
    Initialize(String),
    #[error("the MCP server stopped unexpectedly: {0}")]
    Join(String),
}

/// Serves the archive in `home` on stdin/stdout until the client disconnects. `cwd` is the
/// folder relative paths and "this repository" are taken from.
pub fn serve(home: Home, cwd: PathBuf) -> Result<(), ServeError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let server = Server { home, cwd };
    let result = rt.block_on(async move {
        let running = match server.serve(rmcp::transport::stdio()).await {
            Ok(r) => r,
            // A client that leaves before initializing is not an error of ours.
            Err(e) if is_closed(&e) => return Ok(()),
            Err(e) => return Err(ServeError::Initialize(e.to_string())),
        };
        running
            .waiting()
            .await
            .map(|_| ())
            .map_err(|e| ServeError::Join(e.to_string()))
    });
    // stdin's blocking reader cannot be cancelled: do not wait for it past the end.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    result
}

/// Whether initializing failed because the client went away (closed its end, or stopped
/// reading before the answer was written): a clean end, not an error.
fn is_closed(e: &rmcp::service::ServerInitializeError) -> bool {
    use rmcp::service::ServerInitializeError as E;
    matches!(
        e,
        E::ConnectionClosed(_) | E::TransportError { .. } | E::Cancelled
    )
}

/// The server: where the archive is, and the folder it was started in.
#[derive(Debug, Clone)]
pub struct Server {
    home: Home,
    cwd: PathBuf,
}

/// One tool: its name, what it is for (written for an agent choosing among them), and its
/// arguments as JSON Schema properties with the required ones.
struct ToolSpec {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    properties: fn() -> Value,
    required: &'static [&'static str],
}

fn filter_properties() -> serde_json::Map<String, Value> {
    let v = json!({
        "repo": {"type": "string", "description": "Only sessions that ran in this repository: a path inside it ('.' is the folder the server runs in)."},
        "tool": {"type": "string", "enum": ["claude-code", "codex", "gemini", "aider"], "description": "Only sessions from this coding agent."},
        "branch": {"type": "string", "description": "Only sessions on this git branch."},
        "tag": {"type": "string", "description": "Only sessions with this tag."},
        "since": {"type": "string", "description": "Only sessions active since: a date (2026-03-01), a timestamp, or an age (7d, '2 weeks')."},
        "until": {"type": "string", "description": "Only sessions started before: a date, a timestamp, or an age."}
    });
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

fn with_filters(extra: Value) -> Value {
    let mut m = filter_properties();
    if let Value::Object(e) = extra {
        m.extend(e);
    }
    Value::Object(m)
}

/// Every tool the server offers.
const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "why",
        title: "Why is this code like this?",
        description: "The reasoning behind lines of a file: for each line, the commit that last changed it, the AI coding sessions linked to that commit, how strong the evidence is (evidence.kind 'lines': the session's tool calls wrote these lines; 'file': it edited the file; 'commit': it is only linked to the commit), and excerpts of the messages that wrote or discuss the lines, each with its ordinal (read more around it with get_session). Ask this BEFORE changing code that has history, or when the user asks why something is done a certain way. The file is a path relative to the repository the server runs in (or absolute).",
        properties: || {
            json!({
                "file": {"type": "string", "description": "The file, relative to the folder the server runs in (or to repo), or absolute."},
                "repo": {"type": "string", "description": "Another repository to ask about (a path inside it); default: the one the server runs in."},
                "start_line": {"type": "integer", "minimum": 1, "description": "First line (1-based). Without it: the whole file."},
                "end_line": {"type": "integer", "minimum": 1, "description": "Last line (default: start_line)."},
                "messages": {"type": "integer", "minimum": 0, "description": "At most this many message excerpts per session (default 3; 0: all)."}
            })
        },
        required: &["file"],
    },
    ToolSpec {
        name: "search_sessions",
        title: "Search session messages",
        description: "Full-text search over the messages of every imported AI coding session (prompts, answers, tool calls). All words must match; FTS5 syntax works: \"exact phrase\", prefix*, OR, NOT. Returns hits best-ranked first, each with session.id and ordinal (pass both to get_session to read around the hit) and a snippet. Use it to find past discussions of a topic, an error message or a design decision.",
        properties: || {
            with_filters(json!({
                "query": {"type": "string", "description": "The words to find."},
                "limit": {"type": "integer", "minimum": 1, "description": "At most this many hits (default 20, at most 200)."}
            }))
        },
        required: &["query"],
    },
    ToolSpec {
        name: "list_sessions",
        title: "List sessions",
        description: "Sessions newest first, with id, tool, title (or first prompt line), times, branch and message count. By default only the sessions of the repository the server runs in; give repo to pick another, or all_repos true for every session.",
        properties: || {
            with_filters(json!({
                "all_repos": {"type": "boolean", "description": "List sessions of every repository (default false: this repository only)."},
                "limit": {"type": "integer", "minimum": 1, "description": "At most this many sessions (default 20, at most 200)."}
            }))
        },
        required: &[],
    },
    ToolSpec {
        name: "get_session",
        title: "Read a session in pages",
        description: "Reads one session's messages in pages, so a long session does not fill your context. Start at from_ordinal (0 = the beginning, or a hit's ordinal minus a few), read limit messages (default 40, at most 200), then continue with from_ordinal = next_ordinal until it is null. Tool output is omitted by default (content null, chars gives its length); set tool_output true to see it. roles filters, e.g. [\"user\",\"assistant\"] for the conversation only. Long messages are cut (truncated true).",
        properties: || {
            json!({
                "id": {"type": "string", "description": "The session id, or a unique beginning of it."},
                "from_ordinal": {"type": "integer", "minimum": 0, "description": "The first message's ordinal (default 0)."},
                "limit": {"type": "integer", "minimum": 1, "description": "At most this many messages (default 40; more than 200 is clamped)."},
                "roles": {"type": "array", "items": {"type": "string", "enum": ["user", "assistant", "tool", "system"]}, "description": "Only messages of these roles (default: all)."},
                "tool_output": {"type": "boolean", "description": "Include tool results' content (default false)."}
            })
        },
        required: &["id"],
    },
    ToolSpec {
        name: "commit_sessions",
        title: "Sessions linked to a commit",
        description: "The commit a revision names (a hash, HEAD~2, a branch; resolved in the repository the server runs in) and the AI coding sessions linked to it, with how each link was made and its evidence. Use it to learn which conversation produced a commit.",
        properties: || {
            json!({
                "commit": {"type": "string", "description": "Anything git resolves to a commit."},
                "repo": {"type": "string", "description": "Another repository to resolve it in (a path inside it); default: the one the server runs in."}
            })
        },
        required: &["commit"],
    },
    ToolSpec {
        name: "recent_context",
        title: "Recent context of this repository",
        description: "The latest AI coding sessions of the repository the server runs in, each with its title, first prompt, tags and linked commits: what was being worked on recently. A good first call at the start of a task.",
        properties: || {
            json!({
                "limit": {"type": "integer", "minimum": 1, "description": "At most this many sessions (default 5, at most 50)."},
                "repo": {"type": "string", "description": "Another repository (a path inside it); default: the one the server runs in."}
            })
        },
        required: &[],
    },
];

impl ToolSpec {
    fn tool(&self) -> Tool {
        let schema = json!({
            "type": "object",
            "properties": (self.properties)(),
            "required": self.required,
            "additionalProperties": false,
        });
        let schema: JsonObject = match schema {
            Value::Object(m) => m,
            _ => JsonObject::new(),
        };
        Tool::new(self.name, self.description, Arc::new(schema))
            .with_title(self.title)
            .with_annotations(
                ToolAnnotations::new()
                    .read_only(true)
                    .destructive(false)
                    .idempotent(true)
                    .open_world(false),
            )
    }

    fn names(&self) -> Vec<String> {
        match (self.properties)() {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }
}

/// A tool's arguments, read with one-line errors naming the argument.
struct Args<'a> {
    tool: &'a str,
    map: JsonObject,
}

impl Args<'_> {
    fn bad(&self, name: &str, want: &str, got: &Value) -> AnswerError {
        let got = match got {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        };
        AnswerError::Invalid(format!(
            "{}: argument '{name}' must be {want}, not {got}",
            self.tool
        ))
    }

    fn string(&self, name: &str) -> Result<Option<String>, AnswerError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.bad(name, "a string", v)),
        }
    }

    fn required(&self, name: &str) -> Result<String, AnswerError> {
        match self.string(name)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(AnswerError::Invalid(format!(
                "{}: argument '{name}' is required",
                self.tool
            ))),
        }
    }

    fn uint(&self, name: &str) -> Result<Option<u64>, AnswerError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(u) => Ok(Some(u)),
                None => Err(AnswerError::Invalid(format!(
                    "{}: argument '{name}' must be a whole number 0 or more, not {n}",
                    self.tool
                ))),
            },
            Some(v) => Err(self.bad(name, "an integer", v)),
        }
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>, AnswerError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(self.bad(name, "a boolean", v)),
        }
    }

    fn strings(&self, name: &str) -> Result<Vec<String>, AnswerError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    v => Err(self.bad(name, "an array of strings", v)),
                })
                .collect(),
            Some(v) => Err(self.bad(name, "an array of strings", v)),
        }
    }
}

/// `usize` from a count argument, saturating.
fn count(v: Option<u64>, default: usize) -> usize {
    v.map_or(default, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

impl Server {
    pub fn new(home: Home, cwd: PathBuf) -> Server {
        Server { home, cwd }
    }

    /// The store, opened read-only; `None` when nothing has been imported yet.
    fn store(&self) -> Result<Option<Db>, AnswerError> {
        let path = self.home.db_path();
        if !path.exists() {
            return Ok(None);
        }
        let store = Db::open_read_only(&path)?;
        store.map_for_reading()?;
        Ok(Some(store))
    }

    fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.cwd.join(p)
        }
    }

    /// The folder a tool works in: its `repo` argument (relative to the server's folder), else
    /// the server's folder.
    fn dir(&self, a: &Args<'_>) -> Result<PathBuf, AnswerError> {
        Ok(match a.string("repo")? {
            Some(r) => self.path(&r),
            None => self.cwd.clone(),
        })
    }

    fn git(&self, dir: &Path) -> Result<Git, AnswerError> {
        Ok(Git::discover(&Git::program_from_env(), dir)?)
    }

    fn filters(&self, a: &Args<'_>) -> Result<FilterSpec, AnswerError> {
        let tool = match a.string("tool")? {
            None => None,
            Some(t) => Some(t.parse().map_err(|e: crate::model::UnknownName| {
                AnswerError::Invalid(format!("{}: argument 'tool': {e}", a.tool))
            })?),
        };
        Ok(FilterSpec {
            repo: a.string("repo")?.map(|r| self.path(&r)),
            tool,
            branch: a.string("branch")?,
            tag: a.string("tag")?,
            since: a.string("since")?,
            until: a.string("until")?,
        })
    }

    /// Runs tool `name` with `args`: its structured answer, or the error to report.
    pub fn call(&self, name: &str, args: JsonObject) -> Result<Value, AnswerError> {
        let Some(spec) = TOOLS.iter().find(|t| t.name == name) else {
            return Err(AnswerError::Invalid(format!("unknown tool '{name}'")));
        };
        let known = spec.names();
        if let Some(k) = args.keys().find(|k| !known.contains(k)) {
            return Err(AnswerError::Invalid(format!(
                "{name}: unknown argument '{k}'; it takes {}",
                known.join(", ")
            )));
        }
        let a = Args {
            tool: name,
            map: args,
        };
        match name {
            "why" => {
                let file = a.required("file")?;
                let start = a.uint("start_line")?;
                let end = a.uint("end_line")?;
                let range = match (start, end) {
                    (None, None) => None,
                    (Some(s), e) => {
                        let text = format!("{s}-{}", e.unwrap_or(s));
                        Some(LineRange::parse(&text)?)
                    }
                    (None, Some(_)) => {
                        return Err(AnswerError::Invalid(
                            "why: end_line needs start_line".to_owned(),
                        ));
                    }
                };
                let messages = count(a.uint("messages")?, 3);
                let dir = self.dir(&a)?;
                let git = self.git(&dir)?;
                let store = self.store()?;
                answer::why(
                    store.as_ref(),
                    &git,
                    &dir,
                    Path::new(&file),
                    range,
                    messages,
                )
            }
            "search_sessions" => {
                let query = a.required("query")?;
                let limit = count(a.uint("limit")?, 20).clamp(1, MAX_LIST);
                let spec = self.filters(&a)?;
                spec.to_filter()?;
                match self.store()? {
                    Some(store) => answer::search(&store, &query, &spec, limit),
                    None => Ok(answer::hits_json(&query, &[], false)),
                }
            }
            "list_sessions" => {
                let limit = count(a.uint("limit")?, 20).clamp(1, MAX_LIST);
                let mut spec = self.filters(&a)?;
                if spec.repo.is_none() && !a.boolean("all_repos")?.unwrap_or(false) {
                    spec.repo = Some(self.cwd.clone());
                }
                spec.to_filter()?;
                match self.store()? {
                    Some(store) => answer::sessions(&store, &spec, limit),
                    None => Ok(answer::sessions_json(&[], false)),
                }
            }
            "get_session" => {
                let id = a.required("id")?;
                let roles = a
                    .strings("roles")?
                    .iter()
                    .map(|r| {
                        r.parse::<Role>().map_err(|_| {
                            AnswerError::Invalid(format!(
                                "get_session: unknown role '{r}': use user, assistant, tool or system"
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let req = PageRequest {
                    from: i64::try_from(a.uint("from_ordinal")?.unwrap_or(0)).unwrap_or(i64::MAX),
                    limit: count(a.uint("limit")?, 40),
                    roles,
                    tool_output: a.boolean("tool_output")?.unwrap_or(false),
                    id,
                };
                match self.store()? {
                    Some(store) => answer::session_page(&store, &req),
                    None => Err(AnswerError::NothingImported(req.id)),
                }
            }
            "commit_sessions" => {
                let rev = a.required("commit")?;
                let git = self.git(&self.dir(&a)?)?;
                let store = self.store()?;
                answer::commit_sessions(store.as_ref(), &git, &rev)
            }
            "recent_context" => {
                let limit = count(a.uint("limit")?, 5).clamp(1, 50);
                let spec = FilterSpec {
                    repo: Some(self.dir(&a)?),
                    ..FilterSpec::default()
                };
                match self.store()? {
                    Some(store) => answer::recent(&store, &spec, limit),
                    None => Ok(json!({"sessions": []})),
                }
            }
            _ => Err(AnswerError::Invalid(format!("unknown tool '{name}'"))),
        }
    }
}

/// An error and its causes on one line, as the CLI prints them (without repeating a cause
/// already quoted).
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut cur = Some(e);
    while let Some(c) = cur {
        let text = c.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        cur = c.source();
    }
    out.replace('\n', " ")
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("lore", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "lore holds the AI coding sessions behind this repository's code, linked to its \
                 commits. Before changing code with history, call why on the file and lines; \
                 use search_sessions to find past discussions, get_session to read one in \
                 pages, recent_context for what was worked on lately. Read-only.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            TOOLS.iter().map(ToolSpec::tool).collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.as_ref();
        if !TOOLS.iter().any(|t| t.name == name) {
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool '{name}': the tools are {}",
                    TOOLS.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
                ),
                None,
            ));
        }
        let result = match self.call(name, request.arguments.unwrap_or_default()) {
            Ok(v) => CallToolResult::structured(wrap(v)),
            Err(e) => CallToolResult::error(vec![ContentBlock::text(one_line(&e))]),
        };
        Ok(result.into())
    }
}

/// Structured content must be an object: a list is given as `{"results": [...]}`.
fn wrap(v: Value) -> Value {
    match v {
        Value::Object(_) => v,
        other => json!({ "results": other }),
    }
}
