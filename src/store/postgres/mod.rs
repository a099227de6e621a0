//! The PostgreSQL backend: where the database is and how to reach it, its schema,
//! and the twins of the SQLite reads and writes, as free functions over a `postgres`
//! client returning the same records and errors, so the backend trait can put either
//! behind `Store`.
//!
//! Differences from SQLite the callers should know:
//! - text cannot hold NUL: output text (`stdout`, `stderr` of a node result) has NULs
//!   replaced by U+FFFD (it is lossy already); elsewhere a NUL rejects the op;
//! - `executions.owner_host` is written from the connection's `drover.owner_host`
//!   setting (see [`owner::set_owner_host`]), so records need no new field;
//! - event numbers may have gaps (a rolled-back batch burns its numbers) but never go
//!   back: batches holding events are serialised (see `schema`, step 5).

pub(crate) mod bulk;
pub(crate) mod commit;
pub(crate) mod connect;
pub(crate) mod events;
pub(crate) mod facts;
pub(crate) mod health;
pub(crate) mod idempotency;
pub(crate) mod metrics;
pub(crate) mod owner;
pub(crate) mod prune;
pub(crate) mod queries;
pub(crate) mod recovery;
pub(crate) mod rows;
pub(crate) mod schema;
pub(crate) mod statements;
pub(crate) mod transcripts;

#[cfg(test)]
pub(crate) mod test_db;
