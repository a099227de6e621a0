//! The optional TCP listener, for tools on other machines: TLS (rustls) always,
//! and a bearer token on every request, which names the user to the service's
//! RBAC as the socket's peer credentials do locally. Off unless `[engine]
//! listen` is set; refused at start without a certificate, a key and tokens.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::IncomingStream;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::api_error::error;
use super::peer::Peer;
use crate::config::ServiceConfig;

/// A client that has not finished its TLS handshake by then is dropped, so a
/// slow or idle one cannot hold the listener.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// TCP connections, each after its TLS handshake.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (tcp, addr) = match self.tcp.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, most likely: wait rather than spin.
                    tracing::warn!("service TCP accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            match tokio::time::timeout(HANDSHAKE, self.acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => return (tls, addr),
                Ok(Err(e)) => tracing::info!(%addr, "TLS handshake failed: {e}"),
                Err(_) => tracing::info!(%addr, "TLS handshake timed out"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

impl TlsListener {
    /// The address it listens on, for the start-up line.
    pub fn local_addr_string(&self) -> String {
        self.tcp
            .local_addr()
            .map_or_else(|e| e.to_string(), |a| a.to_string())
    }
}

/// Nobody, until [`bearer`] names them by their token.
impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(_: IncomingStream<'_, TlsListener>) -> Peer {
        Peer {
            uid: u32::MAX,
            pid: None,
            user: String::new(),
        }
    }
}

/// Why the TCP listener cannot start.
#[derive(Debug, thiserror::Error)]
#[error("[engine] listen: {0}")]
pub struct TcpError(String);

/// The users of the tokens, by the tokens' SHA-256.
pub struct Tokens(HashMap<[u8; 32], String>);

impl Tokens {
    fn parse(config: &ServiceConfig) -> Result<Tokens, TcpError> {
        let mut by_hash = HashMap::new();
        for (user, value) in &config.tokens {
            let hex = value.strip_prefix("sha256:").ok_or_else(|| {
                TcpError(format!(
                    "[engine.tokens] {user}: {value:?} is not \"sha256:HEX\""
                ))
            })?;
            let hash = decode_hex(hex).ok_or_else(|| {
                TcpError(format!("[engine.tokens] {user}: not 64 hexadecimal digits"))
            })?;
            by_hash.insert(hash, user.clone());
        }
        if by_hash.is_empty() {
            return Err(TcpError(
                "no [engine.tokens]: a TCP listener needs at least one token".into(),
            ));
        }
        Ok(Tokens(by_hash))
    }

    fn user_of(&self, token: &str) -> Option<&str> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.0.get(&hash).map(String::as_str)
    }
}

fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The listener and the tokens `[engine]` asks for; `None` when it asks for none.
pub async fn bind(config: &ServiceConfig) -> Result<Option<(TlsListener, Arc<Tokens>)>, TcpError> {
    let Some(address) = &config.listen else {
        return Ok(None);
    };
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
        return Err(TcpError(format!(
            "{address}: tls_cert and tls_key are needed (there is no plain-text TCP)"
        )));
    };
    let tokens = Tokens::parse(config)?;
    let acceptor = TlsAcceptor::from(Arc::new(server_config(cert, key)?));
    let tcp = TcpListener::bind(address)
        .await
        .map_err(|e| TcpError(format!("{address}: {e}")))?;
    Ok(Some((TlsListener { tcp, acceptor }, Arc::new(tokens))))
}

/// ring, the provider this build links (the store's PostgreSQL TLS uses it too);
/// rustls marks it deprecated only because it lacks post-quantum key exchange.
#[allow(deprecated)]
fn ring() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TcpError> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TcpError(format!("tls_cert {}: {e}", cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TcpError(format!("tls_key {}: {e}", key.display())))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(ring()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TcpError(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TcpError(format!("tls_cert/tls_key: {e}")))
}

/// Names the caller by their bearer token, or answers 401.
pub async fn bearer(
    State(tokens): State<Arc<Tokens>>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(user) = token.and_then(|t| tokens.user_of(t.trim())) else {
        let mut refused = error(
            StatusCode::UNAUTHORIZED,
            "a bearer token of this service's [engine.tokens] is needed (Authorization: Bearer TOKEN)",
        );
        refused.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return refused;
    };
    let peer = Peer {
        uid: u32::MAX,
        pid: None,
        user: user.to_string(),
    };
    request.extensions_mut().insert(ConnectInfo(peer));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_user_by_its_hash_and_nothing_else_does() {
        let mut config = ServiceConfig::default();
        let hash: String = Sha256::digest(b"s3cret")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        config
            .tokens
            .insert("alice".into(), format!("sha256:{hash}"));
        let tokens = Tokens::parse(&config).unwrap();
        assert_eq!(tokens.user_of("s3cret"), Some("alice"));
        assert_eq!(tokens.user_of("s3cret "), None);
        assert_eq!(tokens.user_of(&hash), None, "the hash itself is no token");
    }

    #[test]
    fn malformed_tokens_and_a_listener_without_tls_are_refused() {
        let mut config = ServiceConfig::default();
        config.tokens.insert("bob".into(), "plain".into());
        assert!(
            Tokens::parse(&config)
                .err()
                .unwrap()
                .to_string()
                .contains("sha256:HEX")
        );
        config.tokens.insert("bob".into(), "sha256:abc".into());
        assert!(
            Tokens::parse(&config)
                .err()
                .unwrap()
                .to_string()
                .contains("64 hexadecimal")
        );
        config.tokens.clear();
        assert!(
            Tokens::parse(&config)
                .err()
                .unwrap()
                .to_string()
                .contains("at least one")
        );
        config.listen = Some("127.0.0.1:0".into());
        let rt = tokio::runtime::Runtime::new().unwrap();
        let refused = rt.block_on(bind(&config)).err().unwrap().to_string();
        assert!(refused.contains("tls_cert and tls_key"), "{refused}");
    }
}
