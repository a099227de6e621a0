//! The PostgreSQL store's health: does the server answer, which server, how large is
//! the database.

use postgres::GenericClient;

use crate::store::answers::StoreHealth;
use crate::store::error::StoreError;

/// Fills [`StoreHealth`] for a PostgreSQL store. `label` names the database for the
/// reader (its URL without the password); the schema version is the one the
/// migrations recorded. PostgreSQL has no `quick_check`: answering a query is "ok",
/// and `path` says which server answered. The write-ahead log belongs to the whole
/// server, so `wal_bytes` is 0.
pub(crate) fn health(
    client: &mut impl GenericClient,
    label: &str,
) -> Result<StoreHealth, StoreError> {
    let row = client.query_one(
        "SELECT 1, current_setting('server_version'), pg_database_size(current_database()),
             (SELECT COUNT(*) FROM executions), (SELECT COUNT(*) FROM journal),
             (SELECT version FROM drover_schema)",
        &[],
    )?;
    let answered: i32 = row.try_get(0)?;
    let version: String = row.try_get(1)?;
    let db_bytes: i64 = row.try_get(2)?;
    let integrity = if answered == 1 {
        "ok"
    } else {
        "unexpected answer to SELECT 1"
    };
    Ok(StoreHealth {
        path: format!("{label} (PostgreSQL {version})"),
        intact: integrity == "ok",
        integrity: integrity.to_string(),
        schema_version: row.try_get(5)?,
        db_bytes: db_bytes.max(0) as u64,
        wal_bytes: 0,
        executions: row.try_get(3)?,
        journal_entries: row.try_get(4)?,
        outage: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_db::{TestDb, commit, entry};
    use super::*;
    use crate::store::writer::WriteOp;

    #[test]
    fn health_reports_the_server_and_the_sizes() {
        let Some(mut db) = TestDb::open() else { return };
        commit(&mut db, vec![WriteOp::Journal(entry("web1", 1, "x"))]);
        let h = health(&mut db.client, "postgres://drover@db/drover").unwrap();
        assert!(h.intact);
        assert_eq!(h.integrity, "ok");
        assert!(
            h.path
                .starts_with("postgres://drover@db/drover (PostgreSQL ")
        );
        assert_eq!(h.schema_version, super::super::schema::PG_SCHEMA_VERSION);
        assert!(h.db_bytes > 0);
        assert_eq!((h.executions, h.journal_entries), (0, 1));
    }
}
