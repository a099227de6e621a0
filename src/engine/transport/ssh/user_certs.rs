//! User certificates for public key authentication, found as OpenSSH finds them:
//! `<identity>-cert.pub` beside each IdentityFile, then each `CertificateFile`,
//! in that order and before any plain key, then those the agent holds. A
//! certificate is used with the private key it certifies, from the agent or an
//! identity file.

use russh::keys::agent::AgentIdentity;
use russh::keys::signature::Signer as _;
use russh::keys::ssh_encoding::Encode;
use russh::keys::ssh_key::certificate::CertType;
use russh::keys::ssh_key::private::KeypairData;
use russh::keys::ssh_key::{Certificate, HashAlg, PrivateKey, Signature};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A certificate read from `path`, or held by the agent (`None`).
pub struct UserCert {
    pub path: Option<PathBuf>,
    pub cert: Certificate,
}

impl UserCert {
    /// How a failure report names it.
    pub fn name(&self) -> String {
        match &self.path {
            Some(p) => format!("certificate {}", p.display()),
            None => format!("agent certificate {:?}", self.cert.key_id()),
        }
    }
}

/// `<identity>-cert.pub` for each identity file, then the `CertificateFile`s,
/// without repeats. Missing files are skipped silently (as ssh); unreadable ones
/// are returned as `path (reason)` for the failure report.
pub fn find(
    identity_files: &[PathBuf],
    certificate_files: &[PathBuf],
) -> (Vec<UserCert>, Vec<String>) {
    let beside = identity_files.iter().map(|p| cert_path(p));
    let mut paths: Vec<PathBuf> = Vec::new();
    for p in beside.chain(certificate_files.iter().cloned()) {
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    let mut certs = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match std::fs::read_to_string(&path) {
            Ok(text) => match Certificate::from_openssh(text.trim()) {
                Ok(cert) => certs.push(UserCert {
                    path: Some(path),
                    cert,
                }),
                Err(e) => problems.push(format!("{} (not a certificate: {e})", path.display())),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => problems.push(format!("{} (cannot read: {e})", path.display())),
        }
    }
    (certs, problems)
}

/// OpenSSH's name for the certificate of the identity `private`.
fn cert_path(private: &Path) -> PathBuf {
    let mut s = private.as_os_str().to_owned();
    s.push("-cert.pub");
    PathBuf::from(s)
}

/// Why a server would refuse `cert` for `user` at unix time `now`, if that can be
/// told here: the server says only "no", so the report names the likely cause.
pub fn diagnose(cert: &Certificate, user: &str, now: u64) -> Option<String> {
    if cert.cert_type() != CertType::User {
        return Some("a host certificate, not a user one".into());
    }
    if now >= cert.valid_before() {
        return Some(format!(
            "certificate expired at {}",
            time(cert.valid_before())
        ));
    }
    if now < cert.valid_after() {
        return Some(format!(
            "certificate not valid before {}",
            time(cert.valid_after())
        ));
    }
    let principals = cert.valid_principals();
    if !principals.is_empty() && !principals.iter().any(|p| p == user) {
        return Some(format!(
            "certificate is not valid for user {user:?}: it names {}",
            principals.join(", ")
        ));
    }
    None
}

/// The current unix time (0 if the clock is before 1970).
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn time(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map_or_else(|| format!("{unix} (unix time)"), |t| t.to_string())
}

/// Signs a certificate authentication request with a private key held here.
/// russh's own certificate method signs RSA with SHA-1 (`ssh-rsa-cert-v01`),
/// which OpenSSH servers refuse since 8.8; this honours the negotiated hash.
pub struct KeySigner(pub Arc<PrivateKey>);

impl russh::Signer for KeySigner {
    type Error = russh::AgentAuthError;

    async fn auth_sign(
        &mut self,
        _key: &AgentIdentity,
        hash_alg: Option<HashAlg>,
        mut to_sign: Vec<u8>,
    ) -> Result<Vec<u8>, Self::Error> {
        let signature: Signature = match self.0.key_data() {
            KeypairData::Rsa(rsa) => (rsa, hash_alg).try_sign(&to_sign),
            _ => self.0.try_sign(&to_sign),
        }
        .map_err(|e| russh::keys::Error::SshKey(e.into()))?;
        // What an agent's answer looks like: the signature blob as an SSH string.
        let blob = signature
            .encode_vec()
            .map_err(|e| russh::keys::Error::SshKey(e.into()))?;
        blob.encode(&mut to_sign)
            .map_err(|e| russh::keys::Error::SshKey(e.into()))?;
        Ok(to_sign)
    }
}

/// Has the agent sign for a certificate with the plain key it holds: an agent
/// that was given the key without the certificate does not know the certificate
/// russh would name.
pub struct AgentKeySigner<'a> {
    pub agent: &'a mut Agent,
    pub key: russh::keys::PublicKey,
}

/// The agent connection, whatever carries it.
pub type Agent = russh::keys::agent::client::AgentClient<
    Box<dyn russh::keys::agent::client::AgentStream + Send + Unpin>,
>;

impl russh::Signer for AgentKeySigner<'_> {
    type Error = russh::AgentAuthError;

    async fn auth_sign(
        &mut self,
        _key: &AgentIdentity,
        hash_alg: Option<HashAlg>,
        to_sign: Vec<u8>,
    ) -> Result<Vec<u8>, Self::Error> {
        let identity = AgentIdentity::PublicKey {
            key: self.key.clone(),
            comment: String::new(),
        };
        Ok(self
            .agent
            .sign_request(&identity, hash_alg, to_sign)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::ssh_key::certificate::Builder;
    use russh::keys::ssh_key::private::Ed25519Keypair;

    fn cert(kind: CertType, principals: &[&str], after: u64, before: u64) -> Certificate {
        let ca = PrivateKey::from(Ed25519Keypair::from_seed(&[1; 32]));
        let subject = PrivateKey::from(Ed25519Keypair::from_seed(&[2; 32]));
        let mut b = Builder::new(
            [0u8; 16],
            subject.public_key().key_data().clone(),
            after,
            before,
        )
        .expect("validity");
        b.cert_type(kind).expect("type");
        for p in principals {
            b.valid_principal(*p).expect("principal");
        }
        if principals.is_empty() {
            b.all_principals_valid().expect("any");
        }
        b.sign(&ca).expect("signs")
    }

    #[test]
    fn beside_each_identity_first_then_certificate_files_without_repeats() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = cert(CertType::User, &["u"], 0, u64::MAX)
            .to_openssh()
            .expect("encodes");
        let a = dir.path().join("id_a");
        std::fs::write(dir.path().join("id_a-cert.pub"), &text).unwrap();
        let named = dir.path().join("named.pub");
        std::fs::write(&named, &text).unwrap();
        let bad = dir.path().join("bad.pub");
        std::fs::write(&bad, "ssh-ed25519 AAAA not a certificate").unwrap();
        let missing = dir.path().join("id_missing");
        let identities = [missing, a.clone()];
        let files = [named.clone(), bad.clone(), dir.path().join("id_a-cert.pub")];
        let (certs, problems) = find(&identities, &files);
        let paths: Vec<PathBuf> = certs.into_iter().filter_map(|c| c.path).collect();
        assert_eq!(paths, [dir.path().join("id_a-cert.pub"), named]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with(&format!("{} (not a certificate", bad.display())));
    }

    #[test]
    fn diagnose_names_what_a_server_would_refuse() {
        let now = 1_000;
        let ok = cert(CertType::User, &["alice"], 900, 1_100);
        assert_eq!(diagnose(&ok, "alice", now), None);
        let why = diagnose(&ok, "bob", now).expect("wrong user");
        assert!(
            why.contains("not valid for user \"bob\": it names alice"),
            "{why}"
        );
        let why = diagnose(&ok, "alice", 1_100).expect("expired");
        assert!(
            why.starts_with("certificate expired at 1970-01-01T00:18:20Z"),
            "{why}"
        );
        assert!(
            diagnose(&ok, "alice", 899)
                .expect("early")
                .contains("not valid before")
        );
        let any = cert(CertType::User, &[], 900, 1_100);
        assert_eq!(diagnose(&any, "anyone", now), None);
        let host = cert(CertType::Host, &["alice"], 900, 1_100);
        assert!(
            diagnose(&host, "alice", now)
                .expect("host")
                .contains("host certificate")
        );
    }
}
