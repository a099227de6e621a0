//! `ProxyJump` values: `none`, or comma-separated hops, each `[user@]host[:port]`
//! (IPv6 in brackets) or `ssh://[user@]host[:port]`.
//!
//! As ssh 9.2 (Debian 12) reads them: the value is the raw rest of the line, cut
//! at the first blank or `#`; `none` (any case) is recognised only as the whole
//! rest. Every hop must parse; ssh itself parses only the last hop and passes
//! the others verbatim to the next ssh, which is what `ssh -G` prints.

use super::values;
use super::{JumpHost, SshConfigError};

/// A parsed `ProxyJump` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum JumpValue {
    None,
    Hops {
        hops: Vec<JumpHost>,
        /// The spelling of `ssh -G`.
        shown: String,
    },
}

/// Parses the value (the rest of the line after `[ \t=]*`); `None` if invalid.
pub(super) fn parse_proxy_jump(value: &str) -> Option<JumpValue> {
    if value.eq_ignore_ascii_case("none") {
        return Some(JumpValue::None);
    }
    let cut = value.find([' ', '\t', '#']).unwrap_or(value.len());
    let orig = value[..cut].trim_end_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
    let hops = orig.split(',').map(parse_hop).collect::<Option<Vec<_>>>()?;
    let last = hops.last()?;
    let numeric =
        last.host.contains(':') || last.host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let mut shown = String::new();
    if let Some((extra, _)) = orig.rsplit_once(',') {
        shown.push_str(extra);
        shown.push(',');
    }
    if let Some(u) = &last.user {
        shown.push_str(u);
        shown.push('@');
    }
    if numeric {
        shown.push_str(&format!("[{}]", last.host));
    } else {
        shown.push_str(&last.host);
    }
    if let Some(p) = last.port {
        shown.push_str(&format!(":{p}"));
    }
    Some(JumpValue::Hops { hops, shown })
}

/// ssh's loop check, made before any token in the other values is expanded: the
/// last hop (the one ssh itself jumps through) must not be the destination:
/// same host name (as resolved, compared exactly), port (22 for a hop naming
/// none) and user (the destination's for a hop naming none).
pub(super) fn check_loop(
    jump: Option<&JumpValue>,
    original: &str,
    hostname: &str,
    user: &str,
    port: u16,
) -> Result<(), SshConfigError> {
    let Some(JumpValue::Hops { hops, shown }) = jump else {
        return Ok(());
    };
    let Some(last) = hops.last() else {
        return Ok(());
    };
    let hop_port = last.port.unwrap_or(22);
    let hop_user = last.user.as_deref().unwrap_or(user);
    if last.host == hostname && hop_port == port && hop_user == user {
        return Err(SshConfigError::JumpLoop {
            host: original.to_owned(),
            via: last.host.clone(),
            shown: shown.clone(),
            user: user.to_owned(),
            port,
        });
    }
    Ok(())
}

fn parse_hop(s: &str) -> Option<JumpHost> {
    match s.strip_prefix("ssh://") {
        Some(rest) => parse_uri(rest),
        None => parse_user_host_port(s),
    }
}

/// `host`, `[host]` or either followed by `:` or `/` and more: the host and
/// the delimiter with what follows. `None` if a bracket is unclosed or followed
/// by anything else.
fn hpdelim(s: &str) -> Option<(&str, Option<(char, &str)>)> {
    let end = if s.starts_with('[') {
        s.find(']')? + 1
    } else {
        s.find([':', '/']).unwrap_or(s.len())
    };
    match s[end..].chars().next() {
        None => Some((s, None)),
        Some(c @ (':' | '/')) => Some((&s[..end], Some((c, &s[end + 1..])))),
        Some(_) => None,
    }
}

fn clean_host(h: &str) -> &str {
    if h.len() >= 2 && h.starts_with('[') && h.ends_with(']') {
        &h[1..h.len() - 1]
    } else {
        h
    }
}

fn parse_user_host_port(s: &str) -> Option<JumpHost> {
    let (user, rest) = match s.rsplit_once('@') {
        Some(("", _)) => return None,
        Some((u, r)) => (Some(u.to_owned()), r),
        None => (None, s),
    };
    let (host, tail) = hpdelim(rest)?;
    if host.is_empty() || matches!(tail, Some(('/', _))) {
        return None;
    }
    let port = match tail {
        Some((_, p)) if !p.is_empty() => Some(values::port(p)?),
        _ => None,
    };
    Some(JumpHost {
        user,
        host: clean_host(host).to_owned(),
        port,
    })
}

/// `[user[;params]@]host[:port][/]` after `ssh://`; a path is not allowed.
pub(super) fn parse_uri(s: &str) -> Option<JumpHost> {
    let (user, rest) = match s.split_once('@') {
        Some((u, r)) => {
            let u = u.split(';').next().unwrap_or_default();
            if u.is_empty() {
                return None;
            }
            (Some(urldecode(u)?), r)
        }
        None => (None, s),
    };
    let (host, mut tail) = hpdelim(rest)?;
    if host.is_empty() {
        return None;
    }
    let host = valid_domain(clean_host(host))?;
    let mut port = None;
    if let Some((':', t)) = tail
        && !t.is_empty()
    {
        let (p, after) = match t.split_once('/') {
            Some((p, a)) => (p, Some(('/', a))),
            None => (t, None),
        };
        port = Some(values::port(p)?);
        tail = after;
    }
    if let Some((_, path)) = tail
        && !path.is_empty()
    {
        return None;
    }
    Some(JumpHost { user, host, port })
}

/// `%XX` and `+` decoding; `None` for a bad escape.
fn urldecode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(
                    u8::from_str_radix(hex, 16)
                        .ok()
                        .filter(|_| hex.bytes().all(|c| c.is_ascii_hexdigit()))?,
                );
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// OpenSSH's `valid_domain` (letters, digits, `-`, `_`, single dots; starting
/// with a letter or digit), with one trailing dot removed.
fn valid_domain(h: &str) -> Option<String> {
    let ok_start = h.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    let ok_chars = h
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !ok_start || !ok_chars || h.contains("..") {
        return None;
    }
    Some(h.strip_suffix('.').unwrap_or(h).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(v: &str) -> Option<String> {
        match parse_proxy_jump(v)? {
            JumpValue::Hops { shown, .. } => Some(shown),
            JumpValue::None => Some("<none>".into()),
        }
    }

    #[test]
    fn as_ssh_g_prints() {
        let cases = [
            ("ssh://u@h:2022", "u@h:2022"),
            ("10.0.0.1", "[10.0.0.1]"),
            ("u@10.0.0.1:23", "u@[10.0.0.1]:23"),
            ("NONE", "<none>"),
            ("none # x", "none"),
            ("x y", "x"),
            ("a,b c", "a,b"),
            ("a#b", "a"),
            ("ssh://u;x=y@h", "u@h"),
            ("ssh://%41@h", "A@h"),
            ("ssh://h.", "h"),
            ("ssh://h/", "h"),
            ("h.", "h."),
            ("u@[1:2::3]:5", "u@[1:2::3]:5"),
            ("[h]", "h"),
            ("h:+22", "h:22"),
            ("u@v@h", "u@v@h"),
            ("u@j1:2200,ssh://v@j2:33,j3", "u@j1:2200,ssh://v@j2:33,j3"),
        ];
        for (input, want) in cases {
            assert_eq!(shown(input).as_deref(), Some(want), "{input:?}");
        }
        for bad in [
            "a,",
            "a, b",
            "u@",
            "@h",
            "h:0",
            "h:65536",
            "ssh://-h",
            "h/",
            "[h]x",
            "ssh://u@h:22/p",
            "ssh://u@[::1]:23",
        ] {
            assert_eq!(parse_proxy_jump(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hops_in_order() {
        let Some(JumpValue::Hops { hops, .. }) = parse_proxy_jump("u@a:1,ssh://b,c") else {
            panic!("not parsed");
        };
        let names: Vec<_> = hops
            .iter()
            .map(|h| (h.user.as_deref(), h.host.as_str(), h.port))
            .collect();
        assert_eq!(
            names,
            [
                (Some("u"), "a", Some(1)),
                (None, "b", None),
                (None, "c", None)
            ]
        );
    }
}
