//! Row-level change capture through SQLite's session extension (a "session" there is
//! SQLite's word for a change recorder; in lore a session is a transcript, so the type here is
//! [`ChangeRecorder`])
//! (<https://www.sqlite.org/sessionintro.html>).
//!
//! A [`ChangeRecorder`] records every row an arbitrary statement inserts, updates or deletes through one
//! connection, trigger and foreign-key side effects included, and [`ChangeRecorder::changes`] decodes
//! the result into plain [`Change`] values.
//!
//! The extension is compiled into the bundled SQLite by `LIBSQLITE3_FLAGS` in
//! `.cargo/config.toml` (`-DSQLITE_ENABLE_SESSION -DSQLITE_ENABLE_PREUPDATE_HOOK`). rusqlite's own
//! `session` feature would do the same but forces bindgen (libclang at build time), so the few
//! functions used here are declared by hand in [`sys`], checked against the `sqlite3.h` shipped
//! with libsqlite3-sys 0.39.1 (SQLite 3.54.1).

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::marker::PhantomData;
use std::ptr;

use rusqlite::Connection;
use rusqlite::ffi;
use rusqlite::types::Value;

/// Hand-written declarations of the session-extension functions lore calls (sqlite3session.h,
/// merged into the amalgamation's `sqlite3.h`). They link against the bundled SQLite built with
/// `SQLITE_ENABLE_SESSION`.
#[allow(non_camel_case_types)]
mod sys {
    use std::ffi::{c_char, c_int, c_uchar, c_void};
    use std::marker::{PhantomData, PhantomPinned};

    use rusqlite::ffi::{sqlite3, sqlite3_value};

    /// Opaque `sqlite3_session`.
    #[repr(C)]
    pub struct sqlite3_session {
        _private: [u8; 0],
        _marker: PhantomData<(*mut u8, PhantomPinned)>,
    }

    /// Opaque `sqlite3_changeset_iter`.
    #[repr(C)]
    pub struct sqlite3_changeset_iter {
        _private: [u8; 0],
        _marker: PhantomData<(*mut u8, PhantomPinned)>,
    }

    unsafe extern "C" {
        pub fn sqlite3session_create(
            db: *mut sqlite3,
            zDb: *const c_char,
            ppSession: *mut *mut sqlite3_session,
        ) -> c_int;
        pub fn sqlite3session_delete(pSession: *mut sqlite3_session);
        /// `zTab` NULL attaches every table of the schema.
        pub fn sqlite3session_attach(pSession: *mut sqlite3_session, zTab: *const c_char) -> c_int;
        pub fn sqlite3session_changeset(
            pSession: *mut sqlite3_session,
            pnChangeset: *mut c_int,
            ppChangeset: *mut *mut c_void,
        ) -> c_int;
        pub fn sqlite3session_isempty(pSession: *mut sqlite3_session) -> c_int;

        pub fn sqlite3changeset_start(
            pp: *mut *mut sqlite3_changeset_iter,
            nChangeset: c_int,
            pChangeset: *mut c_void,
        ) -> c_int;
        pub fn sqlite3changeset_next(pIter: *mut sqlite3_changeset_iter) -> c_int;
        pub fn sqlite3changeset_op(
            pIter: *mut sqlite3_changeset_iter,
            pzTab: *mut *const c_char,
            pnCol: *mut c_int,
            pOp: *mut c_int,
            pbIndirect: *mut c_int,
        ) -> c_int;
        pub fn sqlite3changeset_pk(
            pIter: *mut sqlite3_changeset_iter,
            pabPK: *mut *mut c_uchar,
            pnCol: *mut c_int,
        ) -> c_int;
        pub fn sqlite3changeset_old(
            pIter: *mut sqlite3_changeset_iter,
            iVal: c_int,
            ppValue: *mut *mut sqlite3_value,
        ) -> c_int;
        pub fn sqlite3changeset_new(
            pIter: *mut sqlite3_changeset_iter,
            iVal: c_int,
            ppValue: *mut *mut sqlite3_value,
        ) -> c_int;
        pub fn sqlite3changeset_finalize(pIter: *mut sqlite3_changeset_iter) -> c_int;
    }
}

/// Why recording or decoding changes failed.
#[derive(Debug, thiserror::Error)]
pub enum ChangesetError {
    /// A session function returned an error code (the message names the function and carries
    /// `sqlite3_errstr` of the code).
    #[error("SQLite session extension: {0}")]
    Sqlite(String),
    /// A table name contained a NUL byte and cannot be passed to SQLite.
    #[error("SQLite session extension: table name {0:?} contains a NUL byte")]
    TableName(String),
    /// A TEXT value in the changeset is not valid UTF-8, so it cannot become a [`Value::Text`].
    #[error("SQLite session extension: invalid UTF-8 text in table {table:?}, column {column}")]
    InvalidUtf8 { table: String, column: usize },
    /// The changeset contained something SQLite documents as impossible.
    #[error("SQLite session extension: unexpected changeset content: {0}")]
    Unexpected(String),
}

impl ChangesetError {
    fn sqlite(function: &str, rc: c_int) -> Self {
        // SAFETY: sqlite3_errstr accepts any code and returns a static, NUL-terminated string.
        let text = unsafe { CStr::from_ptr(ffi::sqlite3_errstr(rc)) };
        ChangesetError::Sqlite(format!(
            "{function} failed: {} (code {rc})",
            text.to_string_lossy()
        ))
    }
}

/// What happened to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeOp {
    Insert,
    Update,
    Delete,
}

/// One changed row, as recorded by a [`ChangeRecorder`].
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The table (of schema `main`).
    pub table: String,
    pub op: ChangeOp,
    /// True if every change to this row within the session was made by a trigger or a
    /// foreign-key action rather than by a top-level statement.
    pub indirect: bool,
    /// One entry per column in table order: primary-key flags.
    pub pk: Vec<bool>,
    /// Old values: Delete, all columns; Update, the primary key and the changed columns (None
    /// for unchanged ones); Insert, all None.
    pub old: Vec<Option<Value>>,
    /// New values: Insert, all columns; Update, the changed columns only (None for unchanged
    /// ones, including the primary key); Delete, all None.
    pub new: Vec<Option<Value>>,
}

impl Change {
    /// The primary-key values (from `old` for Update and Delete, from `new` for Insert), in
    /// column order.
    pub fn key(&self) -> Vec<Value> {
        let values = match self.op {
            ChangeOp::Insert => &self.new,
            ChangeOp::Update | ChangeOp::Delete => &self.old,
        };
        self.pk
            .iter()
            .zip(values)
            .filter(|(is_pk, _)| **is_pk)
            // Sessions never record a row whose key has a NULL, and key values are always
            // present on the side used here; Null is a defensive fallback only.
            .map(|(_, value)| value.clone().unwrap_or(Value::Null))
            .collect()
    }
}

/// Records the row changes made through one connection while it lives (SQLite's session
/// extension).
///
/// What is recorded, and how:
///
/// - Only changes made **through this connection** to the chosen tables of schema `main`, from
///   [`ChangeRecorder::new`] on. Changes by triggers and foreign-key actions are included and flagged
///   [`Change::indirect`].
/// - Tables **without a declared PRIMARY KEY are not recorded at all** (SQLite needs a key to
///   identify rows; the implicit rowid does not count), nor are rows whose key contains a NULL.
///   An `INTEGER PRIMARY KEY` (rowid alias) counts as a declared key.
/// - Only the **net effect per row** between the start of the session and the call to
///   [`ChangeRecorder::changes`] is reported: the session remembers each row's original values the first
///   time it changes and compares them with the row's current state when `changes` is called.
///   So INSERT then UPDATE of a row is one Insert with the final values; INSERT then DELETE is
///   nothing; DELETE then re-INSERT is an Update (or nothing if the values are the same); an
///   UPDATE that leaves every value equal is nothing; a rolled-back change is nothing.
/// - A change to a **primary-key column** is recorded as a Delete of the old key plus an Insert
///   of the new one.
/// - Changes to a table whose schema is altered during the session may make `changes` fail.
///
/// The session borrows the connection, so it cannot outlive it. To record inside a
/// `rusqlite::Transaction`, create it from the transaction (which derefs to `Connection`) and
/// drop it, or take its changes, before committing.
///
/// SQLite's session objects install the connection's pre-update hook; do not combine a session
/// with a hand-installed `sqlite3_preupdate_hook` on the same connection. Several sessions on
/// one connection are fine.
pub struct ChangeRecorder<'c> {
    raw: *mut sys::sqlite3_session,
    // Ties the session to the connection's lifetime; the raw pointer makes ChangeRecorder !Send and
    // !Sync, as the underlying connection is not thread-safe either.
    _conn: PhantomData<&'c Connection>,
}

impl<'c> ChangeRecorder<'c> {
    /// Starts recording changes to `tables` of schema `main` (an empty slice records nothing).
    ///
    /// The tables need not exist yet. Tables without a declared PRIMARY KEY are silently not
    /// recorded by SQLite (see [`ChangeRecorder`]).
    pub fn new(conn: &'c Connection, tables: &[&str]) -> Result<Self, ChangesetError> {
        let names = tables
            .iter()
            .map(|t| CString::new(*t).map_err(|_| ChangesetError::TableName((*t).to_owned())))
            .collect::<Result<Vec<_>, _>>()?;
        let session = Self::create(conn)?;
        for name in &names {
            session.attach(name.as_ptr())?;
        }
        Ok(session)
    }

    /// Starts recording changes to every table of schema `main`, including tables created
    /// later (still only those with a declared PRIMARY KEY).
    pub fn all_tables(conn: &'c Connection) -> Result<Self, ChangesetError> {
        let session = Self::create(conn)?;
        session.attach(ptr::null())?;
        Ok(session)
    }

    fn create(conn: &'c Connection) -> Result<Self, ChangesetError> {
        let mut raw = ptr::null_mut();
        // SAFETY: the handle is a valid, open connection for as long as `conn` is borrowed,
        // which the returned ChangeRecorder's lifetime enforces; "main" is NUL-terminated.
        let rc = unsafe { sys::sqlite3session_create(conn.handle(), c"main".as_ptr(), &mut raw) };
        if rc != ffi::SQLITE_OK || raw.is_null() {
            // sqlite3session_create zeroes the output on error, so there is nothing to free.
            return Err(ChangesetError::sqlite("sqlite3session_create", rc));
        }
        Ok(ChangeRecorder {
            raw,
            _conn: PhantomData,
        })
    }

    fn attach(&self, table: *const c_char) -> Result<(), ChangesetError> {
        // SAFETY: self.raw is a live session; `table` is NULL or a NUL-terminated string that
        // SQLite copies.
        let rc = unsafe { sys::sqlite3session_attach(self.raw, table) };
        if rc != ffi::SQLITE_OK {
            return Err(ChangesetError::sqlite("sqlite3session_attach", rc));
        }
        Ok(())
    }

    /// True if no change has been recorded so far. (A non-empty session may still yield no
    /// [`Change`], e.g. after INSERT then DELETE of the same row.)
    pub fn is_empty(&self) -> bool {
        // SAFETY: self.raw is a live session.
        unsafe { sys::sqlite3session_isempty(self.raw) != 0 }
    }

    /// The changes recorded so far, decoded, grouped by table.
    ///
    /// This reads the current state of the recorded rows through the connection (inside a
    /// savepoint), so call it once the statements of interest are done; it may be called more
    /// than once.
    pub fn changes(&self) -> Result<Vec<Change>, ChangesetError> {
        let mut len: c_int = 0;
        let mut buf: *mut c_void = ptr::null_mut();
        // SAFETY: self.raw is a live session; the out-pointers are valid.
        let rc = unsafe { sys::sqlite3session_changeset(self.raw, &mut len, &mut buf) };
        // Owns the buffer from here on (it is NULL on error or when empty).
        let buf = SqliteBuffer(buf);
        if rc != ffi::SQLITE_OK {
            return Err(ChangesetError::sqlite("sqlite3session_changeset", rc));
        }
        if len <= 0 || buf.0.is_null() {
            return Ok(Vec::new());
        }
        // SAFETY: buf holds `len` bytes of changeset produced by SQLite and outlives the decoding.
        unsafe { decode_changeset(len, buf.0) }
    }
}

impl Drop for ChangeRecorder<'_> {
    fn drop(&mut self) {
        // SAFETY: self.raw came from sqlite3session_create and is deleted exactly once; the
        // connection is still open (lifetime 'c).
        unsafe { sys::sqlite3session_delete(self.raw) }
    }
}

/// A buffer allocated by SQLite, freed with `sqlite3_free`.
struct SqliteBuffer(*mut c_void);

impl Drop for SqliteBuffer {
    fn drop(&mut self) {
        // SAFETY: the pointer is NULL or was allocated by SQLite and is freed exactly once.
        unsafe { ffi::sqlite3_free(self.0) }
    }
}

/// A changeset iterator, finalized exactly once whichever way decoding ends.
struct ChangesetIter(*mut sys::sqlite3_changeset_iter);

impl ChangesetIter {
    /// Finalizes the iterator, returning SQLite's verdict on the whole iteration.
    fn finish(mut self) -> Result<(), ChangesetError> {
        let raw = std::mem::replace(&mut self.0, ptr::null_mut());
        // SAFETY: raw is a live iterator, finalized here and never again (Drop sees NULL).
        let rc = unsafe { sys::sqlite3changeset_finalize(raw) };
        if rc != ffi::SQLITE_OK {
            return Err(ChangesetError::sqlite("sqlite3changeset_finalize", rc));
        }
        Ok(())
    }
}

impl Drop for ChangesetIter {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: a live iterator, finalized exactly once. The result only repeats an
            // error already being reported.
            unsafe { sys::sqlite3changeset_finalize(self.0) };
        }
    }
}

/// Decodes a changeset blob into owned [`Change`]s.
///
/// # Safety
/// `data` must point to `len` readable bytes that stay valid during the call.
unsafe fn decode_changeset(len: c_int, data: *mut c_void) -> Result<Vec<Change>, ChangesetError> {
    let mut raw = ptr::null_mut();
    // SAFETY: per this function's contract. The iterator does not copy the buffer, which
    // outlives it.
    let rc = unsafe { sys::sqlite3changeset_start(&mut raw, len, data) };
    let iter = ChangesetIter(raw);
    if rc != ffi::SQLITE_OK {
        return Err(ChangesetError::sqlite("sqlite3changeset_start", rc));
    }
    let mut changes = Vec::new();
    loop {
        // SAFETY: iter.0 is a live iterator.
        match unsafe { sys::sqlite3changeset_next(iter.0) } {
            ffi::SQLITE_ROW => {}
            ffi::SQLITE_DONE => break,
            rc => return Err(ChangesetError::sqlite("sqlite3changeset_next", rc)),
        }
        // SAFETY: iter.0 is a live iterator positioned on a change.
        changes.push(unsafe { decode_current(iter.0) }?);
    }
    iter.finish()?;
    Ok(changes)
}

/// Copies out the change the iterator is positioned on (pointers SQLite hands out are only
/// valid until the next step).
///
/// # Safety
/// `it` must be a live iterator on which `sqlite3changeset_next` last returned `SQLITE_ROW`.
unsafe fn decode_current(it: *mut sys::sqlite3_changeset_iter) -> Result<Change, ChangesetError> {
    let mut table_ptr: *const c_char = ptr::null();
    let mut ncol: c_int = 0;
    let mut op_code: c_int = 0;
    let mut indirect: c_int = 0;
    // SAFETY: per this function's contract; out-pointers are valid.
    let rc = unsafe {
        sys::sqlite3changeset_op(it, &mut table_ptr, &mut ncol, &mut op_code, &mut indirect)
    };
    if rc != ffi::SQLITE_OK {
        return Err(ChangesetError::sqlite("sqlite3changeset_op", rc));
    }
    if table_ptr.is_null() {
        return Err(ChangesetError::Unexpected(
            "change without a table name".into(),
        ));
    }
    // SAFETY: a NUL-terminated string valid until the next step; copied immediately.
    let name = unsafe { CStr::from_ptr(table_ptr) };
    let table = match name.to_str() {
        Ok(name) => name.to_owned(),
        Err(_) => {
            return Err(ChangesetError::Unexpected(format!(
                "table name {:?} is not valid UTF-8",
                name.to_string_lossy()
            )));
        }
    };
    let op = match op_code {
        ffi::SQLITE_INSERT => ChangeOp::Insert,
        ffi::SQLITE_UPDATE => ChangeOp::Update,
        ffi::SQLITE_DELETE => ChangeOp::Delete,
        other => {
            return Err(ChangesetError::Unexpected(format!(
                "operation code {other} for table {table:?}"
            )));
        }
    };
    let ncol = usize::try_from(ncol)
        .map_err(|_| ChangesetError::Unexpected(format!("{ncol} columns in table {table:?}")))?;

    let mut pk_ptr: *mut u8 = ptr::null_mut();
    let mut pk_ncol: c_int = 0;
    // SAFETY: per this function's contract; out-pointers are valid.
    let rc = unsafe { sys::sqlite3changeset_pk(it, &mut pk_ptr, &mut pk_ncol) };
    if rc != ffi::SQLITE_OK {
        return Err(ChangesetError::sqlite("sqlite3changeset_pk", rc));
    }
    if pk_ptr.is_null() || usize::try_from(pk_ncol).ok() != Some(ncol) {
        return Err(ChangesetError::Unexpected(format!(
            "primary-key flags for {pk_ncol} of {ncol} columns in table {table:?}"
        )));
    }
    // SAFETY: SQLite returns an array of `ncol` flags valid until the next step; copied now.
    let pk = unsafe { std::slice::from_raw_parts(pk_ptr, ncol) }
        .iter()
        .map(|flag| *flag != 0)
        .collect();

    // sqlite3changeset_old is only allowed for Update/Delete and _new for Insert/Update
    // (SQLITE_MISUSE otherwise), so the other side is all None without asking.
    let old = if op == ChangeOp::Insert {
        vec![None; ncol]
    } else {
        // SAFETY: per this function's contract.
        unsafe { read_values(it, ncol, &table, Side::Old) }?
    };
    let new = if op == ChangeOp::Delete {
        vec![None; ncol]
    } else {
        // SAFETY: per this function's contract.
        unsafe { read_values(it, ncol, &table, Side::New) }?
    };

    Ok(Change {
        table,
        op,
        indirect: indirect != 0,
        pk,
        old,
        new,
    })
}

#[derive(Clone, Copy)]
enum Side {
    Old,
    New,
}

/// Reads one side of the current change. A NULL `sqlite3_value*` means "undefined" (a column an
/// UPDATE left unchanged) and becomes None; an SQL NULL is `Some(Value::Null)`.
///
/// # Safety
/// As for [`decode_current`], and the operation must allow this side.
unsafe fn read_values(
    it: *mut sys::sqlite3_changeset_iter,
    ncol: usize,
    table: &str,
    side: Side,
) -> Result<Vec<Option<Value>>, ChangesetError> {
    let mut values = Vec::with_capacity(ncol);
    for column in 0..ncol {
        let mut value = ptr::null_mut();
        // `column` < ncol, which came from a c_int, so the cast is lossless.
        let index = column as c_int;
        // SAFETY: per this function's contract; `index` is in range; the out-pointer is valid.
        let (rc, function) = unsafe {
            match side {
                Side::Old => (
                    sys::sqlite3changeset_old(it, index, &mut value),
                    "sqlite3changeset_old",
                ),
                Side::New => (
                    sys::sqlite3changeset_new(it, index, &mut value),
                    "sqlite3changeset_new",
                ),
            }
        };
        if rc != ffi::SQLITE_OK {
            return Err(ChangesetError::sqlite(function, rc));
        }
        values.push(if value.is_null() {
            None
        } else {
            // SAFETY: a protected value owned by the iterator, valid until the next step.
            Some(unsafe { copy_value(value, table, column) }?)
        });
    }
    Ok(values)
}

/// Copies an `sqlite3_value` into an owned [`Value`].
///
/// # Safety
/// `value` must be a valid, non-NULL `sqlite3_value` pointer.
unsafe fn copy_value(
    value: *mut ffi::sqlite3_value,
    table: &str,
    column: usize,
) -> Result<Value, ChangesetError> {
    // SAFETY (whole block): `value` is valid per the contract. For TEXT and BLOB the data
    // pointer is fetched before sqlite3_value_bytes, as SQLite requires, and copied at once.
    unsafe {
        match ffi::sqlite3_value_type(value) {
            ffi::SQLITE_NULL => Ok(Value::Null),
            ffi::SQLITE_INTEGER => Ok(Value::Integer(ffi::sqlite3_value_int64(value))),
            ffi::SQLITE_FLOAT => Ok(Value::Real(ffi::sqlite3_value_double(value))),
            ffi::SQLITE_TEXT => {
                let text = ffi::sqlite3_value_text(value);
                let len = ffi::sqlite3_value_bytes(value);
                if text.is_null() {
                    // Only on out-of-memory while converting the encoding.
                    return Err(ChangesetError::sqlite(
                        "sqlite3_value_text",
                        ffi::SQLITE_NOMEM,
                    ));
                }
                let bytes = std::slice::from_raw_parts(text, usize::try_from(len).unwrap_or(0));
                match std::str::from_utf8(bytes) {
                    Ok(s) => Ok(Value::Text(s.to_owned())),
                    Err(_) => Err(ChangesetError::InvalidUtf8 {
                        table: table.to_owned(),
                        column,
                    }),
                }
            }
            ffi::SQLITE_BLOB => {
                let blob = ffi::sqlite3_value_blob(value);
                let len = usize::try_from(ffi::sqlite3_value_bytes(value)).unwrap_or(0);
                if len == 0 {
                    // sqlite3_value_blob returns NULL for a zero-length blob.
                    Ok(Value::Blob(Vec::new()))
                } else if blob.is_null() {
                    Err(ChangesetError::sqlite(
                        "sqlite3_value_blob",
                        ffi::SQLITE_NOMEM,
                    ))
                } else {
                    Ok(Value::Blob(
                        std::slice::from_raw_parts(blob.cast::<u8>(), len).to_vec(),
                    ))
                }
            }
            other => Err(ChangesetError::Unexpected(format!(
                "value type {other} in table {table:?}, column {column}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(schema: &str) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(schema).unwrap();
        conn
    }

    fn int(i: i64) -> Option<Value> {
        Some(Value::Integer(i))
    }

    fn text(s: &str) -> Option<Value> {
        Some(Value::Text(s.to_owned()))
    }

    /// The single change to `table` whose key is `key`.
    fn find<'a>(changes: &'a [Change], table: &str, key: &[Value]) -> &'a Change {
        let found: Vec<_> = changes
            .iter()
            .filter(|c| c.table == table && c.key() == key)
            .collect();
        assert_eq!(found.len(), 1, "{table} {key:?} in {changes:#?}");
        found[0]
    }

    const PEOPLE: &str = "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, age INTEGER);";

    #[test]
    fn empty_session_gives_no_changes() {
        let conn = db(PEOPLE);
        let session = ChangeRecorder::new(&conn, &["people"]).unwrap();
        assert!(session.is_empty());
        assert_eq!(session.changes().unwrap(), Vec::new());
        // Reads do not count.
        conn.query_row("SELECT count(*) FROM people", [], |r| r.get::<_, i64>(0))
            .unwrap();
        assert_eq!(session.changes().unwrap(), Vec::new());
    }

    #[test]
    fn insert_update_delete_with_integer_key() {
        let conn = db(PEOPLE);
        conn.execute_batch(
            "INSERT INTO people VALUES (1, 'ann', 30), (2, 'bob', 40), (3, 'cy', 50);",
        )
        .unwrap();
        let session = ChangeRecorder::new(&conn, &["people"]).unwrap();
        conn.execute_batch(
            "INSERT INTO people VALUES (4, 'dee', 20);
             UPDATE people SET age = 41 WHERE id = 2;
             DELETE FROM people WHERE id = 3;",
        )
        .unwrap();
        assert!(!session.is_empty());
        let changes = session.changes().unwrap();
        assert_eq!(changes.len(), 3, "{changes:#?}");

        let insert = find(&changes, "people", &[Value::Integer(4)]);
        assert_eq!(
            insert,
            &Change {
                table: "people".into(),
                op: ChangeOp::Insert,
                indirect: false,
                pk: vec![true, false, false],
                old: vec![None, None, None],
                new: vec![int(4), text("dee"), int(20)],
            }
        );

        let update = find(&changes, "people", &[Value::Integer(2)]);
        assert_eq!(
            update,
            &Change {
                table: "people".into(),
                op: ChangeOp::Update,
                indirect: false,
                pk: vec![true, false, false],
                // Key and changed column on the old side; unchanged name undefined.
                old: vec![int(2), None, int(40)],
                // Only the changed column on the new side.
                new: vec![None, None, int(41)],
            }
        );

        let delete = find(&changes, "people", &[Value::Integer(3)]);
        assert_eq!(
            delete,
            &Change {
                table: "people".into(),
                op: ChangeOp::Delete,
                indirect: false,
                pk: vec![true, false, false],
                old: vec![int(3), text("cy"), int(50)],
                new: vec![None, None, None],
            }
        );
    }

    #[test]
    fn composite_text_key() {
        let conn = db(
            "CREATE TABLE kv (ns TEXT, k TEXT, v TEXT, PRIMARY KEY (ns, k)) WITHOUT ROWID;
             CREATE TABLE kv2 (v TEXT, k TEXT, ns TEXT, PRIMARY KEY (ns, k));
             INSERT INTO kv VALUES ('a', 'x', '1'), ('a', 'y', '2');
             INSERT INTO kv2 VALUES ('1', 'x', 'a');",
        );
        let session = ChangeRecorder::new(&conn, &["kv", "kv2"]).unwrap();
        conn.execute_batch(
            "INSERT INTO kv VALUES ('b', 'x', '3');
             UPDATE kv SET v = '20' WHERE ns = 'a' AND k = 'y';
             DELETE FROM kv WHERE ns = 'a' AND k = 'x';
             UPDATE kv2 SET v = '10';",
        )
        .unwrap();
        let changes = session.changes().unwrap();
        assert_eq!(changes.len(), 4, "{changes:#?}");
        let key = |ns: &str, k: &str| vec![Value::Text(ns.into()), Value::Text(k.into())];

        let insert = find(&changes, "kv", &key("b", "x"));
        assert_eq!(insert.op, ChangeOp::Insert);
        assert_eq!(insert.pk, vec![true, true, false]);
        assert_eq!(insert.new, vec![text("b"), text("x"), text("3")]);

        let update = find(&changes, "kv", &key("a", "y"));
        assert_eq!(update.op, ChangeOp::Update);
        assert_eq!(update.old, vec![text("a"), text("y"), text("2")]);
        assert_eq!(update.new, vec![None, None, text("20")]);

        let delete = find(&changes, "kv", &key("a", "x"));
        assert_eq!(delete.op, ChangeOp::Delete);
        assert_eq!(delete.old, vec![text("a"), text("x"), text("1")]);

        // Key columns need not come first; key() keeps column order (k before ns here).
        let update = changes.iter().find(|c| c.table == "kv2").unwrap();
        assert_eq!(update.pk, vec![false, true, true]);
        assert_eq!(
            update.key(),
            vec![Value::Text("x".into()), Value::Text("a".into())]
        );
        assert_eq!(update.old, vec![text("1"), text("x"), text("a")]);
        assert_eq!(update.new, vec![text("10"), None, None]);
    }

    #[test]
    fn sql_null_is_distinct_from_undefined() {
        let conn = db(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT);
             INSERT INTO t VALUES (1, 'x', NULL, 'z');",
        );
        let session = ChangeRecorder::new(&conn, &["t"]).unwrap();
        conn.execute_batch(
            "UPDATE t SET a = NULL, b = 'y' WHERE id = 1;
             INSERT INTO t VALUES (2, NULL, NULL, NULL);",
        )
        .unwrap();
        let changes = session.changes().unwrap();

        let update = find(&changes, "t", &[Value::Integer(1)]);
        assert_eq!(update.op, ChangeOp::Update);
        // a: 'x' -> NULL; b: NULL -> 'y'; c unchanged (undefined on both sides).
        assert_eq!(update.old, vec![int(1), text("x"), Some(Value::Null), None]);
        assert_eq!(update.new, vec![None, Some(Value::Null), text("y"), None]);

        let insert = find(&changes, "t", &[Value::Integer(2)]);
        assert_eq!(
            insert.new,
            vec![
                int(2),
                Some(Value::Null),
                Some(Value::Null),
                Some(Value::Null)
            ]
        );
    }

    #[test]
    fn update_to_same_values_records_nothing() {
        let conn = db(PEOPLE);
        conn.execute("INSERT INTO people VALUES (1, 'ann', 30)", [])
            .unwrap();
        let session = ChangeRecorder::new(&conn, &["people"]).unwrap();
        conn.execute("UPDATE people SET age = 30, name = 'ann'", [])
            .unwrap();
        assert_eq!(session.changes().unwrap(), Vec::new());
    }

    #[test]
    fn trigger_side_effects_are_indirect() {
        let conn = db("CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER);
             CREATE TABLE audit (id INTEGER PRIMARY KEY, item INTEGER, qty INTEGER);
             CREATE TRIGGER log AFTER UPDATE ON items BEGIN
                 INSERT INTO audit (item, qty) VALUES (new.id, new.qty);
             END;
             CREATE TRIGGER bump AFTER INSERT ON audit BEGIN
                 UPDATE items SET qty = qty + 1000 WHERE id = 2;
             END;
             INSERT INTO items VALUES (1, 1), (2, 2);");
        let session = ChangeRecorder::new(&conn, &["items", "audit"]).unwrap();
        conn.execute("UPDATE items SET qty = 5 WHERE id = 1", [])
            .unwrap();
        let changes = session.changes().unwrap();
        assert_eq!(changes.len(), 3, "{changes:#?}");

        let direct = find(&changes, "items", &[Value::Integer(1)]);
        assert!(!direct.indirect);
        assert_eq!(direct.new, vec![None, int(5)]);

        let audit = find(&changes, "audit", &[Value::Integer(1)]);
        assert_eq!(audit.op, ChangeOp::Insert);
        assert!(audit.indirect);
        assert_eq!(audit.new, vec![int(1), int(1), int(5)]);

        // Nested trigger (depth 2): indirect too.
        let nested = find(&changes, "items", &[Value::Integer(2)]);
        assert!(nested.indirect);
        assert_eq!(nested.new, vec![None, int(1002)]);
    }

    #[test]
    fn a_row_changed_directly_and_by_a_trigger_is_direct() {
        let conn = db("CREATE TABLE a (id INTEGER PRIMARY KEY, v INTEGER);
             CREATE TABLE b (id INTEGER PRIMARY KEY, v INTEGER);
             CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET v = v + 1; END;
             INSERT INTO b VALUES (1, 0);");
        let session = ChangeRecorder::new(&conn, &["b"]).unwrap();
        conn.execute_batch("INSERT INTO a VALUES (1, 1); UPDATE b SET v = 10;")
            .unwrap();
        let changes = session.changes().unwrap();
        assert_eq!(changes.len(), 1);
        assert!(!changes[0].indirect);
    }

    #[test]
    fn foreign_key_actions_are_indirect() {
        let conn = db("PRAGMA foreign_keys = ON;
             CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (id INTEGER PRIMARY KEY,
                                 parent INTEGER REFERENCES parent ON DELETE CASCADE);
             INSERT INTO parent VALUES (1);
             INSERT INTO child VALUES (10, 1), (11, 1);");
        let session = ChangeRecorder::new(&conn, &["parent", "child"]).unwrap();
        conn.execute("DELETE FROM parent", []).unwrap();
        let changes = session.changes().unwrap();
        assert_eq!(changes.len(), 3, "{changes:#?}");
        assert!(!find(&changes, "parent", &[Value::Integer(1)]).indirect);
        for id in [10, 11] {
            let child = find(&changes, "child", &[Value::Integer(id)]);
            assert_eq!(child.op, ChangeOp::Delete);
            assert!(child.indirect);
        }
    }

    #[test]
    fn table_without_primary_key_is_not_recorded() {
        // Documented SQLite behaviour: without a declared PRIMARY KEY there is no way to
        // identify rows, so the session ignores the table (the implicit rowid does not count).
        let conn = db("CREATE TABLE nokey (a TEXT, b INTEGER);
             CREATE TABLE keyed (id INTEGER PRIMARY KEY);");
        let session = ChangeRecorder::new(&conn, &["nokey", "keyed"]).unwrap();
        conn.execute_batch(
            "INSERT INTO nokey VALUES ('x', 1);
             UPDATE nokey SET b = 2;
             INSERT INTO nokey VALUES ('y', 3);
             DELETE FROM nokey WHERE a = 'x';",
        )
        .unwrap();
        assert_eq!(session.changes().unwrap(), Vec::new());
        conn.execute("INSERT INTO keyed VALUES (1)", []).unwrap();
        let changes = session.changes().unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].table, "keyed");
    }

    #[test]
    fn rows_with_a_null_key_are_not_recorded() {
        // A non-INTEGER primary key of a rowid table may hold NULL (an SQLite quirk).
        let conn = db("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER);");
        let session = ChangeRecorder::new(&conn, &["t"]).unwrap();
        conn.execute_batch("INSERT INTO t VALUES (NULL, 1); INSERT INTO t VALUES ('a', 2);")
            .unwrap();
        let changes = session.changes().unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].key(), vec![Value::Text("a".into())]);
    }

    #[test]
    fn values_round_trip() {
        let conn = db("CREATE TABLE v (id INTEGER PRIMARY KEY, x);");
        let big_text = "é漢🙂".repeat(10_000);
        let big_blob: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let values = vec![
            Value::Integer(i64::MAX),
            Value::Integer(i64::MIN),
            Value::Integer(0),
            Value::Real(1.5),
            Value::Real(-0.0),
            Value::Real(f64::MAX),
            Value::Real(f64::MIN_POSITIVE),
            Value::Text(String::new()),
            Value::Text(big_text),
            Value::Text("nul\0inside".into()),
            Value::Blob(Vec::new()),
            Value::Blob(vec![0, 1, 2, 255]),
            Value::Blob(big_blob),
            Value::Null,
        ];
        let session = ChangeRecorder::new(&conn, &["v"]).unwrap();
        for (i, value) in values.iter().enumerate() {
            conn.execute("INSERT INTO v VALUES (?1, ?2)", (i as i64, value))
                .unwrap();
        }
        let changes = session.changes().unwrap();
        assert_eq!(changes.len(), values.len());
        for (i, value) in values.iter().enumerate() {
            let change = find(&changes, "v", &[Value::Integer(i as i64)]);
            assert_eq!(change.new[1].as_ref(), Some(value), "row {i}");
        }
        // Real -0.0 keeps its sign bit; integers stay integers.
        let neg_zero = find(&changes, "v", &[Value::Integer(4)]);
        match &neg_zero.new[1] {
            Some(Value::Real(r)) => assert!(r.is_sign_negative()),
            other => panic!("{other:?}"),
        }

        // And on the old side, through a delete.
        drop(session);
        let session = ChangeRecorder::new(&conn, &["v"]).unwrap();
        conn.execute("DELETE FROM v", []).unwrap();
        let changes = session.changes().unwrap();
        for (i, value) in values.iter().enumerate() {
            let change = find(&changes, "v", &[Value::Integer(i as i64)]);
            assert_eq!(change.op, ChangeOp::Delete);
            assert_eq!(change.old[1].as_ref(), Some(value), "row {i}");
        }
    }

    #[test]
    fn big_integer_key() {
        let conn = db(PEOPLE);
        let session = ChangeRecorder::new(&conn, &["people"]).unwrap();
        conn.execute("INSERT INTO people VALUES (?1, 'max', 1)", [i64::MAX])
            .unwrap();
        conn.execute("INSERT INTO people VALUES (?1, 'min', 1)", [i64::MIN])
            .unwrap();
        let changes = session.changes().unwrap();
        find(&changes, "people", &[Value::Integer(i64::MAX)]);
        find(&changes, "people", &[Value::Integer(i64::MIN)]);
    }

    #[test]
    fn invalid_utf8_text_is_an_error() {
        let conn = db("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT);");
        let session = ChangeRecorder::new(&conn, &["t"]).unwrap();
        conn.execute_batch(
            "INSERT INTO t VALUES (1, 'fine');
             INSERT INTO t VALUES (2, CAST(x'ff00fe' AS TEXT));
             INSERT INTO t VALUES (3, 'fine too');",
        )
        .unwrap();
        match session.changes() {
            Err(ChangesetError::InvalidUtf8 { table, column }) => {
                assert_eq!((table.as_str(), column), ("t", 1));
            }
            other => panic!("{other:?}"),
        }
        // The session stays usable once the bad row is gone.
        conn.execute("DELETE FROM t WHERE id = 2", []).unwrap();
        assert_eq!(session.changes().unwrap().len(), 2);
    }

    #[test]
    fn primary_key_change_is_delete_plus_insert() {
        let conn = db(PEOPLE);
        conn.execute("INSERT INTO people VALUES (1, 'ann', 30)", [])
            .unwrap();
        let session = ChangeRecorder::new(&conn, &["people"]).unwrap();
        conn.execute("UPDATE people SET id = 7, age = 31 WHERE id = 1", [])
            .unwrap();
        let changes = session.changes().unwrap();
        assert_eq!(changes.len(), 2, "{changes:#?}");
        let delete = find(&changes, "people", &[Value::Integer(1)]);
        assert_eq!(delete.op, ChangeOp::Delete);
        assert_eq!(delete.old, vec![int(1), text("ann"), int(30)]);
        let insert = find(&changes, "people", &[Value::Integer(7)]);
        assert_eq!(insert.op, ChangeOp::Insert);
        assert_eq!(insert.new, vec![int(7), text("ann"), int(31)]);
    }

    #[test]
    fn changes_to_one_row_are_merged() {
        let conn = db(PEOPLE);
        conn.execute_batch("INSERT INTO people VALUES (10, 'old', 1), (11, 'x', 2);")
            .unwrap();
        let session = ChangeRecorder::new(&conn, &["people"]).unwrap();
        conn.execute_batch(
            // Insert then update: one Insert with the final values.
            "INSERT INTO people VALUES (1, 'ann', 30);
             UPDATE people SET age = 31 WHERE id = 1;
             UPDATE people SET name = 'anne' WHERE id = 1;
             -- Insert then delete: nothing.
             INSERT INTO people VALUES (2, 'gone', 1);
             DELETE FROM people WHERE id = 2;
             -- Delete then re-insert with other values: an Update.
             DELETE FROM people WHERE id = 10;
             INSERT INTO people VALUES (10, 'new', 1);
             -- Update then update back: nothing.
             UPDATE people SET age = 3 WHERE id = 11;
             UPDATE people SET age = 2 WHERE id = 11;",
        )
        .unwrap();
        let changes = session.changes().unwrap();
        assert_eq!(changes.len(), 2, "{changes:#?}");
        let insert = find(&changes, "people", &[Value::Integer(1)]);
        assert_eq!(insert.op, ChangeOp::Insert);
        assert_eq!(insert.new, vec![int(1), text("anne"), int(31)]);
        let update = find(&changes, "people", &[Value::Integer(10)]);
        assert_eq!(update.op, ChangeOp::Update);
        assert_eq!(update.old, vec![int(10), text("old"), None]);
        assert_eq!(update.new, vec![None, text("new"), None]);
    }

    #[test]
    fn several_tables() {
        let conn = db("CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);
             CREATE TABLE b (id TEXT PRIMARY KEY, v REAL);
             CREATE TABLE c (id INTEGER PRIMARY KEY);");
        let session = ChangeRecorder::new(&conn, &["a", "b", "c"]).unwrap();
        conn.execute_batch(
            "INSERT INTO a VALUES (1, 'one');
             INSERT INTO b VALUES ('k', 2.5);
             INSERT INTO a VALUES (2, 'two');",
        )
        .unwrap();
        let changes = session.changes().unwrap();
        assert_eq!(changes.len(), 3);
        assert_eq!(
            find(&changes, "b", &[Value::Text("k".into())]).new,
            vec![text("k"), Some(Value::Real(2.5))]
        );
        find(&changes, "a", &[Value::Integer(1)]);
        find(&changes, "a", &[Value::Integer(2)]);
        // Grouped by table.
        let tables: Vec<&str> = changes.iter().map(|c| c.table.as_str()).collect();
        let b_pos = tables.iter().position(|t| *t == "b").unwrap();
        assert!(b_pos == 0 || b_pos == 2, "{tables:?}");
    }

    #[test]
    fn restricted_session_ignores_other_tables() {
        let conn = db("CREATE TABLE watched (id INTEGER PRIMARY KEY);
             CREATE TABLE other (id INTEGER PRIMARY KEY);");
        let restricted = ChangeRecorder::new(&conn, &["watched"]).unwrap();
        let everything = ChangeRecorder::all_tables(&conn).unwrap();
        let nothing = ChangeRecorder::new(&conn, &[]).unwrap();
        conn.execute_batch("INSERT INTO other VALUES (1); INSERT INTO watched VALUES (2);")
            .unwrap();

        let changes = restricted.changes().unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].table, "watched");

        let changes = everything.changes().unwrap();
        assert_eq!(changes.len(), 2);
        find(&changes, "other", &[Value::Integer(1)]);

        assert!(nothing.is_empty());
        assert_eq!(nothing.changes().unwrap(), Vec::new());
    }

    #[test]
    fn tables_may_be_created_after_the_session() {
        let conn = db("");
        let named = ChangeRecorder::new(&conn, &["later"]).unwrap();
        let all = ChangeRecorder::all_tables(&conn).unwrap();
        conn.execute_batch(
            "CREATE TABLE later (id INTEGER PRIMARY KEY, v TEXT);
             INSERT INTO later VALUES (1, 'x');",
        )
        .unwrap();
        assert_eq!(named.changes().unwrap().len(), 1);
        assert_eq!(all.changes().unwrap(), named.changes().unwrap());
    }

    #[test]
    fn changes_twice_gives_the_same() {
        let conn = db(PEOPLE);
        let session = ChangeRecorder::new(&conn, &["people"]).unwrap();
        conn.execute_batch("INSERT INTO people VALUES (1, 'a', 1), (2, 'b', 2);")
            .unwrap();
        let first = session.changes().unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(session.changes().unwrap(), first);
        // And it keeps recording afterwards.
        conn.execute("INSERT INTO people VALUES (3, 'c', 3)", [])
            .unwrap();
        assert_eq!(session.changes().unwrap().len(), 3);
    }

    #[test]
    fn dropping_sessions_before_the_connection() {
        let conn = db(PEOPLE);
        let first = ChangeRecorder::new(&conn, &["people"]).unwrap();
        let second = ChangeRecorder::new(&conn, &["people"]).unwrap();
        let third = ChangeRecorder::new(&conn, &["people"]).unwrap();
        conn.execute("INSERT INTO people VALUES (1, 'a', 1)", [])
            .unwrap();
        // Drop the oldest first, then the newest; the middle one keeps working.
        drop(first);
        drop(third);
        conn.execute("INSERT INTO people VALUES (2, 'b', 2)", [])
            .unwrap();
        assert_eq!(second.changes().unwrap().len(), 2);
        drop(second);
        // The connection works without a session, and a new one starts from scratch.
        conn.execute("INSERT INTO people VALUES (3, 'c', 3)", [])
            .unwrap();
        let fresh = ChangeRecorder::new(&conn, &["people"]).unwrap();
        assert!(fresh.changes().unwrap().is_empty());
        drop(fresh);
        conn.close().unwrap();
    }

    #[test]
    fn nul_in_table_name_is_rejected() {
        let conn = db("");
        assert!(matches!(
            ChangeRecorder::new(&conn, &["ok", "bad\0name"]),
            Err(ChangesetError::TableName(name)) if name == "bad\0name"
        ));
    }

    #[test]
    fn inside_a_transaction_on_a_file_database() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("db.sqlite")).unwrap();
        conn.execute_batch(PEOPLE).unwrap();
        conn.execute("INSERT INTO people VALUES (1, 'ann', 30)", [])
            .unwrap();

        let tx = conn.transaction().unwrap();
        let changes = {
            let session = ChangeRecorder::new(&tx, &["people"]).unwrap();
            tx.execute("UPDATE people SET age = 31", []).unwrap();
            // A rolled-back savepoint leaves no trace in the changes.
            tx.execute_batch(
                "SAVEPOINT s;
                 INSERT INTO people VALUES (2, 'bob', 40);
                 UPDATE people SET name = 'x' WHERE id = 1;
                 ROLLBACK TO s;
                 RELEASE s;",
            )
            .unwrap();
            session.changes().unwrap()
        };
        tx.commit().unwrap();
        assert_eq!(changes.len(), 1, "{changes:#?}");
        assert_eq!(changes[0].old, vec![int(1), None, int(30)]);
        assert_eq!(changes[0].new, vec![None, None, int(31)]);
    }
}
