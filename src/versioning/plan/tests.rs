//! Tests of plan parsing: one per rule of docs/plans.md.

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
        default_sql: None,
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
    let p = Plan::from_value(plan_with(json!([{"op": "drop_table", "table": "t"}]))).expect("plan");
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
        e.starts_with("operations[0].columns[0].primary_key (create_table): must be true or false"),
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
        e.starts_with("operations[0].columns[0].default (create_table): an array is not a value"),
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
                default_sql: None,
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
    assert_eq!(
        op,
        Operation::DropIndex {
            name: "i".into(),
            table: None
        }
    );
    assert!(op.tables().is_empty());
}

#[test]
fn schema_op_rules() {
    let add = |c: Json| bad(json!({"op": "add_column", "table": "t", "column": c}));
    let e = add(json!({"name": "c", "primary_key": true}));
    assert!(
        e.starts_with(
            "operations[0].column.primary_key (add_column): SQLite cannot add a primary-key column"
        ),
        "{e}"
    );
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
    let e = add(json!({"name": "c", "default": 1, "references": {"table": "u", "column": "id"}}));
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
    let op = ok(json!({"op": "delete", "table": "t", "where": {"id": 7}, "expect": {"count": 0}}));
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
    let c = conditions(json!({"n": {"gt": 3, "lt": 9, "gte": 1, "lte": {"$int": "8"}, "ne": 5}}));
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
        e.starts_with("operations[0].where (delete): must be \"all\" or an object of conditions"),
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
    assert!(
        e.starts_with(
            "operations[0].where[\"my col\"].gt (delete): integer 18446744073709551615 does not fit"
        ),
        "{e}"
    );
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
        e.starts_with("operations[0].rows[0].id (insert): \"id\" and \"ID\" are the same column"),
        "{e}"
    );
    let e = bad(json!({"op": "insert", "table": "t", "rows": [{"id": {"$blob": "!"}}]}));
    assert!(
        e.starts_with("operations[0].rows[0].id (insert): {\"$blob\": ...}: not valid base64"),
        "{e}"
    );
    let e = bad(json!({"op": "insert", "table": "t", "rows": [{"id": {"$int": 1}}]}));
    assert!(
        e.starts_with("operations[0].rows[0].id (insert): {\"$int\": 1} is not a 64-bit integer"),
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
    let e = Plan::from_value(
        json!({"message": "m", "operations": [{"op": "drop_table", "table": "t"}], "author": "x"}),
    )
    .expect_err("unknown top field")
    .to_string();
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
    assert!(e.ends_with("allowed here: \"name\", \"type\", \"primary_key\", \"not_null\", \"unique\", \"default\", \"default_sql\", \"references\""), "{e}");
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
         drop_column, alter_column_type, rename_table, drop_table, add_check, drop_check, \
         create_index, drop_index, drop_trigger, insert, upsert, update, delete, sql"
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
    assert!(Plan::from_value(json!({"version": 1, "message": "m", "operations": drop})).is_ok());

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
