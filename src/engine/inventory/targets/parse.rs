//! From text to terms and operators: the lexer (brackets, regexes and
//! `@source:group` kept whole) and the two operator rules.

use super::super::matcher::Regex;
use super::super::{ALL_GROUP, nodeset};
use super::{Base, Op, TargetError, Term};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Term(String),
    Op(char),
}

pub(super) fn syntax(part: &str, reason: impl Into<String>) -> TargetError {
    TargetError::Syntax {
        part: part.to_string(),
        reason: reason.into(),
    }
}

/// Splits into terms and operator characters, keeping brackets (and, in
/// regexes, parentheses) whole.
pub(super) fn lex(expr: &str) -> Result<Vec<Tok>, TargetError> {
    let chars: Vec<char> = expr.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, ',' | ':' | '&' | '!' | '^') {
            toks.push(Tok::Op(c));
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let regex = c == '~';
        let group = c == '@';
        let (mut brackets, mut parens) = (0i32, 0i32);
        while i < chars.len() {
            let c = chars[i];
            match c {
                '[' => brackets += 1,
                ']' if brackets == 0 => {
                    return Err(syntax(
                        &chars[start..=i].iter().collect::<String>(),
                        "']' without '['",
                    ));
                }
                ']' => brackets -= 1,
                '\\' if regex => i += 1,
                '(' | '{' if regex && brackets == 0 => parens += 1,
                ')' | '}' if regex && brackets == 0 => parens -= 1,
                ',' | ':' if brackets == 0 && parens <= 0 => {
                    let source_colon = c == ':'
                        && group
                        && !chars[start..i].contains(&':')
                        && chars
                            .get(i + 1)
                            .is_some_and(|n| !"@,:&!^~".contains(*n) && !n.is_whitespace());
                    if !source_colon {
                        break;
                    }
                }
                '&' | '!' | '^' if brackets == 0 && !regex => break,
                _ => {}
            }
            i += 1;
        }
        let text: String = chars[start..i.min(chars.len())].iter().collect();
        if brackets > 0 {
            return Err(syntax(&text, "'[' without ']'"));
        }
        toks.push(Tok::Term(text.trim_end().to_string()));
    }
    Ok(toks)
}

/// `a:b,&c:!d`: separators `:`/`,`, optional `&`/`!` prefix per item;
/// returned unions first, then intersections, then differences.
pub(super) fn ansible_steps(toks: &[Tok]) -> Result<Vec<(Op, Term)>, TargetError> {
    let mut items: Vec<(Op, Term)> = Vec::new();
    let mut prefix: Option<char> = None;
    let mut after_term = false;
    for tok in toks {
        match tok {
            Tok::Op(',' | ':') => {
                if let Some(p) = prefix {
                    return Err(syntax(&p.to_string(), "operator with nothing after it"));
                }
                after_term = false;
            }
            Tok::Op('^') => {
                return Err(syntax(
                    "^",
                    "'^' (ClusterShell symmetric difference) cannot be mixed with Ansible's ':' separator",
                ));
            }
            Tok::Op(c) if after_term => {
                return Err(syntax(
                    &c.to_string(),
                    format!(
                        "infix '{c}' cannot be mixed with Ansible's ':' separator; write ':{c}item'"
                    ),
                ));
            }
            Tok::Op(c) if prefix.is_some() => {
                return Err(syntax(&c.to_string(), "two operators in a row"));
            }
            Tok::Op(c) => prefix = Some(*c),
            Tok::Term(text) => {
                if after_term {
                    return Err(syntax(text, "missing separator before this item"));
                }
                let op = match prefix.take() {
                    Some('&') => Op::Intersect,
                    Some(_) => Op::Difference,
                    None => Op::Union,
                };
                items.push((op, parse_term(text)?));
                after_term = true;
            }
        }
    }
    if let Some(p) = prefix {
        return Err(syntax(&p.to_string(), "operator with nothing after it"));
    }
    let mut ordered: Vec<(Op, Term)> = Vec::new();
    for wanted in [Op::Union, Op::Intersect, Op::Difference] {
        ordered.extend(items.iter().filter(|(op, _)| *op == wanted).cloned());
    }
    Ok(ordered)
}

/// `a,b&c!d^e`: binary operators, left to right; empty `,` items skipped.
pub(super) fn clustershell_steps(toks: &[Tok]) -> Result<Vec<(Op, Term)>, TargetError> {
    let mut steps = Vec::new();
    let mut pending: Option<char> = None;
    for tok in toks {
        match tok {
            // As `nodeset`: every operator needs an operand on each side
            // (`a,,b`, `,a` and `a,` are refused); only a leading `!` or `&`
            // is drover's own shorthand for "all nodes, then".
            Tok::Op(c) => match pending {
                None if steps.is_empty() && *c == ',' => {
                    return Err(syntax(",", "missing node set operand before ','"));
                }
                None => pending = Some(*c),
                Some(p) => {
                    return Err(syntax(
                        &format!("{p}{c}"),
                        format!("missing node set operand after '{p}'"),
                    ));
                }
            },
            Tok::Term(text) => {
                if !steps.is_empty() && pending.is_none() {
                    return Err(syntax(text, "missing operator before this item"));
                }
                let op = match pending.take() {
                    Some('&') => Op::Intersect,
                    Some('!') => Op::Difference,
                    Some('^') if steps.is_empty() => {
                        return Err(syntax("^", "'^' needs a left operand"));
                    }
                    Some('^') => Op::SymDiff,
                    _ => Op::Union,
                };
                steps.push((op, parse_term(text)?));
            }
        }
    }
    match pending {
        Some(c) => Err(syntax(
            &c.to_string(),
            format!("missing node set operand after '{c}'"),
        )),
        None => Ok(steps),
    }
}

pub(super) fn parse_term(text: &str) -> Result<Term, TargetError> {
    // Inside brackets whitespace is ignored, as `nodeset` ignores it; in a
    // name it is refused (no host is called `a b`).
    let mut depth = 0i32;
    let spaced = text.chars().any(|c| {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ => {}
        }
        depth == 0 && c.is_whitespace()
    });
    if spaced {
        return Err(syntax(text, "whitespace inside a name"));
    }
    if let Some(re) = text.strip_prefix('~') {
        let regex = Regex::new(re).map_err(|reason| syntax(text, reason))?;
        return Ok(Term {
            text: text.into(),
            base: Base::Regex(regex),
        });
    }
    // No Ansible subscripts here: `web[-1]` is the node `web-1` and
    // `web[0:2]` is refused, as `nodeset` reads them.
    let body = text;
    let base = if body == ALL_GROUP || body == "*" {
        Base::All
    } else if let Some(group) = body.strip_prefix('@') {
        let (source, name) = match group.split_once(':') {
            Some((s, g)) => (Some(s.to_string()), g),
            None => (None, group),
        };
        // A ranged name (`@chassis[3-4]`) stands for several groups, and
        // `@*`/`@source:*` for a ClusterShell source's every node.
        let ranged = name != "*" && name.contains(['[', ']']);
        if name.is_empty()
            || source.as_deref() == Some("")
            || name.contains(['?', '@'])
            || (name != "*" && name.contains('*'))
        {
            return Err(syntax(text, "expected @group or @source:group"));
        }
        if ranged {
            nodeset::NodeSet::parse(name).map_err(|e| syntax(text, e.to_string()))?;
        }
        Base::Group {
            source,
            name: name.to_string(),
        }
    } else {
        nodeset::NodeSet::parse(body).map_err(|e| syntax(text, e.to_string()))?;
        if body.contains(['*', '?']) {
            Base::Glob(body.to_string())
        } else if body.contains(['@', '~']) {
            return Err(syntax(text, "'@' and '~' may only start a term"));
        } else {
            Base::Names(body.to_string())
        }
    };
    Ok(Term {
        text: text.into(),
        base,
    })
}
