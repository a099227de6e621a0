//! One authenticated SSH connection and its session channel slots: channels stay
//! under the server's MaxSessions (OpenSSH's default is 10), one kept back for
//! control commands (remote kill). Opening connections is `connect`'s work,
//! sharing them the pool's.

use super::ClientHandler;
use crate::engine::common::error::ErrorCategory;
use crate::engine::transport::TransportError;
use russh::client::{Handle, Msg};
use russh::{Channel, ChannelMsg, Disconnect};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Session channels a server allows per connection (OpenSSH `MaxSessions`).
pub const MAX_SESSIONS: usize = 10;

pub struct Connection {
    pub key: String,
    handle: Handle<ClientHandler>,
    /// Channels for runs; one more than this is kept for control commands.
    pub(super) run_slots: Arc<Semaphore>,
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

    pub(super) fn idle_for(&self) -> Duration {
        self.last_used
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }

    pub(super) fn busy(&self) -> bool {
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
                crate::engine::common::duration::format_duration(bound)
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

    pub(super) fn error(&self, what: &str) -> TransportError {
        TransportError::new(ErrorCategory::Connection, format!("{}: {what}", self.key))
    }
}
