//! How Ansible cuts a pattern string into parts (`split_host_pattern`).
//!
//! With a comma anywhere, the parts are the comma-separated pieces and a
//! `:` inside a piece is part of it (`production,staging:&db` is the two
//! parts `production` and `staging:&db`). Without a comma, a string that
//! reads as one host address (a name with `[1:3]` ranges, an IPv4 or IPv6
//! address, any of them with a `:port`) is one part, so `web:22` and
//! `fe80::1` stay whole. Anything else splits at `:` and whitespace,
//! keeping `[...]` together. Parts are trimmed; empty ones vanish.

use regex::Regex;
use std::sync::LazyLock;

pub(super) fn split_host_pattern(pattern: &str) -> Vec<String> {
    let parts: Vec<&str> = if pattern.contains(',') {
        pattern.split(',').collect()
    } else if is_address(pattern) {
        vec![pattern]
    } else {
        colon_separated(pattern)
    };
    parts
        .into_iter()
        .map(|p| p.trim_matches(is_space))
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Python's `str.isspace` (also the file, group, record and unit separators).
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Runs of characters other than whitespace, `:`, `[` and `]`, where a
/// complete `[...]` counts as one character.
fn colon_separated(pattern: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut rest = pattern.char_indices();
    while let Some((i, c)) = rest.next() {
        let taken = match c {
            '[' => match pattern[i..].find(']') {
                Some(close) => {
                    // Skip to the `]`; the bracket joins the current run.
                    let end = i + close;
                    while rest.next().is_some_and(|(j, _)| j < end) {}
                    true
                }
                None => false,
            },
            ']' | ':' => false,
            c => !is_space(c),
        };
        match (taken, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                parts.push(&pattern[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        parts.push(&pattern[s..]);
    }
    parts
}

/// `[0-9]+:[0-9]+` or, for names, also `[a-z]:[a-z]`, with an optional
/// `:step`, between brackets (Ansible's host range syntax).
const NUMERIC_RANGE: &str = r"\[[0-9]+:[0-9]+(?::[0-9]+)?\]";
const HEX_RANGE: &str = r"\[[0-9a-f]+:[0-9a-f]+(?::[0-9]+)?\]";

static BRACKETED_HOSTPORT: LazyLock<Regex> = LazyLock::new(|| compile(r"^\[(.+)\]:[0-9]+$"));
static HOSTPORT: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^((?:[^:\[\]]|\[[^\]]*\])*):[0-9]+$"));
static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    let part = format!("(?:[01]?[0-9]{{1,2}}|2[0-4][0-9]|25[0-5]|{NUMERIC_RANGE})");
    compile(&format!(r"(?i)^(?:{part}\.){{3}}{part}$"))
});
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    let c = format!("(?:[0-9a-f]{{1,4}}|{HEX_RANGE})");
    let forms = [
        format!("(?:{c}:){{7}}{c}"),
        format!("(?:{c}:){{1,6}}:"),
        format!("(?:{c}:)(?::{c}){{1,6}}"),
        format!("(?:{c}:){{2}}(?::{c}){{1,5}}"),
        format!("(?:{c}:){{3}}(?::{c}){{1,4}}"),
        format!("(?:{c}:){{4}}(?::{c}){{1,3}}"),
        format!("(?:{c}:){{5}}(?::{c}){{1,2}}"),
        format!("(?:{c}:){{6}}(?::{c})"),
        format!(":(?::{c}){{1,6}}"),
        format!("{c}?::"),
        format!(r"(?:0:){{6}}(?:{c}\.){{3}}{c}"),
        format!(r"::(?:ffff:)?(?:{c}\.){{3}}{c}"),
        format!(r"(?:0:){{5}}ffff:(?:{c}\.){{3}}{c}"),
    ];
    compile(&format!("(?i)^(?:{})$", forms.join("|")))
});
static NAME_RANGE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?i)^\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]$"));

fn compile(re: &str) -> Regex {
    // The patterns are constants; a typo is caught by every test run.
    Regex::new(re).unwrap_or_else(|e| unreachable!("address pattern {re:?}: {e}"))
}

/// Whether Ansible's `parse_address(text, allow_ranges=True)` accepts it.
fn is_address(text: &str) -> bool {
    let mut host = text;
    if let Some(c) = BRACKETED_HOSTPORT.captures(host) {
        host = c.get(1).map_or("", |m| m.as_str());
    }
    if let Some(c) = HOSTPORT.captures(host) {
        host = c.get(1).map_or("", |m| m.as_str());
    }
    IPV4.is_match(host) || IPV6.is_match(host) || is_hostname(host)
}

/// Dot-separated labels, each of word characters, `-` and ranges, starting
/// with a word character or a range and not ending with `-` or `_`.
fn is_hostname(host: &str) -> bool {
    host.split('.').all(is_label)
}

fn is_label(label: &str) -> bool {
    let mut rest = label;
    let mut first = true;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            let Some(close) = rest.find(']') else {
                return false;
            };
            if !NAME_RANGE.is_match(&rest[..=close]) {
                return false;
            }
            rest = &rest[close + 1..];
        } else if c.is_alphanumeric() || c == '_' || (c == '-' && !first) {
            rest = &rest[c.len_utf8()..];
        } else {
            return false;
        }
        first = false;
    }
    !first && !label.ends_with(['-', '_'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(p: &str) -> Vec<String> {
        split_host_pattern(p)
    }

    #[test]
    fn commas_split_before_colons() {
        assert_eq!(
            split("production,staging:&db"),
            ["production", "staging:&db"]
        );
        assert_eq!(split(" a , b[1], c[2:3] , d"), ["a", "b[1]", "c[2:3]", "d"]);
    }

    #[test]
    fn addresses_stay_whole() {
        assert_eq!(split("web:22"), ["web:22"]);
        assert_eq!(split("web[1:3]"), ["web[1:3]"]);
        assert_eq!(split("fe80::1"), ["fe80::1"]);
        assert_eq!(split("10.0.0.1:22"), ["10.0.0.1:22"]);
        assert_eq!(split("[web]:22"), ["[web]:22"]);
    }

    #[test]
    fn colons_and_spaces_separate_otherwise() {
        assert_eq!(split("web*:&prod:!db01"), ["web*", "&prod", "!db01"]);
        assert_eq!(split("all:!web"), ["all", "!web"]);
        assert_eq!(split("a b"), ["a", "b"]);
        assert_eq!(split("web-:db"), ["web-", "db"]);
        assert_eq!(split("g[0:1]:!x"), ["g[0:1]", "!x"]);
        assert_eq!(split("web[1:"), ["web", "1"]);
    }
}
