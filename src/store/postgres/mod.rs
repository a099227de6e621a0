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

pub(crate) mod backend;
pub(crate) mod breakers;
pub(crate) mod bulk;
pub(crate) mod commit;
pub(crate) mod connect;
pub(crate) mod events;
pub(crate) mod facts;
pub(crate) mod health;
pub(crate) mod idempotency;
pub(crate) mod import;
pub(crate) mod listen;
pub(crate) mod metrics;
pub(crate) mod owner;
pub(crate) mod prune;
pub(crate) mod queries;
pub(crate) mod recovery;
pub(crate) mod rows;
pub(crate) mod schema;
pub(crate) mod sink;
pub(crate) mod statements;
pub(crate) mod transcripts;

#[cfg(test)]
pub(crate) mod test_db;

/// Connects to the database at `location`, brings its schema up to date, and
/// returns the read side and the writer thread's sink, which share what the
/// writer knows of an outage.
pub(crate) fn open(
    location: &connect::PgLocation,
) -> Result<(backend::PgBackend, sink::PgSink), crate::store::StoreError> {
    backend::off_runtime(|| {
        let mut client = location.connect()?;
        schema::migrate(&mut client, &location.to_string())?;
        let host = sink::host_name();
        // Kept runs are this host's: stamp them so.
        owner::set_owner_host(&mut client, &host)?;
        replay_kept(location, &mut client);
        let outage = std::sync::Arc::new(crate::store::outage::OutageState::default());
        let reads = backend::PgBackend::new(location.clone(), client, host.clone(), outage.clone());
        Ok((reads, sink::PgSink::new(location.clone(), host, outage)))
    })
}

/// Writes the run outcomes an earlier drover kept outside this database when it
/// could not reach it at exit (see `store::spill`), then removes the file; a
/// failure leaves the file for the next start.
fn replay_kept(location: &connect::PgLocation, client: &mut postgres::Client) {
    let Some((file, records)) = crate::store::spill::read(&spill_key(location)) else {
        return;
    };
    let count = records.len();
    let ops: Vec<_> = records
        .into_iter()
        .map(crate::store::spill::Kept::into_op)
        .collect();
    let mut statements = statements::Statements::default();
    match commit::commit_with(client, &mut statements, None, &ops) {
        Ok(rejected) if rejected.is_empty() => crate::store::spill::done(&file, count),
        Ok(rejected) => {
            tracing::error!(file = %file.display(), ?rejected, "some kept records were refused");
            crate::store::spill::done(&file, count - rejected.len());
        }
        Err(e) => {
            tracing::error!(file = %file.display(), error = %crate::store::error::pg_reason(&e), "kept records not written yet; kept for the next start")
        }
    }
}

/// What the spill file of `location` is keyed by: the location as shown (no
/// password), so the drover that gives up on a database and the one that next
/// opens it find the same file.
fn spill_key(location: &connect::PgLocation) -> std::path::PathBuf {
    std::path::PathBuf::from(location.to_string())
}
