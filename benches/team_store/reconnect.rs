//! The reconnect bound of a PostgreSQL store: the server goes away while runs
//! write, comes back, and the held writes are committed, none lost, none twice.
//!
//! The writes sent during the outage have no flush between runs: a flush
//! waits for the database, and the engine flushes only when a run is queued
//! (so no new run starts during an outage) and when `drover run` ends. What
//! is held is the tail of the runs already underway.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use drover::store::{Store, StoreLocation};

use super::pg_support::PgServer;
use super::run_writes::{OPS_PER_RUN, Run, write_run};

/// What one outage showed.
pub struct Held {
    pub runs: usize,
    /// Ops the senders had handed over when the server came back.
    pub accepted: usize,
    /// Whether the senders were waiting for room by then.
    pub blocked: bool,
    /// Ops in the batch the writer thread held (the rest waited in its channel).
    pub in_hand: usize,
    /// From the server accepting connections to the last held write committed.
    pub ready_to_committed: Duration,
}

/// Stops the server for `outage` while `runs` runs write, starts it again and
/// times the commit of everything held.
pub fn outage(server: &PgServer, db: &str, runs: usize, outage: Duration) -> Held {
    let url = server.create_database(db);
    let location = StoreLocation::parse(&url).expect("url");
    let store = Store::open_location(&location, false).expect("open store");
    write_run(&store.writer(), 0).expect("run before the outage");
    server.stop();
    let accepted = Arc::new(AtomicUsize::new(0));
    let sender = {
        let (writer, accepted) = (store.writer(), accepted.clone());
        thread::spawn(move || {
            for _ in 0..runs {
                let run = Run::new(0);
                for op in run.queued().into_iter().chain(run.rest()) {
                    writer.blocking_send(op).expect("held write");
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
            }
            writer.blocking_flush().expect("flush after the outage");
            Instant::now()
        })
    };
    // The outage itself: how long the server stays away.
    thread::sleep(outage);
    let sent = accepted.load(Ordering::Relaxed);
    let in_hand = store.outage().map_or(0, |o| o.held);
    server.start_again();
    let ready = Instant::now();
    let committed = sender.join().expect("sender");
    let mut client = server.connect(db);
    let rows: i64 = client
        .query_one("SELECT count(*) FROM executions", &[])
        .expect("count")
        .get(0);
    assert_eq!(
        rows as usize,
        runs + 1,
        "every run written once after the outage"
    );
    store.close().expect("close");
    Held {
        runs,
        accepted: sent,
        blocked: sent < runs * OPS_PER_RUN,
        in_hand,
        ready_to_committed: committed.saturating_duration_since(ready),
    }
}
