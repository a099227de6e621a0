//! Pooled SSH connections: one authenticated connection per destination, reused by
//! every run in this process; a jump host's connection is shared by every node
//! behind it. Session channels per connection stay under the server's MaxSessions
//! (OpenSSH's default is 10): one is kept back for control commands (remote kill),
//! and when the rest are busy another connection to the same destination opens.

use super::connect::{Destination, establish};
pub use super::connection::{AgentSocket, Connection};
use crate::engine::transport::TransportError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;

/// How often a run that has not started yet reconnects when the shared connection
/// it was to use (a jump host's, or its node's) was reset.
pub const RECONNECTS: u32 = 3;

/// The pause before reconnect `attempt` (1-based): 200 ms, 400 ms, 800 ms.
pub fn reconnect_pause(attempt: u32) -> Duration {
    Duration::from_millis(200 << attempt.saturating_sub(1).min(4))
}

/// A connection and a run slot reserved on it.
pub type Slot = (Arc<Connection>, OwnedSemaphorePermit);

/// Connections by destination key (user@host:port via the jump chain).
#[derive(Default)]
pub struct Pool {
    conns: Mutex<HashMap<String, Vec<Arc<Connection>>>>,
    /// One connect at a time per destination, so 200 nodes behind one bastion make
    /// one bastion connection, not 200.
    connecting: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Pool {
    /// A live connection to `dest` and a run slot reserved on it, connecting if
    /// every pooled connection is full. Reserving here (not when the channel opens)
    /// keeps two callers from both counting on the last free slot.
    pub fn get<'a>(
        &'a self,
        dest: &'a Destination,
    ) -> crate::engine::transport::BoxFuture<'a, Result<Slot, TransportError>> {
        Box::pin(async move {
            let key = dest.key();
            if let Some(c) = self.find(&key) {
                return Ok(c);
            }
            let gate = {
                let mut map = self.connecting.lock().unwrap_or_else(|p| p.into_inner());
                map.entry(key.clone()).or_default().clone()
            };
            let _guard = gate.lock().await;
            if let Some(c) = self.find(&key) {
                return Ok(c);
            }
            let conn = Arc::new(match &dest.via {
                Some(jump) => self.establish_via(dest, jump).await?,
                None => establish(dest, None).await?,
            });
            let permit = conn
                .run_slots
                .clone()
                .try_acquire_owned()
                .map_err(|_| conn.error("no free channel on a new connection"))?;
            self.conns
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(key)
                .or_default()
                .push(conn.clone());
            Ok((conn, permit))
        })
    }

    /// Connects to `dest` through the pooled connection to `jump`. When that
    /// shared connection dies under us (a reset), it is replaced and the connect
    /// tried again: [`RECONNECTS`] more times at most, with a growing pause.
    async fn establish_via(
        &self,
        dest: &Destination,
        jump: &Destination,
    ) -> Result<Connection, TransportError> {
        let mut attempt = 0;
        loop {
            // Tunnels need no session slot: the jump host's reservation is let go.
            let parent = self.get(jump).await?.0;
            match establish(dest, Some(parent.clone())).await {
                Ok(conn) => return Ok(conn),
                Err(e) if parent.is_closed() && attempt < RECONNECTS => {
                    parent.report_reset(&e.reason);
                    attempt += 1;
                    tokio::time::sleep(reconnect_pause(attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// A pooled connection that is open, with a run slot reserved on it.
    fn find(&self, key: &str) -> Option<Slot> {
        let mut map = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.get_mut(key)?;
        list.retain(|c| {
            let closed = c.is_closed();
            if closed {
                c.report_reset("closed by the server or the network");
            }
            !closed
        });
        list.iter().find_map(|c| {
            let permit = c.run_slots.clone().try_acquire_owned().ok()?;
            Some((c.clone(), permit))
        })
    }

    /// Closes connections idle longer than `idle`, children before their jump hosts.
    pub async fn reap(&self, idle: Duration) {
        let stale: Vec<Arc<Connection>> = {
            let mut map = self.conns.lock().unwrap_or_else(|p| p.into_inner());
            let mut out = Vec::new();
            for list in map.values_mut() {
                list.retain(|c| {
                    let drop_it = c.is_closed()
                        || (!c.busy() && c.idle_for() > idle && Arc::strong_count(c) == 1);
                    if drop_it {
                        out.push(c.clone());
                    }
                    !drop_it
                });
            }
            out
        };
        for c in stale {
            c.close().await;
        }
    }

    /// Closes everything: tunnelled connections first, then the jump hosts (a
    /// russh `Handle` that is merely dropped does not close its tunnel).
    pub async fn close_all(&self) {
        let mut all: Vec<Arc<Connection>> = {
            let mut map = self.conns.lock().unwrap_or_else(|p| p.into_inner());
            map.drain().flat_map(|(_, v)| v).collect()
        };
        all.sort_by_key(|c| std::cmp::Reverse(depth(c)));
        for c in all {
            c.close().await;
        }
    }

    pub fn len(&self) -> usize {
        self.conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(Vec::len)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn depth(c: &Connection) -> usize {
    let mut d = 0;
    let mut p = c.parent.as_ref();
    while let Some(parent) = p {
        d += 1;
        p = parent.parent.as_ref();
    }
    d
}
