//! The fact cache: each node's last merged facts as JSON, with when they were
//! gathered and by which providers. Freshness is the caller's decision.

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteBackend;
use crate::store::error::StoreError;
use crate::store::records::CachedFacts;

pub(crate) fn put(conn: &Connection, f: &CachedFacts) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO fact_cache (node, providers, collected_at, facts) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![f.node, f.providers, f.collected_at, f.facts])
    .map(drop)
}

impl SqliteBackend {
    /// The node's cached facts, if any were stored.
    pub fn cached_facts(&self, node: &str) -> Result<Option<CachedFacts>, StoreError> {
        let conn = self.reader();
        let row = conn
            .prepare_cached(
                "SELECT node, providers, collected_at, facts FROM fact_cache WHERE node = ?1",
            )?
            .query_row([node], |r| {
                Ok(CachedFacts {
                    node: r.get(0)?,
                    providers: r.get(1)?,
                    collected_at: r.get(2)?,
                    facts: r.get(3)?,
                })
            })
            .optional()?;
        Ok(row)
    }
}
