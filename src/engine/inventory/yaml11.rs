//! YAML documents read the way Ansible (PyYAML) and Bolt (Psych) read them:
//! YAML 1.1 scalars, mapping order kept, and a line number on every node.
//!
//! serde-saphyr resolves untyped scalars with its own mix of 1.1 and 1.2
//! rules (`y` is true, `1e3` is a float, `0755` is 755), which would make
//! `ansible-inventory --list` and drover disagree on the same file. So the
//! document is read as a tree of [`Spanned`] nodes, and every *plain*
//! scalar is re-resolved from its source text with PyYAML's resolver:
//! `yes/no/on/off` (any of three casings) are booleans, `0755` is octal,
//! `1:30` is sexagesimal (90), `1e3` is a string but `1.0e+3` a float, and
//! `2001-12-14` is a date (printed as the same string, as Ansible does).
//! Quoted, block and tagged scalars stay what serde-saphyr made of them.
//!
//! Not reproduced: `.inf`/`.nan` (JSON has no such numbers; they stay
//! strings), duplicate keys (an error here, "last one wins" in PyYAML).

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::{Location, Spanned};
use std::fmt;

mod scalars;
pub use scalars::resolve_plain;

/// One YAML node and the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct YNode {
    pub line: u64,
    pub value: YValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum YValue {
    /// null, bool, number or string, already resolved.
    Scalar(Value),
    Seq(Vec<YNode>),
    /// Entries in document order.
    Map(Vec<(YNode, YNode)>),
}

impl YNode {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            YValue::Scalar(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, YValue::Scalar(Value::Null))
    }

    pub fn as_map(&self) -> Option<&[(YNode, YNode)]> {
        match &self.value {
            YValue::Map(m) => Some(m),
            _ => None,
        }
    }

    /// What kind of node this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            YValue::Scalar(Value::Null) => "null",
            YValue::Scalar(Value::Bool(_)) => "a boolean",
            YValue::Scalar(Value::Number(_)) => "a number",
            YValue::Scalar(_) => "a string",
            YValue::Seq(_) => "a list",
            YValue::Map(_) => "a mapping",
        }
    }

    /// The node as JSON. Non-string keys become their JSON text, as
    /// Python's `json.dumps` prints them.
    pub fn to_json(&self) -> Value {
        match &self.value {
            YValue::Scalar(v) => v.clone(),
            YValue::Seq(items) => Value::Array(items.iter().map(YNode::to_json).collect()),
            YValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (key_text(k), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A mapping key as text (`true`, `1`, `null` for non-string keys).
pub fn key_text(key: &YNode) -> String {
    match &key.value {
        YValue::Scalar(Value::String(s)) => s.clone(),
        YValue::Scalar(v) => v.to_string(),
        other => format!("{other:?}"),
    }
}

/// Why a document could not be read: the line (0 if unknown) and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: u64,
    pub reason: String,
}

/// Parses one YAML document. `Ok(None)` for an empty document (only
/// comments or whitespace), which PyYAML also loads as nothing.
pub fn parse(text: &str) -> Result<Option<YNode>, YamlError> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        return Ok(None);
    }
    let raw: Spanned<Raw> = serde_saphyr::from_str(text).map_err(|e| YamlError {
        line: e.location().map(|l| l.line()).unwrap_or(0),
        reason: e
            .to_string()
            .lines()
            .next()
            .unwrap_or("invalid YAML")
            .to_string(),
    })?;
    let src: Vec<char> = text.chars().collect();
    Ok(Some(convert(&src, raw)))
}

/// What serde-saphyr saw, before PyYAML's resolution is applied.
#[derive(Debug)]
enum Raw {
    Null,
    /// A scalar serde-saphyr typed (so it was plain): re-read its source.
    Typed,
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Raw, E> {
        Ok(Raw::Typed)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Raw, E> {
        Ok(Raw::Typed)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Raw, E> {
        Ok(Raw::Typed)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Raw, E> {
        Ok(Raw::Typed)
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = a.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = a.next_entry()? {
            entries.push(entry);
        }
        Ok(Raw::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

fn convert(src: &[char], node: Spanned<Raw>) -> YNode {
    let line = node.referenced.line();
    let value = match node.value {
        Raw::Seq(items) => YValue::Seq(items.into_iter().map(|i| convert(src, i)).collect()),
        Raw::Map(entries) => YValue::Map(
            entries
                .into_iter()
                .map(|(k, v)| (convert(src, k), convert(src, v)))
                .collect(),
        ),
        Raw::Null => YValue::Scalar(Value::Null),
        Raw::Typed => {
            let raw = raw_text(src, node.defined);
            match style(src, node.defined) {
                Style::Str => YValue::Scalar(Value::String(raw.trim().to_string())),
                _ => YValue::Scalar(resolve_plain(raw.trim())),
            }
        }
        Raw::Str(s) => match style(src, node.defined) {
            Style::Plain => YValue::Scalar(resolve_plain(&s)),
            _ => YValue::Scalar(Value::String(s)),
        },
    };
    YNode { line, value }
}

fn raw_text(src: &[char], loc: Location) -> String {
    let span = loc.span();
    src.iter().skip(span.offset()).take(span.len()).collect()
}

#[derive(PartialEq)]
enum Style {
    Plain,
    /// Quoted, block, `!!str`: a string whatever it looks like.
    Str,
    /// Another tag (`!!int`, `!unsafe`...): what serde-saphyr made of it.
    Tagged,
}

/// How the scalar at `loc` was written. Its span starts at the content,
/// so look at its first character and at the tokens before it (a `|`/`>`
/// block header, a `!tag`, an `&anchor`).
fn style(src: &[char], loc: Location) -> Style {
    let start = loc.span().offset();
    if matches!(src.get(start), Some('"' | '\'')) {
        return Style::Str;
    }
    let mut end = start.min(src.len());
    for _ in 0..3 {
        while end > 0 && src[end - 1].is_whitespace() {
            end -= 1;
        }
        let mut begin = end;
        while begin > 0 && !src[begin - 1].is_whitespace() {
            begin -= 1;
        }
        let token: String = src[begin..end].iter().collect();
        match token.chars().next() {
            Some('|' | '>') => return Style::Str,
            Some('!')
                if matches!(
                    token.as_str(),
                    "!!str" | "!str" | "!<tag:yaml.org,2002:str>"
                ) =>
            {
                return Style::Str;
            }
            Some('!') => return Style::Tagged,
            Some('&') => end = begin,
            _ => return Style::Plain,
        }
    }
    Style::Plain
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quoted_block_and_tagged_stay_strings() {
        let doc = "a: \"yes\"\nb: 'on'\nc: |\n  yes\nd: >-\n  0755\ne: !!str 12\nf: &x yes\ng: *x\nh: [yes, 'no']\n";
        let node = parse(doc).unwrap().unwrap();
        assert_eq!(
            node.to_json(),
            json!({"a": "yes", "b": "on", "c": "yes\n", "d": "0755", "e": "12", "f": true, "g": true, "h": [true, "no"]})
        );
    }

    #[test]
    fn errors_have_lines() {
        let err = parse("a: 1\nb: [\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
        assert_eq!(parse("# nothing\n").unwrap(), None);
    }
}
