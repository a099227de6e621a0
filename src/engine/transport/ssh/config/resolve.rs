//! Replaying a parsed config for one host, as ssh reads its files: `Host` and
//! `Match` lines switch the following lines on or off, an `Include` inside an
//! inactive block is read but never applies, and for each keyword the first
//! value obtained wins. `IdentityFile` collects (without repeats) instead.
//!
//! `Host` patterns are matched case-sensitively against the name as typed; the
//! first negated pattern that matches switches the block off.
//!
//! ssh makes a second, "final" pass over the files when a `Match final` line
//! was evaluated or `CanonicalizeHostname` is on: values from the first pass
//! stay, `Match canonical`/`final` now hold, and both `Host` patterns and
//! `Match host` see the finished host name (lowercased, `HostName` applied).

use super::address;
use super::criteria::{self, Facts, MatchSpec};
use super::jump::JumpValue;
use super::parse::{Kind, ParsedFile, Setting};
use super::{
    Environment, ErrorKind, Overrides, ResolvedHost, SshConfigError, StrictHostKeyChecking, finish,
    tokens,
};
use crate::engine::transport::ssh::pattern::{match_list, match_pattern, split_list};
use std::path::PathBuf;

/// OpenSSH's `SSH_MAX_IDENTITY_FILES`.
const MAX_IDENTITY_FILES: usize = 100;
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
    pub identities_only: Option<bool>,
    pub jump: Option<JumpValue>,
    pub proxy_command: Option<String>,
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

struct Pass<'a> {
    env: &'a Environment,
    host_arg: &'a str,
    /// The finished host name, in the final pass.
    final_host: Option<String>,
    st: Settings,
    wants_final: bool,
}

pub(super) fn resolve(
    root: &ParsedFile,
    env: &Environment,
    host: &str,
    overrides: &Overrides,
) -> Result<ResolvedHost, SshConfigError> {
    if !address::valid_hostname(host) {
        return Err(SshConfigError::InvalidHost(host.to_owned()));
    }
    if let Some(u) = &overrides.user
        && !address::valid_user(u)
    {
        return Err(SshConfigError::InvalidUser(u.clone()));
    }
    if overrides.port == Some(0) {
        return Err(SshConfigError::InvalidPort);
    }
    let st = Settings {
        user: overrides.user.clone(),
        port: overrides.port,
        ..Settings::default()
    };
    let mut pass = Pass {
        env,
        host_arg: host,
        final_host: None,
        st,
        wants_final: false,
    };
    pass.file(root, &mut true, false)?;
    let hostname = address::finish_hostname(&pass.host_so_far()?);
    if pass.wants_final || pass.st.canonicalize == Some(true) {
        pass.final_host = Some(hostname.clone());
        pass.file(root, &mut true, false)?;
    }
    finish::build(pass.st, env, host, hostname)
}

impl Pass<'_> {
    fn file(
        &mut self,
        f: &ParsedFile,
        active: &mut bool,
        never: bool,
    ) -> Result<(), SshConfigError> {
        for d in &f.directives {
            let at = |kind| SshConfigError::Config {
                file: f.path.clone(),
                line: d.line,
                kind,
            };
            match &d.kind {
                Kind::Host(patterns) => *active = self.host_block(patterns, never).map_err(at)?,
                Kind::Match(spec) => {
                    let hit = self.matches(spec, &at)?;
                    *active = hit && !never;
                }
                Kind::Include(files) => {
                    let outer = *active;
                    for inc in files {
                        self.file(inc, active, never || !outer)?;
                        *active = outer;
                    }
                }
                Kind::IgnoreUnknown(list) => {
                    if *active && self.st.ignore_unknown.is_none() {
                        self.st.ignore_unknown = Some(list.clone());
                    }
                }
                Kind::Unknown(keyword) => {
                    let ignored = self
                        .st
                        .ignore_unknown
                        .as_deref()
                        .is_some_and(|l| match_list(keyword, split_list(l), true).is_match());
                    if !ignored {
                        return Err(at(ErrorKind::UnknownKeyword(keyword.clone())));
                    }
                }
                Kind::Set(s) => {
                    if *active {
                        let src = |value: &str| Sourced {
                            value: value.to_owned(),
                            file: f.path.clone(),
                            line: d.line,
                        };
                        self.apply(s, src).map_err(at)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A `Host` line: on if a pattern matches and no negated one does. The name
    /// tested is the one typed, in the final pass the finished host name.
    fn host_block(&self, patterns: &[String], never: bool) -> Result<bool, ErrorKind> {
        let mut active = false;
        for p in patterns {
            if p.is_empty() {
                return Err(ErrorKind::EmptyArgument("host".into()));
            }
            if never {
                break;
            }
            let (negated, pattern) = match p.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, p.as_str()),
            };
            if match_pattern(self.final_host.as_deref().unwrap_or(self.host_arg), pattern) {
                if negated {
                    return Ok(false);
                }
                active = true;
            }
        }
        Ok(active)
    }

    /// The host name `Match host` sees: in the first pass `HostName` with `%h`
    /// expanded (the name as typed without one), in the final pass the finished
    /// name.
    fn host_so_far(&self) -> Result<String, SshConfigError> {
        if let Some(h) = &self.final_host {
            return Ok(h.clone());
        }
        match &self.st.hostname {
            None => Ok(self.host_arg.to_owned()),
            Some(h) => tokens::expand(&h.value, &[('h', self.host_arg)], false).map_err(|reason| {
                h.error(ErrorKind::Expansion {
                    keyword: "HostName",
                    value: h.value.clone(),
                    reason,
                })
            }),
        }
    }

    fn matches(
        &mut self,
        spec: &MatchSpec,
        at: &dyn Fn(ErrorKind) -> SshConfigError,
    ) -> Result<bool, SshConfigError> {
        if spec.wants_final() && self.final_host.is_none() {
            self.wants_final = true;
        }
        let host = self.host_so_far()?;
        let user = self
            .st
            .user
            .clone()
            .unwrap_or_else(|| self.env.local_user.clone());
        let port = self.st.port.unwrap_or(22).to_string();
        let alias = self
            .st
            .host_key_alias
            .clone()
            .unwrap_or_else(|| host.clone());
        let uid = self.env.uid.to_string();
        let short = self
            .env
            .local_host
            .split('.')
            .next()
            .unwrap_or_default()
            .to_owned();
        let home = self.env.home.to_string_lossy();
        let keys = [
            ('L', short.as_str()),
            ('d', home.as_ref()),
            ('h', host.as_str()),
            ('k', alias.as_str()),
            ('l', self.env.local_host.as_str()),
            ('n', self.host_arg),
            ('p', port.as_str()),
            ('r', user.as_str()),
            ('u', self.env.local_user.as_str()),
            ('i', uid.as_str()),
        ];
        let facts = Facts {
            final_pass: self.final_host.is_some(),
            host: &host,
            original_host: self.host_arg,
            user: &user,
            local_user: &self.env.local_user,
            exec_tokens: &keys,
            allow_exec: self.env.allow_exec,
        };
        criteria::evaluate(spec, &facts).map_err(at)
    }

    /// Records a value from an active line unless one was obtained before.
    fn apply(&mut self, s: &Setting, src: impl Fn(&str) -> Sourced) -> Result<(), ErrorKind> {
        let st = &mut self.st;
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
            Setting::IdentitiesOnly(b) => {
                st.identities_only.get_or_insert(*b);
            }
            Setting::ProxyJump(JumpValue::None) => {
                st.jump.get_or_insert(JumpValue::None);
            }
            Setting::ProxyJump(hops) => {
                if st.jump.is_none() && st.proxy_command.is_none() {
                    st.jump = Some(hops.clone());
                    st.proxy_command = Some("none".into());
                }
            }
            Setting::ProxyCommand(c) => {
                st.proxy_command.get_or_insert_with(|| c.clone());
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
