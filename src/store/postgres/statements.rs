//! Prepared statements of one connection: each is parsed and planned once by the
//! server, then only bound and executed, however many ops and commits use it. Keep
//! one `Statements` per connection (a new connection needs a new one); dropping it
//! closes its statements on the server.

use std::collections::HashMap;

use postgres::{GenericClient, Statement};

#[derive(Default)]
pub(crate) struct Statements {
    prepared: HashMap<&'static str, Statement>,
}

impl Statements {
    /// The statement for `sql`, prepared on first use. Prepared statements belong to
    /// the session, not the transaction, so one survives a rolled-back savepoint.
    pub(crate) fn get(
        &mut self,
        client: &mut impl GenericClient,
        sql: &'static str,
    ) -> Result<Statement, postgres::Error> {
        if let Some(stmt) = self.prepared.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = client.prepare(sql)?;
        self.prepared.insert(sql, stmt.clone());
        Ok(stmt)
    }
}
