//! The versioning engine: every change to a database is a commit (docs/versioning.md).
//!
//! Plans (docs/plans.md, [`apply`]) and lore's own writes go through a [`Tx`]: it records full
//! row and schema effects, keeps an incremental state hash ([`lthash`]) and ends as one
//! tamper-evident commit. [`log`] lists and verifies commits; [`revert`] undoes one after
//! checking for conflicts.

pub mod alter;
pub mod apply;
pub mod changeset;
pub mod log;
pub mod lthash;
pub mod pack;
pub mod plan;
pub mod revert;
pub mod schema;
pub mod tx;
pub mod value;

pub use tx::{CommitInput, CommitSummary, Counts, Kind, Tx};

/// The current time in Unix milliseconds: what commits, and the rows lore writes, are stamped
/// with.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Errors of the versioning engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    #[error(transparent)]
    Value(#[from] value::ValueError),
    #[error(
        "the plan expects head {expected} but the database is at {actual}; read the new head with 'lore history -n 1' and plan again"
    )]
    StaleHead { expected: String, actual: String },
    /// lore-sh's STALE_PLAN: the plan's `baseSchemaHash` is not the database's schema hash.
    #[error(
        "stale plan: it was written against schema {expected} but the database's schema is now {actual}; read 'lore schema --json' and plan again"
    )]
    StaleSchema { expected: String, actual: String },
    #[error("no commit matches '{0}'; run 'lore history' to list them")]
    NoCommit(String),
    #[error("'{prefix}' matches {count} commits; give more characters of the id")]
    AmbiguousCommit { prefix: String, count: usize },
    #[error("this database was versioned by a newer lore (format {0}); upgrade lore")]
    NewerFormat(i64),
    #[error("the version history is damaged: {0}")]
    Corrupt(String),
    #[error("commit {0} is already reverted; revert its revert instead to bring it back")]
    AlreadyReverted(String),
    #[error(
        "commit {0} cannot be reverted: it changed tables lore could not capture row by row (no primary key, or virtual)"
    )]
    NotRevertible(String),
    #[error("revert of {commit} refused: {} conflict(s); nothing was written", conflicts.len())]
    Conflicts {
        commit: String,
        conflicts: Vec<revert::Conflict>,
    },
    /// Writing a caller's output failed (a closed pipe, a full disk).
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    #[error("SQLite session extension: {0}")]
    Changeset(#[from] changeset::ChangesetError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}
