//! OpenSSH's host pattern language, shared by ssh_config (`Host`, `Match host`) and
//! known_hosts host lists: `*` matches any run of characters, `?` one character, and
//! in a comma (or space) separated list a pattern starting with `!` negates: if any
//! negated pattern matches, the whole list does not match, whatever else matches.

/// `*` and `?` wildcard match of a whole string (no classes, no escapes, as
/// OpenSSH's `match_pattern`); `wildmatch` never backtracks exponentially, even
/// on hostile patterns such as `*a*a*a*a*b`.
pub fn match_pattern(s: &str, pattern: &str) -> bool {
    // Most patterns are plain names: compare them without compiling a matcher
    // (one allocation per pattern and call, per node and per line).
    if !pattern.contains(['*', '?']) {
        return s == pattern;
    }
    wildmatch::WildMatch::new(pattern).matches(s)
}

/// How a string fares against a pattern list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListMatch {
    /// A positive pattern matched and no negated one did.
    Matched,
    /// A negated pattern matched: the list rejects the string outright.
    Negated,
    /// Nothing matched.
    NoMatch,
}

impl ListMatch {
    pub fn is_match(self) -> bool {
        self == ListMatch::Matched
    }
}

/// Matches `s` against patterns (already split); `fold_case` compares
/// case-insensitively (known_hosts and `Match host` do, `Host` does not).
pub fn match_list<'a>(
    s: &str,
    patterns: impl IntoIterator<Item = &'a str>,
    fold_case: bool,
) -> ListMatch {
    let s = if fold_case {
        s.to_lowercase()
    } else {
        s.to_string()
    };
    let mut result = ListMatch::NoMatch;
    for pat in patterns {
        let (negated, body) = match pat.strip_prefix('!') {
            Some(b) => (true, b),
            None => (false, pat),
        };
        let body = if fold_case {
            body.to_lowercase()
        } else {
            body.to_string()
        };
        if match_pattern(&s, &body) {
            if negated {
                return ListMatch::Negated;
            }
            result = ListMatch::Matched;
        }
    }
    result
}

/// Splits a comma-separated pattern list as OpenSSH does (empty items ignored).
pub fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(match_pattern("web01.example.com", "web*.example.com"));
        assert!(match_pattern("web1", "web?"));
        assert!(!match_pattern("web12", "web?"));
        assert!(match_pattern("", "*"));
        assert!(!match_pattern("abc", "a*d"));
        assert!(match_pattern(
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
            "*a*a*a*a*a*a*b"
        ));
        assert!(!match_pattern(
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "*a*a*a*a*a*a*b"
        ));
    }

    #[test]
    fn negation_wins_over_a_positive_match() {
        let list = ["*.example.com", "!bastion.example.com"];
        assert_eq!(
            match_list("web.example.com", list, false),
            ListMatch::Matched
        );
        assert_eq!(
            match_list("bastion.example.com", list, false),
            ListMatch::Negated
        );
        assert_eq!(match_list("other.org", list, false), ListMatch::NoMatch);
        let exact = ["web.example.com"];
        assert_eq!(
            match_list("WEB.example.com", exact, false),
            ListMatch::NoMatch
        );
        assert_eq!(
            match_list("WEB.example.com", exact, true),
            ListMatch::Matched
        );
    }
}
