//! Reading one operation of a plan: its op name, its fields, names, rows and `set`.

use super::*;

pub(super) fn parse_operation(j: &mut Json, i: usize) -> Result<Operation, PlanError> {
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
        None if m.contains_key("type") => {
            return Err(loc.err(
                "\"op\" is required (did you mean \"op\"? \"type\" is lore-sh's spelling, read \
                 only in plans with \"baseSchemaHash\" and no \"expect\")",
            ));
        }
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
            f.only(&["name", "table"])?;
            Ok(Operation::DropIndex {
                name: f.name("name", "index")?,
                table: f.opt_table("table")?,
            })
        }
        "drop_trigger" => {
            f.only(&["name", "table"])?;
            Ok(Operation::DropTrigger {
                name: f.name("name", "trigger")?,
                table: f.opt_table("table")?,
            })
        }
        "alter_column_type" => {
            f.only(&["table", "column", "new_type"])?;
            let table = f.table("table")?;
            let column = f.name("column", "column")?;
            let new_type = match f.req("new_type", "the column's new type, e.g. \"INTEGER\"")? {
                Json::String(t) if !t.is_empty() => {
                    check_type(t).map_err(|e| loc.key("new_type").err(e))?;
                    t.clone()
                }
                other => {
                    return Err(loc.key("new_type").err(format!(
                        "must be a type such as \"INTEGER\", \"TEXT\" or \"VARCHAR(20)\", not {}",
                        short_json(other)
                    )));
                }
            };
            Ok(Operation::AlterColumnType {
                table,
                column,
                new_type,
            })
        }
        "add_check" | "drop_check" => {
            f.only(&["table", "expression"])?;
            let table = f.table("table")?;
            let expression = match f.req("expression", "an SQL expression, e.g. \"price >= 0\"")? {
                Json::String(e) => {
                    crate::versioning::alter::check_expression(e)
                        .map_err(|m| loc.key("expression").err(m))?;
                    e.trim().to_owned()
                }
                other => {
                    return Err(loc.key("expression").err(format!(
                        "must be a string holding an SQL expression, not {}",
                        value::json_type_name(other)
                    )));
                }
            };
            Ok(if name == "add_check" {
                Operation::AddCheck { table, expression }
            } else {
                Operation::DropCheck { table, expression }
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
pub(super) struct Fields<'a> {
    pub(super) m: &'a mut Map<String, Json>,
    pub(super) loc: &'a Loc,
}

impl Fields<'_> {
    pub(super) fn only(&self, allowed: &[&str]) -> Result<(), PlanError> {
        let mut with_op = vec!["op"];
        with_op.extend_from_slice(allowed);
        only(self.m, &with_op, self.loc)
    }

    pub(super) fn req(&self, key: &str, what: &str) -> Result<&Json, PlanError> {
        self.m
            .get(key)
            .ok_or_else(|| self.loc.err(format!("\"{key}\" is required: {what}")))
    }

    pub(super) fn req_mut(&mut self, key: &str, what: &str) -> Result<&mut Json, PlanError> {
        let loc = self.loc;
        self.m
            .get_mut(key)
            .ok_or_else(|| loc.err(format!("\"{key}\" is required: {what}")))
    }

    /// A table name (never lore's or SQLite's own).
    pub(super) fn table(&self, key: &str) -> Result<String, PlanError> {
        let v = self.req(key, "a table name")?;
        identifier(v, &self.loc.key(key), "table")
    }

    /// An optional table name.
    pub(super) fn opt_table(&self, key: &str) -> Result<Option<String>, PlanError> {
        match self.m.get(key) {
            None => Ok(None),
            Some(v) => identifier(v, &self.loc.key(key), "table").map(Some),
        }
    }

    pub(super) fn name(&self, key: &str, kind: &str) -> Result<String, PlanError> {
        let v = self.req(key, &format!("a {kind} name"))?;
        identifier(v, &self.loc.key(key), kind)
    }

    pub(super) fn names(&self, key: &str, kind: &str) -> Result<Vec<String>, PlanError> {
        let v = self.req(key, &format!("an array of {kind} names"))?;
        names(v, &self.loc.key(key), kind)
    }

    pub(super) fn bool(&self, key: &str) -> Result<bool, PlanError> {
        opt_bool(self.m, key, self.loc)
    }

    /// `"expect": {"count": n}`.
    pub(super) fn expect_count(&self) -> Result<Option<u64>, PlanError> {
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

pub(super) fn opt_bool(m: &Map<String, Json>, key: &str, loc: &Loc) -> Result<bool, PlanError> {
    match m.get(key) {
        None => Ok(false),
        Some(Json::Bool(b)) => Ok(*b),
        Some(other) => Err(loc
            .key(key)
            .err(format!("must be true or false, not {}", short_json(other)))),
    }
}

pub(super) const RESERVED: &str =
    "plans cannot touch lore's own tables (_lore_*) or SQLite's (sqlite_*)";

pub(super) fn is_reserved(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("_lore_") || lower.starts_with("sqlite_")
}

/// A table, column or index name: a non-empty string without NUL, not reserved.
pub(super) fn identifier(v: &Json, loc: &Loc, kind: &str) -> Result<String, PlanError> {
    let Json::String(s) = v else {
        return Err(loc.err(format!(
            "must be a string (a {kind} name), not {}",
            value::json_type_name(v)
        )));
    };
    check_identifier(s, loc, kind)?;
    Ok(s.clone())
}

pub(super) fn check_identifier(s: &str, loc: &Loc, kind: &str) -> Result<(), PlanError> {
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
pub(super) fn names(v: &Json, loc: &Loc, kind: &str) -> Result<Vec<String>, PlanError> {
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
pub(super) fn value_at(slot: &mut Json, loc: &Loc) -> Result<Value, PlanError> {
    let v = value::from_json(slot).map_err(|e| loc.err(e.to_string()))?;
    *slot = value::to_json_for_jcs(&v);
    Ok(v)
}

/// An object of column -> value (a row, or `set`): non-empty, names checked, values read.
pub(super) fn row_object(v: &mut Json, loc: &Loc, what: &str) -> Result<Row, PlanError> {
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

pub(super) fn rows(v: &mut Json, loc: &Loc) -> Result<Vec<Row>, PlanError> {
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

pub(super) fn set(v: &mut Json, loc: &Loc) -> Result<Row, PlanError> {
    row_object(v, loc, "\"set\"")
}
