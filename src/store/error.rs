//! The store's one error type. Every variant says which file or thing failed and why,
//! because these messages end up in the console's status line with no other context.

use std::path::PathBuf;

/// Everything the store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or configured.
    #[error("cannot open store database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// A schema migration failed; the whole migration was rolled back.
    #[error("cannot migrate store database {} to schema version {version}: {source}", path.display())]
    Migration {
        path: PathBuf,
        version: i64,
        #[source]
        source: rusqlite::Error,
    },

    /// The file was written by a newer drover; refusing to touch it.
    #[error(
        "store database {} has schema version {found}, newer than the {supported} this drover understands",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    /// Any other SQLite failure.
    #[error("store database error: {0}")]
    Sqlite(#[from] rusqlite::Error),

    /// The writer thread is gone (the store was closed), so the write was not recorded.
    #[error("store writer is closed; the write was not recorded")]
    Closed,

    /// The writer thread could not be started.
    #[error("cannot start the store writer thread: {0}")]
    WriterSpawn(#[source] std::io::Error),

    /// The writer thread panicked; writes after the panic were lost.
    #[error("the store writer thread panicked")]
    WriterPanicked,

    /// Queued writes could not be committed (after one retry), or some were rejected.
    /// `reason` is the first failure's.
    #[error("{ops} store write(s) were not recorded; first failure: {reason}")]
    WriteFailed { ops: usize, reason: String },

    /// An execution id prefix matches more than one execution: the first few,
    /// by id, and whether there are more.
    #[error(
        "execution id prefix '{prefix}' is ambiguous: it matches {}{}",
        candidates.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", "),
        if *more { " and more" } else { "" }
    )]
    Ambiguous {
        prefix: String,
        candidates: Vec<super::records::IdCandidate>,
        more: bool,
    },

    /// A stored value could not be decoded (bad JSON, unknown enum name).
    #[error("corrupt {what} in store: {reason}")]
    Corrupt { what: String, reason: String },

    /// A PostgreSQL schema migration failed; the whole migration was rolled back.
    /// `location` is redacted (no password).
    #[error(
        "cannot migrate store database {location} to schema version {version}: {}",
        pg_reason(.source)
    )]
    PgMigration {
        location: String,
        version: i64,
        #[source]
        source: ::postgres::Error,
    },

    /// The PostgreSQL database was written by a newer drover; refusing to touch it.
    #[error(
        "store database {location} has schema version {found}, newer than the {supported} this drover understands"
    )]
    PgTooNew {
        location: String,
        found: i64,
        supported: i64,
    },

    /// Any other PostgreSQL failure.
    #[error("store database error: {}", pg_reason(.0))]
    Postgres(#[from] ::postgres::Error),

    /// A PostgreSQL store location could not be understood (`location` is redacted).
    #[error("invalid PostgreSQL store location {location}: {reason}")]
    PgLocation { location: String, reason: String },

    /// A PostgreSQL server could not be reached or refused the connection
    /// (`location` is redacted).
    #[error("cannot connect to store database {location}: {reason}")]
    PgConnect { location: String, reason: String },

    /// A store location that is neither `sqlite:PATH` nor `postgres://...`.
    #[error("invalid store location {location}: {reason}")]
    BadLocation { location: String, reason: String },

    /// `drover store copy` between backends that cannot take that side.
    #[error(
        "store {location} cannot be the {which} of a copy (a copy goes from a SQLite file into a PostgreSQL database)"
    )]
    CopyUnsupported { which: String, location: String },

    /// The database cannot be reached; the writer holds what it must write.
    #[error("store database {location} is unreachable: {outage}")]
    Unreachable { location: String, outage: String },

    /// Another `drover store copy` from the same source is writing to this database.
    #[error("another copy from {from} into this store is running; try again when it ends")]
    CopyBusy { from: String },
}

impl StoreError {
    /// Whether this failure is the database being out of reach (not started,
    /// restarting, failing over, the connection cut) rather than a refusal of
    /// what was asked: a reader may wait and ask again.
    pub fn is_unreachable(&self) -> bool {
        match self {
            StoreError::PgConnect { .. } | StoreError::Unreachable { .. } => true,
            StoreError::Postgres(e) => connection_lost(e),
            _ => false,
        }
    }
}

/// A PostgreSQL error that ended the connection: it closed, or the server said so
/// (SQLSTATE class 08 "connection exception", 57P "operator intervention": a
/// shutdown, a crash restart, a server still starting). The client may not have
/// seen the socket close yet when the server's FATAL arrives, so the code counts.
pub(crate) fn connection_lost(error: &::postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    error
        .code()
        .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57P"))
}

/// A PostgreSQL error with its causes: the `postgres` crate's own message names only
/// the kind ("db error", "error connecting to server") and keeps the why in its source.
pub(crate) fn pg_reason(error: &::postgres::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let line = inner.to_string();
        if !text.ends_with(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        cause = inner.source();
    }
    text
}
