//! Changes SQLite's `ALTER TABLE` cannot make: a column's declared type, and a table's CHECK
//! constraints (docs/plans.md: `alter_column_type`, `add_check`, `drop_check`).
//!
//! The table's `CREATE TABLE` statement is edited as text, token by token (quotes, comments and
//! nested parentheses respected), and written back with `PRAGMA writable_schema`, the procedure
//! SQLite documents for changes that leave the stored records valid (sqlite.org/lang_altertable.html,
//! "making other kinds of table schema changes"). The rows stay where they are: the caller
//! ([`super::apply`]) runs it inside [`super::Tx::schema_change`], which records the table's
//! before and after snapshots, so the change is verified and revertible like any other.
//!
//! Refused: a CHECK expression that is not one SQL expression (a `;`, a comment, unbalanced
//! parentheses, anything SQLite will not accept in a CHECK of this table), a CHECK that existing
//! rows break, and a type change of a table that has triggers (converting the stored values
//! would fire them, and their effects would go unrecorded).

use rusqlite::{Connection, OptionalExtension};

use super::Error;
use super::schema::quote;

/// One token of SQL text: its byte range and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tok {
    start: usize,
    end: usize,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A keyword or bare identifier (or a number).
    Word,
    /// A quoted identifier: `"x"`, `` `x` ``, `[x]`.
    Ident,
    /// A string literal `'x'`.
    Str,
    /// One punctuation character.
    Punct(char),
    /// A comment (`-- …` or `/* … */`).
    Comment,
}

fn tokenize(sql: &str) -> Result<Vec<Tok>, String> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(b.len(), |n| i + n);
                Kind::Comment
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let close = sql[i + 2..]
                    .find("*/")
                    .ok_or("an unterminated /* comment")?;
                i = i + 2 + close + 2;
                Kind::Comment
            }
            b'\'' | b'"' | b'`' => {
                i = end_of_quote(b, i, c).ok_or("an unterminated quote")?;
                if c == b'\'' { Kind::Str } else { Kind::Ident }
            }
            b'[' => {
                let close = sql[i..].find(']').ok_or("an unterminated [identifier]")?;
                i += close + 1;
                Kind::Ident
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'$'
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                // One character (UTF-8 lead bytes are >= 0x80 and handled above).
                i += 1;
                Kind::Punct(c as char)
            }
        };
        out.push(Tok {
            start,
            end: i,
            kind,
        });
    }
    Ok(out)
}

/// The index just past the quote that closes the one at `i` (a doubled quote is an escape).
fn end_of_quote(b: &[u8], i: usize, q: u8) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == q {
            if b.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return Some(j + 1);
        }
        j += 1;
    }
    None
}

fn is_word(sql: &str, t: &Tok, word: &str) -> bool {
    t.kind == Kind::Word && sql[t.start..t.end].eq_ignore_ascii_case(word)
}

/// The name an identifier token stands for (quotes removed, doubled quotes undone).
fn ident_name(sql: &str, t: &Tok) -> String {
    let text = &sql[t.start..t.end];
    match t.kind {
        Kind::Ident if text.starts_with('[') => text[1..text.len() - 1].to_owned(),
        Kind::Ident => {
            let q = &text[..1];
            text[1..text.len() - 1].replace(&format!("{q}{q}"), q)
        }
        _ => text.to_owned(),
    }
}

/// Tokens compared for equality of meaning: comments dropped, keywords and bare names without
/// regard to ASCII case, and a quoted name equal to the bare one.
fn normalized(sql: &str, toks: &[Tok]) -> Vec<String> {
    toks.iter()
        .filter(|t| t.kind != Kind::Comment)
        .map(|t| match t.kind {
            Kind::Word | Kind::Ident => ident_name(sql, t).to_ascii_lowercase(),
            _ => sql[t.start..t.end].to_owned(),
        })
        .collect()
}

/// A CREATE TABLE statement split into its parts.
struct CreateTable<'a> {
    sql: &'a str,
    toks: Vec<Tok>,
    /// Token index of the `(` that opens the definitions and of the `)` that closes them.
    open: usize,
    close: usize,
    /// The definitions: token index ranges between top-level commas.
    elements: Vec<(usize, usize)>,
}

/// Words that start a column constraint: a column's type ends before the first of them.
const COLUMN_CONSTRAINTS: [&str; 11] = [
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
];

/// Words that start a table constraint.
const TABLE_CONSTRAINTS: [&str; 5] = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"];

impl<'a> CreateTable<'a> {
    fn parse(sql: &'a str) -> Result<CreateTable<'a>, String> {
        let toks = tokenize(sql)?;
        let open = toks
            .iter()
            .position(|t| t.kind == Kind::Punct('('))
            .ok_or("no column list")?;
        let mut depth = 0usize;
        let mut close = None;
        let mut elements = Vec::new();
        let mut from = open + 1;
        for (i, t) in toks.iter().enumerate().skip(open) {
            match t.kind {
                Kind::Punct('(') => depth += 1,
                Kind::Punct(')') => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(i);
                        elements.push((from, i));
                        break;
                    }
                }
                Kind::Punct(',') if depth == 1 => {
                    elements.push((from, i));
                    from = i + 1;
                }
                _ => {}
            }
        }
        let close = close.ok_or("an unclosed column list")?;
        Ok(CreateTable {
            sql,
            toks,
            open,
            close,
            elements,
        })
    }

    /// The tokens of an element, comments left out.
    fn element_toks(&self, (a, b): (usize, usize)) -> Vec<(usize, Tok)> {
        (a..b)
            .map(|i| (i, self.toks[i]))
            .filter(|(_, t)| t.kind != Kind::Comment)
            .collect()
    }

    fn is_table_constraint(&self, el: (usize, usize)) -> bool {
        self.element_toks(el)
            .first()
            .is_some_and(|(_, t)| TABLE_CONSTRAINTS.iter().any(|w| is_word(self.sql, t, w)))
    }

    /// The byte range of column `column`'s declared type: empty (at the end of the name) when it
    /// has none.
    fn type_span(&self, column: &str) -> Option<(usize, usize)> {
        for &el in &self.elements {
            if self.is_table_constraint(el) {
                continue;
            }
            let toks = self.element_toks(el);
            let Some((_, name)) = toks.first() else {
                continue;
            };
            if !ident_name(self.sql, name).eq_ignore_ascii_case(column) {
                continue;
            }
            let mut end = name.end;
            let mut start = None;
            let mut depth = 0usize;
            for (_, t) in &toks[1..] {
                match t.kind {
                    Kind::Punct('(') => depth += 1,
                    Kind::Punct(')') => depth = depth.saturating_sub(1),
                    Kind::Word
                        if depth == 0
                            && COLUMN_CONSTRAINTS.iter().any(|w| is_word(self.sql, t, w)) =>
                    {
                        break;
                    }
                    _ => {}
                }
                start.get_or_insert(t.start);
                end = t.end;
            }
            return Some((start.unwrap_or(name.end), end));
        }
        None
    }

    /// The CHECK constraints: for each, the byte range to cut to remove it (with its
    /// `CONSTRAINT name` and, for a table constraint, the comma before it) and its expression's
    /// tokens.
    fn checks(&self) -> Vec<((usize, usize), (usize, usize))> {
        let mut out = Vec::new();
        for &el in &self.elements {
            let toks = self.element_toks(el);
            let mut k = 0;
            while k < toks.len() {
                let (ti, t) = toks[k];
                if !is_word(self.sql, &t, "CHECK") {
                    k += 1;
                    continue;
                }
                let Some(&(oi, open)) = toks.get(k + 1) else {
                    break;
                };
                if open.kind != Kind::Punct('(') {
                    k += 1;
                    continue;
                }
                let mut depth = 0usize;
                let mut close_idx = None;
                for (j, &(ci, c)) in toks.iter().enumerate().skip(k + 1) {
                    match c.kind {
                        Kind::Punct('(') => depth += 1,
                        Kind::Punct(')') => {
                            depth -= 1;
                            if depth == 0 {
                                close_idx = Some((j, ci));
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let Some((j, ci)) = close_idx else { break };
                // A `CONSTRAINT name` right before belongs to it.
                let mut cut_start = self.toks[ti].start;
                if k >= 2 && is_word(self.sql, &toks[k - 2].1, "CONSTRAINT") {
                    cut_start = toks[k - 2].1.start;
                }
                let cut_end = self.toks[ci].end;
                let whole_element = self.is_table_constraint(el)
                    && toks.first().map(|(_, t)| t.start) == Some(cut_start)
                    && toks.last().map(|(_, t)| t.end) == Some(cut_end);
                let cut = if whole_element {
                    // Remove the element with the comma before it (a table constraint is never
                    // the first element: a table has at least one column).
                    let comma = self.toks[el.0 - 1];
                    (comma.start, cut_end)
                } else {
                    let before = self.sql[..cut_start].trim_end_matches([' ', '\t', '\n', '\r']);
                    (before.len(), cut_end)
                };
                out.push((cut, (oi + 1, ci)));
                k = j + 1;
            }
        }
        out
    }
}

/// Checks that `expr` is a single SQL expression fit to paste between the parentheses of a
/// CHECK: quotes closed, parentheses balanced, no `;` and no comment (which could swallow the
/// closing parenthesis).
pub fn check_expression(expr: &str) -> Result<(), String> {
    let toks = tokenize(expr).map_err(|e| format!("the expression has {e}"))?;
    if toks.is_empty() {
        return Err("the expression is empty".into());
    }
    let mut depth = 0i64;
    for t in &toks {
        match t.kind {
            Kind::Comment => return Err("the expression may not hold a comment".into()),
            Kind::Punct(';') => return Err("the expression may not hold ';'".into()),
            Kind::Punct('(') => depth += 1,
            Kind::Punct(')') => {
                depth -= 1;
                if depth < 0 {
                    return Err("the expression has an unmatched ')'".into());
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("the expression has an unmatched '('".into());
    }
    Ok(())
}

/// The `CREATE TABLE` statement of `table` and its name as stored.
fn create_sql(conn: &Connection, table: &str) -> Result<(String, String), Error> {
    conn.query_row(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
        [table],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| Error::Invalid(format!("no table named '{table}'")))
}

/// Proves that SQLite accepts `new_sql` as a table definition by creating it, under another
/// name, in the connection's temporary schema, and dropping it again.
fn probe(conn: &Connection, ct: &CreateTable<'_>) -> Result<(), Error> {
    let body = &ct.sql[ct.toks[ct.open].start..];
    let name = "lore_alter_probe";
    let sql = format!("CREATE TEMP TABLE {} {body}", quote(name));
    let created = conn.execute_batch(&sql);
    let _ = conn.execute_batch(&format!("DROP TABLE IF EXISTS temp.{}", quote(name)));
    created.map_err(|e| Error::Invalid(format!("SQLite refuses the new definition: {e}")))
}

/// Writes `new_sql` as the definition of `name` (its rows untouched) and has SQLite reload the
/// schema. Runs inside the caller's transaction.
fn write_definition(conn: &Connection, name: &str, new_sql: &str) -> Result<(), Error> {
    let version: i64 = conn.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA writable_schema = ON")?;
    let updated = conn.execute(
        "UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = ?2",
        [new_sql, name],
    );
    let bumped = conn.execute_batch(&format!("PRAGMA schema_version = {}", version + 1));
    let reset = conn.execute_batch("PRAGMA writable_schema = RESET");
    updated?;
    bumped?;
    reset?;
    Ok(())
}

fn reparse(sql: &str) -> Result<CreateTable<'_>, Error> {
    CreateTable::parse(sql).map_err(|e| {
        Error::Invalid(format!(
            "cannot read the table's CREATE TABLE statement ({e})"
        ))
    })
}

/// `add_check`: adds `CHECK (expr)` as a table constraint, after checking every row obeys it.
pub fn add_check(conn: &Connection, table: &str, expr: &str) -> Result<(), Error> {
    check_expression(expr).map_err(Error::Invalid)?;
    let (name, sql) = create_sql(conn, table)?;
    let ct = reparse(&sql)?;
    if ct
        .checks()
        .iter()
        .any(|(_, (a, b))| same_expression(&sql, &ct.toks[*a..*b], expr))
    {
        return Err(Error::Invalid(format!(
            "table '{name}' already has CHECK ({expr})"
        )));
    }
    let at = ct.toks[ct.close].start;
    let new_sql = format!("{}, CHECK ({expr}){}", &sql[..at], &sql[at..]);
    probe(conn, &reparse(&new_sql)?)?;
    let broken: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM {} WHERE NOT ({expr})", quote(&name)),
            [],
            |r| r.get(0),
        )
        .map_err(|e| Error::Invalid(format!("SQLite refuses the expression: {e}")))?;
    if broken > 0 {
        return Err(Error::Invalid(format!(
            "{broken} row(s) of '{name}' break CHECK ({expr}); change or delete them first"
        )));
    }
    write_definition(conn, &name, &new_sql)
}

fn same_expression(sql: &str, toks: &[Tok], expr: &str) -> bool {
    let Ok(other) = tokenize(expr) else {
        return false;
    };
    normalized(sql, toks) == normalized(expr, &other)
}

/// `drop_check`: removes the CHECK constraint whose expression is `expr` (compared token by
/// token: whitespace, comments and the case of keywords and names do not matter).
pub fn drop_check(conn: &Connection, table: &str, expr: &str) -> Result<(), Error> {
    let (name, sql) = create_sql(conn, table)?;
    let ct = reparse(&sql)?;
    let checks = ct.checks();
    let Some(((a, b), _)) = checks
        .iter()
        .find(|(_, (a, b))| same_expression(&sql, &ct.toks[*a..*b], expr))
    else {
        let have: Vec<String> = checks
            .iter()
            .map(|(_, (a, b))| {
                let (s, e) = (ct.toks[*a].start, ct.toks[*b - 1].end);
                format!("CHECK ({})", &sql[s..e])
            })
            .collect();
        return Err(Error::Invalid(if have.is_empty() {
            format!("table '{name}' has no CHECK constraint")
        } else {
            format!(
                "table '{name}' has no CHECK ({expr}); it has {}",
                have.join(", ")
            )
        }));
    };
    let new_sql = format!("{}{}", &sql[..*a], &sql[*b..]);
    probe(conn, &reparse(&new_sql)?)?;
    write_definition(conn, &name, &new_sql)
}

/// `alter_column_type`: declares `column` with `new_type` and converts its stored values to the
/// new type's affinity, as copying them into a rebuilt table would.
pub fn alter_column_type(
    conn: &Connection,
    table: &str,
    column: &str,
    new_type: &str,
) -> Result<(), Error> {
    let (name, sql) = create_sql(conn, table)?;
    let triggers: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1",
        [&name],
        |r| r.get(0),
    )?;
    if triggers > 0 {
        return Err(Error::Invalid(format!(
            "table '{name}' has triggers: converting its values would fire them unrecorded; \
             drop the triggers first (drop_trigger) and create them again after"
        )));
    }
    let ct = reparse(&sql)?;
    let (s, e) = ct
        .type_span(column)
        .ok_or_else(|| Error::Invalid(format!("table '{name}' has no column '{column}'")))?;
    let new_sql = if s == e {
        format!("{} {new_type}{}", &sql[..s], &sql[s..])
    } else {
        format!("{}{new_type}{}", &sql[..s], &sql[e..])
    };
    probe(conn, &reparse(&new_sql)?)?;
    write_definition(conn, &name, &new_sql)?;
    // Storing each value again applies the new affinity (TEXT '5' becomes INTEGER 5 in an
    // INTEGER column); a STRICT table refuses a value that does not fit.
    let col = quote(column);
    conn.execute(&format!("UPDATE {} SET {col} = {col}", quote(&name)), [])
        .map_err(|e| {
            Error::Invalid(format!(
                "the values of '{column}' do not fit {new_type}: {e}"
            ))
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(sql: &str) -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(sql).unwrap();
        c
    }

    fn def(c: &Connection, t: &str) -> String {
        create_sql(c, t).unwrap().1
    }

    #[test]
    fn type_spans_skip_quotes_comments_and_constraints() {
        let sql = "CREATE TABLE \"t(x\" (\"a,b\" VARCHAR(10, 2) NOT NULL, -- note, here\n \
                   [c] /* x */ INTEGER PRIMARY KEY, d, e TEXT CHECK (e <> ')'))";
        let ct = CreateTable::parse(sql).unwrap();
        let span = |c| ct.type_span(c).map(|(s, e)| &sql[s..e]);
        assert_eq!(span("a,b"), Some("VARCHAR(10, 2)"));
        assert_eq!(span("C"), Some("INTEGER"));
        assert_eq!(span("d"), Some(""));
        assert_eq!(span("e"), Some("TEXT"));
        assert_eq!(span("zz"), None);
    }

    #[test]
    fn checks_are_found_and_cut_with_their_names() {
        let c = db(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INT CHECK (n > 0), \
                    CONSTRAINT pos CHECK (id >= 0), CHECK ( n < 100 ))",
        );
        drop_check(&c, "t", "ID>=0").unwrap();
        assert_eq!(
            def(&c, "t"),
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INT CHECK (n > 0), CHECK ( n < 100 ))"
        );
        drop_check(&c, "t", "n > 0").unwrap();
        assert_eq!(
            def(&c, "t"),
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INT, CHECK ( n < 100 ))"
        );
        let e = drop_check(&c, "t", "n > 5").unwrap_err().to_string();
        assert_eq!(e, "table 't' has no CHECK (n > 5); it has CHECK (n < 100)");
        c.execute("INSERT INTO t VALUES (1, 500)", []).unwrap_err();
    }

    #[test]
    fn add_check_refuses_rows_that_break_it_and_bad_expressions() {
        let c = db("CREATE TABLE t (id INTEGER PRIMARY KEY, n INT) STRICT; \
                    INSERT INTO t VALUES (1, 5), (2, -1)");
        let e = add_check(&c, "t", "n > 0").unwrap_err().to_string();
        assert_eq!(
            e,
            "1 row(s) of 't' break CHECK (n > 0); change or delete them first"
        );
        for bad in [
            "n > 0); DROP TABLE t; --",
            "n > 0 -- x",
            "(n > 0",
            "n > 0)",
            "",
        ] {
            assert!(add_check(&c, "t", bad).is_err(), "{bad}");
        }
        let e = add_check(&c, "t", "(SELECT 1) = 1")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("SQLite refuses the new definition"), "{e}");
        add_check(&c, "t", "n > -5").unwrap();
        assert_eq!(
            def(&c, "t"),
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INT, CHECK (n > -5)) STRICT"
        );
        c.execute("INSERT INTO t VALUES (3, -9)", []).unwrap_err();
        c.execute("INSERT INTO t VALUES (3, 9)", []).unwrap();
    }

    #[test]
    fn alter_column_type_converts_values_like_a_rebuild() {
        let c = db(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT NOT NULL, m);
                    INSERT INTO t VALUES (1, '5', 'x'), (2, 'five', 'y')",
        );
        alter_column_type(&c, "t", "n", "INTEGER").unwrap();
        alter_column_type(&c, "t", "m", "VARCHAR(3)").unwrap();
        assert_eq!(
            def(&c, "t"),
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, m VARCHAR(3))"
        );
        let types: Vec<String> = c
            .prepare("SELECT typeof(n) FROM t ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(types, ["integer", "text"]);
        c.execute_batch("CREATE TRIGGER tr AFTER UPDATE ON t BEGIN SELECT 1; END")
            .unwrap();
        assert!(alter_column_type(&c, "t", "n", "TEXT").is_err());
        assert!(
            c.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
                .unwrap()
                == "ok"
        );
    }
}
