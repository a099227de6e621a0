//! Which host owns an execution. Several machines share one PostgreSQL store, and a
//! pid means something only on its own host, so crash recovery judges only the runs
//! of its own host. The writer stamps `executions.owner_host` from the session
//! setting below, set once per connection, so `ExecutionRecord` needs no host field.

use postgres::GenericClient;

/// The custom setting the execution upsert reads (empty when unset).
pub(crate) const OWNER_HOST_SETTING: &str = "drover.owner_host";

/// Sets this session's host name, stamped on every execution it writes.
pub(crate) fn set_owner_host(
    client: &mut impl GenericClient,
    host: &str,
) -> Result<(), postgres::Error> {
    client.execute(
        "SELECT set_config($1, $2, false)",
        &[&OWNER_HOST_SETTING, &host],
    )?;
    Ok(())
}
