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

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::PrivateKey;
    use russh::keys::ssh_key::certificate::Builder;
    use russh::keys::ssh_key::private::Ed25519Keypair;
    use std::path::Path;

    const NOW: u64 = 1_800_000_000;

    fn key(seed: u8) -> PrivateKey {
        PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]))
    }

    fn openssh(k: &PrivateKey) -> String {
        k.public_key().to_openssh().expect("encodes")
    }

    /// A host certificate of key 7 signed by `ca`, shaped by `build`.
    fn cert(ca: &PrivateKey, after: u64, before: u64, build: impl Fn(&mut Builder)) -> Certificate {
        typed(ca, CertType::Host, after, before, build)
    }

    fn typed(
        ca: &PrivateKey,
        kind: CertType,
        after: u64,
        before: u64,
        build: impl Fn(&mut Builder),
    ) -> Certificate {
        let mut b = Builder::new(
            [0u8; 16],
            key(7).public_key().key_data().clone(),
            after,
            before,
        )
        .expect("validity");
        b.cert_type(kind).expect("type");
        build(&mut b);
        b.sign(ca).expect("signs")
    }

    fn host_cert(ca: &PrivateKey, principal: &str) -> Certificate {
        cert(ca, NOW - 60, NOW + 60, |b| {
            b.valid_principal(principal).expect("principal");
        })
    }

    fn known(text: &str) -> KnownHosts {
        let mut k = KnownHosts::default();
        k.add_text(Path::new("kh"), text);
        assert!(k.warnings().is_empty(), "{:?}", k.warnings());
        k
    }

    fn reason(v: CertVerdict) -> String {
        match v {
            CertVerdict::Invalid { reason } | CertVerdict::Revoked { reason } => reason,
            CertVerdict::Trusted { .. } => panic!("trusted"),
        }
    }

    #[test]
    fn trusted_by_the_ca_line_of_the_host_and_port() {
        let ca = key(1);
        let k = known(&format!(
            "# CAs\n@cert-authority [h.example]:2222 {}\n",
            openssh(&ca)
        ));
        let c = host_cert(&ca, "h.example");
        let v = k.verify_certificate("h.example", 2222, "h.example", &c, NOW);
        assert_eq!(
            v,
            CertVerdict::Trusted {
                file: "kh".into(),
                line: 2
            }
        );
        // A `[host]:port` line does not apply on port 22: the CA is unknown there.
        let v = k.verify_certificate("h.example", 22, "h.example", &c, NOW);
        assert!(reason(v).contains("unknown certificate authority"));
    }

    #[test]
    fn a_plain_host_ca_line_also_applies_on_other_ports() {
        let ca = key(1);
        let k = known(&format!("@cert-authority h.example {}\n", openssh(&ca)));
        let c = host_cert(&ca, "h.example");
        let v = k.verify_certificate("h.example", 2222, "h.example", &c, NOW);
        assert!(matches!(v, CertVerdict::Trusted { line: 1, .. }), "{v:?}");
    }

    #[test]
    fn validity_is_after_inclusive_before_exclusive() {
        let ca = key(1);
        let k = known(&format!("@cert-authority * {}\n", openssh(&ca)));
        let c = cert(&ca, NOW, NOW + 10, |b| {
            b.valid_principal("h").expect("principal");
        });
        let at = |t| k.verify_certificate("h", 22, "h", &c, t);
        assert!(matches!(at(NOW), CertVerdict::Trusted { .. }));
        assert!(matches!(at(NOW + 9), CertVerdict::Trusted { .. }));
        assert!(reason(at(NOW + 10)).contains("expired at"));
        assert!(reason(at(NOW - 1)).contains("not valid before"));
    }

    #[test]
    fn principals_match_exactly_and_may_not_be_empty() {
        let ca = key(1);
        let k = known(&format!("@cert-authority * {}\n", openssh(&ca)));
        let c = host_cert(&ca, "H.example");
        let why = reason(k.verify_certificate("h.example", 22, "h.example", &c, NOW));
        assert!(
            why.contains("not valid for \"h.example\"") && why.contains("kh:1"),
            "{why}"
        );
        let any = cert(&ca, NOW - 1, NOW + 1, |b| {
            b.all_principals_valid().expect("empty list");
        });
        let why = reason(k.verify_certificate("h", 22, "h", &any, NOW));
        assert!(why.contains("no principals"), "{why}");
    }

    #[test]
    fn user_certificates_and_critical_options_are_refused() {
        let ca = key(1);
        let k = known(&format!("@cert-authority * {}\n", openssh(&ca)));
        let user = typed(&ca, CertType::User, NOW - 1, NOW + 1, |b| {
            b.valid_principal("h").expect("principal");
        });
        assert!(
            reason(k.verify_certificate("h", 22, "h", &user, NOW)).contains("user certificate")
        );
        let forced = cert(&ca, NOW - 1, NOW + 1, |b| {
            b.valid_principal("h").expect("principal");
            b.critical_option("force-command", "true").expect("option");
        });
        let why = reason(k.verify_certificate("h", 22, "h", &forced, NOW));
        assert!(why.contains("critical options (force-command)"), "{why}");
    }

    #[test]
    fn a_revoked_ca_or_key_wins_over_everything() {
        let ca = key(1);
        let c = host_cert(&ca, "h");
        for revoked in [openssh(&ca), openssh(&key(7))] {
            let k = known(&format!(
                "@cert-authority * {}\n@revoked other.example {revoked}\n",
                openssh(&ca)
            ));
            let v = k.verify_certificate("h", 22, "h", &c, NOW);
            assert!(
                matches!(&v, CertVerdict::Revoked { reason } if reason.contains("kh:2")),
                "{v:?}"
            );
        }
    }
}
