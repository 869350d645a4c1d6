//! The plan format, version 1 (docs/plans.md): what an agent asks the engine to change.
//!
//! Parsing is strict: unknown fields, wrong types and anything the engine would refuse later are
//! reported here, each error naming the JSON path and, inside an operation, its index and op
//! name, e.g. `operations[2] (update): "where" is required (use {"where": "all"} to change every
//! row)`.
//!
//! One file per concern: this file holds the parsed types and the plan as a whole; `operation`
//! reads one operation, `table` column definitions, `filter` the `where` clause, `sql` the early
//! check of `sql` operations, `strict_json` the JSON reader (duplicate keys, 64-bit integers),
//! `error` the JSON paths that errors name.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use super::value::{self, Row, Value};

mod error;
mod filter;
mod lore_sh;
mod operation;
mod sql;
mod strict_json;
mod table;
#[cfg(test)]
mod tests;

use error::*;
use filter::*;
use operation::*;
use sql::*;
use strict_json::*;
use table::*;

/// The plan format version this code reads and writes.
pub const FORMAT_VERSION: u64 = 1;

/// Every op name, in the order docs/plans.md lists them.
pub const OP_NAMES: [&str; 16] = [
    "create_table",
    "add_column",
    "drop_column",
    "alter_column_type",
    "rename_table",
    "drop_table",
    "add_check",
    "drop_check",
    "create_index",
    "drop_index",
    "drop_trigger",
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
    /// The schema hash the plan was written against (lore-sh's `baseSchemaHash`), lowercased:
    /// the plan applies only if the database's schema hash is still this one.
    pub expect_schema: Option<String>,
    /// Which dialect the plan was written in.
    pub dialect: Dialect,
    pub operations: Vec<Operation>,
    /// The operations array as given, except that every value (in rows, `set`, `where`,
    /// `default`, `params`) is rewritten in the form that survives RFC 8785 canonicalisation
    /// ([`value::to_json_for_jcs`]): hashed for the plan hash and stored with the commit, it reads
    /// back as exactly the same plan.
    pub operations_json: Json,
}

/// The two spellings of a plan lore reads (docs/plans.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// lore's own: `"op"`, snake_case, `rows`/`set`, `expect`.
    Lore,
    /// lore-sh's: `"type"`, camelCase, `values`, `baseSchemaHash`; translated to lore's
    /// operations as it is read ([`lore_sh`]).
    LoreSh,
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
    /// Declares `column` with `new_type` and converts its values to the type's affinity.
    AlterColumnType {
        table: String,
        column: String,
        new_type: String,
    },
    RenameTable {
        from: String,
        to: String,
    },
    DropTable {
        table: String,
    },
    /// Adds `CHECK (expression)` to the table, after checking every row obeys it.
    AddCheck {
        table: String,
        expression: String,
    },
    /// Removes the CHECK constraint with this expression (compared token by token).
    DropCheck {
        table: String,
        expression: String,
    },
    CreateIndex {
        name: String,
        table: String,
        columns: Vec<String>,
        unique: bool,
    },
    /// `table`, when given, must be the index's table.
    DropIndex {
        name: String,
        table: Option<String>,
    },
    /// `table`, when given, must be the trigger's table.
    DropTrigger {
        name: String,
        table: Option<String>,
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
            Operation::AlterColumnType { .. } => "alter_column_type",
            Operation::RenameTable { .. } => "rename_table",
            Operation::DropTable { .. } => "drop_table",
            Operation::AddCheck { .. } => "add_check",
            Operation::DropCheck { .. } => "drop_check",
            Operation::CreateIndex { .. } => "create_index",
            Operation::DropIndex { .. } => "drop_index",
            Operation::DropTrigger { .. } => "drop_trigger",
            Operation::Insert { .. } => "insert",
            Operation::Upsert { .. } => "upsert",
            Operation::Update { .. } => "update",
            Operation::Delete { .. } => "delete",
            Operation::Sql { .. } => "sql",
        }
    }

    /// The tables the operation creates, changes or drops, by name (both names for a rename).
    /// Empty for `sql`, and for `drop_index` and `drop_trigger` without `table` (their table is
    /// known only from the database). Tables that
    /// a `references` clause only points at are not included.
    pub fn tables(&self) -> Vec<&str> {
        match self {
            Operation::CreateTable { table, .. }
            | Operation::AddColumn { table, .. }
            | Operation::DropColumn { table, .. }
            | Operation::AlterColumnType { table, .. }
            | Operation::AddCheck { table, .. }
            | Operation::DropCheck { table, .. }
            | Operation::DropTable { table }
            | Operation::CreateIndex { table, .. }
            | Operation::Insert { table, .. }
            | Operation::Upsert { table, .. }
            | Operation::Update { table, .. }
            | Operation::Delete { table, .. } => vec![table.as_str()],
            Operation::RenameTable { from, to } => vec![from.as_str(), to.as_str()],
            Operation::DropIndex { table, .. } | Operation::DropTrigger { table, .. } => {
                table.iter().map(String::as_str).collect()
            }
            Operation::Sql { .. } => Vec::new(),
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
    /// `"default_sql"`: `CURRENT_TIMESTAMP`, `CURRENT_DATE` or `CURRENT_TIME` (never with
    /// `default`).
    pub default_sql: Option<&'static str>,
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

    /// Validates a plan already read as JSON, in either dialect. Unlike [`Plan::parse`] it
    /// cannot tell an integer literal beyond 64 bits (which JSON readers turn into a float) from
    /// a real.
    pub fn from_value(v: Json) -> Result<Plan, PlanError> {
        match v {
            Json::Object(m) if lore_sh::is_lore_sh(&m) => {
                let (native, base) = lore_sh::translate(m)?;
                let mut plan = Plan::from_native(native).map_err(lore_sh::respell)?;
                plan.expect_schema = Some(base);
                plan.dialect = Dialect::LoreSh;
                Ok(plan)
            }
            v => Plan::from_native(v),
        }
    }

    /// Validates a plan in lore's own dialect.
    fn from_native(v: Json) -> Result<Plan, PlanError> {
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
            expect_schema: None,
            dialect: Dialect::Lore,
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
