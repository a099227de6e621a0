//! Name matching for target expressions: shell globs and a small regex
//! language, both on node and group names.
//!
//! The project may not add the `regex` crate, so `~regex` targets use this
//! subset, compiled to a Thompson NFA and run as a Pike VM: matching time is
//! linear in the name whatever the pattern, so no target expression can hang
//! the engine. Supported: literals, `.`, `*`, `+`, `?`, `{m}`, `{m,}`,
//! `{m,n}`, groups `(...)` and `(?:...)`, alternation `|`, classes
//! `[a-z0-9_]` and `[^...]`, escapes `\d \D \w \W \s \S` and `\` before any
//! punctuation, anchors `^` and `$`. Like Ansible's `re.match`, a regex is
//! anchored at the start of the name only: `~db` matches `db01`, `~db$`
//! matches only `db`. Not supported (an error, never a silent mismatch):
//! backreferences, lookaround, lazy quantifiers, named classes.

mod compile;

use compile::{Parser, compile};

/// `*` any run of characters, `?` any one character; everything else is
/// literal (brackets are node sets in target expressions, not glob classes).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Largest compiled program; `(a{100}){100}` must fail, not allocate.
const MAX_PROGRAM: usize = 4_096;

/// A compiled regex of the documented subset.
#[derive(Debug, Clone)]
pub struct Regex {
    program: Vec<Inst>,
}

#[derive(Debug, Clone)]
enum Inst {
    Char(char),
    Any,
    Class(Class),
    Split(usize, usize),
    Jmp(usize),
    Start,
    End,
    Match,
}

#[derive(Debug, Clone)]
struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl Class {
    fn matches(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

/// Parsed form, before compilation.
#[derive(Debug, Clone)]
enum Ast {
    Empty,
    Char(char),
    Any,
    Class(Class),
    Start,
    End,
    Concat(Vec<Ast>),
    Alt(Vec<Ast>),
    Repeat(Box<Ast>, u32, Option<u32>),
}

impl Regex {
    /// Compiles `pattern`, or says what is unsupported or malformed.
    pub fn new(pattern: &str) -> Result<Regex, String> {
        let mut parser = Parser {
            chars: pattern.chars().collect(),
            pos: 0,
        };
        let ast = parser.alternation(0)?;
        if parser.pos < parser.chars.len() {
            return Err("unbalanced ')'".into());
        }
        let mut program = Vec::new();
        compile(&ast, &mut program)?;
        program.push(Inst::Match);
        Ok(Regex { program })
    }

    /// Does the regex match a prefix of `name` (Python's `re.match`)?
    pub fn is_match(&self, name: &str) -> bool {
        let chars: Vec<char> = name.chars().collect();
        let mut current = Vec::new();
        let mut seen = vec![usize::MAX; self.program.len()];
        if self.add(&mut current, &mut seen, 0, 0, chars.len()) {
            return true;
        }
        for (pos, &c) in chars.iter().enumerate() {
            let mut next = Vec::new();
            for &pc in &current {
                let step = match &self.program[pc] {
                    Inst::Char(want) => *want == c,
                    Inst::Any => c != '\n',
                    Inst::Class(class) => class.matches(c),
                    _ => false,
                };
                if step && self.add(&mut next, &mut seen, pc + 1, pos + 1, chars.len()) {
                    return true;
                }
            }
            if next.is_empty() {
                return false;
            }
            current = next;
        }
        false
    }

    /// Follows empty transitions from `pc`; true when `Match` is reached.
    fn add(
        &self,
        list: &mut Vec<usize>,
        seen: &mut [usize],
        pc: usize,
        pos: usize,
        len: usize,
    ) -> bool {
        let mut stack = vec![pc];
        while let Some(pc) = stack.pop() {
            if seen[pc] == pos {
                continue;
            }
            seen[pc] = pos;
            match &self.program[pc] {
                Inst::Match => return true,
                Inst::Jmp(to) => stack.push(*to),
                Inst::Split(a, b) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Inst::Start if pos == 0 => stack.push(pc + 1),
                Inst::End if pos == len => stack.push(pc + 1),
                Inst::Start | Inst::End => {}
                _ => list.push(pc),
            }
        }
        false
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
        for bad in [
            "(a", "a)", "*a", r"\1", "(?=a)", "[z-a]", "a{3,1}", "a**", "[abc",
        ] {
            assert!(Regex::new(bad).is_err(), "{bad}");
        }
        assert!(Regex::new("(a{100}){100}").is_err());
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
