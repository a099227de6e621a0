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
use super::parse::{Kind, ParsedFile};
use super::settings::{Settings, Sourced};
use super::{Environment, ErrorKind, Overrides, ResolvedHost, SshConfigError, finish, tokens};
use crate::engine::transport::ssh::pattern::{match_list, match_pattern, split_list};

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
                Kind::Invalid(kind) => return Err(at(kind.clone())),
                Kind::Set(s) => {
                    if *active {
                        let src = |value: &str| Sourced {
                            value: value.to_owned(),
                            file: f.path.clone(),
                            line: d.line,
                        };
                        self.st.apply(s, src).map_err(at)?;
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
}
