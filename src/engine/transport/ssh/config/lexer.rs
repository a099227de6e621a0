//! Splitting lines the way OpenSSH's readconf does.
//!
//! The keyword ends at whitespace, `=` or a double-quoted part (`Keyword value`,
//! `Keyword=value`, `Keyword = value`); the rest of the line is then split into
//! arguments with single and double quotes and `\` escapes, and an argument that
//! starts with `#` begins a comment. `Match` re-reads the rest with the keyword
//! splitter ([`strdelim`]); `ProxyCommand` and `ProxyJump` take it verbatim.

/// Whitespace as the config splitter sees it.
const WHITESPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// A line with a keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line<'a> {
    /// Lowercased.
    pub keyword: String,
    /// Everything after the keyword and its separator; never empty.
    pub rest: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Lexed<'a> {
    /// Blank, a comment, or unreadable as a keyword (ssh skips those too).
    Skip,
    Line(Line<'a>),
    /// A keyword with nothing after it.
    NoArgument(String),
}

fn skip_ws(s: &str) -> &str {
    s.trim_start_matches(WHITESPACE)
}

/// One token of a line, as OpenSSH's `strdelim`: up to whitespace, a double
/// quote or (with `split_equals`) `=`. A double quote glues the quoted text to
/// the token and ends it; one `=` with surrounding whitespace is one separator.
/// Returns the token and what follows (`None`: nothing, not even a separator),
/// or `None` for an unmatched quote.
pub(super) fn strdelim(s: &str, split_equals: bool) -> Option<(String, Option<&str>)> {
    let is_delim = |c: char| WHITESPACE.contains(&c) || c == '"' || (split_equals && c == '=');
    let Some(p) = s.find(is_delim) else {
        return Some((s.to_owned(), None));
    };
    if s[p..].starts_with('"') {
        let after = &s[p + 1..];
        let q = after.find('"')?;
        let token = format!("{}{}", &s[..p], &after[..q]);
        return Some((token, Some(skip_ws(&after[q + 1..]))));
    }
    let was_equals = split_equals && s[p..].starts_with('=');
    let mut rest = skip_ws(&s[p + 1..]);
    if split_equals && !was_equals && rest.starts_with('=') {
        rest = skip_ws(&rest[1..]);
    }
    Some((s[..p].to_owned(), Some(rest)))
}

/// Splits one line (without its newline) into keyword and rest.
pub(super) fn split_line(raw: &str) -> Lexed<'_> {
    // C strings end at NUL; trailing whitespace and form feeds go, but never
    // the first character.
    let raw = raw.split('\0').next().unwrap_or_default();
    let mut end = raw.len();
    while end > 1 && raw[..end].ends_with([' ', '\t', '\r', '\n', '\x0c']) {
        end -= 1;
    }
    let line = &raw[..end];
    if line.is_empty() {
        return Lexed::Skip;
    }
    let Some((mut keyword, mut rest)) = strdelim(line, true) else {
        return Lexed::Skip;
    };
    if keyword.is_empty() {
        let Some((k, r)) = rest.and_then(|r| strdelim(r, true)) else {
            return Lexed::Skip;
        };
        keyword = k;
        rest = r;
    }
    if keyword.is_empty() || keyword.starts_with(['\n', '#']) {
        return Lexed::Skip;
    }
    keyword.make_ascii_lowercase();
    match rest.map(skip_ws) {
        Some(rest) if !rest.is_empty() => Lexed::Line(Line { keyword, rest }),
        _ => Lexed::NoArgument(keyword),
    }
}

/// Splits arguments as OpenSSH's `argv_split` with comments on: whitespace
/// separates, `"` and `'` quote, `\` escapes a quote, a backslash or (outside
/// quotes) a space, and a `#` at the start of an argument ends the line.
/// `None` for an unterminated quote.
pub(super) fn argv_split(s: &str) -> Option<Vec<String>> {
    let c: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if c[i] == ' ' || c[i] == '\t' {
            i += 1;
            continue;
        }
        if c[i] == '#' {
            break;
        }
        let mut quote: Option<char> = None;
        let mut arg = String::new();
        while i < c.len() {
            let ch = c[i];
            let next = c.get(i + 1).copied();
            if ch == '\\' {
                if matches!(next, Some('\'' | '"' | '\\')) || (quote.is_none() && next == Some(' '))
                {
                    i += 1;
                    arg.push(c[i]);
                } else {
                    arg.push('\\');
                }
            } else if quote.is_none() && (ch == ' ' || ch == '\t') {
                break;
            } else if quote.is_none() && (ch == '"' || ch == '\'') {
                quote = Some(ch);
            } else if quote == Some(ch) {
                quote = None;
            } else {
                arg.push(ch);
            }
            i += 1;
        }
        out.push(arg);
        if i >= c.len() {
            if quote.is_some() {
                return None;
            }
            break;
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(raw: &str) -> (String, String) {
        match split_line(raw) {
            Lexed::Line(l) => (l.keyword, l.rest.to_owned()),
            other => panic!("{raw:?}: {other:?}"),
        }
    }

    #[test]
    fn keyword_separators() {
        for raw in [
            "Port 22",
            "Port=22",
            "Port = 22",
            "  port\t22  ",
            "PORT= 22\r",
        ] {
            assert_eq!(line(raw), ("port".into(), "22".into()), "{raw:?}");
        }
        assert_eq!(line("Port==22").1, "=22");
        assert_eq!(line("Ho\"st\"x a"), ("host".into(), "x a".into()));
        assert_eq!(split_line("# comment"), Lexed::Skip);
        assert_eq!(split_line("   "), Lexed::Skip);
        assert_eq!(split_line(""), Lexed::Skip);
        assert_eq!(split_line("Port"), Lexed::NoArgument("port".into()));
        assert_eq!(split_line("Port   "), Lexed::NoArgument("port".into()));
    }

    #[test]
    fn arguments() {
        let v = |s: &str| argv_split(s).unwrap_or_else(|| panic!("{s:?}"));
        assert_eq!(v("a b\t c"), ["a", "b", "c"]);
        assert_eq!(v("\"a b\" 'c d'"), ["a b", "c d"]);
        assert_eq!(v("a\\ b"), ["a b"]);
        assert_eq!(v("a # comment"), ["a"]);
        assert_eq!(v("a#b"), ["a#b"]);
        assert_eq!(v("\"\""), [""]);
        assert_eq!(v("x\\y"), ["x\\y"]);
        assert_eq!(argv_split("\"open"), None);
    }
}
