//! What ssh does to the final host name, and which names and users it accepts
//! from the command line.
//!
//! Names are lowercased unless they are addresses; numeric addresses are
//! rewritten in canonical form (`7` is `0.0.0.7`, `0x7f.1` is `127.0.0.1`,
//! `0:0:0:0:0:0:1.2.3.4` is `::1.2.3.4`) as `getaddrinfo`/`getnameinfo` would,
//! unless only the letter case differs.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The host name ssh connects to, from `HostName` (expanded) or the typed name.
pub(super) fn finish_hostname(h: &str) -> String {
    let canonical = parse_inet_aton(h)
        .map(|a| a.to_string())
        .or_else(|| h.parse::<Ipv6Addr>().ok().map(format_ipv6));
    let fast_addr = h.contains(['%', ':']) || h.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    match canonical {
        Some(c) if !c.eq_ignore_ascii_case(h) => c,
        Some(_) => h.to_owned(),
        None if fast_addr => h.to_owned(),
        None => h.to_ascii_lowercase(),
    }
}

/// glibc's strict `inet_aton`: one to four numbers (decimal, `0` octal, `0x`
/// hex) separated by dots, the last filling the remaining bytes.
fn parse_inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let nums = parts
        .iter()
        .map(|p| aton_number(p))
        .collect::<Option<Vec<u64>>>()?;
    let (last, head) = nums.split_last()?;
    if head.iter().any(|n| *n > 0xff) {
        return None;
    }
    let shift = 8 * (4 - nums.len() as u32);
    if *last >= (1u64 << (shift + 8)) {
        return None;
    }
    let mut v: u64 = 0;
    for (i, n) in head.iter().enumerate() {
        v |= n << (24 - 8 * i as u32);
    }
    Some(Ipv4Addr::from(u32::try_from(v | last).ok()?))
}

fn aton_number(p: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        (h, 16)
    } else if p.len() > 1 && p.starts_with('0') {
        (&p[1..], 8)
    } else {
        (p, 10)
    };
    if digits.is_empty() && radix != 8 {
        return None;
    }
    if !digits.chars().all(|c| c.is_digit(radix)) || digits.trim_start_matches('0').len() > 12 {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(significant, radix)
        .ok()
        .filter(|n| *n <= 0xffff_ffff)
}

/// glibc's `inet_ntop` for IPv6: lowercase hex, the first longest run of two
/// or more zero groups as `::`, `::a.b.c.d` and `::ffff:a.b.c.d` tails.
fn format_ipv6(a: Ipv6Addr) -> String {
    let w = a.segments();
    let (mut best, mut cur): ((usize, usize), Option<(usize, usize)>) = ((0, 0), None);
    for (i, x) in w.iter().enumerate() {
        if *x == 0 {
            let c = cur.get_or_insert((i, 0));
            c.1 += 1;
            if c.1 > best.1 {
                best = *c;
            }
        } else {
            cur = None;
        }
    }
    let run = if best.1 >= 2 { Some(best) } else { None };
    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if let Some((base, len)) = run
            && i == base
        {
            out.push(':');
            i += len;
            if i == 8 {
                out.push(':');
            }
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        let v4_tail = run.is_some_and(|(b, l)| b == 0 && (l == 6 || (l == 5 && w[5] == 0xffff)));
        if i == 6 && v4_tail {
            let o = a.octets();
            out.push_str(&format!("{}.{}.{}.{}", o[12], o[13], o[14], o[15]));
            break;
        }
        out.push_str(&format!("{:x}", w[i]));
        i += 1;
    }
    out
}

/// ssh's check on a destination host name.
pub(super) fn valid_hostname(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s
            .chars()
            .any(|c| "'`\"$\\;&<>|(){},".contains(c) || c.is_whitespace() || c.is_control())
}

/// ssh's check on a user name given on the command line: no control or shell
/// quoting characters, no `-` at the start or after a blank, no `\` at the end.
pub(super) fn valid_user(s: &str) -> bool {
    let c: Vec<char> = s.chars().collect();
    let refused = |i: usize, ch: char| {
        let next = c.get(i + 1).copied();
        ch.is_control()
            || "'`\";&<>|(){}".contains(ch)
            || (ch.is_whitespace() && next == Some('-'))
            || (ch == '\\' && next.is_none())
    };
    !s.starts_with('-') && !c.iter().enumerate().any(|(i, ch)| refused(i, *ch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_ssh_g_prints() {
        let cases = [
            ("7", "0.0.0.7"),
            ("0x7f.1", "127.0.0.1"),
            ("0x.1", "0x.1"),
            ("010.1", "8.0.0.1"),
            ("1.2.3", "1.2.0.3"),
            ("08.1", "08.1"),
            ("1.2.3.4.5", "1.2.3.4.5"),
            ("::FFFF:1.2.3.4", "::FFFF:1.2.3.4"),
            ("0:0:0:0:0:0:1.2.3.4", "::1.2.3.4"),
            ("FE80::1%LO", "FE80::1%LO"),
            ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
            ("1:0:0:0:1:0:0:1", "1::1:0:0:1"),
            ("0x100000000", "0x100000000"),
            ("4294967295", "255.255.255.255"),
            ("1.16777215", "1.255.255.255"),
            ("1.16777216", "1.16777216"),
            ("1.2.65535", "1.2.255.255"),
            ("ABC", "abc"),
            ("1.2.3.A", "1.2.3.a"),
            ("::1", "::1"),
            ("::", "::"),
            ("0:0:0:0:0:0:0:2", "::2"),
            ("0:0:0:0:0:1:0:0", "::1:0:0"),
            ("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"),
        ];
        for (input, want) in cases {
            assert_eq!(finish_hostname(input), want, "{input:?}");
        }
    }

    #[test]
    fn command_line_checks() {
        assert!(valid_hostname("web-1.example.com"));
        for bad in ["", "-oProxyCommand=x", "a b", "a,b", "a;b", "$(x)"] {
            assert!(!valid_hostname(bad), "{bad:?}");
        }
        assert!(valid_user("deploy"));
        for bad in ["-x", "a;b", "a -b", "a\\"] {
            assert!(!valid_user(bad), "{bad:?}");
        }
    }
}
