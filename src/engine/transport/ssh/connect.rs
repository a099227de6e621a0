//! Establishing one authenticated connection: TCP (or a tunnel through the jump
//! host's connection, or a ProxyCommand's stdin and stdout), key exchange with the host key checked against known_hosts,
//! then authentication.

use super::ClientHandler;
use super::auth::{AuthPlan, authenticate};
use super::connection::Connection;
use super::hostkeys::HostKeyPolicy;
use super::known_hosts;
use super::proxy::{self, ProxyProcess};
use crate::engine::common::error::ErrorCategory;
use crate::engine::transport::TransportError;
use crate::engine::transport::interaction::Interaction;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Used when ssh_config sets no ConnectTimeout (OpenSSH waits for the kernel).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where to connect and how, resolved from ssh_config.
#[derive(Clone)]
pub struct Destination {
    pub user: String,
    pub host: String,
    pub port: u16,
    /// The jump host to tunnel through (the last hop of ProxyJump).
    pub via: Option<Box<Destination>>,
    /// The ProxyCommand whose stdin and stdout carry the connection, tokens
    /// expanded (never together with `via`).
    pub proxy_command: Option<String>,
    pub identity_files: Vec<PathBuf>,
    /// `HostKeyAlias` (lowercased): the known_hosts name instead of
    /// `host`/`[host]:port`, and the principal a host certificate must list.
    pub host_key_alias: Option<String>,
    pub certificate_files: Vec<PathBuf>,
    pub identities_only: bool,
    pub connect_timeout: Option<Duration>,
    pub keepalive_interval: Option<Duration>,
    pub keepalive_max: usize,
    pub host_keys: Arc<HostKeyPolicy>,
    pub interaction: Arc<dyn Interaction>,
    /// The local agent socket to forward into interactive sessions
    /// (`ForwardAgent`); never used for command runs.
    pub forward_agent: Option<PathBuf>,
}

impl Destination {
    /// The name and port known_hosts is searched for, as ssh does: the
    /// `HostKeyAlias` alone (no port), else the host and port connected to.
    pub fn known_hosts_name(&self) -> (&str, u16) {
        match &self.host_key_alias {
            Some(alias) => (alias, known_hosts::DEFAULT_PORT),
            None => (&self.host, self.port),
        }
    }

    /// Identity of a pooled connection: who, where, and through which chain.
    pub fn key(&self) -> String {
        let mut k = format!("{}@{}:{}", self.user, self.host, self.port);
        if let Some(via) = &self.via {
            k.push_str(" via ");
            k.push_str(&via.key());
        }
        if let Some(cmd) = &self.proxy_command {
            k.push_str(&format!(" via ProxyCommand `{cmd}`"));
        }
        k
    }
}

/// The SSH client configuration drover uses for every connection.
fn client_config(dest: &Destination) -> russh::client::Config {
    let mut config = russh::client::Config {
        keepalive_interval: dest.keepalive_interval,
        keepalive_max: dest.keepalive_max,
        nodelay: true,
        // Few packets queued per channel: a node printing faster than we consume
        // waits in TCP flow control, not in our memory (32 KiB packets).
        channel_buffer_size: 4,
        ..Default::default()
    };
    // Plain host keys unless a CA could vouch for this host (see `establish`).
    config.preferred.host_key_certificates = std::borrow::Cow::Borrowed(&[]);
    if hardware_aes() {
        config.preferred.cipher = std::borrow::Cow::Borrowed(AES_FIRST);
    }
    config
}

/// The ciphers offered where the CPU has AES instructions: AES-GCM first, then
/// the default order. The server takes the client's first choice it supports,
/// and with AES-NI (both in ring and in sshd's libcrypto) AES-GCM costs each end
/// a fraction of what ChaCha20-Poly1305 costs per byte: when 50 nodes each print
/// 27 MB, the cipher was a fifth of drover's CPU. Without AES instructions the
/// default order (ChaCha20-Poly1305 first, as ssh's) stays: software AES is the
/// slower one there.
const AES_FIRST: &[russh::cipher::Name] = &[
    russh::cipher::AES_128_GCM,
    russh::cipher::AES_256_GCM,
    russh::cipher::CHACHA20_POLY1305,
    russh::cipher::AES_256_CTR,
    russh::cipher::AES_192_CTR,
    russh::cipher::AES_128_CTR,
];

fn hardware_aes() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
            && std::arch::is_aarch64_feature_detected!("pmull")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

pub async fn establish(
    dest: &Destination,
    parent: Option<Arc<Connection>>,
) -> Result<Connection, TransportError> {
    let key = dest.key();
    // One read of the known_hosts files serves both the algorithm order and the
    // host key check of this connection.
    let policy = dest.host_keys.clone();
    let known = tokio::task::spawn_blocking(move || policy.load())
        .await
        .map_err(|e| {
            TransportError::new(
                ErrorCategory::Plugin,
                format!("{key}: reading known_hosts: {e}"),
            )
        })?;
    let (kh_host, kh_port) = dest.known_hosts_name();
    let mut config = client_config(dest);
    config.preferred.key = std::borrow::Cow::Owned(HostKeyPolicy::preferred_algorithms(
        &known,
        kh_host,
        kh_port,
        &config.preferred.key,
    ));
    // As ssh: certificate algorithms first only when an `@cert-authority` line
    // applies to the host; otherwise a server holding a certificate would present
    // it to a client that cannot trust it instead of its known plain key.
    if !known.trusted_ca_keys(kh_host, kh_port).is_empty() {
        config.preferred.host_key_certificates =
            std::borrow::Cow::Owned(config.preferred.key.to_vec());
    }
    let rejection = Arc::new(Mutex::new(None));
    let agent = Arc::new(Mutex::new(None));
    let handler = ClientHandler {
        host: kh_host.to_string(),
        port: kh_port,
        policy: dest.host_keys.clone(),
        known,
        interaction: dest.interaction.clone(),
        rejection: rejection.clone(),
        agent: agent.clone(),
    };
    let config = Arc::new(config);
    let timeout = dest.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    // Held until this function returns, so a failed connect can still tell how
    // the command ended; afterwards the connection's stream keeps it alive.
    let mut proxy: Option<Arc<ProxyProcess>> = None;
    let connecting = async {
        match (&parent, &dest.proxy_command) {
            (Some(jump), _) => {
                let tunnel = jump
                    .open_tunnel(&dest.host, dest.port)
                    .await
                    .map_err(|e| russh::Error::IO(std::io::Error::other(e.reason)))?;
                russh::client::connect_stream(config, tunnel.into_stream(), handler).await
            }
            (None, Some(command)) => {
                let (process, stream) = proxy::spawn(command).map_err(|e| {
                    russh::Error::IO(std::io::Error::other(format!(
                        "cannot start the ProxyCommand: {e}"
                    )))
                })?;
                proxy = Some(process);
                russh::client::connect_stream(config, stream, handler).await
            }
            (None, None) => {
                russh::client::connect(config, (dest.host.as_str(), dest.port), handler).await
            }
        }
    };
    let outcome = tokio::time::timeout(timeout, connecting).await;
    let stderr_note = || proxy.as_ref().map(|p| p.stderr_note()).unwrap_or_default();
    let mut handle = match outcome {
        Err(_) => {
            return Err(TransportError::new(
                ErrorCategory::Timeout,
                format!(
                    "{key}: connect timed out after {}{}",
                    crate::engine::common::duration::format_duration(timeout),
                    stderr_note()
                ),
            ));
        }
        Ok(Err(e)) => {
            let rejected = rejection.lock().unwrap_or_else(|p| p.into_inner()).take();
            return Err(match (rejected, &proxy) {
                // A host key we must not trust is never retried.
                (Some(reason), _) => {
                    TransportError::new(ErrorCategory::Authorization, format!("{key}: {reason}"))
                }
                (None, Some(p)) => TransportError::new(
                    ErrorCategory::Connection,
                    format!("{key}: {}", p.failure(&describe(&e)).await),
                ),
                (None, None) => TransportError::new(
                    ErrorCategory::Connection,
                    format!("{key}: {}", describe(&e)),
                ),
            });
        }
        Ok(Ok(h)) => h,
    };
    let plan = AuthPlan {
        user: &dest.user,
        identity_files: &dest.identity_files,
        certificate_files: &dest.certificate_files,
        identities_only: dest.identities_only,
        interaction: dest.interaction.as_ref(),
    };
    if let Err(reason) = authenticate(&mut handle, &plan).await {
        let _ = handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        return Err(TransportError::new(
            ErrorCategory::Authorization,
            format!("{key}: {reason}{}", stderr_note()),
        ));
    }
    tracing::debug!(%key, "connected");
    Ok(Connection::new(key, handle, parent, agent))
}

fn describe(e: &russh::Error) -> String {
    match e {
        russh::Error::IO(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
            std::io::ErrorKind::TimedOut => "connection timed out".into(),
            _ => format!("{io}"),
        },
        other => other.to_string(),
    }
}
