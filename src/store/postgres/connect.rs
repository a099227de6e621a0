//! Where a PostgreSQL store is, and a connection to it with the TLS its `sslmode` asks for.
//!
//! A location is a `postgres://` / `postgresql://` URL or a libpq `key=value` string.
//! It is shown (`Display`, `Debug`, every error) with its password replaced by `***`,
//! because locations end up in logs, history and `drover status`.
//!
//! The `postgres` crate parses both forms but knows only `disable`, `prefer` and
//! `require` for `sslmode` and nothing of `sslrootcert`; those two are taken out here
//! and the rest handed to it. TLS follows libpq: `prefer` (the default) and `require`
//! encrypt without checking the server's certificate, `verify-ca` checks its chain,
//! `verify-full` its chain and host name. Roots come from `sslrootcert=FILE`, else
//! from the system.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use ::postgres::config::SslMode as WireSslMode;
use ::postgres::{Client, Config, NoTls};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::error::{StoreError, pg_reason};

/// How long a connection attempt may take when the location does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What stands in for a password wherever a location is shown.
const HIDDEN: &str = "***";

/// Parameters whose values are never shown.
const SECRET_KEYS: &[&str] = &["password", "sslpassword"];

/// libpq's `sslmode`, less `allow` (plain first, TLS only when refused), which the
/// `postgres` crate cannot do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, without checking its certificate.
    Prefer,
    /// TLS or no connection, without checking the server's certificate.
    Require,
    /// TLS with the server's certificate chain checked against the roots.
    VerifyCa,
    /// As `VerifyCa`, and the certificate must name the host connected to.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, String> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode `{other}` is not one of disable, prefer, require, verify-ca, verify-full"
                ));
            }
        })
    }
}

/// Where the roots that check a server's certificate come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// The system's store (also `sslrootcert=system`).
    System,
    /// A PEM file of CA certificates (`sslrootcert=PATH`).
    File(PathBuf),
}

/// A PostgreSQL database to keep the store in.
#[derive(Clone)]
pub struct PgLocation {
    /// Everything but the TLS choice, as the `postgres` crate takes it.
    config: Config,
    ssl_mode: SslMode,
    roots: Roots,
    /// The location as written, password hidden.
    shown: String,
}

impl PgLocation {
    /// Parses a `postgres://` URL or a `key=value` string.
    pub fn parse(text: &str) -> Result<PgLocation, StoreError> {
        let shown = redact(text);
        let invalid = |reason: String| StoreError::PgLocation {
            location: shown.clone(),
            reason,
        };
        let split = if let Some(url) = Url::split(text) {
            url.take_tls_params()
        } else {
            Conninfo::take_tls_params(text)
        }
        .map_err(invalid)?;
        let (ssl_mode, roots) =
            tls_choice(split.ssl_mode.as_deref(), split.root_cert.as_deref()).map_err(invalid)?;

        let mut config = Config::from_str(&split.rest).map_err(|e| invalid(pg_reason(&e)))?;
        if config.get_hosts().is_empty() {
            return Err(invalid("no host given".to_string()));
        }
        config.ssl_mode(match ssl_mode {
            SslMode::Disable => WireSslMode::Disable,
            SslMode::Prefer => WireSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => WireSslMode::Require,
        });
        if config.get_application_name().is_none() {
            config.application_name("drover");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        Ok(PgLocation {
            config,
            ssl_mode,
            roots,
            shown,
        })
    }

    /// The TLS this location asks for.
    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// Where the roots come from when the certificate is checked.
    pub fn roots(&self) -> &Roots {
        &self.roots
    }

    /// The settings handed to the `postgres` crate (its `Debug` hides the password).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Opens a blocking connection. Call it off the async runtime: the `postgres`
    /// client runs one of its own.
    pub fn connect(&self) -> Result<Client, StoreError> {
        let failed = |reason: String| StoreError::PgConnect {
            location: self.shown.clone(),
            reason,
        };
        let connected = match self.ssl_mode {
            SslMode::Disable => self.config.connect(NoTls),
            mode => {
                let tls = tls_config(mode, &self.roots).map_err(failed)?;
                self.config.connect(MakeRustlsConnect::new(tls))
            }
        };
        connected.map_err(|e| failed(pg_reason(&e)))
    }
}

impl FromStr for PgLocation {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<PgLocation, StoreError> {
        PgLocation::parse(text)
    }
}

impl fmt::Display for PgLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for PgLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgLocation")
            .field("location", &self.shown)
            .field("ssl_mode", &self.ssl_mode)
            .field("roots", &self.roots)
            .finish()
    }
}

/// The TLS parameters taken out of a location, and the rest of it.
struct TlsSplit {
    ssl_mode: Option<String>,
    root_cert: Option<String>,
    rest: String,
}

/// Settles the mode and the roots, as libpq does: a root file given with `require`
/// checks the chain (`verify-ca`), and `sslrootcert=system` means `verify-full`.
fn tls_choice(mode: Option<&str>, root_cert: Option<&str>) -> Result<(SslMode, Roots), String> {
    let mode = mode.map(SslMode::parse).transpose()?;
    let roots = match root_cert {
        None | Some("system") => Roots::System,
        Some(path) => Roots::File(PathBuf::from(path)),
    };
    let mode = match (mode, root_cert) {
        (None | Some(SslMode::VerifyFull), Some("system")) => SslMode::VerifyFull,
        (Some(weak), Some("system")) => {
            return Err(format!(
                "sslrootcert=system needs sslmode verify-full, not {weak:?}"
            ));
        }
        (None | Some(SslMode::Require), Some(_)) => SslMode::VerifyCa,
        (Some(mode), _) => mode,
        (None, None) => SslMode::Prefer,
    };
    Ok((mode, roots))
}

/// Whether a parameter holds a secret.
fn is_secret(key: &str) -> bool {
    SECRET_KEYS.contains(&key)
}

/// Whether a parameter is one the `postgres` crate is not given.
fn is_tls_param(key: &str) -> bool {
    key == "sslmode" || key == "sslrootcert"
}

/// `text` with every password hidden, whether or not it parses.
fn redact(text: &str) -> String {
    if let Some(url) = Url::split(text) {
        return url.shown();
    }
    match Conninfo::pairs(text) {
        Ok(pairs) => pairs
            .iter()
            .map(|(key, value)| {
                let value = if is_secret(key) {
                    HIDDEN.to_string()
                } else {
                    Conninfo::quote(value)
                };
                format!("{key}={value}")
            })
            .collect::<Vec<_>>()
            .join(" "),
        // Not understood: show nothing from the first mention of a password on.
        Err(_) => match text.find("password") {
            Some(at) => format!("{}{HIDDEN}", &text[..at]),
            None => text.to_string(),
        },
    }
}

/// A URL cut up the way the `postgres` crate reads it: the credentials end at the
/// first `@`, the host list at the next `/` or `?`, the database name at `?`, and the
/// query is `key=value` pairs joined by `&`.
struct Url<'a> {
    scheme: &'a str,
    /// Before the `@`: `user` or `user:password`, still percent-encoded.
    userinfo: Option<&'a str>,
    /// Hosts, ports and `/dbname`.
    hostpath: &'a str,
    query: Vec<QueryPart<'a>>,
}

/// One piece of a URL's query, still percent-encoded.
enum QueryPart<'a> {
    Pair(&'a str, &'a str),
    /// A trailing piece with no `=`, which the `postgres` crate refuses.
    Stray(&'a str),
}

impl<'a> Url<'a> {
    fn split(text: &'a str) -> Option<Url<'a>> {
        let (scheme, rest) = ["postgres://", "postgresql://"]
            .iter()
            .find_map(|p| text.strip_prefix(p).map(|rest| (&text[..p.len()], rest)))?;
        let (userinfo, rest) = match rest.find('@') {
            Some(at) => {
                // A second `@` before the host list ends means an unencoded `@` in the
                // password: hide up to the last one, so no part of it is shown.
                let host_end = rest[at..].find(['/', '?']).map_or(rest.len(), |i| at + i);
                let last = rest[..host_end].rfind('@').unwrap_or(at);
                (Some(&rest[..last]), &rest[last + 1..])
            }
            None => (None, rest),
        };
        let (hostpath, query) = match rest.find('?') {
            Some(q) => (&rest[..q], Some(&rest[q + 1..])),
            None => (rest, None),
        };
        let mut parts = Vec::new();
        let mut left = query.unwrap_or("");
        while !left.is_empty() {
            let Some(eq) = left.find('=') else {
                parts.push(QueryPart::Stray(left));
                break;
            };
            let key = &left[..eq];
            let after = &left[eq + 1..];
            let (value, next) = after.split_once('&').unwrap_or((after, ""));
            parts.push(QueryPart::Pair(key, value));
            left = next;
        }
        Some(Url {
            scheme,
            userinfo,
            hostpath,
            query: parts,
        })
    }

    fn shown(&self) -> String {
        let userinfo = self.userinfo.map(|info| match info.split_once(':') {
            Some((user, _)) => format!("{user}:{HIDDEN}@"),
            // Not credentials but a host, path and query cut at an `@` in a value.
            None if info.contains(['/', '?']) => format!("{HIDDEN}@"),
            None => format!("{info}@"),
        });
        let query = self.query_text(|key, value| {
            if is_secret(&percent_decode(key)) {
                Some(HIDDEN)
            } else {
                Some(value)
            }
        });
        format!(
            "{}{}{}{}",
            self.scheme,
            userinfo.unwrap_or_default(),
            self.hostpath,
            query
        )
    }

    fn take_tls_params(&self) -> Result<TlsSplit, String> {
        if let Some(info) = self.userinfo {
            if info.contains('@') {
                return Err("the user name or password holds an `@`: write it as %40".to_string());
            }
            if !info.contains(':') && info.contains(['/', '?']) {
                return Err("an `@` after the host must be written %40".to_string());
            }
        }
        let mut ssl_mode = None;
        let mut root_cert = None;
        for part in &self.query {
            if let QueryPart::Pair(key, value) = part {
                match percent_decode(key).as_str() {
                    "sslmode" => ssl_mode = Some(percent_decode(value)),
                    "sslrootcert" => root_cert = Some(percent_decode(value)),
                    _ => {}
                }
            }
        }
        let query =
            self.query_text(|key, value| (!is_tls_param(&percent_decode(key))).then_some(value));
        let userinfo = self.userinfo.map(|info| format!("{info}@"));
        Ok(TlsSplit {
            ssl_mode,
            root_cert,
            rest: format!(
                "{}{}{}{}",
                self.scheme,
                userinfo.unwrap_or_default(),
                self.hostpath,
                query
            ),
        })
    }

    /// The query again (with its `?`), each pair's value as `value` says, or dropped.
    fn query_text(&self, value: impl Fn(&str, &'a str) -> Option<&'a str>) -> String {
        let pieces: Vec<String> = self
            .query
            .iter()
            .filter_map(|part| match part {
                QueryPart::Pair(key, v) => value(key, v).map(|v| format!("{key}={v}")),
                QueryPart::Stray(text) => Some(text.to_string()),
            })
            .collect();
        if pieces.is_empty() {
            String::new()
        } else {
            format!("?{}", pieces.join("&"))
        }
    }
}

/// Percent-decoding that keeps a malformed escape as it is written, as the
/// `postgres` crate does.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// libpq's `key=value` form: pairs separated by whitespace, a value either bare
/// (a backslash escapes the next character) or in single quotes.
struct Conninfo;

impl Conninfo {
    fn pairs(text: &str) -> Result<Vec<(String, String)>, String> {
        let mut chars = text.chars().peekable();
        let mut pairs = Vec::new();
        loop {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            let mut key = String::new();
            while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
                key.push(c);
            }
            if key.is_empty() {
                if chars.peek().is_some() {
                    return Err("a parameter has no name before its `=`".to_string());
                }
                return Ok(pairs);
            }
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            if chars.next() != Some('=') {
                return Err(format!("`{key}` has no `=` and value"));
            }
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            let mut value = String::new();
            if chars.next_if_eq(&'\'').is_some() {
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some('\\') => value.extend(chars.next()),
                        Some(c) => value.push(c),
                        None => return Err(format!("the quoted value of `{key}` is not closed")),
                    }
                }
            } else {
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    if c == '\\' {
                        value.extend(chars.next());
                    } else {
                        value.push(c);
                    }
                }
                if value.is_empty() {
                    return Err(format!("`{key}` has no value"));
                }
            }
            pairs.push((key, value));
        }
    }

    /// A value written so [`Conninfo::pairs`] reads it back as it is.
    fn quote(value: &str) -> String {
        let plain = !value.is_empty()
            && !value
                .chars()
                .any(|c| c.is_whitespace() || c == '\'' || c == '\\');
        if plain {
            value.to_string()
        } else {
            format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
        }
    }

    fn take_tls_params(text: &str) -> Result<TlsSplit, String> {
        let mut ssl_mode = None;
        let mut root_cert = None;
        let mut rest = Vec::new();
        for (key, value) in Conninfo::pairs(text)? {
            match key.as_str() {
                "sslmode" => ssl_mode = Some(value),
                "sslrootcert" => root_cert = Some(value),
                _ => rest.push(format!("{key}={}", Conninfo::quote(&value))),
            }
        }
        Ok(TlsSplit {
            ssl_mode,
            root_cert,
            rest: rest.join(" "),
        })
    }
}

/// The rustls settings for a mode that encrypts; ring does the cryptography.
fn tls_config(mode: SslMode, roots: &Roots) -> Result<ClientConfig, String> {
    let provider = Arc::new(ring_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => Arc::new(EncryptOnly { provider }),
        SslMode::VerifyCa => Arc::new(ChainOnly {
            inner: webpki_verifier(roots, provider)?,
        }),
        SslMode::VerifyFull => webpki_verifier(roots, provider)?,
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// ring, the provider this build links (it needs no C toolchain beyond ring's own);
/// rustls marks it deprecated only because it lacks post-quantum key exchange.
#[allow(deprecated)]
fn ring_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

fn webpki_verifier(
    roots: &Roots,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, String> {
    let store = match roots {
        Roots::File(path) => file_roots(path)?,
        Roots::System => system_roots()?,
    };
    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
        .build()
        .map_err(|e| format!("cannot set up certificate checks: {e}"))
}

fn file_roots(path: &Path) -> Result<RootCertStore, String> {
    let unreadable =
        |e: &dyn fmt::Display| format!("cannot read sslrootcert {}: {e}", path.display());
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
        let cert = cert.map_err(|e| unreadable(&e))?;
        store.add(cert).map_err(|e| unreadable(&e))?;
    }
    if store.is_empty() {
        return Err(unreadable(&"it holds no certificate"));
    }
    Ok(store)
}

fn system_roots() -> Result<RootCertStore, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(found.certs);
    if store.is_empty() {
        let why = found
            .errors
            .first()
            .map_or(String::new(), |e| format!(" ({e})"));
        return Err(format!(
            "no system root certificates to check the server against{why}; give sslrootcert=FILE"
        ));
    }
    Ok(store)
}

/// `prefer` and `require` as libpq means them: the link is encrypted, any certificate
/// is accepted, but the handshake's signatures are still checked, so the server must
/// hold the key of the certificate it sent.
#[derive(Debug)]
struct EncryptOnly {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `verify-ca`: the full check less the host name. The name is the last thing webpki
/// checks, after the chain (and revocation), so a name error means all else passed.
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> PgLocation {
        PgLocation::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn invalid(text: &str) -> (String, String) {
        match PgLocation::parse(text) {
            Err(StoreError::PgLocation { location, reason }) => (location, reason),
            Err(other) => panic!("{text}: unexpected error {other}"),
            Ok(_) => panic!("{text}: parsed"),
        }
    }

    /// Neither `Display` nor `Debug` shows `secret`.
    fn assert_hidden(location: &PgLocation, secret: &str) {
        let shown = location.to_string();
        let debug = format!("{location:?}");
        assert!(!shown.contains(secret), "{shown}");
        assert!(!debug.contains(secret), "{debug}");
        assert!(shown.contains(HIDDEN), "{shown}");
    }

    #[test]
    fn a_url_is_shown_with_its_password_hidden() {
        let location = parse("postgres://ops:s3cret@db.example:5433/drover?sslmode=require");
        assert_eq!(
            location.to_string(),
            "postgres://ops:***@db.example:5433/drover?sslmode=require"
        );
        assert_hidden(&location, "s3cret");
        assert_eq!(location.config().get_password(), Some(&b"s3cret"[..]));
        assert_eq!(location.config().get_user(), Some("ops"));
        assert_eq!(location.config().get_dbname(), Some("drover"));
    }

    #[test]
    fn a_percent_encoded_password_is_hidden_encoded_and_decoded() {
        let location = parse("postgresql://ops:p%40ss%3Aw%2Fo%25rd@db/drover");
        assert_eq!(location.to_string(), "postgresql://ops:***@db/drover");
        assert_hidden(&location, "p%40ss");
        assert_hidden(&location, "p@ss");
        assert_eq!(location.config().get_password(), Some(&b"p@ss:w/o%rd"[..]));
    }

    #[test]
    fn a_password_with_special_characters_is_hidden_whole() {
        // Unencoded `/`, `?`, `:` and `#` are taken into the password up to the `@`.
        let location = parse("postgres://ops:a/b?c:d#e@db/drover");
        assert_eq!(location.to_string(), "postgres://ops:***@db/drover");
        assert_hidden(&location, "a/b?c:d#e");
        assert_eq!(location.config().get_password(), Some(&b"a/b?c:d#e"[..]));
    }

    #[test]
    fn an_unencoded_at_in_the_password_is_refused_and_hidden_whole() {
        let (location, reason) = invalid("postgres://ops:pa@ss@db/drover");
        assert_eq!(location, "postgres://ops:***@db/drover");
        assert!(reason.contains("%40"), "{reason}");
    }

    #[test]
    fn a_password_in_the_query_is_hidden() {
        let location = parse("postgres://ops@db/drover?password=s3cret&application_name=x");
        assert_eq!(
            location.to_string(),
            "postgres://ops@db/drover?password=***&application_name=x"
        );
        assert_hidden(&location, "s3cret");
        // Also when its name is percent-encoded, which the postgres crate decodes.
        let location = parse("postgres://ops@db/drover?pass%77ord=s3cret");
        assert_hidden(&location, "s3cret");
        assert_eq!(location.config().get_password(), Some(&b"s3cret"[..]));
    }

    #[test]
    fn a_key_value_string_is_shown_with_its_password_hidden() {
        let location = parse(r"host=db user=ops password='s3 cr\'et' dbname=drover");
        assert_eq!(
            location.to_string(),
            "host=db user=ops password=*** dbname=drover"
        );
        assert_hidden(&location, "s3 cr");
        assert_eq!(location.config().get_password(), Some(&b"s3 cr'et"[..]));
        let location = parse(r"host=db password=s3\ cret");
        assert_hidden(&location, "s3");
        assert_eq!(location.config().get_password(), Some(&b"s3 cret"[..]));
    }

    #[test]
    fn an_unreadable_key_value_string_hides_everything_from_its_password_on() {
        let (location, reason) = invalid("host=db password='s3cret");
        assert_eq!(location, "host=db ***");
        assert!(reason.contains("not closed"), "{reason}");
    }

    #[test]
    fn sslmode_defaults_to_prefer_and_is_taken_from_either_form() {
        assert_eq!(parse("postgres://db/x").ssl_mode(), SslMode::Prefer);
        assert_eq!(parse("host=db").ssl_mode(), SslMode::Prefer);
        for (text, mode) in [
            ("disable", SslMode::Disable),
            ("prefer", SslMode::Prefer),
            ("require", SslMode::Require),
            ("verify-ca", SslMode::VerifyCa),
            ("verify-full", SslMode::VerifyFull),
        ] {
            let url = parse(&format!("postgres://db/x?sslmode={text}"));
            let kv = parse(&format!("host=db sslmode={text}"));
            assert_eq!((url.ssl_mode(), kv.ssl_mode()), (mode, mode), "{text}");
            assert_eq!(url.roots(), &Roots::System);
            let wire = url.config().get_ssl_mode();
            let expected = match mode {
                SslMode::Disable => WireSslMode::Disable,
                SslMode::Prefer => WireSslMode::Prefer,
                _ => WireSslMode::Require,
            };
            assert_eq!(wire, expected, "{text}");
        }
    }

    #[test]
    fn sslrootcert_names_the_roots_as_libpq_reads_it() {
        let location = parse("postgres://db/x?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem");
        assert_eq!(location.ssl_mode(), SslMode::VerifyFull);
        assert_eq!(location.roots(), &Roots::File("/etc/ca.pem".into()));
        assert_eq!(
            location.to_string(),
            "postgres://db/x?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem"
        );
        // A root file makes `require` check the chain.
        let location = parse("host=db sslmode=require sslrootcert='/etc/my ca.pem'");
        assert_eq!(location.ssl_mode(), SslMode::VerifyCa);
        assert_eq!(location.roots(), &Roots::File("/etc/my ca.pem".into()));
        // `system` means the system's roots and a full check.
        let location = parse("postgres://db/x?sslrootcert=system");
        assert_eq!(location.ssl_mode(), SslMode::VerifyFull);
        assert_eq!(location.roots(), &Roots::System);
        let (_, reason) = invalid("postgres://db/x?sslrootcert=system&sslmode=require");
        assert!(reason.contains("verify-full"), "{reason}");
    }

    #[test]
    fn the_application_name_and_timeout_have_defaults() {
        let location = parse("postgres://db/x");
        assert_eq!(location.config().get_application_name(), Some("drover"));
        assert_eq!(
            location.config().get_connect_timeout(),
            Some(&CONNECT_TIMEOUT)
        );
        let location = parse("host=db application_name=mine connect_timeout=9");
        assert_eq!(location.config().get_application_name(), Some("mine"));
        assert_eq!(
            location.config().get_connect_timeout(),
            Some(&Duration::from_secs(9))
        );
    }

    #[test]
    fn bad_locations_name_themselves_redacted_and_say_why() {
        let (location, reason) = invalid("postgres://ops:s3cret@db/x?sslmode=sometimes");
        assert_eq!(location, "postgres://ops:***@db/x?sslmode=sometimes");
        assert!(reason.contains("sslmode `sometimes`"), "{reason}");

        let (location, reason) = invalid("postgres://ops:s3cret@db/x?colour=blue");
        assert_eq!(location, "postgres://ops:***@db/x?colour=blue");
        assert!(reason.contains("colour"), "{reason}");

        let (location, reason) = invalid("postgres://ops:s3cret@db:port/x");
        assert_eq!(location, "postgres://ops:***@db:port/x");
        assert!(reason.contains("port"), "{reason}");

        let (location, reason) = invalid("password=s3cret dbname=x");
        assert_eq!(location, "password=*** dbname=x");
        assert!(reason.contains("no host"), "{reason}");

        let (location, reason) = invalid("postgres://db/x?password=s3cret&application_name=a@b");
        assert_eq!(location, "postgres://***@b");
        assert!(reason.contains("%40"), "{reason}");

        let (location, reason) = invalid("host=db password");
        assert_eq!(location, "host=db ***");
        assert!(reason.contains("no `=`"), "{reason}");

        let error = PgLocation::parse("postgres://ops:s3cret@db/x?sslmode=sometimes")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("invalid PostgreSQL store location postgres://ops:***@db/x"),
            "{error}"
        );
        assert!(!error.contains("s3cret"), "{error}");
    }

    #[test]
    fn an_unreachable_server_names_the_location_redacted() {
        // Port 1 on loopback: refused at once, nothing listens there.
        let location = parse("postgres://ops:s3cret@127.0.0.1:1/x?sslmode=disable");
        match location.connect() {
            Err(StoreError::PgConnect { location, reason }) => {
                assert_eq!(location, "postgres://ops:***@127.0.0.1:1/x?sslmode=disable");
                assert!(!reason.contains("s3cret"), "{reason}");
                assert!(!reason.is_empty());
            }
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("connected to port 1"),
        }
    }

    #[test]
    fn a_missing_root_file_is_a_clear_connect_error() {
        let location =
            parse("postgres://127.0.0.1:1/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem");
        let error = location.connect().err().expect("connected").to_string();
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");
    }
}
