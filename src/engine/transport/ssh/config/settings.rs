//! The values one resolution has obtained so far, and how a line from an
//! active block adds to them: the first value wins, `IdentityFile` collects
//! without repeats, and `ProxyJump` and `ProxyCommand` share one slot.

use super::jump::JumpValue;
use super::parse::Setting;
use super::{ErrorKind, SshConfigError, StrictHostKeyChecking};
use std::path::PathBuf;

/// OpenSSH's `SSH_MAX_IDENTITY_FILES`.
const MAX_IDENTITY_FILES: usize = 100;
/// OpenSSH's `SSH_MAX_CERTIFICATE_FILES`.
const MAX_CERTIFICATE_FILES: usize = 100;
/// OpenSSH's `SSH_MAX_HOSTS_FILES`.
const MAX_HOSTS_FILES: usize = 32;

/// A value with the line it came from, for errors found when expanding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Sourced {
    pub value: String,
    pub file: PathBuf,
    pub line: usize,
}

impl Sourced {
    pub fn error(&self, kind: ErrorKind) -> SshConfigError {
        SshConfigError::Config {
            file: self.file.clone(),
            line: self.line,
            kind,
        }
    }
}

/// Values obtained so far; `None` means not yet obtained.
#[derive(Debug, Default)]
pub(super) struct Settings {
    pub hostname: Option<Sourced>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<Sourced>,
    pub certificate_files: Vec<Sourced>,
    pub identities_only: Option<bool>,
    pub jump: Option<JumpValue>,
    pub proxy_command: Option<Sourced>,
    pub connect_timeout: Option<u64>,
    pub server_alive_interval: Option<u64>,
    pub server_alive_count_max: Option<u32>,
    pub strict_host_key_checking: Option<StrictHostKeyChecking>,
    pub user_known_hosts: Option<Vec<Sourced>>,
    pub global_known_hosts: Option<Vec<String>>,
    pub forward_agent: Option<bool>,
    pub forward_agent_path: Option<Sourced>,
    pub ignore_unknown: Option<String>,
    pub canonicalize: Option<bool>,
    pub host_key_alias: Option<String>,
}

impl Settings {
    /// Records a value from an active line unless one was obtained before.
    pub(super) fn apply(
        &mut self,
        s: &Setting,
        src: impl Fn(&str) -> Sourced,
    ) -> Result<(), ErrorKind> {
        let st = self;
        match s {
            Setting::HostName(v) => {
                st.hostname.get_or_insert_with(|| src(v));
            }
            Setting::User(v) => {
                st.user.get_or_insert_with(|| v.clone());
            }
            Setting::Port(p) => {
                st.port.get_or_insert(*p);
            }
            Setting::IdentityFile(v) => {
                if st.identity_files.len() >= MAX_IDENTITY_FILES {
                    return Err(ErrorKind::TooMany("identity files (at most 100)"));
                }
                if !st.identity_files.iter().any(|f| f.value == *v) {
                    st.identity_files.push(src(v));
                }
            }
            Setting::CertificateFile(v) => {
                if st.certificate_files.len() >= MAX_CERTIFICATE_FILES {
                    return Err(ErrorKind::TooMany("certificate files (at most 100)"));
                }
                if !st.certificate_files.iter().any(|f| f.value == *v) {
                    st.certificate_files.push(src(v));
                }
            }
            Setting::IdentitiesOnly(b) => {
                st.identities_only.get_or_insert(*b);
            }
            Setting::ProxyJump(JumpValue::None) => {
                st.jump.get_or_insert(JumpValue::None);
            }
            Setting::ProxyJump(hops) => {
                if st.jump.is_none() && st.proxy_command.is_none() {
                    st.jump = Some(hops.clone());
                    st.proxy_command = Some(src("none"));
                }
            }
            Setting::ProxyCommand(c) => {
                st.proxy_command.get_or_insert_with(|| src(c));
            }
            Setting::ConnectTimeout(t) => {
                if st.connect_timeout.is_none() {
                    st.connect_timeout = *t;
                }
            }
            Setting::ServerAliveInterval(t) => {
                if st.server_alive_interval.is_none() {
                    st.server_alive_interval = *t;
                }
            }
            Setting::ServerAliveCountMax(n) => {
                st.server_alive_count_max.get_or_insert(*n);
            }
            Setting::StrictHostKeyChecking(v) => {
                st.strict_host_key_checking.get_or_insert(*v);
            }
            Setting::UserKnownHostsFile(list) => {
                if st.user_known_hosts.is_none() && !list.is_empty() {
                    if list.len() > MAX_HOSTS_FILES {
                        return Err(ErrorKind::TooMany(
                            "UserKnownHostsFile entries (at most 32)",
                        ));
                    }
                    st.user_known_hosts = Some(list.iter().map(|v| src(v)).collect());
                }
            }
            Setting::GlobalKnownHostsFile(list) => {
                if st.global_known_hosts.is_none() && !list.is_empty() {
                    if list.len() > MAX_HOSTS_FILES {
                        return Err(ErrorKind::TooMany(
                            "GlobalKnownHostsFile entries (at most 32)",
                        ));
                    }
                    st.global_known_hosts = Some(list.clone());
                }
            }
            Setting::ForwardAgent(b) => {
                st.forward_agent.get_or_insert(*b);
            }
            Setting::ForwardAgentPath(p) => {
                st.forward_agent.get_or_insert(true);
                st.forward_agent_path.get_or_insert_with(|| src(p));
            }
            Setting::CanonicalizeHostname(b) => {
                st.canonicalize.get_or_insert(*b);
            }
            Setting::HostKeyAlias(v) => {
                st.host_key_alias.get_or_insert_with(|| v.clone());
            }
        }
        Ok(())
    }
}
