//! The Puppet data types Bolt task metadata declares parameters with: parsing the
//! type text, checking a JSON value against it, and turning a command-line string
//! into the value the type asks for.

use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone)]
pub enum PType {
    Any,
    String { min: usize, max: usize },
    Integer { min: i64, max: i64 },
    Float,
    Numeric,
    Boolean,
    Optional(Box<PType>),
    Enum(Vec<String>),
    Array(Box<PType>),
    Hash,
    Pattern(Vec<regex::Regex>),
    Variant(Vec<PType>),
}

impl PartialEq for PType {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl PType {
    /// Parses `Optional[Enum[a, 'b']]` and the like; the error says where it stops.
    pub fn parse(text: &str) -> Result<PType, String> {
        let mut p = Parser { s: text, i: 0 };
        let t = p.ty()?;
        p.ws();
        if p.i < text.len() {
            return Err(format!("{text:?}: unexpected {:?}", &text[p.i..]));
        }
        Ok(t)
    }

    pub fn is_optional(&self) -> bool {
        match self {
            PType::Optional(_) | PType::Any => true,
            PType::Variant(v) => v.iter().any(PType::is_optional),
            _ => false,
        }
    }

    /// Why `v` is not of this type, or `None` when it is.
    pub fn check(&self, v: &Value) -> Option<String> {
        let ok = match (self, v) {
            (PType::Any, _) => true,
            (PType::Optional(_), Value::Null) => true,
            (PType::Optional(t), v) => return t.check(v),
            (PType::String { min, max }, Value::String(s)) => {
                let n = s.chars().count();
                if n < *min || n > *max {
                    return Some(format!("length {n} is outside {min}..={max}"));
                }
                true
            }
            (PType::Integer { min, max }, Value::Number(n)) => match n.as_i64() {
                Some(i) if i < *min || i > *max => {
                    return Some(format!("{i} is outside {min}..={max}"));
                }
                Some(_) => true,
                None => false,
            },
            (PType::Float | PType::Numeric, Value::Number(_)) => true,
            (PType::Boolean, Value::Bool(_)) => true,
            (PType::Enum(options), Value::String(s)) => {
                if !options.contains(s) {
                    return Some(format!("{s:?} is not one of {}", options.join(", ")));
                }
                true
            }
            (PType::Array(t), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(why) = t.check(item) {
                        return Some(format!("item {i}: {why}"));
                    }
                }
                true
            }
            (PType::Hash, Value::Object(_)) => true,
            (PType::Pattern(res), Value::String(s)) => {
                if !res.iter().any(|r| r.is_match(s)) {
                    return Some(format!("{s:?} does not match {self}"));
                }
                true
            }
            (PType::Variant(ts), v) => ts.iter().any(|t| t.check(v).is_none()),
            _ => false,
        };
        (!ok).then(|| format!("expects {self}, got {}", describe(v)))
    }

    /// The value a command-line `key=value` stands for: strings stay strings for
    /// String-like types; numbers, booleans, arrays and hashes are parsed (arrays
    /// and hashes as JSON). An unparsable text stays a string, so `check` names it.
    pub fn coerce(&self, text: &str) -> Value {
        let json = || serde_json::from_str::<Value>(text).ok();
        match self {
            PType::String { .. } | PType::Enum(_) | PType::Pattern(_) => Value::String(text.into()),
            PType::Integer { .. } | PType::Float | PType::Numeric => json()
                .filter(Value::is_number)
                .unwrap_or_else(|| Value::String(text.into())),
            PType::Boolean => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(text.into()),
            },
            PType::Array(_) | PType::Hash | PType::Any => {
                json().unwrap_or_else(|| Value::String(text.into()))
            }
            PType::Optional(t) => t.coerce(text),
            PType::Variant(ts) => ts
                .iter()
                .map(|t| t.coerce(text))
                .find(|v| self.check(v).is_none())
                .unwrap_or_else(|| Value::String(text.into())),
        }
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("Boolean {b}"),
        Value::Number(n) if n.is_i64() || n.is_u64() => format!("Integer {n}"),
        Value::Number(n) => format!("Float {n}"),
        Value::String(s) => format!("String {s:?}"),
        Value::Array(_) => "an Array".into(),
        Value::Object(_) => "a Hash".into(),
    }
}

impl fmt::Display for PType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |ts: &[PType]| {
            ts.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            PType::Any => f.write_str("Any"),
            PType::String { min: 0, max } if *max == usize::MAX => f.write_str("String"),
            PType::String { min, max } if *max == usize::MAX => write!(f, "String[{min}]"),
            PType::String { min, max } => write!(f, "String[{min}, {max}]"),
            PType::Integer { min, max } if *min == i64::MIN && *max == i64::MAX => {
                f.write_str("Integer")
            }
            PType::Integer { min, max } => write!(f, "Integer[{min}, {max}]"),
            PType::Float => f.write_str("Float"),
            PType::Numeric => f.write_str("Numeric"),
            PType::Boolean => f.write_str("Boolean"),
            PType::Optional(t) => write!(f, "Optional[{t}]"),
            PType::Enum(v) => {
                let quoted: Vec<String> = v.iter().map(|s| format!("'{s}'")).collect();
                write!(f, "Enum[{}]", quoted.join(", "))
            }
            PType::Array(t) => write!(f, "Array[{t}]"),
            PType::Hash => f.write_str("Hash"),
            PType::Pattern(res) => {
                let pats: Vec<String> = res.iter().map(|r| format!("/{}/", r.as_str())).collect();
                write!(f, "Pattern[{}]", pats.join(", "))
            }
            PType::Variant(ts) => write!(f, "Variant[{}]", list(ts)),
        }
    }
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s[self.i..].starts_with(|c: char| c.is_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.s[self.i..].starts_with(c) {
            self.i += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("{:?}: expected '{c}' at offset {}", self.s, self.i))
        }
    }

    fn word(&mut self) -> String {
        self.ws();
        let rest = &self.s[self.i..];
        let n = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '-'))
            .unwrap_or(rest.len());
        self.i += n;
        rest[..n].to_string()
    }

    /// A quoted string or a bare word (Enum values).
    fn string(&mut self) -> Result<String, String> {
        self.ws();
        let rest = &self.s[self.i..];
        for q in ['\'', '"'] {
            if let Some(body) = rest.strip_prefix(q) {
                let end = body
                    .find(q)
                    .ok_or_else(|| format!("{:?}: unterminated string", self.s))?;
                self.i += end + 2;
                return Ok(body[..end].to_string());
            }
        }
        let w = self.word();
        if w.is_empty() {
            return Err(format!(
                "{:?}: expected a value at offset {}",
                self.s, self.i
            ));
        }
        Ok(w)
    }

    fn int(&mut self) -> Result<Option<i64>, String> {
        let w = self.word();
        if w == "default" {
            return Ok(None);
        }
        w.parse()
            .map(Some)
            .map_err(|_| format!("{:?}: {w:?} is not an integer", self.s))
    }

    fn args<T>(
        &mut self,
        mut one: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let mut v = Vec::new();
        if !self.eat('[') {
            return Ok(v);
        }
        loop {
            v.push(one(self)?);
            if self.eat(']') {
                return Ok(v);
            }
            self.expect(',')?;
        }
    }

    fn ty(&mut self) -> Result<PType, String> {
        let name = self.word();
        Ok(match name.as_str() {
            "Any" | "Data" | "Scalar" => PType::Any,
            "String" => {
                let b = self.args(Self::int)?;
                PType::String {
                    min: b.first().copied().flatten().unwrap_or(0).max(0) as usize,
                    max: b
                        .get(1)
                        .copied()
                        .flatten()
                        .map_or(usize::MAX, |m| m.max(0) as usize),
                }
            }
            "Integer" => {
                let b = self.args(Self::int)?;
                PType::Integer {
                    min: b.first().copied().flatten().unwrap_or(i64::MIN),
                    max: b.get(1).copied().flatten().unwrap_or(i64::MAX),
                }
            }
            "Float" => {
                self.args(Self::int)?;
                PType::Float
            }
            "Numeric" => PType::Numeric,
            "Boolean" => PType::Boolean,
            "Optional" => {
                let mut a = self.args(Self::ty)?;
                match (a.pop(), a.is_empty()) {
                    (Some(t), true) => PType::Optional(Box::new(t)),
                    _ => return Err(format!("{:?}: Optional takes one type", self.s)),
                }
            }
            "Enum" => {
                let v = self.args(Self::string)?;
                if v.is_empty() {
                    return Err(format!("{:?}: Enum needs values", self.s));
                }
                PType::Enum(v)
            }
            "Array" | "Tuple" => {
                let inner = if self.s[self.i..].trim_start().starts_with('[') {
                    self.expect('[')?;
                    let t = self.ty()?;
                    while self.eat(',') {
                        self.int()?;
                    }
                    self.expect(']')?;
                    t
                } else {
                    PType::Any
                };
                PType::Array(Box::new(inner))
            }
            "Hash" | "Struct" => {
                // Key and value types are accepted and not enforced.
                if self.s[self.i..].trim_start().starts_with('[') {
                    self.skip_brackets()?;
                }
                PType::Hash
            }
            "Pattern" => PType::Pattern(self.args(Self::regex)?),
            "Variant" => PType::Variant(self.args(Self::ty)?),
            "" => {
                return Err(format!(
                    "{:?}: expected a type at offset {}",
                    self.s, self.i
                ));
            }
            other => return Err(format!("{:?}: unknown type {other}", self.s)),
        })
    }

    fn regex(&mut self) -> Result<regex::Regex, String> {
        self.ws();
        let rest = &self.s[self.i..];
        let body = rest
            .strip_prefix('/')
            .ok_or_else(|| format!("{:?}: Pattern expects /regex/", self.s))?;
        let mut end = None;
        let mut escaped = false;
        for (k, c) in body.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '/' if !escaped => {
                    end = Some(k);
                    break;
                }
                _ => escaped = false,
            }
        }
        let end = end.ok_or_else(|| format!("{:?}: unterminated /regex/", self.s))?;
        self.i += end + 2;
        let src = body[..end].replace("\\/", "/");
        regex::Regex::new(&src).map_err(|e| format!("{:?}: bad pattern: {e}", self.s))
    }

    fn skip_brackets(&mut self) -> Result<(), String> {
        self.expect('[')?;
        let mut depth = 1;
        for (k, c) in self.s[self.i..].char_indices() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                self.i += k + 1;
                return Ok(());
            }
        }
        Err(format!("{:?}: unbalanced '['", self.s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> PType {
        PType::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_and_prints_the_bolt_types() {
        for s in [
            "String",
            "String[1]",
            "String[1, 10]",
            "Integer",
            "Integer[0, 65535]",
            "Boolean",
            "Optional[String]",
            "Enum['install', 'status']",
            "Array[String]",
            "Hash",
            "Pattern[/^[a-z]+$/]",
            "Variant[Integer, Enum['all']]",
        ] {
            assert_eq!(t(s).to_string(), s);
        }
        assert_eq!(t("Enum[a,b]").to_string(), "Enum['a', 'b']");
        assert!(PType::parse("Strin").is_err());
        assert!(PType::parse("Optional[String").is_err());
        assert!(PType::parse("Pattern[/(/]").is_err());
    }

    #[test]
    fn checks_values_with_reasons() {
        assert_eq!(t("String").check(&json!("x")), None);
        assert!(
            t("Integer")
                .check(&json!("x"))
                .unwrap()
                .contains("expects Integer, got String")
        );
        assert!(
            t("Enum[a,b]")
                .check(&json!("c"))
                .unwrap()
                .contains("not one of a, b")
        );
        assert_eq!(t("Optional[Integer]").check(&Value::Null), None);
        assert!(t("Integer[1,5]").check(&json!(9)).is_some());
        assert!(t("Pattern[/^a/]").check(&json!("ba")).is_some());
        assert_eq!(t("Variant[Integer, Boolean]").check(&json!(true)), None);
        assert!(
            t("Array[Integer]")
                .check(&json!([1, "x"]))
                .unwrap()
                .contains("item 1")
        );
        assert!(t("String[2]").check(&json!("a")).is_some());
    }

    #[test]
    fn coerces_command_line_text_by_type() {
        assert_eq!(t("Integer").coerce("42"), json!(42));
        assert_eq!(t("Boolean").coerce("true"), json!(true));
        assert_eq!(t("String").coerce("42"), json!("42"));
        assert_eq!(t("Array[String]").coerce("[\"a\"]"), json!(["a"]));
        assert_eq!(t("Variant[Integer, String]").coerce("x"), json!("x"));
        assert_eq!(t("Optional[Integer]").coerce("7"), json!(7));
    }
}
