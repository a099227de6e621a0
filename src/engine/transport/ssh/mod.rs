//! The SSH transport: ssh_config and known_hosts with OpenSSH semantics, pooled
//! connections shared across runs, jump-host chains through one connection per
//! hop, and cancellation that ends the remote process group.

mod auth;
pub mod config;
mod connect;
mod exec;
mod hostkeys;
pub mod known_hosts;
pub mod pattern;
mod pool;
mod transport;

pub use transport::{SshSettings, SshTransport};

use crate::engine::interaction::Interaction;
use hostkeys::HostKeyPolicy;
use russh::keys::PublicKey;
use std::sync::{Arc, Mutex};

/// russh's per-connection callbacks: only the host key check matters to us.
pub(crate) struct ClientHandler {
    host: String,
    port: u16,
    policy: Arc<HostKeyPolicy>,
    /// The known_hosts entries read when this connection started.
    known: Arc<known_hosts::KnownHosts>,
    interaction: Arc<dyn Interaction>,
    /// Why the key was refused, for the error the connect attempt reports.
    rejection: Arc<Mutex<Option<String>>>,
}

impl ClientHandler {
    async fn verify(&self, key: &PublicKey) -> bool {
        match self
            .policy
            .check(
                &self.known,
                &self.host,
                self.port,
                key,
                self.interaction.as_ref(),
            )
            .await
        {
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
            russh::keys::PublicKeyOrCertificate::Certificate(_) => {
                *self.rejection.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some("host certificates are not verified by drover yet".into());
                Ok(false)
            }
        }
    }
}
