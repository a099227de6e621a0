//! A PostgreSQL store whose connections the server ends (a restart, a failover,
//! an administrator's `pg_terminate_backend`) reads on over new ones: the server's
//! FATAL reply can come before the client sees its socket close, and a follower
//! of the event log or an open console must not die on it.

use drover::store::records::{EventFilter, HistoryFilter};

use crate::store_backends::{Backend, StorePlace};

/// Ends every other connection to the place's database, as a server restart does.
fn end_other_connections(place: &StorePlace) {
    place.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
}

#[test]
fn reads_go_on_after_the_server_ends_the_connection() {
    let Some(place) = StorePlace::new(Backend::Postgres) else {
        return;
    };
    let store = place.open();
    assert!(store.history(&HistoryFilter::default()).unwrap().is_empty());
    for round in 0..3 {
        end_other_connections(&place);
        store
            .history(&HistoryFilter::default())
            .unwrap_or_else(|e| panic!("history after the connection ended ({round}): {e}"));
        end_other_connections(&place);
        let events = store.events(&EventFilter {
            limit: 10,
            ..EventFilter::default()
        });
        events.unwrap_or_else(|e| panic!("events after the connection ended ({round}): {e}"));
    }
}
