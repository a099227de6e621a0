//! The `ssh` transport: resolves each node through ssh_config, takes a pooled
//! connection (through its jump chain or ProxyCommand), and runs the command on a channel.

use super::config::{self, Overrides, Proxy, ResolvedHost, SshConfigFile};
use super::connect::Destination;
use super::exec;
use super::hostkeys::HostKeyPolicy;
use super::known_hosts_cache::KnownHostsCache;
use super::pool::{Connection, Pool, RECONNECTS, reconnect_pause};
use super::session;
use crate::engine::common::error::ErrorCategory;
use crate::engine::inventory::Node;
use crate::engine::report::output::OutputSink;
use crate::engine::transport::interaction::Interaction;
use crate::engine::transport::session::{SessionIo, SessionRequest};
use crate::engine::transport::{
    BoxFuture, Capabilities, ExitInfo, Health, NodeJob, Transport, TransportError,
};
use russh::Channel;
use russh::client::Msg;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

/// Jump chains longer than this are refused (they are loops in practice).
const MAX_JUMP_DEPTH: usize = 8;

pub struct SshSettings {
    /// `-F FILE`, else `~/.ssh/config` (a missing file is an empty config).
    pub config_file: Option<PathBuf>,
    pub environment: config::Environment,
    /// Between the TERM and the KILL of a stopped remote command.
    pub kill_grace: Duration,
    /// Pooled connections unused this long are closed.
    pub idle_timeout: Duration,
    pub interaction: Arc<dyn Interaction>,
}

pub struct SshTransport {
    config: SshConfigFile,
    settings: SshSettings,
    pool: Arc<Pool>,
    known_hosts: Arc<KnownHostsCache>,
}

impl SshTransport {
    /// Parses the ssh_config now, so a bad file is reported before anything runs.
    pub fn new(settings: SshSettings) -> Result<SshTransport, TransportError> {
        let path = settings
            .config_file
            .clone()
            .unwrap_or_else(|| settings.environment.home.join(".ssh/config"));
        let config = SshConfigFile::load(&path, &settings.environment)
            .map_err(|e| TransportError::new(ErrorCategory::Validation, e.to_string()))?;
        let pool = Arc::new(Pool::default());
        // The reaper holds only a weak reference: it ends with the transport.
        let weak = Arc::downgrade(&pool);
        let idle = settings.idle_timeout;
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let mut tick = tokio::time::interval(idle.max(Duration::from_secs(1)) / 2);
                loop {
                    tick.tick().await;
                    let Some(pool) = weak.upgrade() else { break };
                    pool.reap(idle).await;
                }
            });
        }
        Ok(SshTransport {
            config,
            settings,
            pool,
            known_hosts: Arc::default(),
        })
    }

    /// The parsed ssh_config (also the inventory's source of `Host` aliases).
    pub fn config(&self) -> &SshConfigFile {
        &self.config
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Where and how to connect for a node: its name resolved as an ssh alias,
    /// with the inventory's address, user and port winning over the file.
    pub fn destination(&self, node: &Node) -> Result<Destination, TransportError> {
        let overrides = Overrides {
            user: node.user.clone(),
            port: node.port,
        };
        let resolved = self.resolve(&node.name, &overrides)?;
        let host = node
            .address
            .clone()
            .unwrap_or_else(|| resolved.hostname.clone());
        self.build(&resolved, host, &[])
    }

    fn resolve(&self, name: &str, overrides: &Overrides) -> Result<ResolvedHost, TransportError> {
        self.config
            .resolve(name, overrides)
            .map_err(|e| TransportError::new(ErrorCategory::Validation, e.to_string()))
    }

    /// `chain` holds the hops (`user@host:port`, as resolved) this one is
    /// reached from, the destination first: a hop met again is a cycle. ssh
    /// checks only that the last hop is not the destination itself (see
    /// `config::jump::check_loop`); a longer cycle makes it start ssh after ssh
    /// until something gives out, so drover names the cycle instead.
    fn build(
        &self,
        r: &ResolvedHost,
        host: String,
        chain: &[String],
    ) -> Result<Destination, TransportError> {
        let me = format!("{}@{}:{}", r.user, r.hostname, r.port);
        if let Some(first) = chain.iter().position(|h| *h == me) {
            let mut cycle: Vec<&str> = chain[first..].iter().map(String::as_str).collect();
            cycle.push(&me);
            return Err(TransportError::new(
                ErrorCategory::Validation,
                format!("{}: ProxyJump loop: {}", r.original, cycle.join(" -> ")),
            ));
        }
        if chain.len() > MAX_JUMP_DEPTH {
            return Err(TransportError::new(
                ErrorCategory::Validation,
                format!(
                    "{}: ProxyJump chain longer than {MAX_JUMP_DEPTH} hops",
                    r.original
                ),
            ));
        }
        let mut chain = chain.to_vec();
        chain.push(me);
        let via = match &r.proxy {
            Proxy::None => None,
            // Started when connecting; its tokens are checked now (below).
            Proxy::Command(cmd) if cmd == "-" => {
                return Err(TransportError::new(
                    ErrorCategory::Validation,
                    format!(
                        "{}: `ProxyCommand -` (the connection on ssh's own stdin and \
                         stdout) cannot serve drover's many connections",
                        r.original
                    ),
                ));
            }
            Proxy::Command(_) => None,
            Proxy::Jump(hops) => {
                // Hop n is reached through hop n-1; the first hop through its own
                // ProxyJump, if its config has one (as `ssh -J` does).
                let mut via: Option<Box<Destination>> = None;
                for (i, hop) in hops.iter().enumerate() {
                    let hop_overrides = Overrides {
                        user: hop.user.clone(),
                        port: hop.port,
                    };
                    let mut hr = self.resolve(&hop.host, &hop_overrides)?;
                    if i > 0 {
                        hr.proxy = Proxy::None;
                    }
                    let mut d = self.build(&hr, hr.hostname.clone(), &chain)?;
                    if i > 0 {
                        d.via = via.take();
                    }
                    via = Some(Box::new(d));
                }
                via
            }
        };
        let proxy_command = r
            .proxy_command(&host)
            .map_err(|e| TransportError::new(ErrorCategory::Validation, e.to_string()))?;
        Ok(Destination {
            user: r.user.clone(),
            host,
            port: r.port,
            via,
            proxy_command,
            identity_files: r.identity_files.clone(),
            certificate_files: r.certificate_files.clone(),
            host_key_alias: r.host_key_alias.clone(),
            identities_only: r.identities_only,
            connect_timeout: r.connect_timeout,
            keepalive_interval: (!r.server_alive_interval.is_zero())
                .then_some(r.server_alive_interval),
            keepalive_max: r.server_alive_count_max as usize,
            host_keys: Arc::new(HostKeyPolicy {
                user_files: r.user_known_hosts_files.clone(),
                global_files: r.global_known_hosts_files.clone(),
                // drover never accepts a changed key, whatever the config says: `no`
                // only accepts unknown keys without recording them.
                strict: r.strict_host_key_checking,
                cache: self.known_hosts.clone(),
            }),
            interaction: self.settings.interaction.clone(),
            forward_agent: agent_socket(r),
        })
    }

    async fn run(
        &self,
        job: NodeJob<'_>,
        sink: &OutputSink,
        stop: CancellationToken,
    ) -> Result<ExitInfo, TransportError> {
        let dest = self.destination(job.node)?;
        let stopped = || {
            TransportError::new(
                ErrorCategory::Connection,
                "stopped while connecting; nothing was started on the node",
            )
        };
        let (conn, channel, _slot) = tokio::select! {
            c = self.open_channel(&dest) => c?,
            _ = stop.cancelled() => return Err(stopped()),
        };
        exec::run(&conn, channel, job, sink, stop, self.settings.kill_grace).await
    }

    /// A session channel to `dest`. A pooled connection found dead when the
    /// channel is asked for (reset since it was last used, with the command not
    /// started yet) is replaced, [`RECONNECTS`] times at most, pausing a little
    /// longer each time.
    async fn open_channel(
        &self,
        dest: &Destination,
    ) -> Result<(Arc<Connection>, Channel<Msg>, OwnedSemaphorePermit), TransportError> {
        let mut attempt = 0;
        loop {
            let (conn, permit) = self.pool.get(dest).await?;
            match conn.open_session(permit).await {
                Ok((channel, permit)) => return Ok((conn, channel, permit)),
                Err(e) if conn.is_closed() && attempt < RECONNECTS => {
                    // The shared hop that died is the one to report (once).
                    let mut dead = &conn;
                    while let Some(parent) = dead.parent.as_ref().filter(|p| p.is_closed()) {
                        dead = parent;
                    }
                    dead.report_reset(&e.reason);
                    conn.abandon();
                    attempt += 1;
                    tokio::time::sleep(reconnect_pause(attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn interactive(
        &self,
        node: &Node,
        request: SessionRequest,
        io: SessionIo,
    ) -> Result<ExitInfo, TransportError> {
        let mut dest = self.destination(node)?;
        if let Some(interaction) = &request.interaction {
            let mut hop = Some(&mut dest);
            while let Some(d) = hop {
                d.interaction = interaction.clone();
                hop = d.via.as_deref_mut();
            }
        }
        let slot = self.pool.get(&dest).await?;
        session::run(slot, &node.name, request, io, dest.forward_agent.clone()).await
    }
}

/// The agent socket ForwardAgent names: its own path, else `$SSH_AUTH_SOCK`
/// (none set: nothing is forwarded, as with OpenSSH).
fn agent_socket(r: &ResolvedHost) -> Option<PathBuf> {
    if let Some(path) = &r.forward_agent_socket {
        return Some(path.clone());
    }
    if !r.forward_agent {
        return None;
    }
    std::env::var_os("SSH_AUTH_SOCK")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
}

impl Transport for SshTransport {
    fn name(&self) -> &str {
        "ssh"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            command: true,
            upload: false,
            interactive: true,
            real_cancel: true,
        }
    }

    fn check_node(&self, node: &Node) -> Result<(), TransportError> {
        self.destination(node).map(|_| ())
    }

    fn stop_bound(&self) -> Duration {
        exec::stop_bound(self.settings.kill_grace)
    }

    fn execute<'a>(
        &'a self,
        job: NodeJob<'a>,
        sink: &'a OutputSink,
        stop: CancellationToken,
    ) -> BoxFuture<'a, Result<ExitInfo, TransportError>> {
        Box::pin(self.run(job, sink, stop))
    }

    fn session<'a>(
        &'a self,
        node: &'a Node,
        request: SessionRequest,
        io: SessionIo,
    ) -> BoxFuture<'a, Result<ExitInfo, TransportError>> {
        Box::pin(self.interactive(node, request, io))
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        Box::pin(async move {
            Health {
                healthy: true,
                detail: format!("{} pooled connections", self.pool.len()),
            }
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.pool.close_all())
    }
}
