//! known_hosts verification with OpenSSH semantics (sshd(8), "SSH_KNOWN_HOSTS FILE
//! FORMAT"; behaviour checked against OpenSSH 9.2's `ssh` and `ssh-keygen`).
//!
//! Load every file once ([`KnownHosts::load`]: user files first, then global
//! ones), then ask [`KnownHosts::verify`] per connection and turn the
//! [`Verdict`] into a [`Decision`] with [`decide`]. Decisions a caller must know:
//!
//! * A host is looked up as `host` on port 22 and as `[host]:port` otherwise,
//!   lowercased. A `[host]:22` line does **not** match port 22 (OpenSSH neither).
//!   On another port with no line at all for `[host]:port`, a plain `host` line
//!   holding the very key still trusts it (ssh's "found matching key w/out port");
//!   a plain line with another key does not make it `Changed`.
//! * A key is `Trusted` if any plain (unmarked) line for the host holds it, in any
//!   file: the first such line is reported. Otherwise, if the host has plain
//!   lines, it is `Changed` — whatever their key types: OpenSSH 9.2 says "REMOTE
//!   HOST IDENTIFICATION HAS CHANGED" for an ED25519 key when only an RSA key is
//!   recorded. ssh avoids that case by preferring the recorded key types during
//!   key exchange; do the same with [`KnownHosts::known_algorithms`] in russh's
//!   `Preferred::key`. `Changed` names the first offending line (ssh the last).
//! * A key on any `@revoked` line is `Revoked` whatever that line's host list says
//!   (stricter than OpenSSH, which honours only revocations whose hosts match).
//! * `also_check` names (e.g. the address, like `CheckHostIP`) can only make
//!   things worse: a different key under one of them gives `Changed`; they never
//!   make an unknown host trusted.
//! * `@cert-authority` lines never vouch for a plain key; see
//!   [`KnownHosts::trusted_ca_keys`] for certificates.
//! * Hashed names (`|1|salt|hash`) must be the whole host field, as in OpenSSH.
//! * Unusable lines are skipped with a warning naming `file:line` (logged, and kept
//!   in [`KnownHosts::warnings`]); every line is checked, not only the matching
//!   ones as ssh does. Missing files are silently empty; unreadable ones warn.
//!
//! Certificates ([`KnownHosts::verify_certificate`], see `certs`): russh 0.65
//! advertises `*-cert-v01@openssh.com` host key algorithms only if
//! `Preferred::host_key_certificates` lists them (the caller does so only when a
//! `@cert-authority` line applies to the host, as ssh prefers certificates then),
//! and hands `check_server_key` a `PublicKeyOrCertificate::Certificate` after
//! checking the key exchange signature — nothing else; `verify_certificate` does
//! the rest.

mod append;
mod certs;
mod hashed;
mod parse;
mod policy;

pub use append::{append, append_hashed};
pub use certs::CertVerdict;
pub use policy::{Decision, StrictHostKeyChecking, decide};

use russh::keys::ssh_key::public::KeyData;
use russh::keys::{Algorithm, HashAlg, PublicKey};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The port a bare (unbracketed) known_hosts name stands for.
pub const DEFAULT_PORT: u16 = 22;

/// `SHA256:base64-without-padding`, as `ssh-keygen -l` and ssh print it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The name a host is recorded under: `host` for port 22 (or 0), `[host]:port`
/// otherwise, lowercased (ASCII, as OpenSSH).
pub fn host_port_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == DEFAULT_PORT || port == 0 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// A line's marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    CertAuthority,
    Revoked,
}

/// One usable known_hosts line.
#[derive(Debug, Clone)]
pub struct Entry {
    pub file: Arc<Path>,
    /// 1-based.
    pub line: usize,
    pub marker: Option<Marker>,
    /// With the line's comment, if any.
    pub key: PublicKey,
    hosts: parse::HostField,
}

impl Entry {
    /// Whether the host list applies to `name` (`host` or `[host]:port`, lowercase).
    fn applies_to(&self, name: &str) -> bool {
        self.hosts.matches(name)
    }
}

/// The result of checking a presented host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A line for this host holds this key.
    Trusted { file: PathBuf, line: usize },
    /// An `@revoked` line holds this key: never connect.
    Revoked { file: PathBuf, line: usize },
    /// The host has lines, none with this key: never connect.
    Changed {
        file: PathBuf,
        line: usize,
        /// Of the key recorded at `file:line`.
        expected_fingerprint: String,
        presented_fingerprint: String,
    },
    /// No line for this host.
    Unknown { presented_fingerprint: String },
}

/// A skipped line (`line` is `None` when the whole file could not be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// The lookup of one name among plain lines.
enum Lookup<'a> {
    Match(&'a Entry),
    Mismatch(&'a Entry),
    None,
}

/// Every line of a set of known_hosts files, in order.
#[derive(Debug, Clone, Default)]
pub struct KnownHosts {
    entries: Vec<Entry>,
    /// Lines whose host list names hosts plainly, by each lowercased name: a
    /// lookup tries these and [`Self::unindexed`] instead of every line. With a
    /// line per node, matching every line for every connection was a quarter of
    /// drover's CPU when connecting to 1,000 nodes.
    by_name: HashMap<String, Vec<usize>>,
    /// Lines with wildcards or hashed names, tried on every lookup.
    unindexed: Vec<usize>,
    warnings: Vec<Warning>,
}

impl KnownHosts {
    /// Reads the files in order (user files first, then global ones).
    pub fn load<P: AsRef<Path>>(files: impl IntoIterator<Item = P>) -> Self {
        let mut known = Self::default();
        for file in files {
            known.add_file(file.as_ref());
        }
        known
    }

    /// Adds one file after those already read. A missing file adds nothing.
    pub fn add_file(&mut self, path: &Path) {
        match std::fs::read(path) {
            Ok(bytes) => self.add_text(path, &String::from_utf8_lossy(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => self.warn(path, None, format!("cannot read: {e}")),
        }
    }

    /// Adds `text` as the contents of `file` (which is only used in reports).
    pub fn add_text(&mut self, file: &Path, text: &str) {
        let file: Arc<Path> = Arc::from(file);
        for (index, line) in text.split('\n').enumerate() {
            match parse::parse_line(line) {
                Ok(None) => {}
                Ok(Some(p)) => self.push(Entry {
                    file: file.clone(),
                    line: index + 1,
                    marker: p.marker,
                    key: p.key,
                    hosts: p.hosts,
                }),
                Err(why) => self.warn(&file, Some(index + 1), why),
            }
        }
    }

    fn push(&mut self, entry: Entry) {
        let at = self.entries.len();
        match entry.hosts.literal_names() {
            Some(names) => {
                for name in names {
                    let lines = self.by_name.entry(name).or_default();
                    // A name listed twice on one line indexes it once.
                    if lines.last() != Some(&at) {
                        lines.push(at);
                    }
                }
            }
            None => self.unindexed.push(at),
        }
        self.entries.push(entry);
    }

    /// The lines that may apply to `name`, in file order; each must
    /// still be asked [`Entry::applies_to`] (a negation may exclude it).
    fn candidates<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s Entry> + use<'s> {
        // Folded as `applies_to` folds both sides, so the index finds what it would.
        let named = (self.by_name.get(&name.to_lowercase())).map_or(&[][..], Vec::as_slice);
        let (mut a, mut b) = (named.iter().peekable(), self.unindexed.iter().peekable());
        std::iter::from_fn(move || {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x <= y => a.next(),
                (Some(_), None) => a.next(),
                _ => b.next(),
            };
            next.map(|&i| &self.entries[i])
        })
    }

    fn warn(&mut self, file: &Path, line: Option<usize>, message: String) {
        let warning = Warning {
            file: file.to_path_buf(),
            line,
            message,
        };
        tracing::warn!("known_hosts: {warning}; line ignored");
        self.warnings.push(warning);
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Lines skipped while loading.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Checks `key` presented by `host:port`. `also_check` are further names the
    /// host goes by (its address, for `CheckHostIP`), looked up with the same port.
    pub fn verify(&self, host: &str, port: u16, key: &PublicKey, also_check: &[&str]) -> Verdict {
        let presented_fingerprint = fingerprint(key);
        if let Some(e) = self.revoked(key.key_data()) {
            return Verdict::Revoked {
                file: e.file.to_path_buf(),
                line: e.line,
            };
        }
        let changed = |e: &Entry| Verdict::Changed {
            file: e.file.to_path_buf(),
            line: e.line,
            expected_fingerprint: fingerprint(&e.key),
            presented_fingerprint: presented_fingerprint.clone(),
        };
        let mut primary = self.lookup(&host_port_name(host, port), key.key_data());
        if matches!(primary, Lookup::None) && port != DEFAULT_PORT && port != 0 {
            // ssh retries without the port, and only an exact key match counts.
            if let Lookup::Match(e) = self.lookup(&host_port_name(host, 0), key.key_data()) {
                primary = Lookup::Match(e);
            }
        }
        if let Lookup::Mismatch(e) = primary {
            return changed(e);
        }
        for name in also_check {
            if let Lookup::Mismatch(e) = self.lookup(&host_port_name(name, port), key.key_data()) {
                return changed(e);
            }
        }
        match primary {
            Lookup::Match(e) => Verdict::Trusted {
                file: e.file.to_path_buf(),
                line: e.line,
            },
            _ => Verdict::Unknown {
                presented_fingerprint,
            },
        }
    }

    fn lookup(&self, name: &str, key: &KeyData) -> Lookup<'_> {
        let mut first_mismatch = None;
        for e in self.plain_entries_for(name) {
            if e.key.key_data() == key {
                return Lookup::Match(e);
            }
            first_mismatch.get_or_insert(e);
        }
        first_mismatch.map_or(Lookup::None, Lookup::Mismatch)
    }

    fn plain_entries_for<'s, 'n>(
        &'s self,
        name: &'n str,
    ) -> impl Iterator<Item = &'s Entry> + use<'s, 'n> {
        self.candidates(name)
            .filter(move |e| e.marker.is_none() && e.applies_to(name))
    }

    /// The first `@revoked` line holding `key`, whatever its host list. Pass a
    /// certificate's signing key and its certified key too.
    pub fn revoked(&self, key: &KeyData) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.marker == Some(Marker::Revoked) && e.key.key_data() == key)
    }

    /// Every line (marked or not) whose host list applies to exactly this
    /// `host`/`port` name, in file order; no port fallback.
    pub fn entries_for(&self, host: &str, port: u16) -> Vec<&Entry> {
        let name = host_port_name(host, port);
        self.candidates(&name)
            .filter(|e| e.applies_to(&name))
            .collect()
    }

    /// `@cert-authority` keys trusted to sign host certificates for `host:port`:
    /// those for `[host]:port`, then (other ports) those for plain `host`, as ssh's
    /// retry without the port would accept them. Revoked CAs are included: check
    /// [`KnownHosts::revoked`] on the signing key.
    pub fn trusted_ca_keys(&self, host: &str, port: u16) -> Vec<&Entry> {
        let mut names = vec![host_port_name(host, port)];
        if port != DEFAULT_PORT && port != 0 {
            names.push(host_port_name(host, 0));
        }
        let mut found: Vec<&Entry> = Vec::new();
        for name in &names {
            for e in self
                .candidates(name)
                .filter(|e| e.marker == Some(Marker::CertAuthority) && e.applies_to(name))
            {
                if !found.iter().any(|f| std::ptr::eq(*f, e)) {
                    found.push(e);
                }
            }
        }
        found
    }

    /// Key algorithms recorded (unmarked) for `host:port`, first seen first, with
    /// the port-less fallback after them: put these first in russh's
    /// `Preferred::key`, as ssh orders its host key algorithms, so a host with a
    /// recorded RSA key is not asked for an ED25519 one (that would be `Changed`).
    pub fn known_algorithms(&self, host: &str, port: u16) -> Vec<Algorithm> {
        let mut names = vec![host_port_name(host, port)];
        if port != DEFAULT_PORT && port != 0 {
            names.push(host_port_name(host, 0));
        }
        let mut algorithms = Vec::new();
        for name in &names {
            for e in self.plain_entries_for(name) {
                let algorithm = e.key.algorithm();
                if !algorithms.contains(&algorithm) {
                    algorithms.push(algorithm);
                }
            }
        }
        algorithms
    }
}
