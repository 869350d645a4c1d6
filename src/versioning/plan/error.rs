//! Where in a plan a part is, and the errors that name it (docs/plans.md: every error names
//! the JSON path, the operation's index and op, and what is accepted instead).

use super::*;

/// Where in the plan a part is: its JSON path and the operation it belongs to.
#[derive(Debug, Clone)]
pub(super) struct Loc {
    pub(super) path: String,
    pub(super) operation: Option<usize>,
    pub(super) op: Option<&'static str>,
}

impl Loc {
    pub(super) fn root() -> Loc {
        Loc {
            path: String::new(),
            operation: None,
            op: None,
        }
    }

    pub(super) fn key(&self, k: &str) -> Loc {
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

    pub(super) fn idx(&self, i: usize) -> Loc {
        Loc {
            path: format!("{}[{i}]", self.path),
            ..self.clone()
        }
    }

    pub(super) fn err(&self, message: impl Into<String>) -> PlanError {
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
    pub(super) fn with_operation_from_path(mut self, text: &str) -> Self {
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
pub(super) fn only(m: &Map<String, Json>, allowed: &[&str], loc: &Loc) -> Result<(), PlanError> {
    let Some(unknown) = m.keys().find(|k| !allowed.contains(&k.as_str())) else {
        return Ok(());
    };
    let snake = to_snake_case(unknown);
    let hint = match allowed.iter().find(|a| **a == snake) {
        Some(a) if *a != unknown => format!(" (did you mean \"{a}\"? names are snake_case)"),
        _ if unknown == "values" => match ["rows", "set"].iter().find(|a| allowed.contains(a)) {
            Some(a) => format!(" (did you mean \"{a}\"? \"values\" is lore-sh's spelling)"),
            None => String::new(),
        },
        _ if unknown == "baseSchemaHash" => " (\"baseSchemaHash\" is lore-sh's; it cannot be \
             mixed with lore's \"expect\" or \"version\")"
            .to_owned(),
        _ => String::new(),
    };
    let list: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
    Err(loc.err(format!(
        "unknown field {}{hint}; allowed here: {}",
        Json::String(unknown.clone()),
        list.join(", ")
    )))
}

pub(super) fn to_snake_case(s: &str) -> String {
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

pub(super) fn expect_head(e: &Json, loc: &Loc) -> Result<ExpectHead, PlanError> {
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

pub(super) fn short_json(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 70 {
        let cut: String = s.chars().take(67).collect();
        format!("{cut}...")
    } else {
        s
    }
}
