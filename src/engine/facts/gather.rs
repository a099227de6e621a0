//! The built-in gatherer: one POSIX shell script, run over the node's own
//! transport in one round trip, prints `key=value` lines; this module turns
//! them into typed facts. Each probe falls back or stays silent when a tool
//! is missing, so a minimal system still answers what it can.

use super::{FactMap, FactProvider};
use crate::engine::Engine;
use crate::engine::inventory::Node;
use crate::engine::transport::BoxFuture;
use serde_json::Value;
use std::time::Duration;

/// The keys the gatherer supplies.
pub const KEYS: &[&str] = &[
    "hostname",
    "fqdn",
    "os_family",
    "os_id",
    "os_name",
    "os_version",
    "os_pretty_name",
    "kernel",
    "arch",
    "cpu_count",
    "memory_mb",
    "ip_addresses",
    "uptime_seconds",
    "package_manager",
    "package_count",
];

/// Printed lines are `key=value`; `os_release.X=` lines copy /etc/os-release.
pub const SCRIPT: &str = r#"LC_ALL=C; export LC_ALL
h=$(hostname 2>/dev/null || uname -n); echo "hostname=$h"
echo "fqdn=$(hostname -f 2>/dev/null || echo "$h")"
if [ -r /etc/os-release ]; then f=/etc/os-release; else f=/usr/lib/os-release; fi
[ -r "$f" ] && grep -E '^(ID|ID_LIKE|NAME|VERSION_ID|PRETTY_NAME)=' "$f" | sed 's/^/os_release./'
echo "kernel=$(uname -r)"
echo "arch=$(uname -m)"
echo "cpu_count=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || grep -c '^processor' /proc/cpuinfo 2>/dev/null)"
[ -r /proc/meminfo ] && awk '/^MemTotal:/ { print "memory_kb=" $2 }' /proc/meminfo
if command -v ip >/dev/null 2>&1; then
  ip -o addr show scope global 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print "ip=" $4 }'
else
  for a in $(hostname -I 2>/dev/null); do echo "ip=$a"; done
fi
[ -r /proc/uptime ] && awk '{ printf "uptime_seconds=%d\n", $1 }' /proc/uptime
if command -v dpkg-query >/dev/null 2>&1; then
  echo "package_manager=apt"; echo "package_count=$(dpkg-query -f '.\n' -W 2>/dev/null | wc -l)"
elif command -v rpm >/dev/null 2>&1; then
  if command -v dnf >/dev/null 2>&1; then m=dnf; elif command -v zypper >/dev/null 2>&1; then m=zypper; else m=yum; fi
  echo "package_manager=$m"; echo "package_count=$(rpm -qa 2>/dev/null | wc -l)"
elif command -v apk >/dev/null 2>&1; then
  echo "package_manager=apk"; echo "package_count=$(apk info 2>/dev/null | wc -l)"
elif command -v pacman >/dev/null 2>&1; then
  echo "package_manager=pacman"; echo "package_count=$(pacman -Qq 2>/dev/null | wc -l)"
fi
exit 0
"#;

/// The gatherer as a provider.
pub struct Gatherer {
    pub priority: i64,
    pub timeout: Duration,
}

impl FactProvider for Gatherer {
    fn name(&self) -> &str {
        "builtin"
    }
    fn priority(&self) -> i64 {
        self.priority
    }
    fn keys(&self) -> Vec<String> {
        KEYS.iter().map(|k| k.to_string()).collect()
    }
    fn collect<'a>(
        &'a self,
        engine: &'a Engine,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<FactMap, String>> {
        Box::pin(async move {
            // Through `sh`, whatever the login shell of the remote user is.
            let command = format!("sh -c {}", super::command::shell_quote(SCRIPT));
            let out = engine
                .capture(node, &command, self.timeout)
                .await
                .map_err(|e| format!("{}: {}", e.category, e.reason))?;
            if out.exit.code != Some(0) {
                return Err(super::command::failed_exit(&out));
            }
            Ok(parse(&String::from_utf8_lossy(&out.stdout)))
        })
    }
}

/// Turns the script's output into facts.
pub fn parse(text: &str) -> FactMap {
    let mut facts = FactMap::new();
    let mut release = std::collections::BTreeMap::new();
    let mut ips = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        if let Some(k) = key.strip_prefix("os_release.") {
            release.insert(k.to_string(), unquote(value));
            continue;
        }
        match key {
            "hostname" | "fqdn" | "kernel" | "arch" | "package_manager" if !value.is_empty() => {
                facts.insert(key.into(), Value::from(value));
            }
            "cpu_count" | "uptime_seconds" | "package_count" => {
                if let Ok(n) = value.parse::<u64>() {
                    facts.insert(key.into(), Value::from(n));
                }
            }
            "memory_kb" => {
                if let Ok(kb) = value.parse::<u64>() {
                    facts.insert("memory_mb".into(), Value::from(kb / 1024));
                }
            }
            "ip" if !value.is_empty() => ips.push(Value::from(value)),
            _ => {}
        }
    }
    facts.insert("ip_addresses".into(), Value::Array(ips));
    let field = |k: &str| release.get(k).cloned().filter(|v| !v.is_empty());
    if let Some(id) = field("ID") {
        let like = field("ID_LIKE").unwrap_or_default();
        facts.insert("os_family".into(), Value::from(os_family(&id, &like)));
        facts.insert("os_id".into(), Value::from(id));
    }
    for (fact, key) in [
        ("os_name", "NAME"),
        ("os_version", "VERSION_ID"),
        ("os_pretty_name", "PRETTY_NAME"),
    ] {
        if let Some(v) = field(key) {
            facts.insert(fact.into(), Value::from(v));
        }
    }
    facts
}

/// os-release values may be quoted with `"` or `'`.
fn unquote(v: &str) -> String {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].replace("\\\"", "\"");
        }
    }
    v.to_string()
}

/// The family as Ansible names it, from `ID` and then `ID_LIKE`.
pub fn os_family(id: &str, like: &str) -> String {
    let family = |word: &str| match word {
        "debian" | "ubuntu" | "linuxmint" | "raspbian" | "pop" | "kali" => Some("Debian"),
        "rhel" | "fedora" | "centos" | "rocky" | "almalinux" | "ol" | "amzn" => Some("RedHat"),
        "alpine" => Some("Alpine"),
        "arch" | "manjaro" => Some("Archlinux"),
        "suse" | "opensuse" | "sles" | "opensuse-leap" | "opensuse-tumbleweed" => Some("Suse"),
        "gentoo" => Some("Gentoo"),
        _ => None,
    };
    std::iter::once(id)
        .chain(like.split_whitespace())
        .find_map(family)
        .map(String::from)
        .unwrap_or_else(|| {
            let mut c = id.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        })
}
