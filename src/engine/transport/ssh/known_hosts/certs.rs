//! Host certificates against `@cert-authority` lines, checked as OpenSSH 9.2's
//! `check_host_key` does: the signing CA must be on a `@cert-authority` line for
//! the host and neither the CA nor the certified key may be `@revoked`; then the
//! certificate must be a host certificate, valid now, list the host name among its
//! principals (exactly), and carry no critical option.
//!
//! One difference, deliberately stricter: a host certificate that lists no
//! principals is refused. ssh 9.2 accepts it for any host name, so one such
//! certificate, leaked with its key, would impersonate every host that trusts
//! the CA.

use super::{Entry, KnownHosts, fingerprint, host_port_name};
use russh::keys::PublicKey;
use russh::keys::ssh_key::Certificate;
use russh::keys::ssh_key::certificate::CertType;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The outcome of checking a host certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertVerdict {
    /// Signed by the CA of `file:line` and valid for this host now.
    Trusted { file: PathBuf, line: usize },
    /// The CA or the certified key is on the `@revoked` line `file:line`: never
    /// connect (OpenSSH neither falls back to the plain key then).
    Revoked { reason: String },
    /// Not acceptable as a certificate; OpenSSH then checks the certified key as
    /// a plain host key, and so does the caller.
    Invalid { reason: String },
}

impl KnownHosts {
    /// Checks `cert` presented by `host:port` at unix time `now`. `principal` is
    /// the name that must be listed: the host name as ssh looked it up (without
    /// the port), or `HostKeyAlias`.
    pub fn verify_certificate(
        &self,
        host: &str,
        port: u16,
        principal: &str,
        cert: &Certificate,
        now: u64,
    ) -> CertVerdict {
        let ca = cert.signature_key();
        if let Some(e) = self.revoked(ca) {
            return CertVerdict::Revoked {
                reason: format!(
                    "the certificate authority {} that signed the host certificate is marked \
                     @revoked in {}; refusing to connect",
                    fingerprint(&PublicKey::from(ca.clone())),
                    at(e)
                ),
            };
        }
        if let Some(e) = self.revoked(cert.public_key()) {
            return CertVerdict::Revoked {
                reason: format!(
                    "the host key in the certificate is marked @revoked in {}; refusing to connect",
                    at(e)
                ),
            };
        }
        let invalid = |reason: String| CertVerdict::Invalid { reason };
        let cas = self.trusted_ca_keys(host, port);
        let Some(line) = cas.iter().find(|e| e.key.key_data() == ca) else {
            let mut why = format!(
                "host certificate signed by an unknown certificate authority {}: ",
                fingerprint(&PublicKey::from(ca.clone()))
            );
            let lines: Vec<String> = cas.iter().map(|e| at(e)).collect();
            let _ = write!(
                why,
                "the @cert-authority lines for {} ({}) hold other keys",
                host_port_name(host, port),
                lines.join(", ")
            );
            return invalid(why);
        };
        let by = format!("(CA of {})", at(line));
        if cert.verify_signature().is_err() {
            return invalid(format!("host certificate signature does not verify {by}"));
        }
        if cert.cert_type() != CertType::Host {
            return invalid(format!(
                "the certificate is a user certificate, not a host one {by}"
            ));
        }
        if now < cert.valid_after() {
            return invalid(format!(
                "host certificate not valid before {} {by}",
                time(cert.valid_after())
            ));
        }
        if now >= cert.valid_before() {
            return invalid(format!(
                "host certificate expired at {} {by}",
                time(cert.valid_before())
            ));
        }
        let principals = cert.valid_principals();
        if principals.is_empty() {
            return invalid(format!(
                "host certificate lists no principals, so it would be valid for any host; \
                 drover refuses such certificates {by}"
            ));
        }
        if !principals.iter().any(|p| p == principal) {
            return invalid(format!(
                "host certificate is not valid for {principal:?}: it names {} {by}",
                principals
                    .iter()
                    .map(|p| format!("{p:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !cert.critical_options().is_empty() {
            let names: Vec<&str> = cert.critical_options().keys().map(String::as_str).collect();
            return invalid(format!(
                "host certificate has unsupported critical options ({}) {by}",
                names.join(", ")
            ));
        }
        CertVerdict::Trusted {
            file: line.file.to_path_buf(),
            line: line.line,
        }
    }
}

fn at(e: &Entry) -> String {
    format!("{}:{}", e.file.display(), e.line)
}

/// A certificate time as UTC; `forever` for the largest value (`ssh-keygen -V`).
fn time(unix: u64) -> String {
    if unix == u64::MAX {
        return "forever".into();
    }
    i64::try_from(unix)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map_or_else(|| format!("{unix} (unix time)"), |t| t.to_string())
}
