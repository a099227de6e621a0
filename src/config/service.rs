//! `[engine]`: where the engine runs. The console attaches to `drover serve`
//! (`detach`, on by default; the service is started in the background when none
//! answers, and ends when its last console and run have), so runs outlive the
//! terminal. `--batch` keeps an engine of its own unless `--attach` is given.

use serde::Deserialize;
use std::path::PathBuf;

/// The environment variable naming the service socket (as `--socket` does).
pub const SOCKET_ENV: &str = "DROVER_SOCKET";

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    /// The console attaches to the service (starting it when none answers).
    pub detach: bool,
    /// The service's socket [default: `$XDG_RUNTIME_DIR/drover/drover.sock`].
    pub socket: Option<PathBuf>,
    /// The socket's mode, octal: "0600" (its owner only) or "0660" (a team
    /// service's group; the directory is then made 0750).
    pub socket_mode: String,
    /// A TCP address to serve the API on as well, for tools on other machines
    /// (`"0.0.0.0:7443"`); off by default. Needs `tls_cert`, `tls_key` and
    /// `[engine.tokens]`: there is no plain-text or anonymous TCP.
    pub listen: Option<String>,
    /// PEM certificate chain and private key of the TCP listener.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Bearer tokens of the TCP listener: user = "sha256:HEX" of their token
    /// (`printf %s "$TOKEN" | sha256sum`); the token names the user to RBAC.
    pub tokens: std::collections::BTreeMap<String, String>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            detach: true,
            socket: None,
            socket_mode: "0600".into(),
            listen: None,
            tls_cert: None,
            tls_key: None,
            tokens: std::collections::BTreeMap::new(),
        }
    }
}

impl ServiceConfig {
    /// The socket mode's bits, or why it is not one drover allows.
    pub fn mode(&self) -> Result<u32, String> {
        let bits = u32::from_str_radix(self.socket_mode.trim_start_matches("0o"), 8)
            .map_err(|_| format!("socket_mode {:?} is not an octal mode", self.socket_mode))?;
        match bits {
            0o600 | 0o660 => Ok(bits),
            _ => Err(format!(
                "socket_mode {:?}: only \"0600\" (owner) or \"0660\" (owner and group) are allowed",
                self.socket_mode
            )),
        }
    }
}
