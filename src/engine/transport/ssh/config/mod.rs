//! `~/.ssh/config` resolution with the semantics of OpenSSH 9.2's `ssh -G`, for
//! the keywords drover uses.
//!
//! A file is parsed once ([`SshConfigFile::load`] / [`SshConfigFile::parse_str`]),
//! `Include`s and all, and resolved for any number of hosts
//! ([`SshConfigFile::resolve`]). Resolution replays the file the way ssh reads it:
//! `Host` and `Match` switch blocks on and off, the first value obtained for a
//! keyword wins (also inside one block), `IdentityFile` accumulates, and defaults
//! fill whatever stays unset. [`ResolvedHost::render_g`] prints the result in
//! `ssh -G`'s spelling, so the two can be compared line by line.
//!
//! Errors behave like ssh's: a bad value for a keyword drover uses, a malformed
//! line or an unknown keyword is an error wherever it is, also in blocks that
//! never match (ssh refuses such a file for every host). Errors that depend on the
//! host (an unknown keyword that only an active `IgnoreUnknown` would excuse, a
//! bad `%` token in a value that only some hosts use) surface from `resolve`.
//!
//! Deliberate differences from ssh, all documented where they live:
//! - keywords drover does not use are accepted and ignored without checking their
//!   values (ssh would reject, say, a bad `Ciphers` list);
//! - one home directory ([`Environment::home`], `$HOME` first) serves `~`, `%d` and
//!   relative `Include`s; ssh takes `~` in most values from the passwd entry but
//!   globs `Include` paths with `$HOME`;
//! - no DNS: `CanonicalizeHostname` triggers ssh's second ("final") pass, but the
//!   name is not looked up, as if no canonical domain matched;
//! - `IdentityFile` paths are expanded (`~`, tokens, `${VAR}`) when resolving, so
//!   a bad token there fails `resolve`; `ssh -G` prints them unexpanded and ssh
//!   fails only when connecting. `render_g` prints them as written, like ssh;
//! - `ProxyJump`: every hop is parsed (ssh parses the last one and hands the
//!   others to the next ssh); the `-J` checks Debian applies to command-line
//!   hops are not made;
//! - `%C` (a hash of the connection) is not supported in token expansion;
//! - `ProxyCommand` tokens are expanded when connecting ([`ResolvedHost::proxy_command`]),
//!   as ssh does, so a bad token there fails that host's connection, not `resolve`;
//! - `Match exec` commands get no stdin, stdout or stderr and are killed after
//!   [`EXEC_TIMEOUT`];
//! - at most [`MAX_FILES`] files of at most [`MAX_FILE_BYTES`] each are read
//!   (ssh has no such limits); included files must not be group/world writable
//!   (as in ssh), the top-level file is not checked.

mod address;
mod args;
mod criteria;
mod destination;
mod env;
mod error;
mod finish;
mod include;
mod jump;
mod keywords;
mod lexer;
mod parse;
mod proxy_command;
mod render;
mod resolve;
mod settings;
mod tokens;
mod values;

pub use env::Environment;
pub use error::{ErrorKind, SshConfigError};

use parse::{Kind, ParsedFile};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Longest a `Match exec` command may run before resolution fails.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest config file read (the top-level one and each include).
pub const MAX_FILE_BYTES: u64 = 4 << 20;
/// Most files read for one configuration, counting every inclusion.
pub const MAX_FILES: usize = 1024;
/// Deepest `Include` nesting, as OpenSSH's `READCONF_MAX_DEPTH`.
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// A parsed ssh_config, reusable for many hosts.
#[derive(Debug, Clone)]
pub struct SshConfigFile {
    root: ParsedFile,
    env: Environment,
}

/// Values given on the command line; they win over the file (`ssh -l`, `ssh -p`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub user: Option<String>,
    pub port: Option<u16>,
}

/// `StrictHostKeyChecking`: the same type the known_hosts policy decides with.
pub use super::known_hosts::StrictHostKeyChecking;

/// One hop of a `ProxyJump` chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHost {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

/// How to reach the host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Proxy {
    /// Directly.
    #[default]
    None,
    /// Through these jump hosts, first hop first.
    Jump(Vec<JumpHost>),
    /// Through this command, as written: its `%h`, `%k`, `%n`, `%p`, `%r` tokens
    /// are expanded at connection time, as ssh does
    /// ([`ResolvedHost::proxy_command`]).
    Command(String),
}

/// The effective settings for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedHost {
    /// The host name as given to `resolve`.
    pub original: String,
    /// `HostName` with `%h` expanded, lowercased unless it is an address.
    pub hostname: String,
    pub user: String,
    pub port: u16,
    /// `~` and tokens expanded; `none` entries dropped.
    pub identity_files: Vec<PathBuf>,
    /// `CertificateFile`s, expanded like `identity_files`.
    pub certificate_files: Vec<PathBuf>,
    pub identities_only: bool,
    /// `HostKeyAlias`, lowercased as ssh does.
    pub host_key_alias: Option<String>,
    pub proxy: Proxy,
    pub connect_timeout: Option<Duration>,
    /// Zero: no keepalives.
    pub server_alive_interval: Duration,
    pub server_alive_count_max: u32,
    pub strict_host_key_checking: StrictHostKeyChecking,
    /// `~`, tokens and `${VAR}` expanded; empty for `none`.
    pub user_known_hosts_files: Vec<PathBuf>,
    /// `~` expanded; empty for `none`.
    pub global_known_hosts_files: Vec<PathBuf>,
    pub forward_agent: bool,
    /// `ForwardAgent /path/to/socket` (expanded): forward that socket instead of
    /// `$SSH_AUTH_SOCK`.
    pub forward_agent_socket: Option<PathBuf>,
    /// What expanding the `ProxyCommand` needs (`None` without one).
    proxy_command: Option<proxy_command::ProxyTokens>,
    /// Values in the spelling `ssh -G` prints, for [`ResolvedHost::render_g`].
    shown: Shown,
}

/// What `ssh -G` prints verbatim rather than expanded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Shown {
    identity_files: Vec<String>,
    certificate_files: Vec<String>,
    global_known_hosts_files: Vec<String>,
    proxy_jump: Option<String>,
}

impl SshConfigFile {
    /// Reads the user's config at `path` (normally `~/.ssh/config`); a missing
    /// file is an empty config.
    pub fn load(path: &Path, env: &Environment) -> Result<Self, SshConfigError> {
        let root = parse::Loader::new(env).load_root(path)?;
        Ok(SshConfigFile {
            root,
            env: env.clone(),
        })
    }

    /// Parses `text` as if read from `origin` (named in errors).
    pub fn parse_str(text: &str, origin: &Path, env: &Environment) -> Result<Self, SshConfigError> {
        let root = parse::Loader::new(env).parse_root(text, origin)?;
        Ok(SshConfigFile {
            root,
            env: env.clone(),
        })
    }

    /// The settings for a destination as typed: an alias, a name or an address,
    /// optionally as `user@host` or `ssh://[user@]host[:port]` (see
    /// [`destination`]). A `ProxyJump` whose last hop is the destination itself
    /// (same host, port and user) is an error, as in ssh.
    pub fn resolve(
        &self,
        destination: &str,
        overrides: &Overrides,
    ) -> Result<ResolvedHost, SshConfigError> {
        let (host, overrides) = destination::split(destination, overrides)?;
        resolve::resolve(&self.root, &self.env, &host, &overrides)
    }

    /// Every `Host` pattern that names one host (no `*`, `?` or `!`), in file
    /// order (includes in place), without repeats: candidates for an inventory.
    pub fn concrete_hosts(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_hosts(&self.root, &mut out);
        out
    }
}

fn collect_hosts(file: &ParsedFile, out: &mut Vec<String>) {
    for d in &file.directives {
        match &d.kind {
            Kind::Host(patterns) => {
                for p in patterns {
                    let concrete = !p.is_empty() && !p.starts_with('!') && !p.contains(['*', '?']);
                    if concrete && !out.contains(p) {
                        out.push(p.clone());
                    }
                }
            }
            Kind::Include(files) => files.iter().for_each(|f| collect_hosts(f, out)),
            _ => {}
        }
    }
}

impl ResolvedHost {
    /// `key value` lines as `ssh -G` prints them, for the keywords drover uses,
    /// in ssh's order.
    pub fn render_g(&self) -> String {
        render::render_g(self)
    }
}
