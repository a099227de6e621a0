//! Pooled SSH connections: one authenticated connection per destination, reused by
//! every run in this process; a jump host's connection is shared by every node
//! behind it. Session channels per connection stay under the server's MaxSessions
//! (OpenSSH's default is 10): one is kept back for control commands (remote kill),
//! and when the rest are busy another connection to the same destination opens.

use super::ClientHandler;
use super::connect::{Destination, establish};
use crate::engine::error::ErrorCategory;
use crate::engine::transport::TransportError;
use russh::client::{Handle, Msg};
use russh::{Channel, ChannelMsg, Disconnect};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How often a run that has not started yet reconnects when the shared connection
/// it was to use (a jump host's, or its node's) was reset.
pub const RECONNECTS: u32 = 3;

/// The pause before reconnect `attempt` (1-based): 200 ms, 400 ms, 800 ms.
pub fn reconnect_pause(attempt: u32) -> Duration {
    Duration::from_millis(200 << attempt.saturating_sub(1).min(4))
}

/// Session channels a server allows per connection (OpenSSH `MaxSessions`).
pub const MAX_SESSIONS: usize = 10;

pub struct Connection {
    pub key: String,
    handle: Handle<ClientHandler>,
    /// Channels for runs; one more than this is kept for control commands.
    run_slots: Arc<Semaphore>,
    control: Semaphore,
    last_used: Mutex<Instant>,
    /// The jump host connection this one tunnels through; kept alive by us.
    pub parent: Option<Arc<Connection>>,
    /// Where agent channels the server opens are forwarded (shared with the
    /// connection's handler); set once a session asked for agent forwarding.
    agent: AgentSocket,
    /// Given up on (a node that stopped answering): never handed out again.
    abandoned: AtomicBool,
    reset_reported: AtomicBool,
}

/// The local agent socket a connection forwards to, if any.
pub type AgentSocket = Arc<Mutex<Option<PathBuf>>>;

impl Connection {
    pub(crate) fn new(
        key: String,
        handle: Handle<ClientHandler>,
        parent: Option<Arc<Connection>>,
        agent: AgentSocket,
    ) -> Connection {
        Connection {
            key,
            handle,
            run_slots: Arc::new(Semaphore::new(MAX_SESSIONS - 1)),
            control: Semaphore::new(1),
            last_used: Mutex::new(Instant::now()),
            parent,
            agent,
            abandoned: AtomicBool::new(false),
            reset_reported: AtomicBool::new(false),
        }
    }

    pub fn describe(&self) -> &str {
        &self.key
    }

    pub fn is_closed(&self) -> bool {
        self.abandoned.load(Ordering::SeqCst) || self.handle.is_closed()
    }

    /// A reset of this pooled connection, seen by a run that had not started:
    /// logged once per connection however many runs see it (not at all when drover
    /// gave it up itself), and the connection taken out of service so the next run
    /// connects afresh.
    pub fn report_reset(self: &Arc<Self>, why: &str) {
        let ours = self.abandoned.load(Ordering::SeqCst);
        if !ours && !self.reset_reported.swap(true, Ordering::SeqCst) {
            tracing::warn!(target = %self.key, "pooled connection reset ({why}); runs that had not started reconnect");
        }
        self.abandon();
    }

    /// Takes this connection out of service: the pool hands it out no more, and it
    /// is disconnected in the background (bounded: a cut link never answers).
    pub fn abandon(self: &Arc<Self>) {
        if self.abandoned.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(1), me.close()).await;
        });
    }

    fn touch(&self) {
        *self.last_used.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.last_used
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }

    fn busy(&self) -> bool {
        self.run_slots.available_permits() < MAX_SESSIONS - 1
    }

    /// A session channel for a run, in the slot the pool reserved for it.
    pub async fn open_session(
        &self,
        permit: OwnedSemaphorePermit,
    ) -> Result<(Channel<Msg>, OwnedSemaphorePermit), TransportError> {
        self.touch();
        let channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| self.error(&format!("cannot open a session channel: {e}")))?;
        Ok((channel, permit))
    }

    /// Lets the server open agent channels on this connection, forwarded to
    /// `socket`. Only sessions that asked for forwarding get such channels.
    pub fn forward_agent_to(&self, socket: PathBuf) {
        *self.agent.lock().unwrap_or_else(|p| p.into_inner()) = Some(socket);
    }

    /// A tunnel to `host:port` through this connection (ProxyJump). Tunnels are not
    /// sessions, so they do not count against MaxSessions.
    pub async fn open_tunnel(&self, host: &str, port: u16) -> Result<Channel<Msg>, TransportError> {
        self.touch();
        self.handle
            .channel_open_direct_tcpip(host, u32::from(port), "127.0.0.1", 0)
            .await
            .map_err(|e| self.error(&format!("cannot open a tunnel to {host}:{port}: {e}")))
    }

    /// Runs a short command on the reserved control channel and waits for it, for
    /// `bound` at most in all (the wait for the slot, the channel, the command).
    pub async fn run_control(&self, command: &str, bound: Duration) -> Result<(), TransportError> {
        let bounded = tokio::time::timeout(bound, self.control_now(command)).await;
        bounded.unwrap_or_else(|_| {
            Err(self.error(&format!(
                "control command unanswered after {}",
                crate::engine::duration::format_duration(bound)
            )))
        })
    }

    async fn control_now(&self, command: &str) -> Result<(), TransportError> {
        let _permit = self
            .control
            .acquire()
            .await
            .map_err(|_| self.error("connection closed"))?;
        let mut ch = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| self.error(&format!("control channel: {e}")))?;
        ch.exec(true, command)
            .await
            .map_err(|e| self.error(&format!("control command: {e}")))?;
        loop {
            match ch.wait().await {
                Some(ChannelMsg::Close) | None => return Ok(()),
                _ => {}
            }
        }
    }

    pub async fn close(&self) {
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "drover done", "en")
            .await;
    }

    fn error(&self, what: &str) -> TransportError {
        TransportError::new(ErrorCategory::Connection, format!("{}: {what}", self.key))
    }
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
