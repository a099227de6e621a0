//! One known_hosts line: `[@marker] hosts keytype base64 [comment]`, fields
//! separated by spaces or tabs, `#` comments and blank lines ignored.

use super::Marker;
use super::hashed::HashedHost;
use crate::engine::transport::ssh::pattern::{match_list, split_list};
use russh::keys::PublicKey;

/// The host list of a line.
#[derive(Debug, Clone)]
pub(super) enum HostField {
    /// Comma-separated patterns (`*`, `?`, `!negation`, `[host]:port`).
    Patterns(Vec<String>),
    /// `|1|salt|hash`: a hashed field stands alone, it is never part of a list.
    Hashed(HashedHost),
}

impl HostField {
    /// `name` is `host` or `[host]:port`, already lowercased.
    pub(super) fn matches(&self, name: &str) -> bool {
        match self {
            HostField::Patterns(patterns) => {
                match_list(name, patterns.iter().map(String::as_str), true).is_match()
            }
            HostField::Hashed(hashed) => hashed.matches(name),
        }
    }

    /// The only names this field can apply to, lowercased, when every positive
    /// pattern is a plain name (no `*` or `?`): most lines, which a lookup can then
    /// find by name instead of matching every line. `None` for wildcards and
    /// hashed fields, which must be tried on every lookup.
    pub(super) fn literal_names(&self) -> Option<Vec<String>> {
        let HostField::Patterns(patterns) = self else {
            return None;
        };
        let positive = patterns.iter().filter(|p| !p.starts_with('!'));
        let mut names = Vec::new();
        for p in positive {
            if p.contains(['*', '?']) {
                return None;
            }
            names.push(p.to_lowercase());
        }
        Some(names)
    }
}

#[derive(Debug)]
pub(super) struct ParsedLine {
    pub marker: Option<Marker>,
    pub hosts: HostField,
    pub key: PublicKey,
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Splits off the next blank-separated field; `None` at the end of the line.
fn next_field(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(is_blank);
    if s.is_empty() {
        return None;
    }
    let end = s.find(is_blank).unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

/// `Ok(None)` for blank and comment lines, `Err(why)` for a line that cannot be used.
pub(super) fn parse_line(line: &str) -> Result<Option<ParsedLine>, String> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let Some((mut first, mut rest)) = next_field(line) else {
        return Ok(None);
    };
    if first.starts_with('#') {
        return Ok(None);
    }

    let mut marker = None;
    while let Some(name) = first.strip_prefix('@') {
        if marker.is_some() {
            return Err("more than one marker".into());
        }
        marker = Some(match name {
            "cert-authority" => Marker::CertAuthority,
            "revoked" => Marker::Revoked,
            _ => return Err(format!("unknown marker {first:?}")),
        });
        (first, rest) = next_field(rest).ok_or("marker without a host list")?;
    }

    let hosts = if first.starts_with('|') {
        HostField::Hashed(HashedHost::parse(first)?)
    } else {
        let patterns: Vec<String> = split_list(first).map(str::to_lowercase).collect();
        if patterns.is_empty() {
            return Err("empty host list".into());
        }
        HostField::Patterns(patterns)
    };

    let (key_type, rest) = next_field(rest).ok_or("no key after the host list")?;
    if key_type.starts_with('#') {
        return Err("no key after the host list".into());
    }
    let (data, rest) =
        next_field(rest).ok_or_else(|| format!("{key_type} key without key data"))?;
    let comment = rest.trim_matches(is_blank);
    let text = if comment.is_empty() {
        format!("{key_type} {data}")
    } else {
        format!("{key_type} {data} {comment}")
    };
    let key =
        PublicKey::from_openssh(&text).map_err(|e| format!("unreadable {key_type} key: {e}"))?;
    Ok(Some(ParsedLine { marker, hosts, key }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti";

    #[test]
    fn blank_and_comment_lines_are_nothing() {
        for line in ["", "   ", "\t", "# a comment", "   # indented", "\r"] {
            assert!(
                parse_line(line).expect("not an error").is_none(),
                "{line:?}"
            );
        }
    }

    #[test]
    fn fields_split_on_spaces_and_tabs() {
        let p = parse_line(&format!(
            "@revoked\t a.example,B.example  {ED} \tme@there\r"
        ))
        .expect("parses")
        .expect("is an entry");
        assert_eq!(p.marker, Some(Marker::Revoked));
        assert!(p.hosts.matches("b.example"));
        assert!(!p.hosts.matches("c.example"));
        assert_eq!(p.key.comment().as_str_lossy(), "me@there");
    }

    #[test]
    fn bad_lines_say_why() {
        let cases = [
            "host".to_string(),
            "host # comment".to_string(),
            "host ssh-ed25519".to_string(),
            "host ssh-ed25519 !!!!".to_string(),
            format!("@bogus host {ED}"),
            format!("@revoked @revoked host {ED}"),
            "@revoked".to_string(),
            format!(", {ED}"),
            format!("|1|x|y {ED}"),
            "host 1024 35 12345678901234567890".to_string(),
            format!("host ssh-rsa {}", &ED["ssh-ed25519 ".len()..]),
        ];
        for line in cases {
            assert!(parse_line(&line).is_err(), "{line:?} should be rejected");
        }
    }
}
