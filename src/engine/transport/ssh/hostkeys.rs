//! Deciding whether to trust the key a server presents: known_hosts lookup, the
//! StrictHostKeyChecking policy, and — for an unknown key when someone can answer —
//! a question with the SHA256 fingerprint. A changed or revoked key is never
//! accepted, whatever the policy or the answer.

use super::known_hosts::{self, CertVerdict, Decision, KnownHosts, StrictHostKeyChecking};
use super::known_hosts_cache::KnownHostsCache;
use crate::engine::transport::interaction::{Answer, Interaction, Question};
use russh::keys::ssh_key::Certificate;
use russh::keys::{Algorithm, PublicKey};
use std::path::PathBuf;
use std::sync::Arc;

pub struct HostKeyPolicy {
    pub user_files: Vec<PathBuf>,
    pub global_files: Vec<PathBuf>,
    pub strict: StrictHostKeyChecking,
    /// The transport's parsed files, shared by all its connections.
    pub cache: Arc<KnownHostsCache>,
}

impl HostKeyPolicy {
    /// The known_hosts files as they are now (blocking: it checks whether they
    /// changed, and reads them when they did); skipped lines are logged with
    /// their file and line each time the files are read.
    pub fn load(&self) -> Arc<KnownHosts> {
        let (known, fresh) = self.cache.load(&self.files());
        if !fresh {
            return known;
        }
        for w in known.warnings() {
            tracing::warn!(
                "known_hosts: {}:{:?}: {}",
                w.file.display(),
                w.line,
                w.message
            );
        }
        known
    }

    /// `Ok` to connect; `Err` explains the refusal (file and line for a changed key).
    pub async fn check(
        &self,
        known: &KnownHosts,
        host: &str,
        port: u16,
        key: &PublicKey,
        interaction: &dyn Interaction,
    ) -> Result<(), String> {
        let verdict = known.verify(host, port, key, &[]);
        match known_hosts::decide(&verdict, self.strict, interaction.interactive()) {
            Decision::Accept => Ok(()),
            Decision::AcceptAndRecord => {
                self.record(host, port, key);
                Ok(())
            }
            Decision::Prompt { fingerprint_sha256 } => {
                let question = Question::UnknownHostKey {
                    host: host.to_string(),
                    port,
                    key_type: key.algorithm().to_string(),
                    fingerprint: fingerprint_sha256.clone(),
                };
                match interaction.ask(question).await {
                    Some(Answer::AcceptOnce) => Ok(()),
                    Some(Answer::AcceptAndSave) => {
                        self.record(host, port, key);
                        Ok(())
                    }
                    _ => Err(format!(
                        "host key {fingerprint_sha256} of {} was not accepted",
                        known_hosts::host_port_name(host, port)
                    )),
                }
            }
            Decision::Reject(reason) => Err(reason),
        }
    }

    /// A host certificate: trusted through an `@cert-authority` line, or — as
    /// OpenSSH does when the certificate itself is not acceptable — its key
    /// checked as a plain host key, the certificate's fault named in any refusal.
    /// A revoked CA or key is refused outright.
    pub async fn check_certificate(
        &self,
        known: &KnownHosts,
        host: &str,
        port: u16,
        cert: &Certificate,
        interaction: &dyn Interaction,
    ) -> Result<(), String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let principal = host.to_ascii_lowercase();
        match known.verify_certificate(host, port, &principal, cert, now) {
            CertVerdict::Trusted { file, line } => {
                tracing::debug!(
                    "host certificate of {} trusted by {}:{line}",
                    known_hosts::host_port_name(host, port),
                    file.display()
                );
                Ok(())
            }
            CertVerdict::Revoked { reason } => Err(reason),
            CertVerdict::Invalid { reason } => {
                tracing::warn!(
                    "{}: {reason}; checking its key as a plain host key",
                    known_hosts::host_port_name(host, port)
                );
                let key = PublicKey::from(cert.public_key().clone());
                self.check(known, host, port, &key, interaction)
                    .await
                    .map_err(|plain| format!("{reason}; and as a plain host key: {plain}"))
            }
        }
    }

    /// Host key algorithms to ask for, those already recorded for this host first
    /// (as ssh does): otherwise a host known only by its RSA key would present an
    /// ed25519 key, and a different key of any type is a changed key.
    pub fn preferred_algorithms(
        known: &KnownHosts,
        host: &str,
        port: u16,
        defaults: &[Algorithm],
    ) -> Vec<Algorithm> {
        let known = known.known_algorithms(host, port);
        let family = |a: &Algorithm| {
            if a.clone().is_rsa() {
                "rsa".to_string()
            } else {
                a.to_string()
            }
        };
        let known: Vec<String> = known.iter().map(family).collect();
        let (mut first, rest): (Vec<Algorithm>, Vec<Algorithm>) = defaults
            .iter()
            .cloned()
            .partition(|a| known.contains(&family(a)));
        first.extend(rest);
        first
    }

    /// User files first, then global ones, as ssh reads them.
    fn files(&self) -> Vec<PathBuf> {
        self.user_files
            .iter()
            .chain(&self.global_files)
            .cloned()
            .collect()
    }

    fn record(&self, host: &str, port: u16, key: &PublicKey) {
        let Some(file) = self.user_files.first() else {
            return;
        };
        if let Err(e) = known_hosts::append(file, host, port, key) {
            tracing::warn!(
                "cannot record the host key of {host} in {}: {e}",
                file.display()
            );
        }
    }
}
