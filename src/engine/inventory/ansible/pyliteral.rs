//! How Ansible's INI plugin types a value: Python's `ast.literal_eval`,
//! falling back to the raw string.
//!
//! So `8080` is an int, `True`/`False` are booleans, `None` is null,
//! `[1, 'a']` a list and `{'k': 1}` a dict, while `true`, `yes` and `0755`
//! (a syntax error in Python 3) stay strings, and `'quoted'` loses its
//! quotes. Not reproduced: complex numbers (`1j`, kept as the raw text where
//! Python prints `1j`), set literals keep their written order (Python's is
//! hash order), and floats that overflow to infinity.

use serde_json::{Map, Value};

/// The INI value of `text`: `literal_eval` if it parses, else the text.
pub fn ini_value(text: &str) -> Value {
    // Plain decimal numbers, the most common value, without the lexer.
    if (1..=18).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
        let leading_zero = text.len() > 1 && text.starts_with('0');
        return match text.parse::<i128>() {
            // `0755` is a syntax error in Python 3 (`00` is fine).
            Ok(v) if !leading_zero || v == 0 => int_value(v),
            _ => Value::String(text.to_string()),
        };
    }
    // Dotted numbers such as IPv4 addresses (`10.0.0.1`, `1.2.3`) are
    // always a Python syntax error, hence strings.
    let dotted = text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.bytes().filter(|&b| b == b'.').count() >= 2
        && text.starts_with(|c: char| c.is_ascii_digit())
        && text.ends_with(|c: char| c.is_ascii_digit());
    if dotted {
        return Value::String(text.to_string());
    }
    literal_eval(text).unwrap_or_else(|| Value::String(text.to_string()))
}

/// `ast.literal_eval(text)` as JSON, or `None` where Python raises.
pub fn literal_eval(text: &str) -> Option<Value> {
    let mut p = Lexer {
        s: text.trim_start_matches([' ', '\t']).chars().collect(),
        i: 0,
        depth: 0,
    };
    let v = p.tuple_or_expr(true)?;
    p.skip_ws();
    (p.i == p.s.len()).then_some(v)
}

struct Lexer {
    s: Vec<char>,
    i: usize,
    depth: u32,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    /// Skips spaces and a trailing `#` comment.
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' {
                self.i = self.s.len();
            } else if c.is_whitespace() {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// `a, b` without brackets is a tuple at the top and inside `( )`.
    fn tuple_or_expr(&mut self, top: bool) -> Option<Value> {
        let first = self.expr()?;
        if !self.eat(',') {
            return Some(first);
        }
        let mut items = vec![first];
        loop {
            self.skip_ws();
            match self.peek() {
                None if top => break,
                Some(')') if !top => break,
                _ => items.push(self.expr()?),
            }
            if !self.eat(',') {
                break;
            }
        }
        Some(Value::Array(items))
    }

    fn expr(&mut self) -> Option<Value> {
        self.depth += 1;
        if self.depth > 100 {
            return None;
        }
        self.skip_ws();
        let c = self.peek()?;
        let v = match c {
            '[' => {
                self.i += 1;
                Value::Array(self.items(']')?)
            }
            '(' => {
                self.i += 1;
                if self.eat(')') {
                    Value::Array(Vec::new())
                } else {
                    let v = self.tuple_or_expr(false)?;
                    self.eat(')').then_some(v)?
                }
            }
            '{' => {
                self.i += 1;
                self.dict_or_set()?
            }
            '-' | '+' => {
                self.i += 1;
                self.skip_ws();
                let v = self.number()?;
                if c == '-' { negate(v)? } else { v }
            }
            '.' if self.s[self.i..].starts_with(&['.', '.', '.']) => {
                self.i += 3;
                Value::String("...".into())
            }
            c if c.is_ascii_digit() || c == '.' => self.number()?,
            _ => self.name_or_string()?,
        };
        self.depth -= 1;
        Some(v)
    }

    fn items(&mut self, close: char) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.expr()?);
            if !self.eat(',') {
                return self.eat(close).then_some(items);
            }
        }
    }

    fn dict_or_set(&mut self) -> Option<Value> {
        if self.eat('}') {
            return Some(Value::Object(Map::new()));
        }
        let first = self.expr()?;
        if !self.eat(':') {
            // A set: Python prints it in hash order; we keep the written one.
            let mut items = vec![first];
            while self.eat(',') {
                if self.eat('}') {
                    return Some(dedup(items));
                }
                items.push(self.expr()?);
            }
            return self.eat('}').then(|| dedup(items));
        }
        let mut map = Map::new();
        let mut key = first;
        loop {
            let value = self.expr()?;
            map.insert(key_text(&key)?, value);
            if self.eat('}') {
                return Some(Value::Object(map));
            }
            if !self.eat(',') {
                return None;
            }
            if self.eat('}') {
                return Some(Value::Object(map));
            }
            key = self.expr()?;
            if !self.eat(':') {
                return None;
            }
        }
    }

    fn word(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.i += 1;
        }
        self.s[start..self.i].iter().collect()
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        let word: String = {
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                // `1e-3`: a sign right after the exponent marker.
                self.i += 1;
                if matches!(self.s.get(self.i - 1), Some('e' | 'E'))
                    && matches!(self.peek(), Some('+' | '-'))
                    && !self.s[start..].starts_with(&['0', 'x'])
                    && !self.s[start..].starts_with(&['0', 'X'])
                {
                    self.i += 1;
                }
            }
            self.s[start..self.i].iter().collect()
        };
        parse_number(&word)
    }

    fn name_or_string(&mut self) -> Option<Value> {
        let start = self.i;
        let word = self.word();
        match (word.as_str(), self.peek()) {
            ("True", _) => return Some(Value::Bool(true)),
            ("False", _) => return Some(Value::Bool(false)),
            ("None", _) => return Some(Value::Null),
            (_, Some('\'' | '"')) if is_prefix(&word) => {}
            ("", Some('\'' | '"')) => {}
            _ => {
                self.i = start;
                return None;
            }
        }
        // Adjacent literals concatenate: 'a' "b" is "ab".
        self.i = start;
        let mut out = String::new();
        let mut bytes_kind = None;
        loop {
            let prefix = self.word().to_ascii_lowercase();
            if !is_prefix(&prefix) || prefix.contains('f') {
                return None;
            }
            let is_bytes = prefix.contains('b');
            if *bytes_kind.get_or_insert(is_bytes) != is_bytes {
                return None;
            }
            out.push_str(&self.string_body(prefix.contains('r'), is_bytes)?);
            self.skip_ws();
            if !self
                .peek()
                .is_some_and(|c| c == '\'' || c == '"' || c.is_ascii_alphabetic())
            {
                return Some(Value::String(out));
            }
        }
    }

    fn string_body(&mut self, raw: bool, bytes: bool) -> Option<String> {
        let q = self.peek()?;
        let triple = self.s[self.i..].starts_with(&[q, q, q]);
        self.i += if triple { 3 } else { 1 };
        let mut out = String::new();
        loop {
            let c = self.peek()?;
            if c == q && (!triple || self.s[self.i..].starts_with(&[q, q, q])) {
                self.i += if triple { 3 } else { 1 };
                return Some(out);
            }
            self.i += 1;
            if c != '\\' {
                out.push(c);
                continue;
            }
            let e = self.peek()?;
            self.i += 1;
            if raw {
                out.push('\\');
                out.push(e);
                continue;
            }
            let simple = match e {
                '\\' => Some('\\'),
                '\'' => Some('\''),
                '"' => Some('"'),
                'a' => Some('\x07'),
                'b' => Some('\x08'),
                'f' => Some('\x0c'),
                'n' => Some('\n'),
                'r' => Some('\r'),
                't' => Some('\t'),
                'v' => Some('\x0b'),
                _ => None,
            };
            if let Some(ch) = simple {
                out.push(ch);
            } else if e.is_digit(8) {
                let mut digits = e.to_string();
                while digits.len() < 3 && self.peek().is_some_and(|d| d.is_digit(8)) {
                    digits.push(self.s[self.i]);
                    self.i += 1;
                }
                out.push(char::from_u32(u32::from_str_radix(&digits, 8).ok()?)?);
            } else if let Some(len) = match e {
                'x' => Some(2),
                'u' if !bytes => Some(4),
                'U' if !bytes => Some(8),
                _ => None,
            } {
                let hex: String = self.s.get(self.i..self.i + len)?.iter().collect();
                self.i += len;
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            } else if e == 'N' && !bytes {
                return None;
            } else {
                out.push('\\');
                out.push(e);
            }
        }
    }
}

fn is_prefix(p: &str) -> bool {
    matches!(
        p.to_ascii_lowercase().as_str(),
        "" | "r" | "u" | "b" | "br" | "rb" | "f" | "fr" | "rf"
    )
}

fn dedup(items: Vec<Value>) -> Value {
    let mut out: Vec<Value> = Vec::new();
    for v in items {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Value::Array(out)
}

/// A dict key as `json.dumps` writes it; containers are not valid keys.
fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
        other => Some(other.to_string()),
    }
}

fn negate(v: Value) -> Option<Value> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(int_value(-(i as i128)));
    }
    if let Some(u) = n.as_u64() {
        return Some(int_value(-(u as i128)));
    }
    Some(Value::from(-n.as_f64()?))
}

fn int_value(v: i128) -> Value {
    i64::try_from(v)
        .map(Value::from)
        .or_else(|_| u64::try_from(v).map(Value::from))
        .unwrap_or_else(|_| Value::from(v as f64))
}

/// Python number tokens: `10`, `1_000`, `0x1F`, `0o17`, `0b1`, `1.5`,
/// `1e3`, `.5`; `0755` is a syntax error, `1j` is complex (unsupported).
fn parse_number(word: &str) -> Option<Value> {
    let digits_ok = |s: &str, radix: u32| {
        !s.is_empty()
            && !s.starts_with('_')
            && !s.ends_with('_')
            && !s.contains("__")
            && s.chars().all(|c| c == '_' || c.is_digit(radix))
    };
    let lower = word.to_ascii_lowercase();
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let rest = rest.strip_prefix('_').unwrap_or(rest);
            return digits_ok(rest, radix)
                .then(|| u128::from_str_radix(&rest.replace('_', ""), radix).ok())
                .flatten()
                .map(|v| int_value(v.min(i128::MAX as u128) as i128));
        }
    }
    if digits_ok(word, 10) {
        let clean = word.replace('_', "");
        if clean.len() > 1 && clean.starts_with('0') && clean.bytes().any(|b| b != b'0') {
            return None;
        }
        return Some(
            clean
                .parse::<i128>()
                .map(int_value)
                .unwrap_or_else(|_| Value::from(clean.parse::<f64>().unwrap_or(f64::MAX))),
        );
    }
    let (mantissa, exponent) = match lower.find('e') {
        Some(i) => (&lower[..i], Some(&lower[i + 1..])),
        None => (lower.as_str(), None),
    };
    let (int_part, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let int_ok = int_part.is_empty() || digits_ok(int_part, 10);
    let frac_ok = frac.is_empty() || digits_ok(frac, 10);
    let has_digits = !int_part.is_empty() || !frac.is_empty();
    let exp_ok = exponent.is_none_or(|e| digits_ok(e.strip_prefix(['+', '-']).unwrap_or(e), 10));
    let is_float = mantissa.contains('.') || exponent.is_some();
    if !(int_ok && frac_ok && has_digits && exp_ok && is_float) {
        return None;
    }
    let v: f64 = lower
        .replace('_', "")
        .parse()
        .ok()
        .or_else(|| format!("0{}", lower.replace('_', "")).parse().ok())?;
    Some(Value::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literal_eval_like_python() {
        let cases = [
            ("8080", json!(8080)),
            ("True", json!(true)),
            ("true", json!("true")),
            ("yes", json!("yes")),
            ("0755", json!("0755")),
            ("None", json!(null)),
            ("-3", json!(-3)),
            ("0x1F", json!(31)),
            ("1_000", json!(1000)),
            ("1e3", json!(1000.0)),
            ("1.5", json!(1.5)),
            (".5", json!(0.5)),
            ("[1, 'a']", json!([1, "a"])),
            ("(1,2)", json!([1, 2])),
            ("1, 2", json!([1, 2])),
            ("{'k': 1, 2: None}", json!({"k": 1, "2": null})),
            ("'quoted'", json!("quoted")),
            ("'a' \"b\"", json!("ab")),
            ("'\\x41\\n'", json!("A\n")),
            ("r'\\d'", json!("\\d")),
            ("5 # comment", json!(5)),
            ("abc # comment", json!("abc # comment")),
            ("f'x'", json!("f'x'")),
            ("1j", json!("1j")),
            ("--1", json!("--1")),
            ("{1, 2, 1}", json!([1, 2])),
            ("()", json!([])),
            ("...", json!("...")),
            ("a b", json!("a b")),
            ("[1, 2", json!("[1, 2")),
            ("10.0.0.1", json!("10.0.0.1")),
            ("1.2.3", json!("1.2.3")),
            ("1..2", json!("1..2")),
            ("00", json!(0)),
            ("007", json!("007")),
            ("123456789012345678", json!(123456789012345678_i64)),
            ("1234567890123456789012", json!(1234567890123456789012.0)),
        ];
        for (text, want) in cases {
            assert_eq!(ini_value(text), want, "{text}");
        }
    }
}
