//! The store's own health: can it read, is the database intact, how large are the
//! database and its write-ahead log.

use super::SqliteBackend;
use crate::store::answers::StoreHealth;
use crate::store::error::StoreError;

impl SqliteBackend {
    /// Runs `PRAGMA quick_check` (time grows with the database) and reads sizes.
    /// Blocks; async callers use `spawn_blocking`.
    pub fn health(&self) -> Result<StoreHealth, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare("PRAGMA quick_check(5)")?;
        let problems: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        let integrity = problems.join("; ");
        let schema_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let count = |table: &str| -> Result<i64, StoreError> {
            Ok(conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)
        };
        let executions = count("executions")?;
        let journal_entries = count("journal")?;
        let size = |suffix: &str| {
            let mut p = self.path().as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
        };
        Ok(StoreHealth {
            path: self.path().display().to_string(),
            intact: integrity == "ok",
            integrity,
            schema_version,
            db_bytes: size(""),
            wal_bytes: size("-wal"),
            executions,
            journal_entries,
            outage: None,
        })
    }
}
