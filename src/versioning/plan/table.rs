//! `create_table` and `add_column`: column definitions, types, defaults and foreign keys,
//! checked against what SQLite accepts before anything runs.

use super::*;

pub(super) fn create_table(f: &mut Fields<'_>) -> Result<Operation, PlanError> {
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

pub(super) const STRICT_TYPES: [&str; 6] = ["INT", "INTEGER", "REAL", "TEXT", "BLOB", "ANY"];

pub(super) fn column_def(v: &mut Json, loc: &Loc) -> Result<ColumnDef, PlanError> {
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
            "default_sql",
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
    let default_sql = match m.get("default_sql") {
        None => None,
        Some(_) if default.is_some() => {
            return Err(loc
                .key("default_sql")
                .err("a column has \"default\" or \"default_sql\", not both"));
        }
        Some(Json::String(e)) => match SQL_DEFAULTS.iter().find(|d| d.eq_ignore_ascii_case(e)) {
            Some(d) => Some(*d),
            None => {
                return Err(loc.key("default_sql").err(format!(
                    "{e:?} is not accepted; one of {}",
                    SQL_DEFAULTS.join(", ")
                )));
            }
        },
        Some(other) => {
            return Err(loc.key("default_sql").err(format!(
                "must be one of {}, not {}",
                SQL_DEFAULTS.join(", "),
                short_json(other)
            )));
        }
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
        default_sql,
        references,
    })
}

/// The SQL expressions a column default may be (`"default_sql"`): the time of the insert.
pub(super) const SQL_DEFAULTS: [&str; 3] = ["CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME"];

pub(super) fn foreign_key(v: &Json, loc: &Loc) -> Result<ForeignKey, PlanError> {
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
pub(super) const TYPE_STOP_WORDS: [&str; 21] = [
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
pub(super) fn check_type(t: &str) -> Result<(), String> {
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
pub(super) fn check_added_column(c: &ColumnDef, loc: &Loc) -> Result<(), PlanError> {
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
    let non_null_default =
        matches!(&c.default, Some(d) if *d != Value::Null) || c.default_sql.is_some();
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
