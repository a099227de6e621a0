//! The fact cache in PostgreSQL: each node's last merged facts.

use postgres::GenericClient;

use super::statements::Statements;
use crate::store::error::StoreError;
use crate::store::records::CachedFacts;

/// Insert or replace by node.
const PUT: &str = "
INSERT INTO fact_cache (node, providers, collected_at, facts)
VALUES ($1::text, $2::text, $3::bigint, $4::text)
ON CONFLICT (node) DO UPDATE SET providers = excluded.providers,
    collected_at = excluded.collected_at, facts = excluded.facts";

pub(crate) fn put(
    client: &mut impl GenericClient,
    statements: &mut Statements,
    f: &CachedFacts,
) -> Result<(), postgres::Error> {
    let stmt = statements.get(client, PUT)?;
    client.execute(&stmt, &[&f.node, &f.providers, &f.collected_at, &f.facts])?;
    Ok(())
}

/// The node's cached facts, if any were stored.
pub(crate) fn cached_facts(
    client: &mut impl GenericClient,
    node: &str,
) -> Result<Option<CachedFacts>, StoreError> {
    let row = client.query_opt(
        "SELECT node, providers, collected_at, facts FROM fact_cache WHERE node = $1",
        &[&node],
    )?;
    row.map(|r| {
        Ok(CachedFacts {
            node: r.try_get(0)?,
            providers: r.try_get(1)?,
            collected_at: r.try_get(2)?,
            facts: r.try_get(3)?,
        })
    })
    .transpose()
}
