//! `ssh -G`'s output for the keywords drover uses, in ssh's order and spelling:
//! flags as `yes`/`no`, `StrictHostKeyChecking` as ssh names its states (`true`,
//! `false`, `ask`, `accept-new`), times in seconds, identity files and global
//! known-hosts files as written, user known-hosts files expanded, and the last
//! `ProxyJump` hop re-spelt after the others as written.

use super::{Proxy, ResolvedHost, StrictHostKeyChecking};
use std::fmt::Write;
use std::path::PathBuf;

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn joined(paths: &[PathBuf]) -> String {
    let parts: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    parts.join(" ")
}

pub(super) fn render_g(r: &ResolvedHost) -> String {
    let mut out = String::new();
    let mut line = |key: &str, value: &str| {
        let _ = writeln!(out, "{key} {value}");
    };
    line("host", &r.original);
    line("user", &r.user);
    line("hostname", &r.hostname);
    line("port", &r.port.to_string());
    line("identitiesonly", yes_no(r.identities_only));
    let strict = match r.strict_host_key_checking {
        StrictHostKeyChecking::Yes => "true",
        StrictHostKeyChecking::No => "false",
        StrictHostKeyChecking::Ask => "ask",
        StrictHostKeyChecking::AcceptNew => "accept-new",
    };
    line("stricthostkeychecking", strict);
    line("serveralivecountmax", &r.server_alive_count_max.to_string());
    line(
        "serveraliveinterval",
        &r.server_alive_interval.as_secs().to_string(),
    );
    for f in &r.shown.identity_files {
        line("identityfile", f);
    }
    for f in &r.shown.certificate_files {
        line("certificatefile", f);
    }
    let global = &r.shown.global_known_hosts_files;
    line(
        "globalknownhostsfile",
        &if global.is_empty() {
            "none".to_owned()
        } else {
            global.join(" ")
        },
    );
    let user_known = &r.user_known_hosts_files;
    line(
        "userknownhostsfile",
        &if user_known.is_empty() {
            "none".to_owned()
        } else {
            joined(user_known)
        },
    );
    match &r.forward_agent_socket {
        Some(p) => line("forwardagent", &p.display().to_string()),
        None => line("forwardagent", yes_no(r.forward_agent)),
    }
    match r.connect_timeout {
        Some(t) => line("connecttimeout", &t.as_secs().to_string()),
        None => line("connecttimeout", "none"),
    }
    match (&r.proxy, &r.shown.proxy_jump) {
        (Proxy::Jump(_), Some(shown)) => line("proxyjump", shown),
        (Proxy::Command(c), _) => line("proxycommand", c),
        _ => {}
    }
    out
}
