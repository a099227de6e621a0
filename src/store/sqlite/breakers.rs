//! Circuit breakers shared through the store: each breaker's last change, so
//! every drover process on the database refuses a node another one found dead.

use rusqlite::{Connection, params};

use super::SqliteBackend;
use crate::store::error::StoreError;
use crate::store::records::{BreakerRecord, Millis};

/// Replaces the row unless it holds a newer change: writers commit in any order,
/// and the latest change is the one every process should adopt.
pub(crate) fn put(conn: &Connection, b: &BreakerRecord) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO breakers (scope, name, state, failures, changed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (scope, name) DO UPDATE SET state = excluded.state, \
             failures = excluded.failures, changed_at = excluded.changed_at \
         WHERE excluded.changed_at > breakers.changed_at",
    )?
    .execute(params![b.scope, b.name, b.state, b.failures, b.changed_at])
    .map(drop)
}

impl SqliteBackend {
    /// Breakers whose last change is at or after `since`.
    pub fn breakers_changed_since(&self, since: Millis) -> Result<Vec<BreakerRecord>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT scope, name, state, failures, changed_at FROM breakers \
             WHERE changed_at >= ?1 ORDER BY scope, name",
        )?;
        let rows = stmt
            .query_map([since], |r| {
                Ok(BreakerRecord {
                    scope: r.get(0)?,
                    name: r.get(1)?,
                    state: r.get(2)?,
                    failures: r.get(3)?,
                    changed_at: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: &str, changed_at: Millis) -> BreakerRecord {
        BreakerRecord {
            scope: "node".into(),
            name: "web1".into(),
            state: state.into(),
            failures: 5,
            changed_at,
        }
    }

    fn stored(conn: &Connection) -> Vec<(String, i64)> {
        conn.prepare("SELECT state, changed_at FROM breakers")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_late_writer_does_not_undo_a_newer_change() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn, std::path::Path::new(":memory:")).unwrap();
        put(&conn, &row("open", 100)).unwrap();
        put(&conn, &row("closed", 200)).unwrap();
        put(&conn, &row("open", 150)).unwrap();
        assert_eq!(stored(&conn), vec![("closed".to_string(), 200)]);
    }
}
