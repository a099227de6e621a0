//! Shell-style globs as Ansible reads them (Python's `fnmatch.translate`):
//! `*` any run, `?` one character, `[seq]` and `[!seq]` a class, all else
//! literal; the whole name must match, case counts.

/// The glob as an anchored regular expression for the `regex` crate.
pub(super) fn translate(glob: &str) -> String {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = String::from("^(?s:");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => {
                // A run of stars is one star.
                while chars.get(i) == Some(&'*') {
                    i += 1;
                }
                out.push_str(".*");
            }
            '?' => out.push('.'),
            '[' => match class_end(&chars, i) {
                Some(end) => {
                    out.push_str(&class(&chars[i..end]));
                    i = end + 1;
                }
                None => out.push_str(r"\["),
            },
            c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    out.push_str(")$");
    out
}

/// Index of the `]` closing a class whose body starts at `start`: a `]`
/// right after `[` or `[!` is a member, not the end. `None`: `[` is literal.
fn class_end(chars: &[char], start: usize) -> Option<usize> {
    let mut j = start;
    if chars.get(j) == Some(&'!') {
        j += 1;
    }
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    (j..chars.len()).find(|&k| chars[k] == ']')
}

/// The class body (between `[` and `]`) as a regex class. A `-` between two
/// characters makes a range; after a range the next `-` is a member. An
/// empty range (`z-a`) drops both ends, as Python does; a class left empty
/// matches nothing.
fn class(body: &[char]) -> String {
    let (negated, body) = match body.split_first() {
        Some(('!', rest)) => (true, rest),
        _ => (false, body),
    };
    let chunks = merge_empty_ranges(chunks(body));
    if chunks.iter().all(Vec::is_empty) {
        // `[!]`-like bodies that lost every member: Python's `.` for a
        // negated class, a class that never matches otherwise.
        return if negated {
            ".".into()
        } else {
            "[^\\x{0}-\\x{10FFFF}]".into()
        };
    }
    let mut out = String::from(if negated { "[^" } else { "[" });
    let last = chunks.len() - 1;
    for (k, chunk) in chunks.iter().enumerate() {
        if chunk.is_empty() {
            // Only the first chunk can empty: its joining `-` is a member.
            out.push_str(&hex('-'));
            continue;
        }
        // A chunk's first character ends the range from the previous chunk,
        // its last starts the range to the next; the rest are members.
        let from = usize::from(k > 0 && !chunks[k - 1].is_empty());
        let to = if k < last {
            chunk.len() - 1
        } else {
            chunk.len()
        };
        for &c in chunk.get(from..to).unwrap_or(&[]) {
            out.push_str(&hex(c));
        }
        if k < last {
            let (a, b) = (chunk[chunk.len() - 1], chunks[k + 1][0]);
            if a <= b {
                out.push_str(&format!("{}-{}", hex(a), hex(b)));
            }
        }
    }
    out.push(']');
    out
}

/// Splits the body at range hyphens: the first may follow the first
/// character, a later one only the second character of its chunk (so the
/// `-` right after a range's end is a member). A trailing `-` is a member.
fn chunks(body: &[char]) -> Vec<Vec<char>> {
    let mut chunks: Vec<Vec<char>> = Vec::new();
    let mut start = 0;
    let mut from = 1;
    loop {
        let found = (from..body.len()).find(|&k| body[k] == '-');
        let Some(k) = found else { break };
        chunks.push(body[start..k].to_vec());
        start = k + 1;
        from = k + 3;
    }
    let rest = body[start.min(body.len())..].to_vec();
    match chunks.last_mut() {
        Some(last) if rest.is_empty() => last.push('-'),
        _ => chunks.push(rest),
    }
    chunks
}

/// Removes empty ranges (`z-a`) with both their ends, right to left.
fn merge_empty_ranges(mut chunks: Vec<Vec<char>>) -> Vec<Vec<char>> {
    for k in (1..chunks.len()).rev() {
        let (Some(&a), Some(&b)) = (chunks[k - 1].last(), chunks[k].first()) else {
            continue;
        };
        if a > b {
            let tail = chunks.remove(k);
            chunks[k - 1].pop();
            chunks[k - 1].extend_from_slice(&tail[1..]);
        }
    }
    chunks
}

fn hex(c: char) -> String {
    format!("\\x{{{:X}}}", c as u32)
}

#[cfg(test)]
mod tests {
    use super::translate;

    fn matches(glob: &str, name: &str) -> bool {
        regex::Regex::new(&translate(glob))
            .unwrap_or_else(|e| panic!("{glob:?}: {e}"))
            .is_match(name)
    }

    #[test]
    fn globs_as_fnmatch() {
        assert!(matches("web*", "web01"));
        assert!(!matches("web*", "aweb"));
        assert!(matches("db-[a-c]", "db-b"));
        assert!(!matches("db-[!a-c]", "db-b"));
        assert!(matches("host[AB]", "hostB"));
        assert!(matches("h[]]", "h]"));
        assert!(matches("h[!]]", "hx"));
        assert!(matches("h[", "h["));
        assert!(matches("x[a-c-e]", "x-"));
        assert!(!matches("x[a-c-e]", "xd"));
        assert!(!matches("x[z-a]", "xz"));
        assert!(matches("x[!z-a]", "xq"));
        assert!(matches("a.b", "a.b"));
        assert!(!matches("a.b", "axb"));
        assert!(matches("x[a-]", "x-"));
    }
}
