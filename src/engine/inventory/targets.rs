//! Target expressions: which nodes a command runs on.
//!
//! Two grammars, one per tool: [`Grammar::Ansible`] reads Ansible host
//! patterns exactly as `ansible --list-hosts` does (see `targets/ansible.rs`),
//! [`Grammar::Clush`] reads ClusterShell node sets (below). Which one
//! applies is [`Inventory::grammar`]; [`select_with`] dispatches. In both,
//! the built-in `localhost` is implicit once an inventory is loaded
//! ([`Inventory::implicit_localhost`]): only an expression naming it
//! selects it.
//!
//! # The ClusterShell grammar
//!
//! One grammar accepts what users already type for ClusterShell (`clush -w`),
//! pdsh and Ansible (`hosts:` patterns).
//!
//! # Terms
//!
//! | term | selects |
//! |---|---|
//! | `web01` | the node `web01`; if no node has that name, the members of group `web01` (Ansible's bare group names) |
//! | `node[01-10,15]`, `n[1-9/2]`, `rack[1-2]node[01-04]` | a ClusterShell node set: every name it expands to (each name may also be a group) |
//! | `web*`, `db-?` | glob: nodes whose name matches, plus the members of groups whose name matches (as Ansible) |
//! | `~^db\d+` | regex on node and group names, anchored at the start only (Ansible's `re.match`); subset documented in `matcher.rs` |
//! | `@web` | members of group `web`; `@all` is every node (the default ClusterShell source's `all` group when it defines one) |
//! | `@chassis[3-4]` | members of the groups `chassis3` and `chassis4` (a ranged group name, as in ClusterShell) |
//! | `@src:web` | when `src` is a ClusterShell group source: its group `web` (as `nodeset`); else the members of `web` that came from inventory source `src` (`@src:all` for all of them) |
//! | `@*`, `@src:*` | every node of the default (or named) ClusterShell group source: its `all` group, else every node of its groups |
//! | `all`, `*` | every node |
//!
//! Every bracket is a node set, as `nodeset` reads it: `web[-1]` is the
//! node `web-1`, and `web[0:2]` is refused (Ansible's subscripts belong to
//! the Ansible grammar). A `~regex` runs to the next `,` or `:` outside
//! `[]`, `()` and `{}`, so it may contain `&`, `!`, `^`, `|` and `{1,3}`.
//!
//! # Operators and the two evaluation rules
//!
//! * **ClusterShell rule** (no `:` separator in the expression): `a,b`
//!   union, `a&b` intersection, `a!b` difference, `a^b` symmetric
//!   difference, applied strictly left to right: `a,b&c` is `(a ∪ b) ∩ c`.
//! * **Ansible rule** (the expression has a `:` separator outside brackets,
//!   or a `,` directly followed by `&`/`!`): items are separated by `:` or
//!   `,`, each optionally prefixed by `&` or `!`; all plain items are unioned
//!   first, then every `&` item intersects, then every `!` item is removed,
//!   whatever the order written: `web*:!db01:&prod` is `(web*) ∩ prod ∖ db01`.
//!
//! The rules differ when an operand follows an exclusion: `a!b,c` is
//! `(a ∖ b) ∪ c` (ClusterShell) while `a:!b:c` is `(a ∪ c) ∖ b` (Ansible,
//! so `c` can never bring `b` back). The `:` decides: an expression with a
//! `:` separator is always evaluated with the Ansible rule, and then `^` and
//! infix `&`/`!` (without a separator before them) are syntax errors rather
//! than guesses. `@a:b` is always source `a`, group `b` (write `a:b` or
//! `@a,@b` for Ansible's union of two groups). An expression that starts with
//! `!` or `&`, or has only `&`/`!` items, starts from all nodes: `!db01` is
//! every node but `db01`, in both rules.
//!
//! # Results
//!
//! Every term must select something: the error names each term that
//! matched nothing (for node sets, the missing names, folded), so a typo in
//! an exclusion never silently widens a run. A node set after `&` or `!` only
//! narrows, so it may hold names no node has (`@web&web[001-999]`), as long
//! as it holds at least one node or group; it is tested name by name, never
//! expanded. An expression whose terms all
//! match but whose result is empty is an error too. Results are in inventory
//! order (sorted by name), except that an expression made only of `,`-joined
//! node names and node sets keeps the order given. Nothing here panics, on
//! any input.

mod ansible;
mod eval;
mod parse;

use parse::{Tok, ansible_steps, clustershell_steps, lex, syntax};

use super::matcher::Regex;
use super::{ALL_GROUP, Inventory, Node};
use crate::engine::common::error::{EngineError, FieldError};
use std::collections::HashSet;
use std::sync::Arc;

/// A target expression that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The expression is malformed; `part` is the offending piece.
    #[error("invalid target expression at {part:?}: {reason}")]
    Syntax { part: String, reason: String },
    /// These parts matched no node (or the whole result was empty).
    #[error("no node matched: {}", .parts.join(", "))]
    NoMatch { parts: Vec<String> },
}

impl From<TargetError> for EngineError {
    fn from(e: TargetError) -> EngineError {
        match e {
            TargetError::Syntax { .. } => EngineError::Validation(vec![FieldError {
                field: "targets".into(),
                reason: e.to_string(),
            }]),
            TargetError::NoMatch { parts } => EngineError::NoMatch { unmatched: parts },
        }
    }
}

/// A grammar target expressions are read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Grammar {
    /// Ansible host patterns (`ansible --list-hosts`).
    Ansible,
    /// ClusterShell node sets (`nodeset`, `clush -w`).
    #[default]
    Clush,
}

impl Grammar {
    /// The name users write (`--grammar`, `target_grammar`) and see.
    pub fn name(self) -> &'static str {
        match self {
            Grammar::Ansible => "ansible",
            Grammar::Clush => "clush",
        }
    }

    /// `ansible` or `clush`; `auto` is `Ok(None)`.
    pub fn parse_choice(text: &str) -> Result<Option<Grammar>, String> {
        match text {
            "auto" => Ok(None),
            "ansible" => Ok(Some(Grammar::Ansible)),
            "clush" => Ok(Some(Grammar::Clush)),
            other => Err(format!(
                "unknown target grammar {other:?} (auto, ansible or clush)"
            )),
        }
    }
}

impl std::fmt::Display for Grammar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What an expression selected, in order, and what the user should hear.
#[derive(Debug, Clone)]
pub struct Selection {
    pub nodes: Vec<Arc<Node>>,
    /// Parts that matched nothing (Ansible grammar), and the like.
    pub warnings: Vec<String>,
    pub grammar: Grammar,
}

/// Selects with `grammar`; the implicit `localhost` only when named.
pub fn select_with(
    inv: &Inventory,
    expr: &str,
    grammar: Grammar,
) -> Result<Selection, TargetError> {
    match grammar {
        Grammar::Ansible => ansible::select(inv, expr),
        Grammar::Clush => {
            let mut nodes = select(inv, expr)?;
            if let Some(implicit) = inv.implicit_localhost()
                && !names_localhost(expr)
            {
                nodes.retain(|n| !Arc::ptr_eq(n, implicit));
                if nodes.is_empty() {
                    return Err(TargetError::NoMatch {
                        parts: vec![expr.trim().to_string()],
                    });
                }
            }
            Ok(Selection {
                nodes,
                warnings: Vec::new(),
                grammar,
            })
        }
    }
}

/// Whether a ClusterShell expression names `localhost` as one of its terms.
fn names_localhost(expr: &str) -> bool {
    expr.split([',', '&', '!', '^', ':'])
        .any(|t| t.trim().trim_start_matches('@') == super::LOCALHOST)
}

/// Which evaluation rule an expression uses (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    ClusterShell,
    Ansible,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Intersect,
    Difference,
    SymDiff,
}

#[derive(Debug, Clone)]
enum Base {
    All,
    /// Names or a node set, each a node or else a group.
    Names(String),
    Glob(String),
    Regex(Regex),
    Group {
        source: Option<String>,
        name: String,
    },
}

#[derive(Debug, Clone)]
struct Term {
    text: String,
    base: Base,
}

/// A parsed target expression, ready to be evaluated against inventories.
#[derive(Debug, Clone)]
pub struct TargetExpr {
    text: String,
    rule: Rule,
    steps: Vec<(Op, Term)>,
}

/// Parses and evaluates `expr` against `inv` in one go.
pub fn select(inv: &Inventory, expr: &str) -> Result<Vec<Arc<Node>>, TargetError> {
    TargetExpr::parse(expr)?.select(inv)
}

impl TargetExpr {
    /// Parses `expr`; syntax errors name the offending part.
    pub fn parse(expr: &str) -> Result<TargetExpr, TargetError> {
        let toks = lex(expr)?;
        let ansible = toks.iter().enumerate().any(|(i, t)| {
            *t == Tok::Op(':')
                || (*t == Tok::Op(',') && matches!(toks.get(i + 1), Some(Tok::Op('&' | '!'))))
        });
        let (rule, steps) = if ansible {
            (Rule::Ansible, ansible_steps(&toks)?)
        } else {
            (Rule::ClusterShell, clustershell_steps(&toks)?)
        };
        if steps.is_empty() {
            return Err(syntax(expr, "empty target expression"));
        }
        let mut steps = steps;
        if steps[0].0 != Op::Union {
            let all = Term {
                text: ALL_GROUP.into(),
                base: Base::All,
            };
            steps.insert(0, (Op::Union, all));
        }
        Ok(TargetExpr {
            text: expr.trim().to_string(),
            rule,
            steps,
        })
    }

    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// The selected nodes, or every part that matched nothing.
    pub fn select(&self, inv: &Inventory) -> Result<Vec<Arc<Node>>, TargetError> {
        let mut unmatched = Vec::new();
        let mut order: Vec<String> = Vec::new();
        let mut plain = true;
        for (op, term) in &self.steps {
            if matches!(op, Op::Intersect | Op::Difference)
                && let Some(keep) = eval::filter_term(inv, term)
            {
                let Ok(keep) = keep else {
                    unmatched.push(term.text.clone());
                    continue;
                };
                plain = false;
                let intersect = *op == Op::Intersect;
                order.retain(|n| keep(n) == intersect);
                continue;
            }
            let (names, term_plain) = match eval::eval_term(inv, term) {
                Ok(found) => found,
                Err(part) => {
                    unmatched.push(part);
                    continue;
                }
            };
            plain &= term_plain && *op == Op::Union;
            let right: HashSet<&str> = names.iter().map(String::as_str).collect();
            match op {
                Op::Union => {
                    let have: HashSet<String> = order.iter().cloned().collect();
                    order.extend(names.iter().filter(|n| !have.contains(*n)).cloned());
                }
                Op::Intersect => order.retain(|n| right.contains(n.as_str())),
                Op::Difference => order.retain(|n| !right.contains(n.as_str())),
                Op::SymDiff => {
                    let left: HashSet<String> = order.iter().cloned().collect();
                    order.retain(|n| !right.contains(n.as_str()));
                    order.extend(names.iter().filter(|n| !left.contains(*n)).cloned());
                }
            }
        }
        if !unmatched.is_empty() {
            return Err(TargetError::NoMatch { parts: unmatched });
        }
        if order.is_empty() {
            return Err(TargetError::NoMatch {
                parts: vec![self.text.clone()],
            });
        }
        if !plain {
            order = match self.rule {
                // `nodeset -e` order: `n2` before `n10`, `da1c2` before `da2c1`.
                Rule::ClusterShell => super::nodeset::sorted(order.iter().map(String::as_str)),
                Rule::Ansible => {
                    order.sort();
                    order
                }
            };
        }
        Ok(order.iter().filter_map(|n| inv.node(n).cloned()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_detection() {
        let rule = |e: &str| TargetExpr::parse(e).map(|t| t.rule());
        assert_eq!(rule("web*:&prod:!db01"), Ok(Rule::Ansible));
        assert_eq!(rule("web*,&prod,!db01"), Ok(Rule::Ansible));
        assert_eq!(rule("@src:web"), Ok(Rule::ClusterShell));
        assert_eq!(rule("@src:web:!db01"), Ok(Rule::Ansible));
        assert_eq!(rule("a,b&c!d^e"), Ok(Rule::ClusterShell));
        assert_eq!(rule("~^db\\d+"), Ok(Rule::ClusterShell));
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "",
            " , ",
            ",a",
            "a,,b",
            "a,",
            "a&",
            "a&&b",
            "a:b&c",
            "a:b^c",
            "web[1-3",
            "web1]",
            "~(",
            "a b",
            "@",
            "@:x",
            "^a",
            "x[1:-2]",
            "[0:1]",
            "a@b",
            "web[01:03]",
        ] {
            assert!(
                matches!(TargetExpr::parse(bad), Err(TargetError::Syntax { .. })),
                "{bad:?} should be a syntax error"
            );
        }
    }
}
