//! The plan format, version 1 (docs/plans.md): what an agent asks the engine to change.
//!
//! Parsing is strict: unknown fields, wrong types and anything the engine would refuse later are
//! reported here, each error naming the JSON path and, inside an operation, its index and op
//! name, e.g. `operations[2] (update): "where" is required (use {"where": "all"} to change every
//! row)`.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use super::value::{self, Row, Value};

/// The plan format version this code reads and writes.
pub const FORMAT_VERSION: u64 = 1;

/// Every op name, in the order docs/plans.md lists them.
pub const OP_NAMES: [&str; 12] = [
    "create_table",
    "add_column",
    "drop_column",
    "rename_table",
    "drop_table",
    "create_index",
    "drop_index",
    "insert",
    "upsert",
    "update",
    "delete",
    "sql",
];

/// A parsed, validated plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub message: String,
    /// `expect.head`, when the plan gives one: the commit the database must be at.
    pub expect_head: Option<ExpectHead>,
    pub operations: Vec<Operation>,
    /// The operations array as given, except that every value (in rows, `set`, `where`,
    /// `default`, `params`) is rewritten in the form that survives RFC 8785 canonicalisation
    /// ([`value::to_json_for_jcs`]): hashed for the plan hash and stored with the commit, it reads
    /// back as exactly the same plan.
    pub operations_json: Json,
}

/// What `expect.head` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectHead {
    /// `"head": null`: the database must have no commits yet.
    Empty,
    /// `"head": "<commit id>"`: the id or a prefix of it (8 to 64 hex characters), lowercased.
    Commit(String),
}

/// One operation of a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    CreateTable {
        table: String,
        columns: Vec<ColumnDef>,
        /// The table-level (possibly composite) key; empty when one column has
        /// `"primary_key": true`.
        primary_key: Vec<String>,
        without_rowid: bool,
        strict: bool,
    },
    AddColumn {
        table: String,
        column: ColumnDef,
    },
    DropColumn {
        table: String,
        column: String,
    },
    RenameTable {
        from: String,
        to: String,
    },
    DropTable {
        table: String,
    },
    CreateIndex {
        name: String,
        table: String,
        columns: Vec<String>,
        unique: bool,
    },
    DropIndex {
        name: String,
    },
    Insert {
        table: String,
        rows: Vec<Row>,
    },
    /// Every row holds every `conflict_key` column.
    Upsert {
        table: String,
        conflict_key: Vec<String>,
        rows: Vec<Row>,
    },
    Update {
        table: String,
        filter: Filter,
        set: Row,
        expect_count: Option<u64>,
    },
    Delete {
        table: String,
        filter: Filter,
        expect_count: Option<u64>,
    },
    Sql {
        sql: String,
        params: Vec<Value>,
    },
}

impl Operation {
    /// The op name as written in JSON: `"create_table"`, ...
    pub fn name(&self) -> &'static str {
        match self {
            Operation::CreateTable { .. } => "create_table",
            Operation::AddColumn { .. } => "add_column",
            Operation::DropColumn { .. } => "drop_column",
            Operation::RenameTable { .. } => "rename_table",
            Operation::DropTable { .. } => "drop_table",
            Operation::CreateIndex { .. } => "create_index",
            Operation::DropIndex { .. } => "drop_index",
            Operation::Insert { .. } => "insert",
            Operation::Upsert { .. } => "upsert",
            Operation::Update { .. } => "update",
            Operation::Delete { .. } => "delete",
            Operation::Sql { .. } => "sql",
        }
    }

    /// The tables the operation creates, changes or drops, by name (both names for a rename).
    /// Empty for `drop_index` (its table is known only from the database) and `sql`. Tables that
    /// a `references` clause only points at are not included.
    pub fn tables(&self) -> Vec<&str> {
        match self {
            Operation::CreateTable { table, .. }
            | Operation::AddColumn { table, .. }
            | Operation::DropColumn { table, .. }
            | Operation::DropTable { table }
            | Operation::CreateIndex { table, .. }
            | Operation::Insert { table, .. }
            | Operation::Upsert { table, .. }
            | Operation::Update { table, .. }
            | Operation::Delete { table, .. } => vec![table.as_str()],
            Operation::RenameTable { from, to } => vec![from.as_str(), to.as_str()],
            Operation::DropIndex { .. } | Operation::Sql { .. } => Vec::new(),
        }
    }
}

/// A column of `create_table` or `add_column`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    pub name: String,
    /// JSON `"type"`; `""` when absent (SQLite allows typeless columns). Validated: one or more
    /// words of ASCII letters and digits, optionally followed by `(n)` or `(n, m)`, and no
    /// constraint keyword (`NOT`, `PRIMARY`, `DEFAULT`, ...), so it is safe to paste into SQL.
    pub sql_type: String,
    pub primary_key: bool,
    pub not_null: bool,
    pub unique: bool,
    /// `Some(Value::Null)` for an explicit `"default": null`.
    pub default: Option<Value>,
    pub references: Option<ForeignKey>,
}

/// A column's `references`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub table: String,
    pub column: String,
    pub on_delete: Option<FkAction>,
}

/// `references.on_delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FkAction {
    Cascade,
    SetNull,
    Restrict,
    NoAction,
    SetDefault,
}

impl FkAction {
    const ALL: [FkAction; 5] = [
        FkAction::Cascade,
        FkAction::SetNull,
        FkAction::Restrict,
        FkAction::NoAction,
        FkAction::SetDefault,
    ];

    /// The JSON spelling: `"cascade"`, `"set_null"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            FkAction::Cascade => "cascade",
            FkAction::SetNull => "set_null",
            FkAction::Restrict => "restrict",
            FkAction::NoAction => "no_action",
            FkAction::SetDefault => "set_default",
        }
    }

    /// The SQL spelling: `CASCADE`, `SET NULL`, ...
    pub fn as_sql(self) -> &'static str {
        match self {
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::Restrict => "RESTRICT",
            FkAction::NoAction => "NO ACTION",
            FkAction::SetDefault => "SET DEFAULT",
        }
    }
}

/// The `where` of `update` and `delete`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `"where": "all"`: every row.
    All,
    /// `"where": {column: condition, ...}`: rows matching every condition (never empty). In
    /// byte order of column name, then operator name.
    Conditions(Vec<Condition>),
}

/// One test on one column.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub column: String,
    pub test: Test,
}

/// What a [`Condition`] tests. No test holds [`Value::Null`]: `{"col": null}` and
/// `{"col": {"eq": null}}` parse as `IsNull(true)`; null is refused elsewhere (a comparison with
/// NULL matches nothing in SQL).
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Eq(Value),
    /// Never empty.
    In(Vec<Value>),
    IsNull(bool),
    Ne(Value),
    Gt(Value),
    Gte(Value),
    Lt(Value),
    Lte(Value),
}

/// Why a plan was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    /// JSON path of the offending part, e.g. `operations[2].where`; empty for the plan as a
    /// whole (JSON syntax, a wrong top-level shape).
    pub path: String,
    /// Index of the operation the error is in, when it is in one.
    pub operation: Option<usize>,
    /// That operation's op name, when known.
    pub op: Option<&'static str>,
    /// What is wrong and what is accepted.
    pub message: String,
    /// Line and column (1-based) in the plan text, for JSON syntax errors.
    pub line_column: Option<(usize, usize)>,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.path.is_empty(), self.op) {
            (true, _) => write!(f, "plan: {}", self.message),
            (false, Some(op)) => write!(f, "{} ({op}): {}", self.path, self.message),
            (false, None) => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

impl std::error::Error for PlanError {}

impl Plan {
    /// Parses plan text: JSON (duplicate keys are errors), then [`Plan::from_value`].
    pub fn parse(text: &str) -> Result<Plan, PlanError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed: Result<StrictJson, _> = serde_path_to_error::deserialize(&mut de);
        let json = match parsed {
            Ok(StrictJson(json)) => json,
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let line_column = Some((inner.line(), inner.column()));
                // Data errors are duplicate keys (the JSON itself is well-formed).
                let (path, message) = match (inner.is_data(), path.as_str()) {
                    (true, ".") => (String::new(), inner.to_string()),
                    (true, _) => (path, inner.to_string()),
                    (false, _) => (String::new(), format!("not valid JSON: {inner}")),
                };
                return Err(PlanError {
                    path,
                    operation: None,
                    op: None,
                    message,
                    line_column,
                }
                .with_operation_from_path(text));
            }
        };
        if let Err(inner) = de.end() {
            return Err(PlanError {
                path: String::new(),
                operation: None,
                op: None,
                message: format!("not valid JSON: {inner}"),
                line_column: Some((inner.line(), inner.column())),
            });
        }
        check_integer_literals(text)?;
        Plan::from_value(json)
    }

    /// Validates a plan already read as JSON. Unlike [`Plan::parse`] it cannot tell an integer
    /// literal beyond 64 bits (which JSON readers turn into a float) from a real.
    pub fn from_value(v: Json) -> Result<Plan, PlanError> {
        let root = Loc::root();
        let Json::Object(mut m) = v else {
            return Err(root.err(format!(
                "a plan is a JSON object {{\"message\": \"...\", \"operations\": [...]}}, not {}",
                value::json_type_name(&v)
            )));
        };
        if let Some(version) = m.get("version")
            && version.as_u64() != Some(FORMAT_VERSION)
        {
            return Err(root.key("version").err(format!(
                "unsupported plan format version {version}; this lore reads version \
                 {FORMAT_VERSION} (or leave \"version\" out)"
            )));
        }
        only(&m, &["version", "message", "expect", "operations"], &root)?;

        let message = match m.get("message") {
            Some(Json::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(Json::String(_)) => {
                return Err(root
                    .key("message")
                    .err("must not be empty: say what the plan changes and why"));
            }
            Some(other) => {
                return Err(root.key("message").err(format!(
                    "must be a string saying what the plan changes, not {}",
                    value::json_type_name(other)
                )));
            }
            None => {
                return Err(root.err("\"message\" is required: say what the plan changes and why"));
            }
        };

        let expect_head = match m.get("expect") {
            None => None,
            Some(e) => Some(expect_head(e, &root.key("expect"))?),
        };

        let ops_loc = root.key("operations");
        let mut ops_json = match m.remove("operations") {
            Some(Json::Array(a)) => a,
            Some(other) => {
                return Err(ops_loc.err(format!(
                    "must be an array of operations, not {}",
                    value::json_type_name(&other)
                )));
            }
            None => {
                return Err(root.err(
                    "\"operations\" is required: an array of at least one operation, e.g. \
                     [{\"op\": \"insert\", \"table\": \"t\", \"rows\": [{\"id\": 1}]}]",
                ));
            }
        };
        if ops_json.is_empty() {
            return Err(ops_loc.err("must hold at least one operation"));
        }
        let operations = ops_json
            .iter_mut()
            .enumerate()
            .map(|(i, op)| parse_operation(op, i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Plan {
            message,
            expect_head,
            operations,
            operations_json: Json::Array(ops_json),
        })
    }

    /// `hex(SHA-256(JCS(operations)))`.
    pub fn plan_hash(&self) -> String {
        plan_hash_of(&self.operations_json)
    }
}

/// `hex(SHA-256(JCS(operations_json)))`, JCS being RFC 8785 canonical JSON.
pub fn plan_hash_of(operations_json: &Json) -> String {
    // JCS of a serde_json::Value cannot fail: it holds no NaN or infinity. Should it ever, the
    // compact serde_json text is hashed instead, which still changes with any change.
    let bytes = serde_json_canonicalizer::to_vec(operations_json)
        .unwrap_or_else(|_| operations_json.to_string().into_bytes());
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Locations and errors

/// Where in the plan a part is: its JSON path and the operation it belongs to.
#[derive(Debug, Clone)]
struct Loc {
    path: String,
    operation: Option<usize>,
    op: Option<&'static str>,
}

impl Loc {
    fn root() -> Loc {
        Loc {
            path: String::new(),
            operation: None,
            op: None,
        }
    }

    fn key(&self, k: &str) -> Loc {
        let simple = !k.is_empty()
            && !k.starts_with(|c: char| c.is_ascii_digit())
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let path = match (simple, self.path.is_empty()) {
            (true, true) => k.to_string(),
            (true, false) => format!("{}.{k}", self.path),
            (false, _) => format!("{}[{}]", self.path, Json::String(k.to_string())),
        };
        Loc {
            path,
            ..self.clone()
        }
    }

    fn idx(&self, i: usize) -> Loc {
        Loc {
            path: format!("{}[{i}]", self.path),
            ..self.clone()
        }
    }

    fn err(&self, message: impl Into<String>) -> PlanError {
        PlanError {
            path: self.path.clone(),
            operation: self.operation,
            op: self.op,
            message: message.into(),
            line_column: None,
        }
    }
}

impl PlanError {
    /// Fills in `operation` and `op` from a path like `operations[3]...` and the plan text
    /// (read leniently: this is for an error found while reading it strictly).
    fn with_operation_from_path(mut self, text: &str) -> Self {
        self.operation = self
            .path
            .strip_prefix("operations[")
            .and_then(|rest| rest.split(']').next())
            .and_then(|n| n.parse().ok());
        if let Some(i) = self.operation
            && let Ok(json) = serde_json::from_str::<Json>(text)
            && let Some(Json::String(op)) = json.pointer(&format!("/operations/{i}/op"))
        {
            self.op = OP_NAMES.iter().find(|n| **n == op.as_str()).copied();
        }
        self
    }
}

/// Rejects any key of `m` not in `allowed`.
fn only(m: &Map<String, Json>, allowed: &[&str], loc: &Loc) -> Result<(), PlanError> {
    let Some(unknown) = m.keys().find(|k| !allowed.contains(&k.as_str())) else {
        return Ok(());
    };
    let snake = to_snake_case(unknown);
    let hint = match allowed.iter().find(|a| **a == snake) {
        Some(a) if *a != unknown => format!(" (did you mean \"{a}\"? names are snake_case)"),
        _ => String::new(),
    };
    let list: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
    Err(loc.err(format!(
        "unknown field {}{hint}; allowed here: {}",
        Json::String(unknown.clone()),
        list.join(", ")
    )))
}

fn to_snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '-' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    out
}

fn expect_head(e: &Json, loc: &Loc) -> Result<ExpectHead, PlanError> {
    let Json::Object(m) = e else {
        return Err(loc.err(format!(
            "must be an object {{\"head\": \"<commit id>\" | null}}, not {}",
            value::json_type_name(e)
        )));
    };
    only(m, &["head"], loc)?;
    match m.get("head") {
        None => Err(loc.err(
            "\"head\" is required: the commit id the plan was written against (from `lore \
             history --json -n 1` or `lore schema --json`), or null for a database with no \
             commits",
        )),
        Some(Json::Null) => Ok(ExpectHead::Empty),
        Some(Json::String(s))
            if (8..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(ExpectHead::Commit(s.to_ascii_lowercase()))
        }
        Some(other) => Err(loc.key("head").err(format!(
            "must be a commit id (64 hex characters, or at least the first 8) or null, not {}",
            short_json(other)
        ))),
    }
}

fn short_json(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 70 {
        let cut: String = s.chars().take(67).collect();
        format!("{cut}...")
    } else {
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Operations

fn parse_operation(j: &mut Json, i: usize) -> Result<Operation, PlanError> {
    let loc = Loc {
        path: format!("operations[{i}]"),
        operation: Some(i),
        op: None,
    };
    let Json::Object(m) = j else {
        return Err(loc.err(format!(
            "an operation is an object like {{\"op\": \"insert\", ...}}, not {}",
            value::json_type_name(j)
        )));
    };
    let name = match m.get("op") {
        None => {
            return Err(loc.err(format!(
                "\"op\" is required: one of {}",
                OP_NAMES.join(", ")
            )));
        }
        Some(Json::String(s)) => match OP_NAMES.iter().find(|n| **n == s.as_str()) {
            Some(n) => *n,
            None => {
                return Err(loc.key("op").err(format!(
                    "unknown op {}; the ops are {}",
                    Json::String(s.clone()),
                    OP_NAMES.join(", ")
                )));
            }
        },
        Some(other) => {
            return Err(loc.key("op").err(format!(
                "must be a string naming the operation ({}), not {}",
                OP_NAMES.join(", "),
                value::json_type_name(other)
            )));
        }
    };
    let loc = Loc {
        op: Some(name),
        ..loc
    };
    let mut f = Fields { m, loc: &loc };
    match name {
        "create_table" => {
            f.only(&["table", "columns", "primary_key", "without_rowid", "strict"])?;
            create_table(&mut f)
        }
        "add_column" => {
            f.only(&["table", "column"])?;
            let table = f.table("table")?;
            let column = column_def(
                f.req_mut("column", "the column to add")?,
                &loc.key("column"),
            )?;
            check_added_column(&column, &loc.key("column"))?;
            Ok(Operation::AddColumn { table, column })
        }
        "drop_column" => {
            f.only(&["table", "column"])?;
            Ok(Operation::DropColumn {
                table: f.table("table")?,
                column: f.name("column", "column")?,
            })
        }
        "rename_table" => {
            f.only(&["from", "to"])?;
            let from = f.table("from")?;
            let to = f.table("to")?;
            if from.eq_ignore_ascii_case(&to) {
                return Err(loc.key("to").err(format!(
                    "is the same name as \"from\" ({to:?}); SQLite table names ignore ASCII case"
                )));
            }
            Ok(Operation::RenameTable { from, to })
        }
        "drop_table" => {
            f.only(&["table"])?;
            Ok(Operation::DropTable {
                table: f.table("table")?,
            })
        }
        "create_index" => {
            f.only(&["name", "table", "columns", "unique"])?;
            Ok(Operation::CreateIndex {
                name: f.name("name", "index")?,
                table: f.table("table")?,
                columns: f.names("columns", "column")?,
                unique: f.bool("unique")?,
            })
        }
        "drop_index" => {
            f.only(&["name"])?;
            Ok(Operation::DropIndex {
                name: f.name("name", "index")?,
            })
        }
        "insert" => {
            f.only(&["table", "rows"])?;
            let table = f.table("table")?;
            let rows = rows(f.req_mut("rows", "the rows to insert")?, &loc.key("rows"))?;
            Ok(Operation::Insert { table, rows })
        }
        "upsert" => {
            f.only(&["table", "conflict_key", "rows"])?;
            let table = f.table("table")?;
            let conflict_key = f.names("conflict_key", "column")?;
            let rows_loc = loc.key("rows");
            let rows = rows(
                f.req_mut("rows", "the rows to insert or update")?,
                &rows_loc,
            )?;
            for (r, row) in rows.iter().enumerate() {
                if let Some(k) = conflict_key.iter().find(|k| !row.contains_key(*k)) {
                    return Err(rows_loc.idx(r).err(format!(
                        "lacks the conflict_key column {k:?}: every upsert row must hold every \
                         conflict_key column"
                    )));
                }
            }
            Ok(Operation::Upsert {
                table,
                conflict_key,
                rows,
            })
        }
        "update" => {
            f.only(&["table", "where", "set", "expect"])?;
            let table = f.table("table")?;
            let Some(w) = f.m.get_mut("where") else {
                return Err(
                    loc.err("\"where\" is required (use {\"where\": \"all\"} to change every row)")
                );
            };
            let filter = filter(w, &loc.key("where"), "change")?;
            let set = set(
                f.req_mut("set", "the columns to change and their new values")?,
                &loc.key("set"),
            )?;
            let expect_count = f.expect_count()?;
            Ok(Operation::Update {
                table,
                filter,
                set,
                expect_count,
            })
        }
        "delete" => {
            f.only(&["table", "where", "expect"])?;
            let table = f.table("table")?;
            let Some(w) = f.m.get_mut("where") else {
                return Err(
                    loc.err("\"where\" is required (use {\"where\": \"all\"} to delete every row)")
                );
            };
            let filter = filter(w, &loc.key("where"), "delete")?;
            let expect_count = f.expect_count()?;
            Ok(Operation::Delete {
                table,
                filter,
                expect_count,
            })
        }
        "sql" => {
            f.only(&["sql", "params"])?;
            let sql_loc = loc.key("sql");
            let sql = match f.m.get("sql") {
                Some(Json::String(s)) => s.clone(),
                Some(other) => {
                    return Err(sql_loc.err(format!(
                        "must be a string of SQL, not {}",
                        value::json_type_name(other)
                    )));
                }
                None => return Err(loc.err("\"sql\" is required: the SQL text to run")),
            };
            lint_sql(&sql).map_err(|e| sql_loc.err(e))?;
            let params_loc = loc.key("params");
            let params = match f.m.get_mut("params") {
                None => Vec::new(),
                Some(Json::Array(a)) => a
                    .iter_mut()
                    .enumerate()
                    .map(|(k, p)| value_at(p, &params_loc.idx(k)))
                    .collect::<Result<_, _>>()?,
                Some(other) => {
                    return Err(params_loc.err(format!(
                        "must be an array of values for the ?-placeholders, not {}",
                        value::json_type_name(other)
                    )));
                }
            };
            Ok(Operation::Sql { sql, params })
        }
        _ => Err(loc.err("unknown op")),
    }
}

/// The fields of one JSON object being parsed.
struct Fields<'a> {
    m: &'a mut Map<String, Json>,
    loc: &'a Loc,
}

impl Fields<'_> {
    fn only(&self, allowed: &[&str]) -> Result<(), PlanError> {
        let mut with_op = vec!["op"];
        with_op.extend_from_slice(allowed);
        only(self.m, &with_op, self.loc)
    }

    fn req(&self, key: &str, what: &str) -> Result<&Json, PlanError> {
        self.m
            .get(key)
            .ok_or_else(|| self.loc.err(format!("\"{key}\" is required: {what}")))
    }

    fn req_mut(&mut self, key: &str, what: &str) -> Result<&mut Json, PlanError> {
        let loc = self.loc;
        self.m
            .get_mut(key)
            .ok_or_else(|| loc.err(format!("\"{key}\" is required: {what}")))
    }

    /// A table name (never lore's or SQLite's own).
    fn table(&self, key: &str) -> Result<String, PlanError> {
        let v = self.req(key, "a table name")?;
        identifier(v, &self.loc.key(key), "table")
    }

    fn name(&self, key: &str, kind: &str) -> Result<String, PlanError> {
        let v = self.req(key, &format!("a {kind} name"))?;
        identifier(v, &self.loc.key(key), kind)
    }

    fn names(&self, key: &str, kind: &str) -> Result<Vec<String>, PlanError> {
        let v = self.req(key, &format!("an array of {kind} names"))?;
        names(v, &self.loc.key(key), kind)
    }

    fn bool(&self, key: &str) -> Result<bool, PlanError> {
        opt_bool(self.m, key, self.loc)
    }

    /// `"expect": {"count": n}`.
    fn expect_count(&self) -> Result<Option<u64>, PlanError> {
        let Some(e) = self.m.get("expect") else {
            return Ok(None);
        };
        let loc = self.loc.key("expect");
        let Json::Object(em) = e else {
            return Err(loc.err(format!(
                "must be an object {{\"count\": <rows>}}, not {}",
                value::json_type_name(e)
            )));
        };
        only(em, &["count"], &loc)?;
        match em.get("count") {
            None => Err(loc.err("\"count\" is required: how many rows the operation must match")),
            Some(c) => match c.as_u64() {
                Some(n) if n <= 1 << 53 => Ok(Some(n)),
                _ => Err(loc.key("count").err(format!(
                    "must be a whole number of rows (0 or more), not {}",
                    short_json(c)
                ))),
            },
        }
    }
}

fn opt_bool(m: &Map<String, Json>, key: &str, loc: &Loc) -> Result<bool, PlanError> {
    match m.get(key) {
        None => Ok(false),
        Some(Json::Bool(b)) => Ok(*b),
        Some(other) => Err(loc
            .key(key)
            .err(format!("must be true or false, not {}", short_json(other)))),
    }
}

const RESERVED: &str = "plans cannot touch lore's own tables (_lore_*) or SQLite's (sqlite_*)";

fn is_reserved(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("_lore_") || lower.starts_with("sqlite_")
}

/// A table, column or index name: a non-empty string without NUL, not reserved.
fn identifier(v: &Json, loc: &Loc, kind: &str) -> Result<String, PlanError> {
    let Json::String(s) = v else {
        return Err(loc.err(format!(
            "must be a string (a {kind} name), not {}",
            value::json_type_name(v)
        )));
    };
    check_identifier(s, loc, kind)?;
    Ok(s.clone())
}

fn check_identifier(s: &str, loc: &Loc, kind: &str) -> Result<(), PlanError> {
    if s.is_empty() {
        return Err(loc.err(format!("a {kind} name must not be empty")));
    }
    if s.contains('\0') {
        return Err(loc.err(format!("a {kind} name must not contain a NUL character")));
    }
    if is_reserved(s) {
        return Err(loc.err(format!("{kind} name {s:?} is reserved: {RESERVED}")));
    }
    Ok(())
}

/// A non-empty array of distinct names.
fn names(v: &Json, loc: &Loc, kind: &str) -> Result<Vec<String>, PlanError> {
    let Json::Array(a) = v else {
        return Err(loc.err(format!(
            "must be an array of {kind} names, not {}",
            value::json_type_name(v)
        )));
    };
    if a.is_empty() {
        return Err(loc.err(format!("must name at least one {kind}")));
    }
    let mut out: Vec<String> = Vec::with_capacity(a.len());
    for (i, n) in a.iter().enumerate() {
        let n = identifier(n, &loc.idx(i), kind)?;
        if let Some(prev) = out.iter().find(|p| p.eq_ignore_ascii_case(&n)) {
            return Err(loc.idx(i).err(format!(
                "{n:?} is listed twice (as {prev:?}; SQLite names ignore ASCII case)"
            )));
        }
        out.push(n);
    }
    Ok(out)
}

/// Parses the value in `slot` and rewrites it in its JCS-safe form.
fn value_at(slot: &mut Json, loc: &Loc) -> Result<Value, PlanError> {
    let v = value::from_json(slot).map_err(|e| loc.err(e.to_string()))?;
    *slot = value::to_json_for_jcs(&v);
    Ok(v)
}

/// An object of column -> value (a row, or `set`): non-empty, names checked, values read.
fn row_object(v: &mut Json, loc: &Loc, what: &str) -> Result<Row, PlanError> {
    let Json::Object(m) = v else {
        return Err(loc.err(format!(
            "{what} must be an object from column name to value, like {{\"id\": 1, \"name\": \"x\"}}, not {}",
            value::json_type_name(v)
        )));
    };
    if m.is_empty() {
        return Err(loc.err(format!("{what} must name at least one column")));
    }
    let mut row = Row::new();
    for (column, slot) in m.iter_mut() {
        let col_loc = loc.key(column);
        check_identifier(column, &col_loc, "column")?;
        if let Some(prev) = row.keys().find(|p| p.eq_ignore_ascii_case(column)) {
            return Err(col_loc.err(format!(
                "{column:?} and {prev:?} are the same column (SQLite names ignore ASCII case)"
            )));
        }
        let value = value_at(slot, &col_loc)?;
        row.insert(column.clone(), value);
    }
    Ok(row)
}

fn rows(v: &mut Json, loc: &Loc) -> Result<Vec<Row>, PlanError> {
    let Json::Array(a) = v else {
        return Err(loc.err(format!(
            "must be an array of rows (objects from column name to value), not {}",
            value::json_type_name(v)
        )));
    };
    if a.is_empty() {
        return Err(loc.err("must hold at least one row"));
    }
    a.iter_mut()
        .enumerate()
        .map(|(i, r)| row_object(r, &loc.idx(i), "a row"))
        .collect()
}

fn set(v: &mut Json, loc: &Loc) -> Result<Row, PlanError> {
    row_object(v, loc, "\"set\"")
}

// ---------------------------------------------------------------------------------------------
// where

const OPERATORS: &str = "eq, ne, gt, gte, lt, lte, in, is_null";

fn filter(v: &mut Json, loc: &Loc, verb: &str) -> Result<Filter, PlanError> {
    let all_hint = format!("write \"where\": \"all\" to {verb} every row");
    match v {
        Json::String(s) if s == "all" => Ok(Filter::All),
        Json::Object(m) if m.is_empty() => Err(loc.err(format!(
            "an empty object matches nothing useful: {all_hint}, or give conditions like {{\"id\": 5}}"
        ))),
        Json::Object(m) => {
            let mut conditions = Vec::new();
            for (column, cond) in m.iter_mut() {
                let col_loc = loc.key(column);
                check_identifier(column, &col_loc, "column")?;
                for test in tests(cond, &col_loc)? {
                    conditions.push(Condition {
                        column: column.clone(),
                        test,
                    });
                }
            }
            Ok(Filter::Conditions(conditions))
        }
        other => Err(loc.err(format!(
            "must be \"all\" or an object of conditions like {{\"id\": 5}} or \
             {{\"age\": {{\"gte\": 18}}}}, not {}; {all_hint}",
            short_json(other)
        ))),
    }
}

/// The tests on one column: a plain value (equality), or an object of operators.
fn tests(cond: &mut Json, loc: &Loc) -> Result<Vec<Test>, PlanError> {
    match cond {
        Json::Array(_) => Err(loc.err(
            "an array is not a condition: to match any of several values write {\"in\": [...]}",
        )),
        Json::Object(m) if m.is_empty() => Err(loc.err(format!(
            "an empty condition: give a value ({{\"id\": 5}}) or operators ({OPERATORS})"
        ))),
        // A tagged value ({"$int": ...}) compares for equality.
        Json::Object(m) if m.keys().all(|k| k.starts_with('$')) => {
            Ok(vec![Test::Eq(value_at(cond, loc)?)])
        }
        Json::Object(m) => {
            let mut out = Vec::new();
            for (operator, arg) in m.iter_mut() {
                let op_loc = loc.key(operator);
                let test = match operator.as_str() {
                    "eq" => match value_at(arg, &op_loc)? {
                        Value::Null => Test::IsNull(true),
                        v => Test::Eq(v),
                    },
                    "ne" => Test::Ne(non_null(arg, &op_loc, "{\"is_null\": false}")?),
                    "gt" => Test::Gt(non_null(arg, &op_loc, "is_null")?),
                    "gte" => Test::Gte(non_null(arg, &op_loc, "is_null")?),
                    "lt" => Test::Lt(non_null(arg, &op_loc, "is_null")?),
                    "lte" => Test::Lte(non_null(arg, &op_loc, "is_null")?),
                    "is_null" => match arg {
                        Json::Bool(b) => Test::IsNull(*b),
                        other => {
                            return Err(op_loc
                                .err(format!("must be true or false, not {}", short_json(other))));
                        }
                    },
                    "in" => {
                        let Json::Array(items) = arg else {
                            return Err(op_loc.err(format!(
                                "must be an array of values, not {}",
                                value::json_type_name(arg)
                            )));
                        };
                        if items.is_empty() {
                            return Err(op_loc.err("must hold at least one value"));
                        }
                        let values = items
                            .iter_mut()
                            .enumerate()
                            .map(|(k, item)| {
                                non_null(item, &op_loc.idx(k), "{\"is_null\": true} beside it")
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        Test::In(values)
                    }
                    other => {
                        let hint = if other.starts_with('$') {
                            " (a tagged value like {\"$int\": \"...\"} must stand alone)"
                        } else {
                            ""
                        };
                        return Err(loc.err(format!(
                            "unknown operator {}{hint}; operators: {OPERATORS}",
                            Json::String(other.to_string())
                        )));
                    }
                };
                out.push(test);
            }
            Ok(out)
        }
        _ => Ok(vec![match value_at(cond, loc)? {
            Value::Null => Test::IsNull(true),
            v => Test::Eq(v),
        }]),
    }
}

fn non_null(slot: &mut Json, loc: &Loc, instead: &str) -> Result<Value, PlanError> {
    match value_at(slot, loc)? {
        Value::Null => Err(loc.err(format!(
            "null compares as unknown in SQL and matches nothing; test for null with {instead}"
        ))),
        v => Ok(v),
    }
}

// ---------------------------------------------------------------------------------------------
// Tables and columns

fn create_table(f: &mut Fields<'_>) -> Result<Operation, PlanError> {
    let loc = f.loc.clone();
    let table = f.table("table")?;
    let without_rowid = f.bool("without_rowid")?;
    let strict = f.bool("strict")?;
    let cols_loc = loc.key("columns");
    let columns = match f.req_mut("columns", "an array of column definitions")? {
        Json::Array(a) if a.is_empty() => {
            return Err(cols_loc.err("must define at least one column"));
        }
        Json::Array(a) => a
            .iter_mut()
            .enumerate()
            .map(|(i, c)| column_def(c, &cols_loc.idx(i)))
            .collect::<Result<Vec<_>, _>>()?,
        other => {
            return Err(cols_loc.err(format!(
                "must be an array of column definitions like {{\"name\": \"id\", \"type\": \
                 \"INTEGER\", \"primary_key\": true}}, not {}",
                value::json_type_name(other)
            )));
        }
    };
    for (i, c) in columns.iter().enumerate() {
        if let Some(prev) = columns[..i]
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(&c.name))
        {
            return Err(cols_loc.idx(i).key("name").err(format!(
                "column {:?} is defined twice (as {:?}; SQLite names ignore ASCII case)",
                c.name, prev.name
            )));
        }
        if strict && !STRICT_TYPES.contains(&c.sql_type.to_ascii_uppercase().as_str()) {
            let what = if c.sql_type.is_empty() {
                "has no type".to_string()
            } else {
                format!("has type {:?}", c.sql_type)
            };
            return Err(cols_loc.idx(i).err(format!(
                "{what}: a STRICT table needs one of INT, INTEGER, REAL, TEXT, BLOB, ANY on \
                 every column"
            )));
        }
    }
    let per_column: Vec<usize> = (0..columns.len())
        .filter(|&i| columns[i].primary_key)
        .collect();
    let primary_key = match f.m.get("primary_key") {
        None => Vec::new(),
        Some(v) => {
            let pk_loc = loc.key("primary_key");
            let pk = names(v, &pk_loc, "column")?;
            for (k, name) in pk.iter().enumerate() {
                if !columns.iter().any(|c| &c.name == name) {
                    let defined: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
                    return Err(pk_loc.idx(k).err(format!(
                        "{name:?} is not one of the table's columns ({})",
                        defined.join(", ")
                    )));
                }
            }
            pk
        }
    };
    match (per_column.as_slice(), primary_key.is_empty()) {
        ([], true) => Err(loc.err(
            "every table needs a primary key so its rows can be versioned: mark one column \
             \"primary_key\": true, or list the key columns in the table's \"primary_key\": [...]",
        )),
        ([_], true) | ([], false) => Ok(Operation::CreateTable {
            table,
            columns,
            primary_key,
            without_rowid,
            strict,
        }),
        ([_, second, ..], true) => Err(cols_loc.idx(*second).key("primary_key").err(
            "only one column can have \"primary_key\": true; for a composite key list the \
             columns in the table's \"primary_key\": [...] instead",
        )),
        ([first, ..], false) => Err(cols_loc.idx(*first).key("primary_key").err(
            "the table also has a \"primary_key\" list: give the key either on one column or as \
             the list, not both",
        )),
    }
}

const STRICT_TYPES: [&str; 6] = ["INT", "INTEGER", "REAL", "TEXT", "BLOB", "ANY"];

fn column_def(v: &mut Json, loc: &Loc) -> Result<ColumnDef, PlanError> {
    let Json::Object(m) = v else {
        return Err(loc.err(format!(
            "a column is an object like {{\"name\": \"title\", \"type\": \"TEXT\", \"not_null\": \
             true}}, not {}",
            value::json_type_name(v)
        )));
    };
    only(
        m,
        &[
            "name",
            "type",
            "primary_key",
            "not_null",
            "unique",
            "default",
            "references",
        ],
        loc,
    )?;
    let name = match m.get("name") {
        Some(n) => identifier(n, &loc.key("name"), "column")?,
        None => return Err(loc.err("\"name\" is required: the column's name")),
    };
    let sql_type = match m.get("type") {
        None => String::new(),
        Some(Json::String(t)) => {
            check_type(t).map_err(|e| loc.key("type").err(e))?;
            t.clone()
        }
        Some(other) => {
            return Err(loc.key("type").err(format!(
                "must be a string such as \"INTEGER\", \"TEXT\", \"REAL\", \"BLOB\" or \
                 \"VARCHAR(20)\", not {}",
                value::json_type_name(other)
            )));
        }
    };
    let primary_key = opt_bool(m, "primary_key", loc)?;
    let not_null = opt_bool(m, "not_null", loc)?;
    let unique = opt_bool(m, "unique", loc)?;
    let default = match m.get_mut("default") {
        None => None,
        Some(slot) => Some(value_at(slot, &loc.key("default"))?),
    };
    let references = match m.get("references") {
        None => None,
        Some(r) => Some(foreign_key(r, &loc.key("references"))?),
    };
    Ok(ColumnDef {
        name,
        sql_type,
        primary_key,
        not_null,
        unique,
        default,
        references,
    })
}

fn foreign_key(v: &Json, loc: &Loc) -> Result<ForeignKey, PlanError> {
    let Json::Object(m) = v else {
        return Err(loc.err(format!(
            "must be an object {{\"table\": \"...\", \"column\": \"...\", \"on_delete\": \
             \"cascade\"}}, not {}",
            value::json_type_name(v)
        )));
    };
    only(m, &["table", "column", "on_delete"], loc)?;
    let table = match m.get("table") {
        Some(t) => identifier(t, &loc.key("table"), "table")?,
        None => return Err(loc.err("\"table\" is required: the table referred to")),
    };
    let column = match m.get("column") {
        Some(c) => identifier(c, &loc.key("column"), "column")?,
        None => return Err(loc.err("\"column\" is required: the column referred to")),
    };
    let actions: Vec<&str> = FkAction::ALL.iter().map(|a| a.as_str()).collect();
    let on_delete = match m.get("on_delete") {
        None => None,
        Some(Json::String(s)) => match FkAction::ALL.iter().find(|a| a.as_str() == s) {
            Some(a) => Some(*a),
            None => {
                return Err(loc.key("on_delete").err(format!(
                    "unknown action {}; actions: {}",
                    Json::String(s.clone()),
                    actions.join(", ")
                )));
            }
        },
        Some(other) => {
            return Err(loc.key("on_delete").err(format!(
                "must be one of {}, not {}",
                actions.join(", "),
                short_json(other)
            )));
        }
    };
    Ok(ForeignKey {
        table,
        column,
        on_delete,
    })
}

/// Words that would turn a type into a column constraint when pasted into SQL.
const TYPE_STOP_WORDS: [&str; 21] = [
    "ALWAYS",
    "AS",
    "ASC",
    "AUTOINCREMENT",
    "CHECK",
    "COLLATE",
    "CONFLICT",
    "CONSTRAINT",
    "DEFAULT",
    "DESC",
    "FOREIGN",
    "GENERATED",
    "KEY",
    "NOT",
    "NULL",
    "ON",
    "PRIMARY",
    "REFERENCES",
    "STORED",
    "UNIQUE",
    "VIRTUAL",
];

/// A column type: words of ASCII letters and digits (each starting with a letter), separated by
/// single spaces, optionally followed by `(n)` or `(n, m)`; no constraint keywords.
fn check_type(t: &str) -> Result<(), String> {
    let shape = "a type is one or more words of letters and digits, optionally followed by (n) \
                 or (n, m), e.g. \"INTEGER\", \"VARCHAR(20)\", \"DECIMAL(10, 2)\"";
    if t.is_empty() {
        return Ok(());
    }
    let (words, args) = match t.find('(') {
        Some(p) => (&t[..p], Some(&t[p..])),
        None => (t, None),
    };
    let words = if args.is_some() {
        words.strip_suffix(' ').unwrap_or(words)
    } else {
        words
    };
    if words.is_empty() {
        return Err(format!("{t:?} is not a type: {shape}"));
    }
    for w in words.split(' ') {
        let ok = w.starts_with(|c: char| c.is_ascii_alphabetic())
            && w.chars().all(|c| c.is_ascii_alphanumeric());
        if !ok {
            return Err(format!("{t:?} is not a type: {shape}"));
        }
        let upper = w.to_ascii_uppercase();
        if TYPE_STOP_WORDS.contains(&upper.as_str()) {
            return Err(format!(
                "type {t:?} contains the keyword {upper}: write constraints with the column's \
                 own fields (primary_key, not_null, unique, default, references), not in \"type\""
            ));
        }
    }
    if let Some(args) = args {
        let inner = args
            .strip_prefix('(')
            .and_then(|a| a.strip_suffix(')'))
            .ok_or_else(|| format!("{t:?} is not a type: {shape}"))?;
        let parts: Vec<&str> = inner.split(',').map(|p| p.trim_matches(' ')).collect();
        let numeric = parts.len() <= 2
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !numeric {
            return Err(format!("{t:?} is not a type: {shape}"));
        }
    }
    Ok(())
}

/// SQLite's own limits on `ALTER TABLE ADD COLUMN`, reported before anything runs.
fn check_added_column(c: &ColumnDef, loc: &Loc) -> Result<(), PlanError> {
    if c.primary_key {
        return Err(loc.key("primary_key").err(
            "SQLite cannot add a primary-key column to an existing table; create a new table \
             with the key, copy the rows, drop the old one and rename",
        ));
    }
    if c.unique {
        return Err(loc.key("unique").err(
            "SQLite cannot add a UNIQUE column; add the column, then a create_index with \
             \"unique\": true",
        ));
    }
    let non_null_default = matches!(&c.default, Some(d) if *d != Value::Null);
    if c.not_null && !non_null_default {
        return Err(loc.key("not_null").err(
            "a NOT NULL column added to an existing table needs a non-null \"default\" (the \
             value existing rows get)",
        ));
    }
    if c.references.is_some() && non_null_default {
        return Err(loc.key("default").err(
            "SQLite cannot add a column with \"references\" and a non-null default; use a null \
             default and fill the column with an update",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// sql

/// Statements an `sql` operation may not run, with why.
const FORBIDDEN_STATEMENTS: [(&str, &str); 12] = [
    ("PRAGMA", "pragmas change settings outside version control"),
    (
        "ANALYZE",
        "it writes SQLite's own statistics tables, which are not versioned",
    ),
    ("ATTACH", "a plan works on this database only"),
    ("DETACH", "a plan works on this database only"),
    (
        "VACUUM",
        "it rewrites the whole file and is not a change of data",
    ),
    ("REINDEX", "it is maintenance, not a change of data"),
    ("BEGIN", TRANSACTION_REASON),
    ("COMMIT", TRANSACTION_REASON),
    ("END", TRANSACTION_REASON),
    ("ROLLBACK", TRANSACTION_REASON),
    ("SAVEPOINT", TRANSACTION_REASON),
    ("RELEASE", TRANSACTION_REASON),
];

const TRANSACTION_REASON: &str =
    "lore runs the whole plan in one transaction and commits or rolls it back itself";

/// The friendly early check of an `sql` operation's text. (The engine enforces the same with an
/// SQLite authorizer; this check only gives a clearer message before anything runs.)
fn lint_sql(sql: &str) -> Result<(), String> {
    let lower = sql.to_ascii_lowercase();
    for reserved in ["_lore_", "sqlite_"] {
        if lower.contains(reserved) {
            return Err(format!(
                "mentions {reserved:?}: {RESERVED}; if that text is data, pass it in \"params\" \
                 with a ? placeholder"
            ));
        }
    }
    let mut any = false;
    let mut in_trigger = false;
    for statement in statements(sql) {
        let mut words = statement.iter().map(String::as_str).peekable();
        let Some(mut first) = words.next() else {
            continue;
        };
        any = true;
        if in_trigger {
            // Inside CREATE TRIGGER ... BEGIN ... END, a statement starting with END closes it.
            if first == "END" {
                in_trigger = false;
            }
            continue;
        }
        if first == "EXPLAIN" {
            if words.peek() == Some(&"QUERY") {
                words.next();
                words.next();
            }
            match words.next() {
                Some(w) => first = w,
                None => continue,
            }
        }
        if let Some((kw, why)) = FORBIDDEN_STATEMENTS.iter().find(|(kw, _)| *kw == first) {
            return Err(format!("{kw} statements are not allowed in a plan: {why}"));
        }
        if first == "CREATE" {
            let rest: Vec<&str> = words.collect();
            let kind = rest
                .iter()
                .find(|w| !matches!(**w, "TEMP" | "TEMPORARY"))
                .copied();
            if kind == Some("TRIGGER") && rest.contains(&"BEGIN") {
                in_trigger = true;
            }
        }
    }
    if !any {
        return Err("has no SQL statement in it".to_string());
    }
    Ok(())
}

/// Splits SQL into statements at top-level semicolons; each statement is its bare words
/// (keywords and unquoted identifiers), upper-cased. String literals, quoted identifiers and
/// comments are skipped, so a `;` or keyword inside them does not count.
fn statements(sql: &str) -> Vec<Vec<String>> {
    let b = sql.as_bytes();
    let mut out = vec![Vec::new()];
    let mut i = 0;
    let skip_quoted = |i: &mut usize, close: u8| {
        *i += 1;
        while *i < b.len() {
            if b[*i] == close {
                // A doubled closing quote is an escaped one (not for `]`).
                if close != b']' && b.get(*i + 1) == Some(&close) {
                    *i += 2;
                    continue;
                }
                *i += 1;
                return;
            }
            *i += 1;
        }
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' | b'`' => skip_quoted(&mut i, c),
            b'[' => skip_quoted(&mut i, b']'),
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
            }
            b';' => {
                out.push(Vec::new());
                i += 1;
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'$'
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                if let Some(last) = out.last_mut() {
                    last.push(sql[start..i].to_ascii_uppercase());
                }
            }
            _ if c.is_ascii_digit() => {
                // A number (or the digits of one): never a keyword.
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                if let Some(last) = out.last_mut() {
                    last.push(String::new());
                }
            }
            _ => {
                i += 1;
                // Punctuation: mark the statement as started so a later word is not its first.
                if !c.is_ascii_whitespace()
                    && let Some(last) = out.last_mut()
                {
                    last.push(String::new());
                }
            }
        }
    }
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

// ---------------------------------------------------------------------------------------------
// JSON reading

/// A JSON value read with duplicate object keys refused (serde_json keeps the last silently).
struct StrictJson(Json);

impl<'de> serde::Deserialize<'de> for StrictJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = StrictJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::Bool(b)))
    }
    fn visit_i64<E>(self, i: i64) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::from(i)))
    }
    fn visit_u64<E>(self, u: u64) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::from(u)))
    }
    fn visit_f64<E>(self, f: f64) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::from(f)))
    }
    fn visit_str<E>(self, s: &str) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::String(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::String(s)))
    }
    fn visit_unit<E>(self) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::Null))
    }
    fn visit_none<E>(self) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrictJson, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictJson(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(StrictJson(Json::Array(out)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictJson, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(de::Error::custom(format!(
                    "duplicate key {}",
                    Json::String(k)
                )));
            }
            let StrictJson(v) = map.next_value()?;
            out.insert(k, v);
        }
        Ok(StrictJson(Json::Object(out)))
    }
}

/// Refuses integer literals beyond 64 bits, which serde_json silently reads as floats (so
/// `99999999999999999999` would become the REAL 1e20). Literals between 2^63 and 2^64 are left
/// for [`value::from_json`], which reports them with their path. `text` is valid JSON.
fn check_integer_literals(text: &str) -> Result<(), PlanError> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let literal = &text[start..i];
                let integral = !literal.contains(['.', 'e', 'E']);
                if integral && literal.parse::<i64>().is_err() && literal.parse::<u64>().is_err() {
                    let line = text[..start].matches('\n').count() + 1;
                    let column = start - text[..start].rfind('\n').map_or(0, |p| p + 1) + 1;
                    return Err(PlanError {
                        path: String::new(),
                        operation: None,
                        op: None,
                        message: format!(
                            "line {line} column {column}: {}",
                            value::ValueError::IntegerOutOfRange(literal.to_string())
                        ),
                        line_column: Some((line, column)),
                    });
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HEAD: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn plan_with(ops: Json) -> Json {
        json!({"message": "test", "operations": ops})
    }

    fn one(op: Json) -> Result<Operation, PlanError> {
        Plan::from_value(plan_with(json!([op]))).map(|p| p.operations[0].clone())
    }

    fn ok(op: Json) -> Operation {
        one(op.clone()).unwrap_or_else(|e| panic!("{op} should parse: {e}"))
    }

    /// The error message for a plan whose only operation is `op`.
    fn bad(op: Json) -> String {
        match one(op.clone()) {
            Ok(parsed) => panic!("{op} should be refused, parsed as {parsed:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn bad_text(text: &str) -> PlanError {
        match Plan::parse(text) {
            Ok(p) => panic!("{text} should be refused, parsed as {p:?}"),
            Err(e) => e,
        }
    }

    fn row(pairs: &[(&str, Value)]) -> Row {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn col(name: &str, ty: &str) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            sql_type: ty.into(),
            primary_key: false,
            not_null: false,
            unique: false,
            default: None,
            references: None,
        }
    }

    #[test]
    fn whole_plan() {
        let text = format!(
            r#"{{
              "version": 1,
              "message": "Add tags",
              "expect": {{"head": "{}"}},
              "operations": [
                {{"op": "create_table", "table": "tags", "columns": [
                  {{"name": "id", "type": "INTEGER", "primary_key": true}},
                  {{"name": "name", "type": "TEXT", "not_null": true, "unique": true}}]}},
                {{"op": "insert", "table": "tags", "rows": [{{"id": 1, "name": "work"}}]}}
              ]
            }}"#,
            HEAD.to_uppercase()
        );
        let p = Plan::parse(&text).expect("plan");
        assert_eq!(p.message, "Add tags");
        assert_eq!(p.expect_head, Some(ExpectHead::Commit(HEAD.to_string())));
        assert_eq!(p.operations.len(), 2);
        assert_eq!(p.operations[0].name(), "create_table");
        assert_eq!(p.operations[1].tables(), ["tags"]);
        assert_eq!(p.plan_hash().len(), 64);

        let p = Plan::from_value(json!({"message": "m", "expect": {"head": null},
            "operations": [{"op": "drop_table", "table": "t"}]}))
        .expect("plan");
        assert_eq!(p.expect_head, Some(ExpectHead::Empty));
        let p =
            Plan::from_value(plan_with(json!([{"op": "drop_table", "table": "t"}]))).expect("plan");
        assert_eq!(p.expect_head, None);
        let p = Plan::from_value(json!({"message": "m", "expect": {"head": "ABCDEF01"},
            "operations": [{"op": "drop_table", "table": "t"}]}))
        .expect("plan");
        assert_eq!(p.expect_head, Some(ExpectHead::Commit("abcdef01".into())));
        for bad in ["abcdef0", "abcdefgh", "", &format!("{HEAD}0")] {
            let r = Plan::from_value(json!({"message": "m", "expect": {"head": bad},
                "operations": [{"op": "drop_table", "table": "t"}]}));
            assert!(r.is_err(), "{bad}");
        }
    }

    #[test]
    fn create_table() {
        let op = ok(json!({"op": "create_table", "table": "tags", "columns": [
            {"name": "id", "type": "INTEGER", "primary_key": true},
            {"name": "name", "type": "VARCHAR(20)", "not_null": true, "unique": true,
             "default": "x"},
            {"name": "parent", "type": "integer", "references":
                {"table": "tags", "column": "id", "on_delete": "set_null"}},
            {"name": "price", "type": "DECIMAL(10, 2)", "default": {"$real": "1"}},
            {"name": "anything"}],
            "without_rowid": true}));
        let mut id = col("id", "INTEGER");
        id.primary_key = true;
        let mut name = col("name", "VARCHAR(20)");
        name.not_null = true;
        name.unique = true;
        name.default = Some(Value::Text("x".into()));
        let mut parent = col("parent", "integer");
        parent.references = Some(ForeignKey {
            table: "tags".into(),
            column: "id".into(),
            on_delete: Some(FkAction::SetNull),
        });
        let mut price = col("price", "DECIMAL(10, 2)");
        price.default = Some(Value::Real(1.0));
        assert_eq!(
            op,
            Operation::CreateTable {
                table: "tags".into(),
                columns: vec![id, name, parent, price, col("anything", "")],
                primary_key: vec![],
                without_rowid: true,
                strict: false,
            }
        );
        assert_eq!(op.tables(), ["tags"]);

        let op = ok(json!({"op": "create_table", "table": "t", "strict": true,
            "columns": [{"name": "a", "type": "int"}, {"name": "b", "type": "ANY"}],
            "primary_key": ["b", "a"]}));
        let Operation::CreateTable {
            primary_key,
            strict,
            without_rowid,
            ..
        } = op
        else {
            panic!("{op:?}");
        };
        assert_eq!(primary_key, ["b", "a"]);
        assert!(strict && !without_rowid);
    }

    #[test]
    fn create_table_rules() {
        let ct = |columns: Json, extra: Json| {
            let mut op = json!({"op": "create_table", "table": "t", "columns": columns});
            if let (Json::Object(m), Json::Object(e)) = (&mut op, extra) {
                m.extend(e);
            }
            bad(op)
        };
        let id = json!({"name": "id", "primary_key": true});

        let e = ct(json!([{"name": "a"}]), json!({}));
        assert_eq!(
            e,
            "operations[0] (create_table): every table needs a primary key so its rows can be \
             versioned: mark one column \"primary_key\": true, or list the key columns in the \
             table's \"primary_key\": [...]"
        );
        let e = ct(json!([]), json!({}));
        assert_eq!(
            e,
            "operations[0].columns (create_table): must define at least one column"
        );
        let e = ct(json!({"id": "INTEGER"}), json!({}));
        assert!(
            e.starts_with("operations[0].columns (create_table): must be an array"),
            "{e}"
        );
        let e = ct(json!([id, {"name": "b", "primary_key": true}]), json!({}));
        assert!(
            e.starts_with("operations[0].columns[1].primary_key (create_table): only one column"),
            "{e}"
        );
        let e = ct(json!([id, {"name": "b"}]), json!({"primary_key": ["b"]}));
        assert!(e.contains("not both"), "{e}");
        let e = ct(json!([{"name": "a"}]), json!({"primary_key": ["A"]}));
        assert_eq!(
            e,
            "operations[0].primary_key[0] (create_table): \"A\" is not one of the table's \
             columns (a)"
        );
        let e = ct(json!([{"name": "a"}]), json!({"primary_key": []}));
        assert!(e.contains("must name at least one column"), "{e}");
        let e = ct(
            json!([{"name": "a"}, {"name": "b"}]),
            json!({"primary_key": ["a", "a"]}),
        );
        assert!(e.contains("\"a\" is listed twice"), "{e}");
        let e = ct(json!([id, {"name": "ID"}]), json!({}));
        assert_eq!(
            e,
            "operations[0].columns[1].name (create_table): column \"ID\" is defined twice (as \
             \"id\"; SQLite names ignore ASCII case)"
        );
        let e = ct(
            json!([{"name": "id", "type": "TEXT", "primary_key": true}, {"name": "b"}]),
            json!({"strict": true}),
        );
        assert!(
            e.starts_with("operations[0].columns[1] (create_table): has no type: a STRICT"),
            "{e}"
        );
        let e = ct(
            json!([{"name": "id", "type": "VARCHAR(3)", "primary_key": true}]),
            json!({"strict": true}),
        );
        assert!(e.contains("has type \"VARCHAR(3)\""), "{e}");
        let e = ct(json!([id]), json!({"without_rowid": "yes"}));
        assert_eq!(
            e,
            "operations[0].without_rowid (create_table): must be true or false, not \"yes\""
        );
        let e = ct(json!([{"name": "id", "primary_key": 1}]), json!({}));
        assert!(
            e.starts_with(
                "operations[0].columns[0].primary_key (create_table): must be true or false"
            ),
            "{e}"
        );
        let e = ct(json!([{"type": "TEXT", "primary_key": true}]), json!({}));
        assert_eq!(
            e,
            "operations[0].columns[0] (create_table): \"name\" is required: the column's name"
        );
        let e = ct(json!(["id"]), json!({}));
        assert!(
            e.starts_with("operations[0].columns[0] (create_table): a column is an object"),
            "{e}"
        );
        let e = ct(
            json!([{"name": "id", "primary_key": true, "default": [1]}]),
            json!({}),
        );
        assert!(
            e.starts_with(
                "operations[0].columns[0].default (create_table): an array is not a value"
            ),
            "{e}"
        );
        let e = ct(
            json!([{"name": "id", "primary_key": true, "references":
            {"table": "u", "column": "id", "on_delete": "SET NULL"}}]),
            json!({}),
        );
        assert!(e.starts_with("operations[0].columns[0].references.on_delete (create_table): unknown action \"SET NULL\"; actions: cascade, set_null, restrict, no_action, set_default"), "{e}");
        let e = ct(
            json!([{"name": "id", "primary_key": true, "references": {"table": "u"}}]),
            json!({}),
        );
        assert!(e.contains("\"column\" is required"), "{e}");
        let e = ct(
            json!([{"name": "id", "primary_key": true, "references":
            {"table": "sqlite_master", "column": "name"}}]),
            json!({}),
        );
        assert!(e.starts_with("operations[0].columns[0].references.table (create_table): table name \"sqlite_master\" is reserved"), "{e}");
    }

    #[test]
    fn column_types() {
        for good in [
            "",
            "INTEGER",
            "text",
            "VARCHAR(20)",
            "DECIMAL(10, 2)",
            "DECIMAL(10,2)",
            "UNSIGNED BIG INT",
            "NATIVE CHARACTER (70)",
            "INT8",
        ] {
            assert!(check_type(good).is_ok(), "{good}");
        }
        for badt in [
            " ",
            "INTEGER ",
            " INTEGER",
            "TEXT  X",
            "TEXT;DROP",
            "TEXT(",
            "TEXT()",
            "TEXT(a)",
            "TEXT(1,2,3)",
            "TEXT(1)x",
            "8BIT",
            "TEXT_X",
            "TEXT(-1)",
            "TEXT'",
            "(1)",
        ] {
            let e = check_type(badt).expect_err(badt);
            assert!(
                e.contains("is not a type: a type is one or more words"),
                "{badt}: {e}"
            );
        }
        for kw in [
            "INTEGER PRIMARY KEY",
            "TEXT NOT NULL",
            "TEXT DEFAULT (1)",
            "INT AS (1)",
            "TEXT COLLATE NOCASE",
            "INT REFERENCES t",
            "INT CHECK (1)",
            "INT unique",
        ] {
            let e = check_type(kw).expect_err(kw);
            assert!(e.contains("contains the keyword"), "{kw}: {e}");
        }
        let e = bad(
            json!({"op": "add_column", "table": "t", "column": {"name": "c", "type": "TEXT NOT NULL"}}),
        );
        assert_eq!(
            e,
            "operations[0].column.type (add_column): type \"TEXT NOT NULL\" contains the keyword \
             NOT: write constraints with the column's own fields (primary_key, not_null, unique, \
             default, references), not in \"type\""
        );
        let e = bad(json!({"op": "add_column", "table": "t", "column": {"name": "c", "type": 5}}));
        assert!(
            e.starts_with("operations[0].column.type (add_column): must be a string"),
            "{e}"
        );
    }

    #[test]
    fn schema_ops() {
        assert_eq!(
            ok(json!({"op": "add_column", "table": "t", "column":
                {"name": "c", "type": "TEXT", "not_null": true, "default": ""}})),
            Operation::AddColumn {
                table: "t".into(),
                column: ColumnDef {
                    not_null: true,
                    default: Some(Value::Text(String::new())),
                    ..col("c", "TEXT")
                }
            }
        );
        assert_eq!(
            ok(json!({"op": "drop_column", "table": "t", "column": "c"})),
            Operation::DropColumn {
                table: "t".into(),
                column: "c".into()
            }
        );
        let op = ok(json!({"op": "rename_table", "from": "a", "to": "b"}));
        assert_eq!(
            op,
            Operation::RenameTable {
                from: "a".into(),
                to: "b".into()
            }
        );
        assert_eq!(op.tables(), ["a", "b"]);
        assert_eq!(
            ok(json!({"op": "drop_table", "table": "t"})),
            Operation::DropTable { table: "t".into() }
        );
        let op = ok(json!({"op": "create_index", "name": "i", "table": "t",
            "columns": ["a", "b"], "unique": true}));
        assert_eq!(
            op,
            Operation::CreateIndex {
                name: "i".into(),
                table: "t".into(),
                columns: vec!["a".into(), "b".into()],
                unique: true
            }
        );
        let op = ok(json!({"op": "drop_index", "name": "i"}));
        assert_eq!(op, Operation::DropIndex { name: "i".into() });
        assert!(op.tables().is_empty());
    }

    #[test]
    fn schema_op_rules() {
        let add = |c: Json| bad(json!({"op": "add_column", "table": "t", "column": c}));
        let e = add(json!({"name": "c", "primary_key": true}));
        assert!(e.starts_with("operations[0].column.primary_key (add_column): SQLite cannot add a primary-key column"), "{e}");
        let e = add(json!({"name": "c", "unique": true}));
        assert!(
            e.contains("then a create_index with \"unique\": true"),
            "{e}"
        );
        let e = add(json!({"name": "c", "not_null": true}));
        assert!(
            e.starts_with("operations[0].column.not_null (add_column): a NOT NULL column"),
            "{e}"
        );
        let e = add(json!({"name": "c", "not_null": true, "default": null}));
        assert!(e.contains("needs a non-null \"default\""), "{e}");
        let e =
            add(json!({"name": "c", "default": 1, "references": {"table": "u", "column": "id"}}));
        assert!(e.starts_with("operations[0].column.default (add_column): SQLite cannot add a column with \"references\""), "{e}");
        let e = bad(json!({"op": "add_column", "table": "t"}));
        assert_eq!(
            e,
            "operations[0] (add_column): \"column\" is required: the column to add"
        );

        let e = bad(json!({"op": "rename_table", "from": "a", "to": "A"}));
        assert!(
            e.starts_with("operations[0].to (rename_table): is the same name"),
            "{e}"
        );
        let e = bad(json!({"op": "rename_table", "from": "a"}));
        assert_eq!(
            e,
            "operations[0] (rename_table): \"to\" is required: a table name"
        );
        let e = bad(json!({"op": "create_index", "name": "i", "table": "t", "columns": []}));
        assert_eq!(
            e,
            "operations[0].columns (create_index): must name at least one column"
        );
        let e = bad(json!({"op": "create_index", "name": "i", "table": "t", "columns": "a"}));
        assert_eq!(
            e,
            "operations[0].columns (create_index): must be an array of column names, not a string"
        );
        let e = bad(json!({"op": "create_index", "name": "i", "table": "t", "columns": ["a", 1]}));
        assert_eq!(
            e,
            "operations[0].columns[1] (create_index): must be a string (a column name), not a number"
        );
        let e = bad(json!({"op": "drop_index", "name": "sqlite_autoindex_t_1"}));
        assert!(
            e.starts_with(
                "operations[0].name (drop_index): index name \"sqlite_autoindex_t_1\" is reserved"
            ),
            "{e}"
        );
        let e = bad(json!({"op": "drop_column", "table": "t", "column": ""}));
        assert_eq!(
            e,
            "operations[0].column (drop_column): a column name must not be empty"
        );
        let e = bad(json!({"op": "drop_table", "table": "a\u{0}b"}));
        assert_eq!(
            e,
            "operations[0].table (drop_table): a table name must not contain a NUL character"
        );
    }

    #[test]
    fn reserved_names_everywhere() {
        let msg = "plans cannot touch lore's own tables (_lore_*) or SQLite's (sqlite_*)";
        let cases = [
            json!({"op": "drop_table", "table": "_lore_commit"}),
            json!({"op": "drop_table", "table": "_LORE_Commit"}),
            json!({"op": "drop_table", "table": "SQLite_Master"}),
            json!({"op": "rename_table", "from": "a", "to": "_lore_x"}),
            json!({"op": "create_index", "name": "i", "table": "sqlite_stat1", "columns": ["a"]}),
            json!({"op": "create_index", "name": "sqlite_i", "table": "t", "columns": ["a"]}),
            json!({"op": "create_index", "name": "i", "table": "t", "columns": ["_lore_a"]}),
            json!({"op": "insert", "table": "t", "rows": [{"_lore_x": 1}]}),
            json!({"op": "update", "table": "t", "where": "all", "set": {"sqlite_x": 1}}),
            json!({"op": "delete", "table": "t", "where": {"_lore_id": 1}}),
            json!({"op": "upsert", "table": "t", "conflict_key": ["sqlite_k"], "rows": [{"a": 1}]}),
            json!({"op": "create_table", "table": "t", "columns": [{"name": "_lore_id", "primary_key": true}]}),
            json!({"op": "sql", "sql": "SELECT * FROM _lore_commit"}),
            json!({"op": "sql", "sql": "select sqlite_version()"}),
        ];
        for c in cases {
            let e = bad(c.clone());
            assert!(e.contains(msg), "{c}: {e}");
        }
    }

    #[test]
    fn row_ops_and_tagged_values() {
        let op = ok(json!({"op": "insert", "table": "t", "rows": [
            {"id": 1, "big": {"$int": "9223372036854775807"}, "r": 1.0, "inf": {"$real": "-inf"},
             "b": {"$blob": "AAE="}, "s": "x", "n": null, "t": true},
            {"id": 2}]}));
        assert_eq!(
            op,
            Operation::Insert {
                table: "t".into(),
                rows: vec![
                    row(&[
                        ("id", Value::Integer(1)),
                        ("big", Value::Integer(i64::MAX)),
                        ("r", Value::Real(1.0)),
                        ("inf", Value::Real(f64::NEG_INFINITY)),
                        ("b", Value::Blob(vec![0, 1])),
                        ("s", Value::Text("x".into())),
                        ("n", Value::Null),
                        ("t", Value::Integer(1)),
                    ]),
                    row(&[("id", Value::Integer(2))]),
                ]
            }
        );
        let op = ok(
            json!({"op": "upsert", "table": "t", "conflict_key": ["name"],
            "rows": [{"name": "a", "n": 1}]}),
        );
        assert_eq!(
            op,
            Operation::Upsert {
                table: "t".into(),
                conflict_key: vec!["name".into()],
                rows: vec![row(&[
                    ("name", Value::Text("a".into())),
                    ("n", Value::Integer(1))
                ])],
            }
        );
        let op = ok(
            json!({"op": "update", "table": "t", "where": {"id": {"in": [1, 2, 3]}},
            "set": {"tag": {"$int": "5"}}, "expect": {"count": 3}}),
        );
        assert_eq!(
            op,
            Operation::Update {
                table: "t".into(),
                filter: Filter::Conditions(vec![Condition {
                    column: "id".into(),
                    test: Test::In(vec![
                        Value::Integer(1),
                        Value::Integer(2),
                        Value::Integer(3)
                    ])
                }]),
                set: row(&[("tag", Value::Integer(5))]),
                expect_count: Some(3),
            }
        );
        let op = ok(json!({"op": "delete", "table": "t", "where": "all"}));
        assert_eq!(
            op,
            Operation::Delete {
                table: "t".into(),
                filter: Filter::All,
                expect_count: None
            }
        );
        let op =
            ok(json!({"op": "delete", "table": "t", "where": {"id": 7}, "expect": {"count": 0}}));
        let Operation::Delete { expect_count, .. } = op else {
            panic!()
        };
        assert_eq!(expect_count, Some(0));
    }

    #[test]
    fn where_forms() {
        let conditions = |w: Json| match ok(json!({"op": "delete", "table": "t", "where": w})) {
            Operation::Delete {
                filter: Filter::Conditions(c),
                ..
            } => c
                .into_iter()
                .map(|c| (c.column, c.test))
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let c = conditions(json!({"b": null, "a": "x", "c": {"$blob": "AA=="}, "d": 2.5}));
        assert_eq!(
            c,
            [
                ("a".to_string(), Test::Eq(Value::Text("x".into()))),
                ("b".to_string(), Test::IsNull(true)),
                ("c".to_string(), Test::Eq(Value::Blob(vec![0]))),
                ("d".to_string(), Test::Eq(Value::Real(2.5))),
            ]
        );
        let c =
            conditions(json!({"n": {"gt": 3, "lt": 9, "gte": 1, "lte": {"$int": "8"}, "ne": 5}}));
        assert_eq!(
            c.into_iter().map(|(_, t)| t).collect::<Vec<_>>(),
            [
                Test::Gt(Value::Integer(3)),
                Test::Gte(Value::Integer(1)),
                Test::Lt(Value::Integer(9)),
                Test::Lte(Value::Integer(8)),
                Test::Ne(Value::Integer(5)),
            ]
        );
        let c = conditions(json!({"a": {"is_null": false}, "b": {"eq": null}, "c": {"eq": "z"}}));
        assert_eq!(
            c.into_iter().map(|(_, t)| t).collect::<Vec<_>>(),
            [
                Test::IsNull(false),
                Test::IsNull(true),
                Test::Eq(Value::Text("z".into()))
            ]
        );
    }

    #[test]
    fn where_rules() {
        let del = |w: Json| bad(json!({"op": "delete", "table": "t", "where": w}));
        let e = bad(json!({"op": "update", "table": "t", "set": {"a": 1}}));
        assert_eq!(
            e,
            "operations[0] (update): \"where\" is required (use {\"where\": \"all\"} to change every row)"
        );
        let e = bad(json!({"op": "delete", "table": "t"}));
        assert_eq!(
            e,
            "operations[0] (delete): \"where\" is required (use {\"where\": \"all\"} to delete every row)"
        );
        let e = del(json!({}));
        assert!(e.starts_with("operations[0].where (delete): an empty object matches nothing useful: write \"where\": \"all\" to delete every row"), "{e}");
        let e = del(json!("ALL"));
        assert!(
            e.starts_with(
                "operations[0].where (delete): must be \"all\" or an object of conditions"
            ),
            "{e}"
        );
        let e = del(json!(null));
        assert!(e.contains("not null"), "{e}");
        let e = del(json!({"id": [1, 2]}));
        assert_eq!(
            e,
            "operations[0].where.id (delete): an array is not a condition: to match any of \
             several values write {\"in\": [...]}"
        );
        let e = del(json!({"id": {}}));
        assert!(
            e.starts_with("operations[0].where.id (delete): an empty condition"),
            "{e}"
        );
        let e = del(json!({"id": {"like": "a%"}}));
        assert_eq!(
            e,
            "operations[0].where.id (delete): unknown operator \"like\"; operators: eq, ne, gt, \
             gte, lt, lte, in, is_null"
        );
        let e = del(json!({"id": {"$int": "1", "gt": 0}}));
        assert!(
            e.contains("unknown operator \"$int\" (a tagged value"),
            "{e}"
        );
        let e = del(json!({"id": {"$text": "1"}}));
        assert!(
            e.starts_with(
                "operations[0].where.id (delete): an object with keys \"$text\" is not a value"
            ),
            "{e}"
        );
        let e = del(json!({"id": {"in": []}}));
        assert_eq!(
            e,
            "operations[0].where.id.in (delete): must hold at least one value"
        );
        let e = del(json!({"id": {"in": 3}}));
        assert_eq!(
            e,
            "operations[0].where.id.in (delete): must be an array of values, not a number"
        );
        let e = del(json!({"id": {"in": [1, null]}}));
        assert!(
            e.starts_with("operations[0].where.id.in[1] (delete): null compares as unknown"),
            "{e}"
        );
        let e = del(json!({"id": {"gt": null}}));
        assert!(e.starts_with("operations[0].where.id.gt (delete): null compares as unknown in SQL and matches nothing; test for null with is_null"), "{e}");
        let e = del(json!({"id": {"ne": null}}));
        assert!(
            e.ends_with("test for null with {\"is_null\": false}"),
            "{e}"
        );
        let e = del(json!({"id": {"is_null": 1}}));
        assert_eq!(
            e,
            "operations[0].where.id.is_null (delete): must be true or false, not 1"
        );
        let e = del(json!({"id": {"gt": [1]}}));
        assert!(
            e.starts_with("operations[0].where.id.gt (delete): an array is not a value"),
            "{e}"
        );
        let e = del(json!({"": 1}));
        assert_eq!(
            e,
            "operations[0].where[\"\"] (delete): a column name must not be empty"
        );
        let e = del(json!({"my col": {"gt": 18446744073709551615u64}}));
        assert!(e.starts_with("operations[0].where[\"my col\"].gt (delete): integer 18446744073709551615 does not fit"), "{e}");
    }

    #[test]
    fn row_op_rules() {
        let e = bad(json!({"op": "insert", "table": "t", "rows": []}));
        assert_eq!(e, "operations[0].rows (insert): must hold at least one row");
        let e = bad(json!({"op": "insert", "table": "t"}));
        assert_eq!(
            e,
            "operations[0] (insert): \"rows\" is required: the rows to insert"
        );
        let e = bad(json!({"op": "insert", "table": "t", "rows": {"id": 1}}));
        assert!(
            e.starts_with("operations[0].rows (insert): must be an array of rows"),
            "{e}"
        );
        let e = bad(json!({"op": "insert", "table": "t", "rows": [{"id": 1}, {}]}));
        assert_eq!(
            e,
            "operations[0].rows[1] (insert): a row must name at least one column"
        );
        let e = bad(json!({"op": "insert", "table": "t", "rows": [[1, 2]]}));
        assert!(
            e.starts_with("operations[0].rows[0] (insert): a row must be an object"),
            "{e}"
        );
        let e = bad(json!({"op": "insert", "table": "t", "rows": [{"id": 1, "ID": 2}]}));
        assert!(
            e.starts_with(
                "operations[0].rows[0].id (insert): \"id\" and \"ID\" are the same column"
            ),
            "{e}"
        );
        let e = bad(json!({"op": "insert", "table": "t", "rows": [{"id": {"$blob": "!"}}]}));
        assert!(
            e.starts_with("operations[0].rows[0].id (insert): {\"$blob\": ...}: not valid base64"),
            "{e}"
        );
        let e = bad(json!({"op": "insert", "table": "t", "rows": [{"id": {"$int": 1}}]}));
        assert!(
            e.starts_with(
                "operations[0].rows[0].id (insert): {\"$int\": 1} is not a 64-bit integer"
            ),
            "{e}"
        );
        let e = bad(json!({"op": "insert", "table": "t", "rows": [{"id": {"$real": "x"}}]}));
        assert!(
            e.starts_with(
                "operations[0].rows[0].id (insert): {\"$real\": \"x\"}: not a decimal number"
            ),
            "{e}"
        );

        let e = bad(json!({"op": "upsert", "table": "t", "conflict_key": [], "rows": [{"a": 1}]}));
        assert_eq!(
            e,
            "operations[0].conflict_key (upsert): must name at least one column"
        );
        let e = bad(json!({"op": "upsert", "table": "t", "rows": [{"a": 1}]}));
        assert_eq!(
            e,
            "operations[0] (upsert): \"conflict_key\" is required: an array of column names"
        );
        let e = bad(
            json!({"op": "upsert", "table": "t", "conflict_key": ["k"], "rows": [{"k": 1}, {"a": 1}]}),
        );
        assert!(
            e.starts_with("operations[0].rows[1] (upsert): lacks the conflict_key column \"k\""),
            "{e}"
        );

        let e = bad(json!({"op": "update", "table": "t", "where": "all", "set": {}}));
        assert_eq!(
            e,
            "operations[0].set (update): \"set\" must name at least one column"
        );
        let e = bad(json!({"op": "update", "table": "t", "where": "all"}));
        assert!(
            e.starts_with("operations[0] (update): \"set\" is required"),
            "{e}"
        );
        let e = bad(
            json!({"op": "update", "table": "t", "where": "all", "set": {"a": 1}, "expect": {"count": -1}}),
        );
        assert_eq!(
            e,
            "operations[0].expect.count (update): must be a whole number of rows (0 or more), not -1"
        );
        let e = bad(
            json!({"op": "update", "table": "t", "where": "all", "set": {"a": 1}, "expect": {"count": 1.5}}),
        );
        assert!(e.contains("not 1.5"), "{e}");
        let e = bad(json!({"op": "delete", "table": "t", "where": "all", "expect": {}}));
        assert_eq!(
            e,
            "operations[0].expect (delete): \"count\" is required: how many rows the operation must match"
        );
        let e = bad(
            json!({"op": "delete", "table": "t", "where": "all", "expect": {"count": 1, "before": {}}}),
        );
        assert_eq!(
            e,
            "operations[0].expect (delete): unknown field \"before\"; allowed here: \"count\""
        );
        let e = bad(json!({"op": "delete", "table": "t", "where": "all", "expect": 3}));
        assert!(
            e.starts_with("operations[0].expect (delete): must be an object {\"count\": <rows>}"),
            "{e}"
        );
    }

    #[test]
    fn sql_op() {
        let op = ok(
            json!({"op": "sql", "sql": "UPDATE notes SET body = ? WHERE id = ?",
            "params": ["x", {"$int": "9007199254740993"}, null, {"$blob": ""}]}),
        );
        assert_eq!(
            op,
            Operation::Sql {
                sql: "UPDATE notes SET body = ? WHERE id = ?".into(),
                params: vec![
                    Value::Text("x".into()),
                    Value::Integer(9007199254740993),
                    Value::Null,
                    Value::Blob(vec![])
                ],
            }
        );
        let op = ok(json!({"op": "sql", "sql": "DELETE FROM t"}));
        assert_eq!(
            op,
            Operation::Sql {
                sql: "DELETE FROM t".into(),
                params: vec![]
            }
        );
        assert!(op.tables().is_empty());

        let e = bad(json!({"op": "sql", "sql": "DELETE FROM t", "params": {"a": 1}}));
        assert!(
            e.starts_with("operations[0].params (sql): must be an array"),
            "{e}"
        );
        let e = bad(json!({"op": "sql", "sql": "x", "params": [[1]]}));
        assert!(
            e.starts_with("operations[0].params[0] (sql): an array is not a value"),
            "{e}"
        );
        let e = bad(json!({"op": "sql"}));
        assert_eq!(
            e,
            "operations[0] (sql): \"sql\" is required: the SQL text to run"
        );
        let e = bad(json!({"op": "sql", "sql": 5}));
        assert_eq!(
            e,
            "operations[0].sql (sql): must be a string of SQL, not a number"
        );
        let e = bad(json!({"op": "sql", "sql": "  -- nothing\n /* at all */ ;"}));
        assert_eq!(e, "operations[0].sql (sql): has no SQL statement in it");
        let e = bad(json!({"op": "sql", "sql": "INSERT INTO t VALUES ('sqlite_')"}));
        assert!(
            e.ends_with("if that text is data, pass it in \"params\" with a ? placeholder"),
            "{e}"
        );
    }

    #[test]
    fn sql_forbidden_statements() {
        for (kw, _) in FORBIDDEN_STATEMENTS {
            let e = lint_sql(&format!("{} x", kw.to_lowercase())).expect_err(kw);
            assert!(
                e.starts_with(&format!("{kw} statements are not allowed in a plan: ")),
                "{e}"
            );
        }
        let e = bad(json!({"op": "sql", "sql": "UPDATE t SET a = 1; pragma foreign_keys = off"}));
        assert_eq!(
            e,
            "operations[0].sql (sql): PRAGMA statements are not allowed in a plan: pragmas \
             change settings outside version control"
        );
        for refused in [
            "/* c */ BEGIN",
            "-- c\nCOMMIT",
            "update t set a = 1;\n\tEnd transaction",
            "EXPLAIN QUERY PLAN vacuum",
            "explain Attach 'x' as y",
            "SELECT 1;ROLLBACK",
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; END; SAVEPOINT s",
        ] {
            assert!(lint_sql(refused).is_err(), "{refused}");
        }
        for allowed in [
            "SELECT 'BEGIN; PRAGMA x'",
            "UPDATE t SET \"pragma\" = 1",
            "UPDATE [begin] SET a = 1",
            "UPDATE `end` SET a = 'it''s; VACUUM'",
            "-- PRAGMA x\nDELETE FROM t",
            "/* ; COMMIT */ DELETE FROM t",
            "UPDATE t SET a = CASE WHEN b THEN 1 END; SELECT 1",
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; \
             UPDATE t SET b = CASE WHEN 1 THEN 2 END; END; DELETE FROM t",
            "create temp trigger tr after delete on t begin delete from u; end",
            "WITH x AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM x)",
            "DELETE FROM t;;",
        ] {
            assert_eq!(lint_sql(allowed), Ok(()), "{allowed}");
        }
    }

    #[test]
    fn unknown_fields_and_ops() {
        let e = Plan::from_value(json!({"message": "m", "operations": [{"op": "drop_table", "table": "t"}], "author": "x"}))
            .expect_err("unknown top field").to_string();
        assert_eq!(
            e,
            "plan: unknown field \"author\"; allowed here: \"version\", \"message\", \"expect\", \"operations\""
        );
        let e = bad(json!({"op": "drop_table", "table": "t", "cascade": true}));
        assert_eq!(
            e,
            "operations[0] (drop_table): unknown field \"cascade\"; allowed here: \"op\", \"table\""
        );
        let e = bad(
            json!({"op": "create_table", "table": "t", "withoutRowid": true,
            "columns": [{"name": "id", "primary_key": true}]}),
        );
        assert!(e.starts_with("operations[0] (create_table): unknown field \"withoutRowid\" (did you mean \"without_rowid\"? names are snake_case)"), "{e}");
        let e = bad(json!({"op": "create_table", "table": "t",
            "columns": [{"name": "id", "primaryKey": true}]}));
        assert!(e.starts_with("operations[0].columns[0] (create_table): unknown field \"primaryKey\" (did you mean \"primary_key\"?"), "{e}");
        assert!(e.ends_with("allowed here: \"name\", \"type\", \"primary_key\", \"not_null\", \"unique\", \"default\", \"references\""), "{e}");
        let e = bad(json!({"op": "create_table", "table": "t",
            "columns": [{"name": "id", "primary_key": true, "references": {"table": "u", "column": "id", "on_update": "cascade"}}]}));
        assert!(
            e.starts_with(
                "operations[0].columns[0].references (create_table): unknown field \"on_update\""
            ),
            "{e}"
        );
        let e = bad(json!({"op": "update", "table": "t", "filter": {"id": 1}, "set": {"a": 1}}));
        assert!(
            e.starts_with("operations[0] (update): unknown field \"filter\""),
            "{e}"
        );

        let e = bad(json!({"op": "insert_rows", "table": "t"}));
        assert_eq!(
            e,
            "operations[0].op: unknown op \"insert_rows\"; the ops are create_table, add_column, \
             drop_column, rename_table, drop_table, create_index, drop_index, insert, upsert, \
             update, delete, sql"
        );
        let e = bad(json!({"table": "t"}));
        assert!(
            e.starts_with("operations[0]: \"op\" is required: one of create_table,"),
            "{e}"
        );
        let e = bad(json!({"op": 3}));
        assert!(
            e.starts_with("operations[0].op: must be a string naming the operation"),
            "{e}"
        );
        let e = bad(json!("insert"));
        assert!(
            e.starts_with("operations[0]: an operation is an object"),
            "{e}"
        );
        let e = bad(json!({"op": "drop_table", "table": 7}));
        assert_eq!(
            e,
            "operations[0].table (drop_table): must be a string (a table name), not a number"
        );
    }

    #[test]
    fn errors_name_index_and_op() {
        let p = plan_with(json!([
            {"op": "drop_table", "table": "a"},
            {"op": "drop_table", "table": "b"},
            {"op": "update", "table": "t", "set": {"a": 1}},
        ]));
        let e = Plan::from_value(p).expect_err("where missing");
        assert_eq!(e.path, "operations[2]");
        assert_eq!(e.operation, Some(2));
        assert_eq!(e.op, Some("update"));
        assert_eq!(
            e.to_string(),
            "operations[2] (update): \"where\" is required (use {\"where\": \"all\"} to change every row)"
        );
        let p = plan_with(json!([
            {"op": "drop_table", "table": "a"},
            {"op": "insert", "table": "t", "rows": [{"a": 1}, {"b": [2]}]},
        ]));
        let e = Plan::from_value(p).expect_err("bad value");
        assert_eq!(e.path, "operations[1].rows[1].b");
        assert_eq!((e.operation, e.op), (Some(1), Some("insert")));
    }

    #[test]
    fn top_level_rules() {
        let drop = json!([{"op": "drop_table", "table": "t"}]);
        let err = |v: Json| Plan::from_value(v).expect_err("refused").to_string();
        assert_eq!(
            err(json!({"operations": drop})),
            "plan: \"message\" is required: say what the plan changes and why"
        );
        assert_eq!(
            err(json!({"message": "  ", "operations": drop})),
            "message: must not be empty: say what the plan changes and why"
        );
        assert!(
            err(json!({"message": 5, "operations": drop})).starts_with("message: must be a string")
        );
        assert_eq!(
            err(json!({"message": "m", "operations": []})),
            "operations: must hold at least one operation"
        );
        assert!(err(json!({"message": "m"})).starts_with("plan: \"operations\" is required"));
        assert_eq!(
            err(json!({"message": "m", "operations": {"op": "sql"}})),
            "operations: must be an array of operations, not an object"
        );
        assert!(err(json!([drop])).starts_with("plan: a plan is a JSON object"));
        assert_eq!(
            err(json!({"version": 2, "message": "m", "operations": drop, "new_field": 1})),
            "version: unsupported plan format version 2; this lore reads version 1 (or leave \"version\" out)"
        );
        assert!(
            err(json!({"version": "1", "message": "m", "operations": drop}))
                .starts_with("version: unsupported")
        );
        assert!(
            Plan::from_value(json!({"version": 1, "message": "m", "operations": drop})).is_ok()
        );

        assert_eq!(
            err(json!({"message": "m", "operations": drop, "expect": {}})),
            "expect: \"head\" is required: the commit id the plan was written against (from \
             `lore history --json -n 1` or `lore schema --json`), or null for a database with no commits"
        );
        assert!(
            err(json!({"message": "m", "operations": drop, "expect": {"head": "abc"}}))
                .starts_with(
                    "expect.head: must be a commit id (64 hex characters, or at least the first 8) or null, not \"abc\""
                )
        );
        assert!(
            err(json!({"message": "m", "operations": drop, "expect": {"head": HEAD, "count": 1}}))
                .starts_with("expect: unknown field \"count\"")
        );
        assert!(
            err(json!({"message": "m", "operations": drop, "expect": null}))
                .starts_with("expect: must be an object")
        );
    }

    #[test]
    fn json_text_errors() {
        let e = bad_text("{\"message\": \"m\",\n \"operations\": [}");
        assert_eq!(e.line_column, Some((2, 17)));
        assert!(
            e.to_string()
                .starts_with("plan: not valid JSON: expected value at line 2 column 17"),
            "{e}"
        );
        let e = bad_text("");
        assert!(
            e.to_string()
                .starts_with("plan: not valid JSON: EOF while parsing"),
            "{e}"
        );
        let e = bad_text(
            "{\"message\": \"m\", \"operations\": [{\"op\": \"drop_table\", \"table\": \"t\"}]} x",
        );
        assert!(
            e.to_string()
                .starts_with("plan: not valid JSON: trailing characters at line 1 column 70"),
            "{e}"
        );

        let e = bad_text(
            r#"{"message": "m", "operations": [{"op": "insert", "table": "t", "rows": [{"id": 1, "id": 2}]}]}"#,
        );
        assert_eq!(e.path, "operations[0].rows[0]");
        assert_eq!(e.operation, Some(0));
        assert!(
            e.to_string()
                .starts_with("operations[0].rows[0] (insert): duplicate key \"id\" at line 1"),
            "{e}"
        );
        let e = bad_text(r#"{"message": "m", "message": "n", "operations": []}"#);
        assert_eq!(
            e.to_string(),
            "plan: duplicate key \"message\" at line 1 column 26"
        );

        let e = bad_text(
            "{\"message\": \"m\", \"operations\": [{\"op\": \"insert\", \"table\": \"t\",\n  \"rows\": [{\"id\": 99999999999999999999}]}]}",
        );
        assert_eq!(e.line_column, Some((2, 19)));
        assert!(e.to_string().starts_with("plan: line 2 column 19: integer 99999999999999999999 does not fit in SQLite's 64-bit INTEGER"), "{e}");
        let e = bad_text(
            r#"{"message": "m", "operations": [{"op": "insert", "table": "t", "rows": [{"id": -9223372036854775809}]}]}"#,
        );
        assert!(
            e.to_string()
                .contains("integer -9223372036854775809 does not fit"),
            "{e}"
        );
        let e = bad_text(
            r#"{"message": "m", "operations": [{"op": "insert", "table": "t", "rows": [{"id": 9223372036854775808}]}]}"#,
        );
        assert!(
            e.to_string().starts_with(
                "operations[0].rows[0].id (insert): integer 9223372036854775808 does not fit"
            ),
            "{e}"
        );

        // Literal-looking text inside strings is not a number; a BOM is tolerated.
        let p = Plan::parse(
            "\u{feff}{\"message\": \"99999999999999999999 \\\" 1e999999999999999999999\", \
             \"operations\": [{\"op\": \"insert\", \"table\": \"t\", \"rows\": [{\"id\": -9223372036854775808, \"r\": 1e300}]}]}",
        )
        .expect("plan");
        assert_eq!(
            p.operations[0],
            Operation::Insert {
                table: "t".into(),
                rows: vec![row(&[
                    ("id", Value::Integer(i64::MIN)),
                    ("r", Value::Real(1e300))
                ])]
            }
        );
    }

    #[test]
    fn plan_hash_is_canonical() {
        let a = Plan::parse(
            r#"{"message": "one", "operations": [
                 {"op": "insert", "table": "t", "rows": [{"id": 1, "name": "x"}]},
                 {"op": "delete", "table": "t", "where": {"id": 2}}]}"#,
        )
        .expect("a");
        let b = Plan::parse(
            "{\"operations\":[{\"rows\":[{\"name\":\"x\",\"id\":1}],\"table\":\"t\",\"op\":\"insert\"},\
             {\"where\":{\"id\":2},\"op\":\"delete\",\"table\":\"t\"}],\n\n  \"message\":\"two\"}",
        )
        .expect("b");
        assert_eq!(a.plan_hash(), b.plan_hash());
        assert_eq!(a.plan_hash(), plan_hash_of(&a.operations_json));
        // The hash is SHA-256 of the RFC 8785 text of the operations.
        let jcs = serde_json_canonicalizer::to_vec(&a.operations_json).expect("jcs");
        assert_eq!(
            String::from_utf8(jcs.clone()).expect("utf8"),
            r#"[{"op":"insert","rows":[{"id":1,"name":"x"}],"table":"t"},{"op":"delete","table":"t","where":{"id":2}}]"#
        );
        let hex: String = Sha256::digest(&jcs)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(a.plan_hash(), hex);

        let c = Plan::parse(
            r#"{"message": "one", "operations": [
                 {"op": "insert", "table": "t", "rows": [{"id": 1, "name": "y"}]},
                 {"op": "delete", "table": "t", "where": {"id": 2}}]}"#,
        )
        .expect("c");
        assert_ne!(a.plan_hash(), c.plan_hash());
    }

    #[test]
    fn plan_hash_tells_values_apart_that_jcs_would_merge() {
        let hash = |v: Json| {
            Plan::from_value(plan_with(
                json!([{"op": "insert", "table": "t", "rows": [{"v": v}]}]),
            ))
            .expect("plan")
            .plan_hash()
        };
        // JCS prints 1.0 as 1 and rounds integers beyond 2^53 through a double.
        assert_ne!(hash(json!(1)), hash(json!(1.0)));
        assert_ne!(hash(json!(0.0)), hash(json!(-0.0)));
        assert_ne!(
            hash(json!(9007199254740992i64)),
            hash(json!(9007199254740993i64))
        );
        // Same value, different spelling: same hash.
        assert_eq!(
            hash(json!(9007199254740993i64)),
            hash(json!({"$int": "9007199254740993"}))
        );
        assert_eq!(hash(json!(1.0)), hash(json!({"$real": "1"})));
        assert_eq!(hash(json!(true)), hash(json!(1)));

        // The stored (JCS) operations read back as the same plan.
        let p = Plan::parse(
            r#"{"message": "m", "operations": [{"op": "sql", "sql": "SELECT ?, ?, ?, ?",
                "params": [1.0, -0.0, 9007199254740993, {"$blob": "AA=="}]},
                {"op": "create_table", "table": "t", "columns": [
                  {"name": "id", "primary_key": true, "default": 2.0}]},
                {"op": "delete", "table": "t", "where": {"id": {"in": [3.0]}, "x": 4.0}}]}"#,
        )
        .expect("plan");
        let stored = serde_json_canonicalizer::to_string(&p.operations_json).expect("jcs");
        let again = Plan::from_value(json!({"message": "m",
            "operations": serde_json::from_str::<Json>(&stored).expect("json")}))
        .expect("reparse");
        assert_eq!(again.operations, p.operations);
        let Operation::Sql { params, .. } = &again.operations[0] else {
            panic!()
        };
        assert_eq!(params[0], Value::Real(1.0));
        assert!(matches!(params[1], Value::Real(f) if f.to_bits() == (-0.0f64).to_bits()));
        assert_eq!(params[2], Value::Integer(9007199254740993));
        assert_eq!(again.plan_hash(), p.plan_hash());
        assert_eq!(again.operations_json, p.operations_json);
    }
}
