//! The `where` of `update` and `delete`: conditions on columns (docs/plans.md, "where").

use super::*;

pub(super) const OPERATORS: &str = "eq, ne, gt, gte, lt, lte, in, is_null";

pub(super) fn filter(v: &mut Json, loc: &Loc, verb: &str) -> Result<Filter, PlanError> {
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
pub(super) fn tests(cond: &mut Json, loc: &Loc) -> Result<Vec<Test>, PlanError> {
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

pub(super) fn non_null(slot: &mut Json, loc: &Loc, instead: &str) -> Result<Value, PlanError> {
    match value_at(slot, loc)? {
        Value::Null => Err(loc.err(format!(
            "null compares as unknown in SQL and matches nothing; test for null with {instead}"
        ))),
        v => Ok(v),
    }
}
