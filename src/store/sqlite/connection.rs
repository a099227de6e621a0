//! Opening a connection with the settings every store connection needs.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::config::DbConfig;

use crate::store::error::StoreError;

/// How long a connection waits for another one's write lock before giving up.
/// Long enough to ride out a large batch commit or a prune on another connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// `cache_size` is a cap (KiB when negative), allocated only as pages are used: 32 MiB
/// holds the pages a full writer batch dirties on a large history, so the batch is not
/// spilled to the WAL half-way and rewritten again at commit. `temp_store = MEMORY` keeps
/// the statement journal of multi-row inserts (and any sort) off the disk.
const PRAGMAS: &str = "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
     PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;";

/// Opens (creating if needed) the database at `path` and applies the pragmas:
/// WAL so readers never block the writer, `synchronous=NORMAL` because with WAL that
/// still keeps the file consistent through a crash (a power cut may lose the last
/// commits) at a fraction of the fsyncs, and foreign keys so deleting an execution
/// takes its node results, targets and output chunks with it.
pub(crate) fn open(path: &Path) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    let conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(path = %path.display(), %mode, "store database is not in WAL mode");
    }
    conn.execute_batch(PRAGMAS).map_err(open_err)?;
    // Plans that do not depend on the values bound. Without this, a statement whose
    // plan looked at a bound value (the output-chunk insert's `MAX(seq)` subquery)
    // is expired each time the statement cache clears its bindings, and compiled
    // again on every use: a fifth of the writer's CPU in a `--debug` run.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(open_err)?;
    Ok(conn)
}
