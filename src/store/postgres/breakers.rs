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
#[path = "breakers_tests.rs"]
mod tests;
