//! lore-sh's plan dialect, read as written (docs/plans.md, "Plans in lore-sh's dialect").
//!
//! lore-sh/lore (v0.1.3) has agents write plans with `baseSchemaHash`, operations discriminated
//! by `"type"`, camelCase column fields and `values`. Such a plan is checked against lore-sh's
//! own rules (its zod schema is strict: unknown fields are errors), then translated into lore's
//! operations, which the rest of the engine runs; its `baseSchemaHash` becomes
//! [`Plan::expect_schema`]. The plan hash and commit ids are lore's own, computed over the
//! translated operations: they are not lore-sh's byte for byte.
//!
//! Refused: a plan that mixes the dialects (`"op"` beside `"type"`, `expect` beside
//! `baseSchemaHash`), `drop_view` (lore does not version views yet) and `restore_table` (internal
//! to lore-sh's revert).

use super::*;

/// Whether `root` is written in lore-sh's dialect: it has `baseSchemaHash`, or its operations
/// name themselves with `"type"` and none with `"op"`.
pub(super) fn is_lore_sh(root: &Map<String, Json>) -> bool {
    if root.contains_key("baseSchemaHash") {
        return true;
    }
    if root.contains_key("version") || root.contains_key("expect") {
        return false;
    }
    match root.get("operations") {
        Some(Json::Array(ops)) => {
            let has = |k: &str| ops.iter().any(|o| o.get(k).is_some());
            has("type") && !has("op")
        }
        _ => false,
    }
}

/// The lore-sh plan `root` as a plan in lore's dialect, and its `baseSchemaHash` (lowercased).
pub(super) fn translate(mut root: Map<String, Json>) -> Result<(Json, String), PlanError> {
    let loc = Loc::root();
    for native in ["version", "expect"] {
        if root.contains_key(native) {
            return Err(loc.key(native).err(format!(
                "mixes the two plan dialects: \"{native}\" is lore's, \"baseSchemaHash\" and \
                 \"type\" are lore-sh's; write the plan in one of them (docs/plans.md)"
            )));
        }
    }
    only_sh(&root, &["baseSchemaHash", "message", "operations"], &loc)?;
    let base = match root.get("baseSchemaHash") {
        Some(Json::String(h)) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            h.to_ascii_lowercase()
        }
        Some(other) => {
            return Err(loc.key("baseSchemaHash").err(format!(
                "must be the 64 hex characters of \"schema_hash\" from 'lore schema --json', \
                 not {}",
                short_json(other)
            )));
        }
        None => {
            return Err(loc.err(
                "the operations use \"type\", lore-sh's spelling: a lore-sh plan needs \
                 \"baseSchemaHash\" (copy \"schema_hash\" from 'lore schema --json'); in lore's \
                 own spelling, write \"op\" instead of \"type\"",
            ));
        }
    };
    let ops_loc = loc.key("operations");
    let ops = match root.remove("operations") {
        Some(Json::Array(a)) if !a.is_empty() => a,
        Some(Json::Array(_)) => return Err(ops_loc.err("must hold at least one operation")),
        Some(other) => {
            return Err(ops_loc.err(format!(
                "must be an array of operations, not {}",
                value::json_type_name(&other)
            )));
        }
        None => return Err(loc.err("\"operations\" is required: at least one operation")),
    };
    let native: Vec<Json> = ops
        .into_iter()
        .enumerate()
        .map(|(i, op)| operation(op, i))
        .collect::<Result<_, _>>()?;
    let mut out = Map::new();
    if let Some(m) = root.remove("message") {
        out.insert("message".into(), m);
    }
    out.insert("operations".into(), Json::Array(native));
    Ok((Json::Object(out), base))
}

/// lore-sh's operations and their fields (all required; `columns` etc. checked below).
const OPS: [(&str, &[&str]); 14] = [
    ("create_table", &["table", "columns"]),
    ("add_column", &["table", "column"]),
    ("insert", &["table", "values"]),
    ("update", &["table", "values", "where"]),
    ("delete", &["table", "where"]),
    ("drop_table", &["table"]),
    ("drop_column", &["table", "column"]),
    ("alter_column_type", &["table", "column", "newType"]),
    ("add_check", &["table", "expression"]),
    ("drop_check", &["table", "expression"]),
    ("drop_index", &["table", "name"]),
    ("drop_trigger", &["table", "name"]),
    ("drop_view", &["name"]),
    (
        "restore_table",
        &["table", "ddlSql", "rows", "secondaryObjects"],
    ),
];

fn operation(op: Json, i: usize) -> Result<Json, PlanError> {
    let loc = Loc {
        path: format!("operations[{i}]"),
        operation: Some(i),
        op: None,
    };
    let Json::Object(mut m) = op else {
        return Err(loc.err(format!(
            "an operation is an object like {{\"type\": \"insert\", ...}}, not {}",
            value::json_type_name(&op)
        )));
    };
    let names: Vec<&str> = OPS.iter().map(|(n, _)| *n).collect();
    if m.contains_key("op") {
        return Err(loc.key("op").err(
            "mixes the two plan dialects: \"op\" is lore's spelling, and this plan is in \
             lore-sh's (it has \"baseSchemaHash\"), where an operation names itself with \"type\"",
        ));
    }
    let Some((name, fields)) = (match m.get("type") {
        Some(Json::String(t)) => OPS.iter().find(|(n, _)| n == t),
        Some(other) => {
            return Err(loc.key("type").err(format!(
                "must be a string naming the operation ({}), not {}",
                names.join(", "),
                value::json_type_name(other)
            )));
        }
        None => {
            return Err(loc.err(format!("\"type\" is required: one of {}", names.join(", "))));
        }
    }) else {
        let given = m.get("type").map(short_json).unwrap_or_default();
        let hint = match given.trim_matches('"') {
            "upsert" | "rename_table" | "create_index" | "sql" => format!(
                " ({given} is an op of lore's own dialect: write the plan in lore's dialect to \
                 use it)"
            ),
            _ => String::new(),
        };
        return Err(loc.key("type").err(format!(
            "unknown operation type {given}{hint}; the types are {}",
            names.join(", ")
        )));
    };
    let loc = Loc {
        op: Some(name),
        ..loc
    };
    let mut allowed = vec!["type"];
    allowed.extend_from_slice(fields);
    only_sh(&m, &allowed, &loc)?;
    for f in *fields {
        if !m.contains_key(*f) {
            return Err(loc.err(format!("\"{f}\" is required")));
        }
    }
    let mut out = Map::new();
    out.insert("op".into(), Json::String((*name).into()));
    fn take(m: &mut Map<String, Json>, out: &mut Map<String, Json>, from: &str, to: &str) {
        if let Some(v) = m.remove(from) {
            out.insert(to.into(), v);
        }
    }
    match *name {
        "drop_view" => {
            return Err(loc.err(
                "lore does not version views yet (a view is not part of a commit's effects, so \
                 dropping one could not be reverted); drop_view is not supported",
            ));
        }
        "restore_table" => {
            return Err(loc.err(
                "restore_table is internal to lore-sh's revert; to undo a commit run 'lore revert'",
            ));
        }
        "create_table" => {
            let cols_loc = loc.key("columns");
            let cols = match m.remove("columns") {
                Some(Json::Array(c)) if !c.is_empty() => c,
                _ => return Err(cols_loc.err("must be an array of at least one column")),
            };
            let cols: Vec<Json> = cols
                .into_iter()
                .enumerate()
                .map(|(c, col)| column(col, &cols_loc.idx(c)))
                .collect::<Result<_, _>>()?;
            let keys = cols
                .iter()
                .filter(|c| c.get("primary_key") == Some(&Json::Bool(true)))
                .count();
            if keys != 1 {
                return Err(cols_loc.err(format!(
                    "a table needs exactly one column with \"primaryKey\": true (found {keys})"
                )));
            }
            take(&mut m, &mut out, "table", "table");
            out.insert("columns".into(), Json::Array(cols));
        }
        "add_column" => {
            let col = m.remove("column").unwrap_or(Json::Null);
            out.insert("column".into(), column(col, &loc.key("column"))?);
            take(&mut m, &mut out, "table", "table");
        }
        "insert" => {
            let values = primitives(m.remove("values"), &loc.key("values"))?;
            take(&mut m, &mut out, "table", "table");
            out.insert("rows".into(), Json::Array(vec![values]));
        }
        "update" => {
            let values = primitives(m.remove("values"), &loc.key("values"))?;
            let filter = primitives(m.remove("where"), &loc.key("where"))?;
            take(&mut m, &mut out, "table", "table");
            out.insert("set".into(), values);
            out.insert("where".into(), filter);
        }
        "delete" => {
            let filter = primitives(m.remove("where"), &loc.key("where"))?;
            take(&mut m, &mut out, "table", "table");
            out.insert("where".into(), filter);
        }
        _ => {
            for f in *fields {
                identifier_sh(&m, f, &loc)?;
                let to = if *f == "newType" { "new_type" } else { f };
                take(&mut m, &mut out, f, to);
            }
        }
    }
    if let Some(Json::String(t)) = out.get("table") {
        check_identifier_sh(t, &loc.key("table"))?;
    }
    Ok(Json::Object(out))
}

/// lore-sh's identifiers: letters, digits and `_` (names, tables and columns). `newType` and
/// `expression` are not identifiers and are checked by lore's own rules after translation.
fn identifier_sh(m: &Map<String, Json>, key: &str, loc: &Loc) -> Result<(), PlanError> {
    match m.get(key) {
        Some(Json::String(s)) if matches!(key, "table" | "column" | "name") => {
            check_identifier_sh(s, &loc.key(key))
        }
        _ => Ok(()),
    }
}

fn check_identifier_sh(s: &str, loc: &Loc) -> Result<(), PlanError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(loc.err(format!(
            "{s:?} is not a lore-sh identifier: letters, digits and '_' only"
        )));
    }
    Ok(())
}

/// A lore-sh column definition as lore's.
fn column(col: Json, loc: &Loc) -> Result<Json, PlanError> {
    let Json::Object(mut m) = col else {
        return Err(loc.err(format!(
            "a column is an object like {{\"name\": \"title\", \"type\": \"TEXT\", \"notNull\": \
             true}}, not {}",
            value::json_type_name(&col)
        )));
    };
    only_sh(
        &m,
        &["name", "type", "notNull", "primaryKey", "unique", "default"],
        loc,
    )?;
    let mut out = Map::new();
    match m.remove("name") {
        Some(Json::String(n)) => {
            check_identifier_sh(&n, &loc.key("name"))?;
            out.insert("name".into(), Json::String(n));
        }
        _ => return Err(loc.err("\"name\" is required: the column's name (a string)")),
    }
    match m.remove("type") {
        Some(Json::String(t)) if !t.trim().is_empty() => {
            out.insert("type".into(), Json::String(t));
        }
        _ => {
            return Err(
                loc.err("\"type\" is required: the column's type, e.g. \"TEXT\" or \"INTEGER\"")
            );
        }
    }
    for (sh, native) in [
        ("notNull", "not_null"),
        ("primaryKey", "primary_key"),
        ("unique", "unique"),
    ] {
        match m.remove(sh) {
            None => {}
            Some(Json::Bool(b)) => {
                out.insert(native.into(), Json::Bool(b));
            }
            Some(other) => {
                return Err(loc
                    .key(sh)
                    .err(format!("must be true or false, not {}", short_json(&other))));
            }
        }
    }
    if let Some(d) = m.remove("default") {
        let dloc = loc.key("default");
        let Json::Object(mut d) = d else {
            return Err(dloc.err(
                "must be {\"kind\": \"literal\", \"value\": …} or {\"kind\": \"sql\", \"expr\": \
                 \"CURRENT_TIMESTAMP\"}",
            ));
        };
        match d.get("kind").and_then(Json::as_str) {
            Some("literal") => {
                only_sh(&d, &["kind", "value"], &dloc)?;
                let v = d
                    .remove("value")
                    .ok_or_else(|| dloc.err("\"value\" is required"))?;
                if v.is_object() || v.is_array() {
                    return Err(dloc
                        .key("value")
                        .err("must be a string, number, boolean or null"));
                }
                out.insert("default".into(), v);
            }
            Some("sql") => {
                only_sh(&d, &["kind", "expr"], &dloc)?;
                match d.remove("expr") {
                    Some(Json::String(e)) if table::SQL_DEFAULTS.contains(&e.as_str()) => {
                        out.insert("default_sql".into(), Json::String(e));
                    }
                    _ => {
                        return Err(dloc
                            .key("expr")
                            .err(format!("must be one of {}", table::SQL_DEFAULTS.join(", "))));
                    }
                }
            }
            _ => {
                return Err(dloc.key("kind").err("must be \"literal\" or \"sql\""));
            }
        }
    }
    Ok(Json::Object(out))
}

/// `values` and `where`: a non-empty object of column name to string, number, boolean or null.
fn primitives(v: Option<Json>, loc: &Loc) -> Result<Json, PlanError> {
    match v {
        Some(Json::Object(m)) if !m.is_empty() => {
            for (k, v) in &m {
                check_identifier_sh(k, &loc.key(k))?;
                if v.is_object() || v.is_array() {
                    return Err(loc.key(k).err(format!(
                        "must be a string, number, boolean or null, not {}",
                        value::json_type_name(v)
                    )));
                }
            }
            Ok(Json::Object(m))
        }
        _ => Err(loc.err("must be a non-empty object of column names to values")),
    }
}

/// Unknown fields are errors, as in lore-sh's strict schema; lore's spelling of a field gets
/// a hint.
fn only_sh(m: &Map<String, Json>, allowed: &[&str], loc: &Loc) -> Result<(), PlanError> {
    let Some(unknown) = m.keys().find(|k| !allowed.contains(&k.as_str())) else {
        return Ok(());
    };
    let lore_sh_for = match unknown.as_str() {
        "rows" | "set" => Some("values"),
        "new_type" => Some("newType"),
        "not_null" => Some("notNull"),
        "primary_key" => Some("primaryKey"),
        "expect" => Some("baseSchemaHash"),
        _ => None,
    };
    let hint = match lore_sh_for {
        Some(sh) if allowed.contains(&sh) => {
            format!(
                " (did you mean \"{sh}\"? \"{unknown}\" is lore's spelling, this plan is lore-sh's)"
            )
        }
        _ => String::new(),
    };
    let list: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
    Err(loc.err(format!(
        "unknown field {}{hint}; allowed here: {}",
        Json::String(unknown.clone()),
        list.join(", ")
    )))
}

/// An error found in the translated plan, with its path in lore-sh's spelling.
pub(super) fn respell(mut e: PlanError) -> PlanError {
    for (native, sh) in [
        (".rows[0]", ".values"),
        (".set", ".values"),
        (".not_null", ".notNull"),
        (".primary_key", ".primaryKey"),
        (".new_type", ".newType"),
        (".default_sql", ".default"),
    ] {
        e.path = e.path.replace(native, sh);
    }
    e
}
