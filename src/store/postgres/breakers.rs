//! Circuit breakers in PostgreSQL: each breaker's last change, as in SQLite.

use postgres::GenericClient;

use super::statements::Statements;
use crate::store::error::StoreError;
use crate::store::records::{BreakerRecord, Millis};

/// Insert, or replace unless the row holds a newer change.
const PUT: &str = "
INSERT INTO breakers (scope, name, state, failures, changed_at)
VALUES ($1::text, $2::text, $3::text, $4::bigint, $5::bigint)
ON CONFLICT (scope, name) DO UPDATE SET state = excluded.state,
    failures = excluded.failures, changed_at = excluded.changed_at
WHERE excluded.changed_at > breakers.changed_at";

pub(crate) fn put(
    client: &mut impl GenericClient,
    statements: &mut Statements,
    b: &BreakerRecord,
) -> Result<(), postgres::Error> {
    let stmt = statements.get(client, PUT)?;
    client.execute(
        &stmt,
        &[&b.scope, &b.name, &b.state, &b.failures, &b.changed_at],
    )?;
    Ok(())
}

/// Breakers whose last change is at or after `since`.
pub(crate) fn changed_since(
    client: &mut impl GenericClient,
    since: Millis,
) -> Result<Vec<BreakerRecord>, StoreError> {
    let rows = client.query(
        "SELECT scope, name, state, failures, changed_at FROM breakers
         WHERE changed_at >= $1 ORDER BY scope, name",
        &[&since],
    )?;
    rows.iter()
        .map(|r| {
            Ok(BreakerRecord {
                scope: r.try_get(0)?,
                name: r.try_get(1)?,
                state: r.try_get(2)?,
                failures: r.try_get(3)?,
                changed_at: r.try_get(4)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::postgres::test_db::TestDb;

    fn row(state: &str, changed_at: Millis) -> BreakerRecord {
        BreakerRecord {
            scope: "node".into(),
            name: "web1".into(),
            state: state.into(),
            failures: 5,
            changed_at,
        }
    }

    #[test]
    fn a_late_writer_does_not_undo_a_newer_change_and_reads_filter_by_time() {
        let Some(mut db) = TestDb::open() else { return };
        let mut statements = Statements::default();
        put(&mut db.client, &mut statements, &row("open", 100)).unwrap();
        put(&mut db.client, &mut statements, &row("closed", 200)).unwrap();
        put(&mut db.client, &mut statements, &row("open", 150)).unwrap();
        let rows = changed_since(&mut db.client, 0).unwrap();
        assert_eq!(rows, vec![row("closed", 200)]);
        assert!(changed_since(&mut db.client, 201).unwrap().is_empty());
    }
}
