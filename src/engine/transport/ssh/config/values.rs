//! Value syntaxes as OpenSSH checks them: flags, multi-state words, integers,
//! ports and times.
//!
//! Times follow OpenSSH's `convtime`, not drover's own `parse_duration`: ssh
//! rejects `500ms` and `1.5s`, caps the total at `INT_MAX` seconds, and (through
//! `strtol`) tolerates a sign before each number.

use super::StrictHostKeyChecking;

/// `yes`/`true`/`no`/`false`, any case.
pub(super) fn flag(arg: &str) -> Option<bool> {
    match arg.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

pub(super) fn strict_host_key_checking(arg: &str) -> Option<StrictHostKeyChecking> {
    match arg.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(StrictHostKeyChecking::Yes),
        "no" | "false" | "off" => Some(StrictHostKeyChecking::No),
        "ask" => Some(StrictHostKeyChecking::Ask),
        "accept-new" => Some(StrictHostKeyChecking::AcceptNew),
        _ => None,
    }
}

/// `CanonicalizeHostname`: whether canonicalisation is on (`yes`, `always`).
pub(super) fn canonicalize(arg: &str) -> Option<bool> {
    match arg.to_ascii_lowercase().as_str() {
        "yes" | "true" | "always" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

/// `strtol`'s view of a leading number: optional whitespace, sign and digits.
/// Returns the value (saturated) and the rest, or `None` without digits.
fn strtol_prefix(s: &str) -> Option<(i128, &str)> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, t) = match t.as_bytes().first() {
        Some(b'+') => (false, &t[1..]),
        Some(b'-') => (true, &t[1..]),
        _ => (false, t),
    };
    let n = t.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let mut v: i128 = 0;
    for b in t[..n].bytes() {
        v = (v * 10 + i128::from(b - b'0')).min(i128::from(u64::MAX));
    }
    Some((if negative { -v } else { v }, &t[n..]))
}

/// OpenBSD's `strtonum`: the whole string a number in `min..=max`, or why not
/// (`"invalid"`, `"too small"`, `"too large"`).
pub(super) fn strtonum(s: &str, min: i64, max: i64) -> Result<i64, &'static str> {
    match strtol_prefix(s) {
        Some((v, "")) if v < i128::from(min) => Err("too small"),
        Some((v, "")) if v > i128::from(max) => Err("too large"),
        Some((v, "")) => i64::try_from(v).map_err(|_| "invalid"),
        _ => Err("invalid"),
    }
}

/// A port as `a2port`: a number 1..=65535 or a TCP service name from
/// `/etc/services`. Port 0 is refused, as everywhere ssh reads a port.
pub(super) fn port(s: &str) -> Option<u16> {
    let p = match strtonum(s, 0, 65535) {
        Ok(p) => u16::try_from(p).ok()?,
        Err(_) => service_port(s)?,
    };
    (p > 0).then_some(p)
}

fn service_port(name: &str) -> Option<u16> {
    if name.is_empty() {
        return None;
    }
    let text = std::fs::read_to_string("/etc/services").ok()?;
    text.lines().find_map(|line| {
        let mut words = line.split('#').next()?.split_whitespace();
        let official = words.next()?;
        let (port, proto) = words.next()?.split_once('/')?;
        let named = official == name || words.any(|alias| alias == name);
        (named && proto == "tcp")
            .then(|| port.parse().ok())
            .flatten()
    })
}

/// OpenSSH's `convtime`: numbers each followed by an optional unit `s`, `m`,
/// `h`, `d`, `w` (any case), added up, in seconds; at most `INT_MAX`.
pub(super) fn convtime(s: &str) -> Option<u64> {
    const INT_MAX: i128 = i32::MAX as i128;
    if s.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let (secs, after) = strtol_prefix(rest)?;
        if secs < 0 {
            return None;
        }
        let mut chars = after.chars();
        let multiplier = match chars.next() {
            None => 1,
            Some('s' | 'S') => 1,
            Some('m' | 'M') => 60,
            Some('h' | 'H') => 3600,
            Some('d' | 'D') => 86_400,
            Some('w' | 'W') => 604_800,
            Some(_) => return None,
        };
        if secs > INT_MAX / multiplier {
            return None;
        }
        total += secs * multiplier;
        if total > INT_MAX {
            return None;
        }
        rest = chars.as_str();
    }
    u64::try_from(total).ok()
}

/// A valid environment variable name (letters, digits, `_`).
pub(super) fn valid_env_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_as_openssh() {
        assert_eq!(convtime("90"), Some(90));
        assert_eq!(convtime("1m30s"), Some(90));
        assert_eq!(convtime("1m30"), Some(90));
        assert_eq!(
            convtime("1H1M1S1d1w"),
            Some(3600 + 60 + 1 + 86_400 + 604_800)
        );
        assert_eq!(convtime("+5"), Some(5));
        assert_eq!(convtime("2147483647"), Some(2_147_483_647));
        for bad in [
            "",
            "5ms",
            "1.5",
            "-1",
            "x",
            "5x",
            "2147483648",
            "99999999999999999999999w",
        ] {
            assert_eq!(convtime(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn numbers_and_ports() {
        assert_eq!(strtonum("+4", 0, 10), Ok(4));
        assert_eq!(strtonum("-1", 0, 10), Err("too small"));
        assert_eq!(strtonum("11", 0, 10), Err("too large"));
        assert_eq!(strtonum("1x", 0, 10), Err("invalid"));
        assert_eq!(port("22"), Some(22));
        assert_eq!(port("0"), None);
        assert_eq!(port("65536"), None);
        assert_eq!(port("065535"), Some(65535));
    }
}
