//! The Puppet data types Bolt task metadata declares parameters with: checking a
//! JSON value against a type, and turning a command-line string into the value
//! the type asks for. The type text is parsed in [`super::type_parse`].

use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone)]
pub enum PType {
    /// `Any`, `Data`: every value, `null` included.
    Any,
    /// `Scalar`, `ScalarData`: a string, number or boolean.
    Scalar,
    /// `Undef`: only `null` (a parameter left out).
    Undef,
    NotUndef(Box<PType>),
    String {
        min: usize,
        max: usize,
    },
    Integer {
        min: i64,
        max: i64,
    },
    Float,
    Numeric,
    Boolean,
    Optional(Box<PType>),
    /// `Sensitive[T]`: a `T` whose value drover never writes anywhere.
    Sensitive(Box<PType>),
    Enum(Vec<String>),
    Array {
        item: Box<PType>,
        min: usize,
        max: usize,
    },
    /// `Tuple[A, B, min, max]`: item `i` has the `i`-th type (the last one
    /// repeats), between `min` and `max` items.
    Tuple {
        items: Vec<PType>,
        min: usize,
        max: usize,
    },
    Hash {
        key: Box<PType>,
        value: Box<PType>,
        min: usize,
        max: usize,
    },
    Struct(Vec<StructMember>),
    Pattern(Vec<regex::Regex>),
    Variant(Vec<PType>),
}

/// One `key => Type` of a `Struct`.
#[derive(Debug, Clone)]
pub struct StructMember {
    pub key: String,
    /// `Optional['key']`, or a value type that accepts `null`: the key may be
    /// left out.
    pub optional: bool,
    pub ptype: PType,
}

impl PartialEq for PType {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl PType {
    pub fn is_optional(&self) -> bool {
        self.check(&Value::Null).is_none()
    }

    /// Whether a value of this type is a secret (`Sensitive[...]` anywhere).
    pub fn is_sensitive(&self) -> bool {
        match self {
            PType::Sensitive(_) => true,
            PType::Optional(t) | PType::NotUndef(t) => t.is_sensitive(),
            PType::Variant(ts) => ts.iter().any(PType::is_sensitive),
            _ => false,
        }
    }

    /// Why `v` is not of this type, or `None` when it is.
    pub fn check(&self, v: &Value) -> Option<String> {
        let ok = match (self, v) {
            (PType::Any, _) => true,
            (PType::Scalar, v) => matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)),
            (PType::Undef, v) => v.is_null(),
            (PType::NotUndef(_), Value::Null) => false,
            (PType::NotUndef(t), v) => return t.check(v),
            (PType::Optional(_), Value::Null) => true,
            (PType::Optional(t) | PType::Sensitive(t), v) => return t.check(v),
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
            (PType::Array { item, min, max }, Value::Array(items)) => {
                if let Some(why) = size(items.len(), *min, *max) {
                    return Some(why);
                }
                for (i, v) in items.iter().enumerate() {
                    if let Some(why) = item.check(v) {
                        return Some(format!("item {i}: {why}"));
                    }
                }
                true
            }
            (PType::Tuple { items, min, max }, Value::Array(values)) => {
                if let Some(why) = size(values.len(), *min, *max) {
                    return Some(why);
                }
                for (i, v) in values.iter().enumerate() {
                    let t = items.get(i).or(items.last()).unwrap_or(&PType::Any);
                    if let Some(why) = t.check(v) {
                        return Some(format!("item {i}: {why}"));
                    }
                }
                true
            }
            (
                PType::Hash {
                    key,
                    value,
                    min,
                    max,
                },
                Value::Object(m),
            ) => {
                if let Some(why) = size(m.len(), *min, *max) {
                    return Some(why);
                }
                for (k, v) in m {
                    if let Some(why) = key.check(&Value::String(k.clone())) {
                        return Some(format!("key {k:?}: {why}"));
                    }
                    if let Some(why) = value.check(v) {
                        return Some(format!("{k}: {why}"));
                    }
                }
                true
            }
            (PType::Struct(members), Value::Object(m)) => return check_struct(members, m),
            (PType::Pattern(res), Value::String(s)) => {
                // A bare `Pattern` accepts every string, as in Puppet.
                if !res.is_empty() && !res.iter().any(|r| r.is_match(s)) {
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
            PType::Array { .. }
            | PType::Tuple { .. }
            | PType::Hash { .. }
            | PType::Struct(_)
            | PType::Any
            | PType::Scalar
            | PType::Undef => json().unwrap_or_else(|| Value::String(text.into())),
            PType::Optional(t) | PType::Sensitive(t) | PType::NotUndef(t) => t.coerce(text),
            PType::Variant(ts) => ts
                .iter()
                .map(|t| t.coerce(text))
                .find(|v| self.check(v).is_none())
                .unwrap_or_else(|| Value::String(text.into())),
        }
    }
}

fn size(n: usize, min: usize, max: usize) -> Option<String> {
    (n < min || n > max).then(|| format!("{n} items is outside {min}..={max}"))
}

fn check_struct(members: &[StructMember], m: &serde_json::Map<String, Value>) -> Option<String> {
    for k in m.keys() {
        if !members.iter().any(|s| &s.key == k) {
            let known: Vec<&str> = members.iter().map(|s| s.key.as_str()).collect();
            return Some(format!("key {k:?} is not one of {}", known.join(", ")));
        }
    }
    for s in members {
        match m.get(&s.key) {
            None if s.optional => {}
            None => return Some(format!("key {:?} is missing", s.key)),
            Some(v) => {
                if let Some(why) = s.ptype.check(v) {
                    return Some(format!("{}: {why}", s.key));
                }
            }
        }
    }
    None
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

/// `, min, max` after a collection's types, or nothing for the unbounded default.
fn bounds(min: usize, max: usize) -> String {
    match (min, max) {
        (0, usize::MAX) => String::new(),
        (min, usize::MAX) => format!(", {min}"),
        (min, max) => format!(", {min}, {max}"),
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
            PType::Scalar => f.write_str("Scalar"),
            PType::Undef => f.write_str("Undef"),
            PType::NotUndef(t) => write!(f, "NotUndef[{t}]"),
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
            PType::Sensitive(t) => write!(f, "Sensitive[{t}]"),
            PType::Enum(v) => {
                let quoted: Vec<String> = v.iter().map(|s| format!("'{s}'")).collect();
                write!(f, "Enum[{}]", quoted.join(", "))
            }
            PType::Array { item, min, max } => match (&**item, bounds(*min, *max)) {
                (PType::Any, b) if b.is_empty() => f.write_str("Array"),
                (item, b) => write!(f, "Array[{item}{b}]"),
            },
            PType::Tuple { items, min, max } if items.is_empty() => match (*min, *max) {
                (0, usize::MAX) => f.write_str("Tuple"),
                (min, usize::MAX) => write!(f, "Tuple[{min}]"),
                (min, max) => write!(f, "Tuple[{min}, {max}]"),
            },
            PType::Tuple { items, min, max } if *min == items.len() && *max == items.len() => {
                write!(f, "Tuple[{}]", list(items))
            }
            PType::Tuple { items, min, max } => {
                write!(f, "Tuple[{}{}]", list(items), bounds(*min, *max))
            }
            PType::Hash {
                key,
                value,
                min,
                max,
            } => match (&**key, &**value, bounds(*min, *max)) {
                (PType::Any, PType::Any, b) if b.is_empty() => f.write_str("Hash"),
                (key, value, b) => write!(f, "Hash[{key}, {value}{b}]"),
            },
            PType::Struct(members) => {
                let shown: Vec<String> = members
                    .iter()
                    .map(|m| {
                        if m.optional && !m.ptype.is_optional() {
                            format!("Optional['{}'] => {}", m.key, m.ptype)
                        } else {
                            format!("'{}' => {}", m.key, m.ptype)
                        }
                    })
                    .collect();
                write!(f, "Struct[{{{}}}]", shown.join(", "))
            }
            PType::Pattern(res) if res.is_empty() => f.write_str("Pattern"),
            PType::Variant(ts) if ts.is_empty() => f.write_str("Variant"),
            PType::Pattern(res) => {
                let pats: Vec<String> = res.iter().map(|r| format!("/{}/", r.as_str())).collect();
                write!(f, "Pattern[{}]", pats.join(", "))
            }
            PType::Variant(ts) => write!(f, "Variant[{}]", list(ts)),
        }
    }
}

#[cfg(test)]
mod tests;
