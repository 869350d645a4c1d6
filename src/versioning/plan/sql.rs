//! The `sql` operation's early check: statements it may not run, and why (the engine's
//! authorizer enforces the same; this gives the clearer message first).

use super::*;

/// Statements an `sql` operation may not run, with why.
pub(super) const FORBIDDEN_STATEMENTS: [(&str, &str); 12] = [
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

pub(super) const TRANSACTION_REASON: &str =
    "lore runs the whole plan in one transaction and commits or rolls it back itself";

/// The friendly early check of an `sql` operation's text. (The engine enforces the same with an
/// SQLite authorizer; this check only gives a clearer message before anything runs.)
pub(super) fn lint_sql(sql: &str) -> Result<(), String> {
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
pub(super) fn statements(sql: &str) -> Vec<Vec<String>> {
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
