//! Hearing of other processes' commits: a connection of its own that LISTENs on
//! the channels schema step 8 notifies once per statement (`drover_events`,
//! `drover_journal`, `drover_runs`, empty payload). It is opened at the first
//! wait and kept, so whatever commits between two waits is queued on it and
//! heard by the next one. Like every use of the blocking client, waiting and
//! closing must happen off a tokio runtime thread: the backend sees to it.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;

use super::connect::PgLocation;
use crate::store::error::StoreError;

/// The channels of every record another process may want to show.
const LISTEN: &str = "LISTEN drover_events; LISTEN drover_journal; LISTEN drover_runs";

pub(crate) struct Listener {
    location: PgLocation,
    client: Mutex<Option<Client>>,
}

impl Listener {
    pub(crate) fn new(location: PgLocation) -> Listener {
        Listener {
            location,
            client: Mutex::new(None),
        }
    }

    /// Waits up to `timeout` for a notification; `true` when one came. A
    /// listener that had to (re)connect answers `true` at once: what was
    /// committed before it listened was announced to nobody. A broken
    /// connection is an error, and the next wait connects again.
    pub(crate) fn wait(&self, timeout: Duration) -> Result<bool, StoreError> {
        let mut slot = self.lock();
        if slot.as_ref().is_none_or(Client::is_closed) {
            *slot = None;
            let mut client = self.location.connect()?;
            client.batch_execute(LISTEN)?;
            *slot = Some(client);
            return Ok(true);
        }
        let client = slot.as_mut().expect("connected above");
        let heard = Self::heard(client, timeout);
        if heard.is_err() || client.is_closed() {
            *slot = None;
        }
        heard
    }

    /// Whether a notification comes within `timeout`; the ones queued behind it
    /// are taken too, so one burst of commits wakes the waiter once.
    fn heard(client: &mut Client, timeout: Duration) -> Result<bool, StoreError> {
        let mut notifications = client.notifications();
        if notifications.timeout_iter(timeout).next()?.is_none() {
            return Ok(false);
        }
        let mut queued = notifications.iter();
        while queued.next()?.is_some() {}
        Ok(true)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Client>> {
        self.client.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The connection, for closing where the blocking client may run.
    pub(crate) fn take(&mut self) -> Option<Client> {
        self.client
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::postgres::test_db::{TestDb, commit, entry};
    use crate::store::writer::WriteOp;

    /// A failure guard: the notification comes at the commit.
    const LONG: Duration = Duration::from_secs(30);

    #[test]
    fn a_commit_on_another_connection_ends_the_wait() {
        let Some(mut db) = TestDb::open() else {
            return;
        };
        let listener = Listener::new(PgLocation::parse(db.url()).unwrap());
        assert!(
            listener.wait(Duration::ZERO).unwrap(),
            "a new listener cannot know what came before it"
        );
        commit(&mut db, vec![WriteOp::Journal(entry("n1", 5, "uptime"))]);
        assert!(listener.wait(LONG).unwrap());
    }
}
