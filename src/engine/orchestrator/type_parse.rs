//! Parsing the text of a Puppet data type as Bolt task metadata writes it
//! (`Optional[Enum[a, 'b']]`, `Struct[{name => String, Optional[port] => Integer}]`).
//! Errors quote the text and say where parsing stopped.

use super::types::{PType, StructMember};

impl PType {
    /// Parses `Optional[Enum[a, 'b']]` and the like; the error says where it stops.
    pub fn parse(text: &str) -> Result<PType, String> {
        parse(text)
    }
}

fn parse(text: &str) -> Result<PType, String> {
    let mut p = Parser { s: text, i: 0 };
    let t = p.ty()?;
    p.ws();
    if p.i < text.len() {
        return Err(format!("{text:?}: unexpected {:?}", &text[p.i..]));
    }
    Ok(t)
}

/// One argument inside `[...]`: a type, or a size bound (`default` is `None`).
enum Arg {
    Type(PType),
    Bound(Option<i64>),
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.i..]
    }

    fn ws(&mut self) {
        while self.rest().starts_with(char::is_whitespace) {
            self.i += self.rest().chars().next().map_or(1, char::len_utf8);
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.rest().starts_with(c) {
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

    fn opens(&mut self) -> bool {
        self.ws();
        self.rest().starts_with('[')
    }

    fn word(&mut self) -> String {
        self.ws();
        let rest = self.rest();
        let n = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '-'))
            .unwrap_or(rest.len());
        let w = rest[..n].to_string();
        self.i += n;
        w
    }

    /// A quoted string or a bare word (Enum values, Struct keys).
    fn string(&mut self) -> Result<String, String> {
        self.ws();
        let rest = self.rest();
        for q in ['\'', '"'] {
            if let Some(body) = rest.strip_prefix(q) {
                let end = body
                    .find(q)
                    .ok_or_else(|| format!("{:?}: unterminated string", self.s))?;
                let s = body[..end].to_string();
                self.i += end + 2;
                return Ok(s);
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

    fn arg(&mut self) -> Result<Arg, String> {
        self.ws();
        let bound = self
            .rest()
            .starts_with(|c: char| c.is_ascii_digit() || c == '-')
            || (self.rest().starts_with("default")
                && !self.rest()["default".len()..].starts_with(char::is_alphanumeric));
        if bound {
            Ok(Arg::Bound(self.int()?))
        } else {
            Ok(Arg::Type(self.ty()?))
        }
    }

    fn list<T>(
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

    /// Types first, then up to two bounds: `Array[String, 1, 5]`.
    fn types_and_bounds(&mut self) -> Result<(Vec<PType>, usize, usize), String> {
        let mut types = Vec::new();
        let mut bounds = Vec::new();
        for a in self.list(Self::arg)? {
            match a {
                Arg::Type(t) if bounds.is_empty() => types.push(t),
                Arg::Type(_) => return Err(format!("{:?}: a type after a size", self.s)),
                Arg::Bound(b) => bounds.push(b),
            }
        }
        if bounds.len() > 2 {
            return Err(format!("{:?}: at most two sizes", self.s));
        }
        let min = bounds.first().copied().flatten().unwrap_or(0).max(0) as usize;
        let max = bounds
            .get(1)
            .copied()
            .flatten()
            .map_or(usize::MAX, |m| m.max(0) as usize);
        Ok((types, min, max))
    }

    fn one_type(&mut self, name: &str) -> Result<PType, String> {
        let mut a = self.list(Self::ty)?;
        match (a.pop(), a.is_empty()) {
            (Some(t), true) => Ok(t),
            _ => Err(format!("{:?}: {name} takes one type", self.s)),
        }
    }

    fn ty(&mut self) -> Result<PType, String> {
        let name = self.word();
        Ok(match name.as_str() {
            "Any" | "Data" => {
                self.no_args(&name)?;
                PType::Any
            }
            "Scalar" | "ScalarData" => PType::Scalar,
            "Undef" => PType::Undef,
            "NotUndef" if self.opens() => PType::NotUndef(Box::new(self.one_type(&name)?)),
            "NotUndef" => PType::NotUndef(Box::new(PType::Any)),
            "String" => {
                let b = self.list(Self::int)?;
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
                let b = self.list(Self::int)?;
                PType::Integer {
                    min: b.first().copied().flatten().unwrap_or(i64::MIN),
                    max: b.get(1).copied().flatten().unwrap_or(i64::MAX),
                }
            }
            "Float" => {
                // Bounds are read past and not enforced.
                self.list(|p| {
                    p.ws();
                    p.i += p.rest().find([',', ']']).unwrap_or(p.rest().len());
                    Ok(())
                })?;
                PType::Float
            }
            "Numeric" => PType::Numeric,
            "Boolean" => PType::Boolean,
            "Optional" => PType::Optional(Box::new(self.one_type(&name)?)),
            "Sensitive" if self.opens() => PType::Sensitive(Box::new(self.one_type(&name)?)),
            "Sensitive" => PType::Sensitive(Box::new(PType::Any)),
            "Enum" => {
                let v = self.list(Self::string)?;
                if v.is_empty() {
                    return Err(format!("{:?}: Enum needs values", self.s));
                }
                PType::Enum(v)
            }
            "Array" => {
                let (mut types, min, max) = self.types_and_bounds()?;
                if types.len() > 1 {
                    return Err(format!("{:?}: Array takes one type", self.s));
                }
                PType::Array {
                    item: Box::new(types.pop().unwrap_or(PType::Any)),
                    min,
                    max,
                }
            }
            "Tuple" => {
                let (items, min, max) = self.types_and_bounds()?;
                let (min, max) = if max == usize::MAX && min == 0 && !items.is_empty() {
                    (items.len(), items.len())
                } else {
                    (min, max)
                };
                PType::Tuple { items, min, max }
            }
            "Hash" => {
                let (types, min, max) = self.types_and_bounds()?;
                let (key, value) = match types.len() {
                    0 => (PType::Any, PType::Any),
                    2 => {
                        let mut it = types.into_iter();
                        (
                            it.next().unwrap_or(PType::Any),
                            it.next().unwrap_or(PType::Any),
                        )
                    }
                    _ => return Err(format!("{:?}: Hash takes a key and a value type", self.s)),
                };
                PType::Hash {
                    key: Box::new(key),
                    value: Box::new(value),
                    min,
                    max,
                }
            }
            "Struct" => PType::Struct(self.struct_members()?),
            "Pattern" => PType::Pattern(self.list(Self::regex)?),
            "Variant" => PType::Variant(self.list(Self::ty)?),
            "" => {
                return Err(format!(
                    "{:?}: expected a type at offset {}",
                    self.s, self.i
                ));
            }
            other => return Err(format!("{:?}: unknown type {other}", self.s)),
        })
    }

    fn no_args(&mut self, name: &str) -> Result<(), String> {
        if self.opens() {
            return Err(format!("{:?}: {name} takes no parameters", self.s));
        }
        Ok(())
    }

    /// `[{key => Type, Optional[key] => Type, ...}]`.
    fn struct_members(&mut self) -> Result<Vec<StructMember>, String> {
        let mut members = Vec::new();
        if !self.eat('[') {
            return Ok(members);
        }
        self.expect('{')?;
        if !self.eat('}') {
            loop {
                members.push(self.struct_member()?);
                if self.eat('}') {
                    break;
                }
                self.expect(',')?;
                if self.eat('}') {
                    break;
                }
            }
        }
        self.expect(']')?;
        Ok(members)
    }

    fn struct_member(&mut self) -> Result<StructMember, String> {
        self.ws();
        let wrapped = ["Optional", "NotUndef"]
            .into_iter()
            .find(|w| self.rest().starts_with(w) && self.rest()[w.len()..].starts_with('['));
        let key = match wrapped {
            Some(w) => {
                self.i += w.len();
                self.expect('[')?;
                let k = self.string()?;
                self.expect(']')?;
                k
            }
            None => self.string()?,
        };
        self.ws();
        if !self.rest().starts_with("=>") {
            return Err(format!("{:?}: expected '=>' at offset {}", self.s, self.i));
        }
        self.i += 2;
        let ptype = self.ty()?;
        let optional = match wrapped {
            Some("Optional") => true,
            Some(_) => false,
            None => ptype.is_optional(),
        };
        Ok(StructMember {
            key,
            optional,
            ptype,
        })
    }

    fn regex(&mut self) -> Result<regex::Regex, String> {
        self.ws();
        let rest = self.rest();
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
        let src = body[..end].replace("\\/", "/");
        self.i += end + 2;
        regex::Regex::new(&src).map_err(|e| format!("{:?}: bad pattern: {e}", self.s))
    }
}
