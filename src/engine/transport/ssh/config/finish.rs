//! From the values a pass obtained to a [`ResolvedHost`]: defaults for what
//! stayed unset (as ssh's `fill_default_options`), then `~`, `%` tokens and
//! `${VAR}` expanded where ssh expands them.

use super::jump::JumpValue;
use super::proxy_command::ProxyTokens;
use super::settings::{Settings, Sourced};
use super::{Environment, ErrorKind, Proxy, ResolvedHost, Shown, SshConfigError, tokens};
use std::path::PathBuf;
use std::time::Duration;

/// ssh's identity files when none is configured, in its order.
const DEFAULT_IDENTITY_FILES: [&str; 7] = [
    "~/.ssh/id_rsa",
    "~/.ssh/id_ecdsa",
    "~/.ssh/id_ecdsa_sk",
    "~/.ssh/id_ed25519",
    "~/.ssh/id_ed25519_sk",
    "~/.ssh/id_xmss",
    "~/.ssh/id_dsa",
];
const DEFAULT_USER_KNOWN_HOSTS: [&str; 2] = ["~/.ssh/known_hosts", "~/.ssh/known_hosts2"];
const DEFAULT_GLOBAL_KNOWN_HOSTS: [&str; 2] =
    ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"];

fn is_none(list: &[String]) -> bool {
    matches!(list, [only] if only.eq_ignore_ascii_case("none"))
}

pub(super) fn build(
    st: Settings,
    env: &Environment,
    original: &str,
    hostname: String,
) -> Result<ResolvedHost, SshConfigError> {
    let user = st.user.clone().unwrap_or_else(|| env.local_user.clone());
    let port = st.port.unwrap_or(22);
    super::jump::check_loop(st.jump.as_ref(), original, &hostname, &user, port)?;
    let port_s = port.to_string();
    let alias = st
        .host_key_alias
        .as_deref()
        .map_or_else(|| original.to_owned(), str::to_ascii_lowercase);
    let uid = env.uid.to_string();
    let short = env.local_host.split('.').next().unwrap_or_default();
    let home = env.home.to_string_lossy();
    let keys = [
        ('L', short),
        ('i', uid.as_str()),
        ('k', alias.as_str()),
        ('l', env.local_host.as_str()),
        ('n', original),
        ('p', port_s.as_str()),
        ('d', home.as_ref()),
        ('h', hostname.as_str()),
        ('r', user.as_str()),
        ('u', env.local_user.as_str()),
    ];
    // `~` first, then tokens and variables, as ssh does for these paths.
    let path = |v: &Sourced, keyword: &'static str| -> Result<PathBuf, SshConfigError> {
        tokens::tilde(&v.value, &env.home)
            .and_then(|t| tokens::expand(&t, &keys, true))
            .map(PathBuf::from)
            .map_err(|reason| {
                v.error(ErrorKind::Expansion {
                    keyword,
                    value: v.value.clone(),
                    reason,
                })
            })
    };
    let builtin = |values: &[&str]| -> Vec<Sourced> {
        values
            .iter()
            .map(|v| Sourced {
                value: (*v).to_owned(),
                file: PathBuf::from("<defaults>"),
                line: 0,
            })
            .collect()
    };

    let identity_specs = if st.identity_files.is_empty() {
        builtin(&DEFAULT_IDENTITY_FILES)
    } else {
        st.identity_files
    };
    let mut identity_files = Vec::new();
    for spec in identity_specs
        .iter()
        .filter(|s| !s.value.eq_ignore_ascii_case("none"))
    {
        identity_files.push(path(spec, "IdentityFile")?);
    }

    let mut certificate_files = Vec::new();
    for spec in &st.certificate_files {
        certificate_files.push(path(spec, "CertificateFile")?);
    }

    let user_known = st
        .user_known_hosts
        .unwrap_or_else(|| builtin(&DEFAULT_USER_KNOWN_HOSTS));
    let user_known_values: Vec<String> = user_known.iter().map(|s| s.value.clone()).collect();
    let mut user_known_hosts_files = Vec::new();
    if !is_none(&user_known_values) {
        for spec in &user_known {
            user_known_hosts_files.push(path(spec, "UserKnownHostsFile")?);
        }
    }

    let global = st
        .global_known_hosts
        .unwrap_or_else(|| DEFAULT_GLOBAL_KNOWN_HOSTS.map(String::from).to_vec());
    let (global_known_hosts_files, global_shown) = if is_none(&global) {
        (Vec::new(), Vec::new())
    } else {
        let expanded = global
            .iter()
            .map(|g| PathBuf::from(tokens::tilde(g, &env.home).unwrap_or_else(|_| g.clone())))
            .collect();
        (expanded, global)
    };

    let (proxy, proxy_jump, proxy_command) = match st.jump {
        Some(JumpValue::Hops { hops, shown }) => (Proxy::Jump(hops), Some(shown), None),
        _ => match st.proxy_command {
            Some(c) if !c.value.eq_ignore_ascii_case("none") => {
                let tokens = ProxyTokens {
                    key_alias: alias.clone(),
                    source: c.clone(),
                };
                (Proxy::Command(c.value), None, Some(tokens))
            }
            _ => (Proxy::None, None, None),
        },
    };

    let forward_agent_socket = match &st.forward_agent_path {
        Some(p) => Some(path(p, "ForwardAgent")?),
        None => None,
    };

    Ok(ResolvedHost {
        original: original.to_owned(),
        hostname,
        user,
        port,
        identity_files,
        certificate_files,
        host_key_alias: st.host_key_alias.as_deref().map(str::to_ascii_lowercase),
        identities_only: st.identities_only.unwrap_or(false),
        proxy,
        connect_timeout: st.connect_timeout.map(Duration::from_secs),
        server_alive_interval: Duration::from_secs(st.server_alive_interval.unwrap_or(0)),
        server_alive_count_max: st.server_alive_count_max.unwrap_or(3),
        strict_host_key_checking: st.strict_host_key_checking.unwrap_or_default(),
        user_known_hosts_files,
        global_known_hosts_files,
        forward_agent: st.forward_agent.unwrap_or(false),
        forward_agent_socket,
        proxy_command,
        shown: Shown {
            identity_files: identity_specs.into_iter().map(|s| s.value).collect(),
            certificate_files: st.certificate_files.into_iter().map(|s| s.value).collect(),
            global_known_hosts_files: global_shown,
            proxy_jump,
        },
    })
}
