//! Name matching for target expressions: shell globs and regexes, both on node
//! and group names.
//!
//! `~regex` targets use the `regex` crate, whose matching time is linear in the
//! name whatever the pattern, so no target expression can hang the engine. Like
//! Ansible's `re.match`, a regex is anchored at the start of the name only:
//! `~db` matches `db01`, `~db$` matches only `db`. Backreferences and
//! lookaround are refused with an error, never a silent mismatch.

/// `*` any run of characters, `?` any one character; everything else is
/// literal (brackets are node sets in target expressions, not glob classes).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    wildmatch::WildMatch::new(pattern).matches(name)
}

/// Largest compiled regex; `(a{1000}){1000}` must fail, not allocate.
const MAX_PROGRAM_BYTES: usize = 1 << 20;

/// A `~regex` target, matched like Python's `re.match`: anchored at the start of
/// the name only.
#[derive(Debug, Clone)]
pub struct Regex(regex::Regex);

impl Regex {
    /// Compiles `pattern`, or says what is unsupported or malformed.
    pub fn new(pattern: &str) -> Result<Regex, String> {
        let build = |source: &str| {
            regex::RegexBuilder::new(source)
                .size_limit(MAX_PROGRAM_BYTES)
                .build()
                .map_err(|e| match e {
                    regex::Error::Syntax(text) => text.lines().last().unwrap_or(&text).to_string(),
                    other => other.to_string(),
                })
        };
        // Checked alone first, so that `x)|(y` cannot close the anchoring group.
        build(pattern)?;
        build(&format!("^(?:{pattern})")).map(Regex)
    }

    /// Does the regex match a prefix of `name` (Python's `re.match`)?
    pub fn is_match(&self, name: &str) -> bool {
        self.0.is_match(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(re: &str, name: &str) -> bool {
        Regex::new(re)
            .unwrap_or_else(|e| panic!("{re}: {e}"))
            .is_match(name)
    }

    #[test]
    fn regex_subset() {
        assert!(m(r"^db\d+", "db01"));
        assert!(m(r"db\d+", "db01x"), "anchored at start only");
        assert!(!m(r"db\d+$", "db01x"));
        assert!(!m(r"db", "xdb"));
        assert!(m(r"(web|db)0[1-3]$", "db02"));
        assert!(!m(r"(web|db)0[1-3]$", "db04"));
        assert!(m(r"[^a-c]x", "dx"));
        assert!(m(r"a{2,3}b", "aab"));
        assert!(!m(r"a{2,3}b", "ab"));
        assert!(m(r"(a*)*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab"));
        assert!(!m(r"(a*)*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        assert!(m(r"w\.x", "w.x"));
        assert!(!m(r"w\.x", "wyx"));
        assert!(m(r"", "anything"));
        for bad in ["(a", "a)", "*a", r"\1", "(?=a)", "[z-a]", "a{3,1}", "[abc"] {
            assert!(Regex::new(bad).is_err(), "{bad}");
        }
        // A closing parenthesis cannot escape the start anchor.
        assert!(Regex::new(r"x)|(db").is_err());
        assert!(Regex::new("(a{1000}){1000}").is_err());
    }

    #[test]
    fn globs() {
        assert!(glob_match("web*", "web01"));
        assert!(glob_match("*", ""));
        assert!(glob_match("w?b*1", "web-01"));
        assert!(!glob_match("web?", "web"));
        assert!(glob_match("*.example.com", "a.example.com"));
        assert!(!glob_match("db*", "web01"));
    }
}
