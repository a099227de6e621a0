//! Parsing the regex subset into an AST and compiling it to NFA
//! instructions (see the parent module for the supported syntax).

use super::{Ast, Class, Inst, MAX_PROGRAM};

pub(super) struct Parser {
    pub(super) chars: Vec<char>,
    pub(super) pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    pub(super) fn alternation(&mut self, depth: usize) -> Result<Ast, String> {
        if depth > 50 {
            return Err("groups nested too deeply".into());
        }
        let mut alts = vec![self.concat(depth)?];
        while self.peek() == Some('|') {
            self.pos += 1;
            alts.push(self.concat(depth)?);
        }
        Ok(if alts.len() == 1 {
            alts.remove(0)
        } else {
            Ast::Alt(alts)
        })
    }

    fn concat(&mut self, depth: usize) -> Result<Ast, String> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom(depth)?;
            items.push(self.quantified(atom)?);
        }
        Ok(match items.len() {
            0 => Ast::Empty,
            1 => items.remove(0),
            _ => Ast::Concat(items),
        })
    }

    fn quantified(&mut self, atom: Ast) -> Result<Ast, String> {
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => return self.braces(atom),
            _ => return Ok(atom),
        };
        self.pos += 1;
        if matches!(atom, Ast::Start | Ast::End | Ast::Empty) {
            return Err("nothing to repeat".into());
        }
        if matches!(self.peek(), Some('*' | '+' | '?' | '{')) {
            return Err("lazy or possessive quantifiers are not supported".into());
        }
        Ok(Ast::Repeat(Box::new(atom), min, max))
    }

    fn braces(&mut self, atom: Ast) -> Result<Ast, String> {
        let close = self.chars[self.pos..]
            .iter()
            .position(|&c| c == '}')
            .ok_or("unclosed '{'")?;
        let body: String = self.chars[self.pos + 1..self.pos + close].iter().collect();
        self.pos += close + 1;
        let num = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("bad repeat count {{{body}}}"))
        };
        let (min, max) = match body.split_once(',') {
            Some((lo, "")) => (num(lo)?, None),
            Some((lo, hi)) => (num(lo)?, Some(num(hi)?)),
            None => (num(&body)?, Some(num(&body)?)),
        };
        if max.is_some_and(|m| m < min) {
            return Err(format!("bad repeat range {{{body}}}"));
        }
        if matches!(atom, Ast::Start | Ast::End | Ast::Empty) {
            return Err("nothing to repeat".into());
        }
        Ok(Ast::Repeat(Box::new(atom), min, max))
    }

    fn atom(&mut self, depth: usize) -> Result<Ast, String> {
        let c = self.peek().ok_or("unexpected end")?;
        self.pos += 1;
        Ok(match c {
            '.' => Ast::Any,
            '^' => Ast::Start,
            '$' => Ast::End,
            '*' | '+' | '?' | '{' => return Err(format!("nothing to repeat before '{c}'")),
            '(' => {
                if self.chars[self.pos..].starts_with(&['?', ':']) {
                    self.pos += 2;
                } else if self.peek() == Some('?') {
                    return Err("lookaround and named groups are not supported".into());
                }
                let inner = self.alternation(depth + 1)?;
                if self.peek() != Some(')') {
                    return Err("missing ')'".into());
                }
                self.pos += 1;
                inner
            }
            '[' => Ast::Class(self.class()?),
            '\\' => self.escape()?,
            other => Ast::Char(other),
        })
    }

    fn escape(&mut self) -> Result<Ast, String> {
        let c = self.peek().ok_or("trailing backslash")?;
        self.pos += 1;
        let class = |negated, ranges: &[(char, char)]| {
            Ast::Class(Class {
                negated,
                ranges: ranges.to_vec(),
            })
        };
        const DIGIT: &[(char, char)] = &[('0', '9')];
        const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
        const SPACE: &[(char, char)] = &[('\t', '\r'), (' ', ' ')];
        Ok(match c {
            'd' => class(false, DIGIT),
            'D' => class(true, DIGIT),
            'w' => class(false, WORD),
            'W' => class(true, WORD),
            's' => class(false, SPACE),
            'S' => class(true, SPACE),
            'n' => Ast::Char('\n'),
            't' => Ast::Char('\t'),
            c if c.is_ascii_alphanumeric() => return Err(format!("unsupported escape \\{c}")),
            c => Ast::Char(c),
        })
    }

    fn class(&mut self) -> Result<Class, String> {
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let c = self.peek().ok_or("unclosed '['")?;
            self.pos += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            let lo = match c {
                '\\' => match self.escape()? {
                    Ast::Char(ch) => ch,
                    Ast::Class(inner) if !inner.negated => {
                        ranges.extend(inner.ranges);
                        continue;
                    }
                    _ => return Err("negated escapes inside [...] are not supported".into()),
                },
                c => c,
            };
            let is_range =
                self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']');
            if is_range {
                let hi = self.chars[self.pos + 1];
                self.pos += 2;
                if hi == '\\' || hi < lo {
                    return Err(format!("bad character range {lo}-{hi}"));
                }
                ranges.push((lo, hi));
            } else {
                ranges.push((lo, lo));
            }
        }
        Ok(Class { negated, ranges })
    }
}

pub(super) fn compile(ast: &Ast, out: &mut Vec<Inst>) -> Result<(), String> {
    if out.len() > MAX_PROGRAM {
        return Err("regex too large".into());
    }
    match ast {
        Ast::Empty => {}
        Ast::Char(c) => out.push(Inst::Char(*c)),
        Ast::Any => out.push(Inst::Any),
        Ast::Class(c) => out.push(Inst::Class(c.clone())),
        Ast::Start => out.push(Inst::Start),
        Ast::End => out.push(Inst::End),
        Ast::Concat(items) => {
            for item in items {
                compile(item, out)?;
            }
        }
        Ast::Alt(alts) => {
            let mut jumps = Vec::new();
            for (i, alt) in alts.iter().enumerate() {
                if i + 1 < alts.len() {
                    let split = out.len();
                    out.push(Inst::Split(split + 1, 0));
                    compile(alt, out)?;
                    jumps.push(out.len());
                    out.push(Inst::Jmp(0));
                    let next = out.len();
                    out[split] = Inst::Split(split + 1, next);
                } else {
                    compile(alt, out)?;
                }
            }
            let end = out.len();
            for j in jumps {
                out[j] = Inst::Jmp(end);
            }
        }
        Ast::Repeat(inner, min, max) => {
            for _ in 0..*min {
                compile(inner, out)?;
            }
            match max {
                None => {
                    // L: split(body, exit); body; jmp L
                    let split = out.len();
                    out.push(Inst::Split(split + 1, 0));
                    compile(inner, out)?;
                    out.push(Inst::Jmp(split));
                    let exit = out.len();
                    out[split] = Inst::Split(split + 1, exit);
                }
                Some(max) => {
                    let mut splits = Vec::new();
                    for _ in *min..*max {
                        splits.push(out.len());
                        out.push(Inst::Split(out.len() + 1, 0));
                        compile(inner, out)?;
                    }
                    let exit = out.len();
                    for s in splits {
                        out[s] = Inst::Split(s + 1, exit);
                    }
                }
            }
        }
    }
    Ok(())
}
