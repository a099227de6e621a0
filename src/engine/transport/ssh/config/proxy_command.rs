//! `ProxyCommand` tokens, expanded when connecting as ssh's
//! `expand_proxy_command` does: `%h` the host name connected to (after
//! `HostName`), `%k` the host key alias (else the name as given), `%n` the name
//! as given, `%p` the port, `%r` the remote user, `%%` a percent sign. No `~` and
//! no `${VAR}`: the shell that runs the command sees `$VAR` itself.

use super::settings::Sourced;
use super::{ErrorKind, ResolvedHost, SshConfigError, tokens};

/// What expanding a host's `ProxyCommand` needs besides the resolved values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ProxyTokens {
    /// The command as written, with its file and line for errors.
    pub source: Sourced,
    /// `%k`: `HostKeyAlias` (lowercased, as ssh does), else the name as given.
    pub key_alias: String,
}

impl ResolvedHost {
    /// The `ProxyCommand` to run to reach this host at `host` (its `HostName`, or
    /// an address the inventory gives), tokens expanded; `None` without one. An
    /// unknown token or a trailing `%` is an error naming the file and line.
    pub fn proxy_command(&self, host: &str) -> Result<Option<String>, SshConfigError> {
        let Some(t) = &self.proxy_command else {
            return Ok(None);
        };
        let port = self.port.to_string();
        let keys = [
            ('h', host),
            ('k', t.key_alias.as_str()),
            ('n', self.original.as_str()),
            ('p', port.as_str()),
            ('r', self.user.as_str()),
        ];
        tokens::expand(&t.source.value, &keys, false)
            .map(Some)
            .map_err(|reason| {
                t.source.error(ErrorKind::Expansion {
                    keyword: "ProxyCommand",
                    value: t.source.value.clone(),
                    reason,
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Environment, Overrides, SshConfigFile};
    use std::path::Path;

    fn resolve(text: &str, host: &str) -> super::ResolvedHost {
        let env = Environment::new("/home/t", "local");
        SshConfigFile::parse_str(text, Path::new("cfg"), &env)
            .and_then(|c| c.resolve(host, &Overrides::default()))
            .expect("resolves")
    }

    #[test]
    fn tokens_as_ssh_expands_them() {
        let text = "Host Alias\n  HostName Real.%h\n  User u\n  Port 2022\n\
                    ProxyCommand nc %h %p %r %n %k 100%% $HOME ~\n";
        let r = resolve(text, "Alias");
        let want = "nc real.alias 2022 u Alias Alias 100% $HOME ~";
        assert_eq!(r.proxy_command(&r.hostname).unwrap().as_deref(), Some(want));
        // The inventory's address stands for HostName.
        let got = r.proxy_command("10.0.0.9").unwrap().unwrap();
        assert!(got.starts_with("nc 10.0.0.9 2022 "), "{got}");
        let r = resolve("HostKeyAlias KA\nProxyCommand x %k\n", "h");
        assert_eq!(r.proxy_command("h").unwrap().as_deref(), Some("x ka"));
    }

    #[test]
    fn bad_tokens_name_the_line_and_none_means_direct() {
        let r = resolve("User u\nProxyCommand nc %h %d\n", "h");
        let e = r.proxy_command("h").unwrap_err().to_string();
        assert!(e.starts_with("cfg:2:") && e.contains("%d"), "{e}");
        let r = resolve("ProxyCommand nc %h 5%\n", "h");
        assert!(r.proxy_command("h").is_err());
        let r = resolve("ProxyCommand none\nProxyCommand nc %h\n", "h");
        assert_eq!(r.proxy_command("h").unwrap(), None);
        let r = resolve("ProxyJump j\nProxyCommand nc %h\n", "h");
        assert_eq!(r.proxy_command("h").unwrap(), None);
    }
}
