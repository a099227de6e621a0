//! The SSH transport: ssh_config and known_hosts with OpenSSH semantics, pooled
//! connections shared across runs, jump-host chains through one connection per
//! hop, and cancellation that ends the remote process group.

mod auth;
pub mod config;
pub mod config_source;
mod connect;
mod connection;
mod exec;
mod hostkeys;
pub mod known_hosts;
mod known_hosts_cache;
pub mod pattern;
mod pool;
mod proxy;
mod session;
mod transport;
mod user_certs;
pub(crate) mod wrapper;

pub use exec::stop_bound;
pub use transport::{SshSettings, SshTransport};

use crate::engine::transport::interaction::Interaction;
use hostkeys::HostKeyPolicy;
use russh::keys::PublicKey;
use std::sync::{Arc, Mutex};

/// russh's per-connection callbacks: the host key (or certificate) check, and
/// forwarded agent channels.
pub(crate) struct ClientHandler {
    /// The name known_hosts is searched for (`Destination::known_hosts_name`),
    /// also the principal a host certificate must list.
    host: String,
    port: u16,
    policy: Arc<HostKeyPolicy>,
    /// The known_hosts entries read when this connection started.
    known: Arc<known_hosts::KnownHosts>,
    interaction: Arc<dyn Interaction>,
    /// Why the key was refused, for the error the connect attempt reports.
    rejection: Arc<Mutex<Option<String>>>,
    /// Where to forward agent channels; `None` refuses them.
    agent: pool::AgentSocket,
}

impl ClientHandler {
    async fn verify(&self, key: &PublicKey) -> bool {
        let checked = self
            .policy
            .check(
                &self.known,
                &self.host,
                self.port,
                key,
                self.interaction.as_ref(),
            )
            .await;
        self.settle(checked)
    }

    /// Keeps the reason of a refusal for the error the connect attempt reports.
    fn settle(&self, checked: Result<(), String>) -> bool {
        match checked {
            Ok(()) => true,
            Err(reason) => {
                *self.rejection.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason);
                false
            }
        }
    }
}

impl russh::client::Handler for ClientHandler {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        match key {
            russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } => {
                Ok(self.verify(key).await)
            }
            russh::keys::PublicKeyOrCertificate::Certificate(cert) => {
                let checked = self
                    .policy
                    .check_certificate(
                        &self.known,
                        &self.host,
                        self.port,
                        cert,
                        self.interaction.as_ref(),
                    )
                    .await;
                Ok(self.settle(checked))
            }
        }
    }

    /// The server's end of a forwarded agent: each channel is piped to the local
    /// agent socket. Refused unless a session on this connection asked for it.
    async fn server_channel_open_agent_forward(
        &mut self,
        channel: russh::Channel<russh::client::Msg>,
        reply: russh::client::ChannelOpenHandle,
        _session: &mut russh::client::Session,
    ) -> Result<(), Self::Error> {
        let socket = self.agent.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(socket) = socket else {
            reply
                .reject(russh::ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        };
        reply.accept().await;
        tokio::spawn(async move {
            match tokio::net::UnixStream::connect(&socket).await {
                Ok(mut local) => {
                    let mut remote = channel.into_stream();
                    let _ = tokio::io::copy_bidirectional(&mut remote, &mut local).await;
                }
                Err(e) => {
                    tracing::warn!("agent forwarding: {}: {e}", socket.display());
                }
            }
        });
        Ok(())
    }
}
