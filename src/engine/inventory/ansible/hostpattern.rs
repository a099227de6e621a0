//! Host patterns in inventory files: `web[01:20]`, `db-[a:f]`,
//! `w[1:10:4]`, `host:2222`, `[::1]:22`, as ansible-core's
//! `parse_address` and `expand_hostname_range` read them.
//!
//! Differences: a range that yields nothing (`web[5:1]`, a negative step) is
//! an error here, where Ansible silently defines no host; and a pattern that
//! expands to more than [`MAX_HOSTS`] hosts (`h[0:999999]x[0:999999]`) is
//! refused before it is built, where Ansible would try to hold them all.

/// The most hosts one pattern may define: the node-set limit of targets.
pub const MAX_HOSTS: usize = crate::engine::inventory::nodeset::MAX_EXPANSION;

/// Expands a host pattern into host names and the port it carries.
pub fn expand(pattern: &str) -> Result<(Vec<String>, Option<u64>), String> {
    let (host, port) = match split_port(pattern) {
        Some((host, port)) if is_address(host) => (host, Some(port)),
        None if is_address(pattern) => (pattern, None),
        // Not an address Ansible recognises: the whole text is the name.
        _ => (pattern, None),
    };
    let hosts = if host.contains('[') {
        let mut hosts = Vec::new();
        expand_ranges(host, &mut hosts)?;
        hosts
    } else {
        vec![host.to_string()]
    };
    Ok((hosts, port))
}

/// `[host]:port` or `host:port` where `host` has no `:` outside brackets.
fn split_port(pattern: &str) -> Option<(&str, u64)> {
    let (host, port) = pattern.rsplit_once(':')?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let port: u64 = port.parse().ok()?;
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'))
        && !inner.is_empty()
        && !inner.contains(']')
    {
        // Ansible then re-applies the host:port rule to the inside.
        return Some((split_port(inner).map_or(inner, |(h, _)| h), port));
    }
    let mut depth = 0;
    for c in host.chars() {
        match c {
            '[' if depth == 0 => depth = 1,
            ']' if depth == 1 => depth = 0,
            '[' | ']' => return None,
            ':' if depth == 0 => return None,
            _ => {}
        }
    }
    (depth == 0).then_some((host, port))
}

/// Roughly Ansible's hostname / IPv4 / IPv6 patterns (ranges allowed).
fn is_address(host: &str) -> bool {
    let mut depth = 0;
    let mut colon_outside = false;
    for c in host.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ':' if depth == 0 => colon_outside = true,
            _ => {}
        }
    }
    if colon_outside {
        // IPv6, possibly with [x:y] ranges: hex digits, ':' and '.'.
        return host
            .chars()
            .all(|c| c.is_ascii_hexdigit() || ":.[]".contains(c));
    }
    !host.is_empty() && host.split('.').all(is_label)
}

/// `[\w]` or a range first, then `[\w-]` or ranges, not ending in `-`/`_`.
fn is_label(label: &str) -> bool {
    let mut rest = label;
    let mut first = true;
    let mut last = ' ';
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            let Some(close) = rest.find(']') else {
                return false;
            };
            if !is_range(&rest[1..close]) {
                return false;
            }
            rest = &rest[close + 1..];
            last = ']';
        } else {
            let ok = c.is_alphanumeric() || c == '_' || (!first && c == '-');
            if !ok {
                return false;
            }
            rest = &rest[c.len_utf8()..];
            last = c;
        }
        first = false;
    }
    !first && last != '-' && last != '_'
}

/// `a:z` (one letter each) or `N:M`, with an optional numeric `:step`.
fn is_range(inner: &str) -> bool {
    let parts: Vec<&str> = inner.split(':').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let letter = |s: &str| s.len() == 1 && s.bytes().all(|b| b.is_ascii_alphabetic());
    let bounds = parts.len() >= 2
        && ((digits(parts[0]) && digits(parts[1])) || (letter(parts[0]) && letter(parts[1])));
    match parts.len() {
        2 => bounds,
        3 => bounds && digits(parts[2]),
        _ => false,
    }
}

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// ansible-core's `expand_hostname_range`: the first `[...]` is expanded,
/// then the results are expanded again while brackets remain.
/// Appends to `hosts`, refusing to grow it past [`MAX_HOSTS`].
fn expand_ranges(line: &str, hosts: &mut Vec<String>) -> Result<(), String> {
    let open = line.find('[').ok_or("missing '['")?;
    let close = line
        .find(']')
        .ok_or_else(|| format!("unclosed '[' in host pattern {line}"))?;
    if close < open || line.contains('|') {
        return Err(format!("malformed host range in {line}"));
    }
    let (head, range, tail) = (&line[..open], &line[open + 1..close], &line[close + 1..]);
    let bounds: Vec<&str> = range.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err(format!(
            "host range must be begin:end or begin:end:step, got [{range}]"
        ));
    }
    let beg = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    if end.is_empty() {
        return Err(format!("host range must specify end value, got [{range}]"));
    }
    let step = match bounds.get(2) {
        Some(s) => py_int(s).ok_or_else(|| format!("invalid step in [{range}]"))?,
        None => 1,
    };
    if step == 0 {
        return Err(format!("host range step must not be zero, got [{range}]"));
    }
    let width = if beg.starts_with('0') && beg.len() > 1 {
        if beg.len() != end.len() {
            return Err(format!(
                "host range must specify equal-length begin and end formats, got [{range}]"
            ));
        }
        beg.len()
    } else {
        0
    };
    let values: Vec<String> = match (LETTERS.find(beg), LETTERS.find(end)) {
        (Some(b), Some(e)) => {
            if b > e {
                return Err(format!("host range must have begin <= end, got [{range}]"));
            }
            let step = usize::try_from(step).map_err(|_| format!("empty host range [{range}]"))?;
            LETTERS[b..=e]
                .chars()
                .step_by(step)
                .map(String::from)
                .collect()
        }
        _ => {
            let bad = || format!("host range bounds must be numbers or letters, got [{range}]");
            let (b, e) = (py_int(beg).ok_or_else(bad)?, py_int(end).ok_or_else(bad)?);
            if (step > 0 && b > e) || (step < 0 && b <= e) || (e - b).abs() / step.abs() > 1_000_000
            {
                return Err(format!("host range [{range}] is empty or too large"));
            }
            let mut out = Vec::new();
            let mut v = b;
            while (step > 0 && v <= e) || (step < 0 && v > e + 1) {
                out.push(if v < 0 {
                    format!("-{:0>w$}", -v, w = width.saturating_sub(1))
                } else {
                    format!("{v:0>width$}")
                });
                v += step;
            }
            out
        }
    };
    for v in values {
        let name = format!("{head}{v}{tail}");
        if name.contains('[') {
            expand_ranges(&name, hosts)?;
        } else {
            if hosts.len() >= MAX_HOSTS {
                return Err(format!(
                    "host pattern expands to more than {MAX_HOSTS} hosts, the most one pattern may define"
                ));
            }
            hosts.push(name);
        }
    }
    Ok(())
}

/// Python's `int()` on a string: sign, surrounding spaces, `_` separators.
fn py_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    // Up to 30 digits: arithmetic on bounds cannot overflow an i128.
    if digits.is_empty()
        || digits.len() > 30
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    if !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    let v: i128 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &str) -> Vec<String> {
        expand(p).unwrap().0
    }

    #[test]
    fn ranges() {
        assert_eq!(names("web[01:03]"), ["web01", "web02", "web03"]);
        assert_eq!(names("db-[a:c]"), ["db-a", "db-b", "db-c"]);
        assert_eq!(names("w[1:10:4]"), ["w1", "w5", "w9"]);
        assert_eq!(names("w[:2]"), ["w0", "w1", "w2"]);
        assert_eq!(names("r[1:2]n[a:b]"), ["r1na", "r1nb", "r2na", "r2nb"]);
        assert_eq!(names("x[y:B]"), ["xy", "xz", "xA", "xB"]);
        assert!(expand("web[5:1]").is_err());
        assert!(expand("web[01:100]").is_err());
        assert!(expand("web[1:3:0]").is_err());
        assert!(expand("web[1]").is_err());
        assert!(expand("web[1:a]").is_err());
    }

    #[test]
    fn a_product_of_ranges_past_the_limit_is_refused_before_it_is_built() {
        let e = expand("h[0:999999]x[0:999999]").unwrap_err();
        assert!(e.contains("more than 1000000 hosts"), "{e}");
        assert_eq!(names("h[1:1000]x[1:1000]").len(), 1_000_000);
    }

    #[test]
    fn ports() {
        assert_eq!(
            expand("web:2222").unwrap(),
            (vec!["web".into()], Some(2222))
        );
        assert_eq!(expand("web[1:2]:22").unwrap().1, Some(22));
        assert_eq!(expand("[::1]:22").unwrap(), (vec!["::1".into()], Some(22)));
        assert_eq!(expand("fe80::1").unwrap(), (vec!["fe80::1".into()], None));
        assert_eq!(
            expand("10.0.0.1:22").unwrap(),
            (vec!["10.0.0.1".into()], Some(22))
        );
        // `bad_` is no hostname for Ansible, so the port stays in the name.
        assert_eq!(expand("bad_:22").unwrap(), (vec!["bad_:22".into()], None));
    }
}
