//! ClusterShell-style node sets: `web[01-03,07]` ⇄ `web01,web02,web03,web07`.
//!
//! Operators already think in the notation of `clush`/`nodeset`/`pdsh`, so
//! we read and print the same thing. The semantics follow ClusterShell 1.9:
//!
//! * a range's zero padding is taken from its bounds: `[08-11]` gives
//!   `08 09 10 11`, `[8-11]` gives `8 9 10 11`; a padded bound must have the
//!   same length as the other bound (`[08-100]` is an error);
//! * indexes with different padding are different nodes: `n1` and `n01`
//!   fold to `n[1,01]`;
//! * `[1-9/2]` steps, and several brackets in one name form a cartesian
//!   product (`rack[1-2]node[01-04]`);
//! * bounds may be negative (`[-3--1]` gives `-3 -2 -1`, `[-1-1]` gives
//!   `-1 0 1`), but not zero-padded then; whitespace around a bound is
//!   ignored (`[ 1 - 3 ]`).
//!
//! Node names containing `,`, `[` or `]` cannot be represented.

mod member;
mod order;
mod range;

use range::{Range, check_digits_around, parse_range, push_padded};

use std::collections::HashSet;
use std::fmt;

/// Most names [`expand`] will produce. A typo like `node[1-9999999]` must
/// fail at once, naming the expression, instead of building millions of
/// names to find that no node has them (`NodeSet::contains` answers
/// membership without this limit's cost).
pub const MAX_EXPANSION: usize = 1_000_000;

/// What is wrong with a node set pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeSetErrorKind {
    /// A `[` without `]`, a `]` without `[`, or nested brackets.
    UnbalancedBracket,
    /// Nothing between two commas (or brackets) inside `[...]`.
    EmptyRange,
    /// `[9-1]`: the start is greater than the end.
    ReversedRange,
    /// Not an integer of at most 20 digits (`-` only as a sign).
    BadNumber,
    /// `[1-9/0]`.
    ZeroStep,
    /// `[5/2]`: a step needs a range.
    StepWithoutRange,
    /// `[08-100]`: a zero-padded bound and the other bound differ in length.
    PaddingMismatch,
    /// `[-03--01]`: a negative bound cannot be zero-padded.
    NegativePadding,
    /// `prod-2[-1-3]`: a negative bound right after digits.
    NegativeAfterDigits,
    /// `n2[9-10]`: digits before a bracket whose consecutive values change
    /// length, which ClusterShell reads as one range (`29-210`).
    GluedDigits,
    /// `n[1-5/2]0`: digits after a bracket with a step.
    StepBeforeDigits,
    /// The pattern would expand to more than [`MAX_EXPANSION`] names.
    TooLarge,
}

impl fmt::Display for NodeSetErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::UnbalancedBracket => "unbalanced or nested bracket",
            Self::EmptyRange => "empty range",
            Self::ReversedRange => "range start is greater than its end",
            Self::BadNumber => "not a valid integer",
            Self::ZeroStep => "step must be at least 1",
            Self::StepWithoutRange => "a step (/N) needs a range (A-B/N)",
            Self::PaddingMismatch => "zero-padded bounds must have the same length",
            Self::NegativePadding => "padding is not supported in negative ranges",
            Self::NegativeAfterDigits => {
                "a negative bound right after digits is ambiguous (ClusterShell joins the digits to it)"
            }
            Self::GluedDigits => {
                "digits before a bracket whose values change length are ambiguous \
                 (ClusterShell reads n2[9-10] as n[29-210]); write the digits inside"
            }
            Self::StepBeforeDigits => "digits after a bracket with a step (/N) are not allowed",
            Self::TooLarge => {
                return write!(
                    f,
                    "expands to more than {MAX_EXPANSION} names, the most a node set may expand to"
                );
            }
        };
        f.write_str(text)
    }
}

/// A pattern [`expand`] refused, naming the offending part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid node set {part:?}: {kind}")]
pub struct NodeSetError {
    /// The smallest piece of the input the error is about (a range like
    /// `9-1`, or a whole comma-separated item).
    pub part: String,
    pub kind: NodeSetErrorKind,
}

impl NodeSetError {
    fn new(part: &str, kind: NodeSetErrorKind) -> Self {
        Self {
            part: part.to_owned(),
            kind,
        }
    }
}

// ---------------------------------------------------------------- fold ---

pub use order::{fold, sorted};

// -------------------------------------------------------------- expand ---

/// Expand a comma-separated node set such as `web[01-03,07],db1`.
///
/// Items are separated by commas outside brackets; surrounding whitespace
/// and empty items are ignored. Each `[...]` holds comma-separated `N`,
/// `A-B` or `A-B/STEP` ranges; several brackets in one item form a
/// cartesian product with the leftmost varying slowest. Names come back in
/// pattern order with later duplicates removed. Refuses (without
/// allocating them) patterns of more than [`MAX_EXPANSION`] names.
pub fn expand(pattern: &str) -> Result<Vec<String>, NodeSetError> {
    Ok(NodeSet::parse(pattern)?.expand())
}

/// A parsed node set: checked like [`expand`] checks it, then expanded or
/// asked whether it holds a name ([`NodeSet::contains`]) without expanding.
pub struct NodeSet<'a> {
    items: Vec<Item<'a>>,
}

impl<'a> NodeSet<'a> {
    /// Parses `pattern`, with the errors [`expand`] gives (including
    /// [`NodeSetErrorKind::TooLarge`]), but allocates no name.
    pub fn parse(pattern: &'a str) -> Result<NodeSet<'a>, NodeSetError> {
        let items = split_items(pattern)?
            .into_iter()
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(parse_item)
            .collect::<Result<Vec<_>, _>>()?;
        let mut total: usize = 0;
        for item in &items {
            total = item
                .count()
                .and_then(|n| total.checked_add(n))
                .filter(|&n| n <= MAX_EXPANSION)
                .ok_or_else(|| NodeSetError::new(item.text, NodeSetErrorKind::TooLarge))?;
        }
        Ok(NodeSet { items })
    }

    /// Whether `name` is one of the names [`NodeSet::expand`] gives.
    pub fn contains(&self, name: &str) -> bool {
        self.items.iter().any(|item| item.contains(name))
    }

    /// Every name, in pattern order, later duplicates removed.
    pub fn expand(&self) -> Vec<String> {
        let total = self.items.iter().filter_map(Item::count).sum();
        let mut names = Vec::with_capacity(total);
        for item in &self.items {
            item.expand_into(&mut names);
        }
        // One item with at most one single-range bracket cannot repeat a
        // name: the common `node[00001-99999]` skips hashing every name.
        let unique = self.items.len() == 1
            && self.items[0]
                .segments
                .iter()
                .filter_map(|s| match s {
                    Segment::Ranges(r) => Some(r.len()),
                    Segment::Literal(_) => None,
                })
                .try_fold(0, |brackets, ranges| {
                    (ranges == 1 && brackets == 0).then_some(brackets + 1)
                })
                .is_some();
        if unique {
            names
        } else {
            dedup_keep_order(names)
        }
    }
}

/// Split on commas outside brackets, checking that brackets balance.
fn split_items(pattern: &str) -> Result<Vec<&str>, NodeSetError> {
    let mut items = Vec::new();
    let mut open: Option<usize> = None;
    let mut start = 0;
    for (i, c) in pattern.char_indices() {
        match (c, open) {
            ('[', None) => open = Some(i),
            (']', Some(_)) => open = None,
            ('[', Some(_)) | (']', None) => {
                return Err(unbalanced(enclosing_item(pattern, i)));
            }
            (',', None) => {
                items.push(&pattern[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if let Some(i) = open {
        return Err(unbalanced(enclosing_item(pattern, i)));
    }
    items.push(&pattern[start..]);
    Ok(items)
}

/// The text between the commas around byte `at`, for error messages.
fn enclosing_item(pattern: &str, at: usize) -> &str {
    let start = pattern[..at].rfind(',').map_or(0, |i| i + 1);
    let end = pattern[at..].find(',').map_or(pattern.len(), |i| at + i);
    pattern[start..end].trim()
}

fn unbalanced(part: &str) -> NodeSetError {
    NodeSetError::new(part, NodeSetErrorKind::UnbalancedBracket)
}

/// One comma-separated item: literal text and bracketed range lists.
struct Item<'a> {
    text: &'a str,
    segments: Vec<Segment<'a>>,
}

enum Segment<'a> {
    Literal(&'a str),
    Ranges(Vec<Range>),
}

/// Brackets are known to be balanced and unnested (`split_items`).
fn parse_item(text: &str) -> Result<Item<'_>, NodeSetError> {
    let mut segments = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let close = rest[open..]
            .find(']')
            .map(|i| open + i)
            .ok_or_else(|| unbalanced(text))?;
        if open > 0 {
            segments.push(Segment::Literal(&rest[..open]));
        }
        let ranges = rest[open + 1..close]
            .split(',')
            .map(parse_range)
            .collect::<Result<Vec<_>, _>>()?;
        check_digits_around(
            text,
            &rest[..open],
            &rest[open + 1..close],
            &ranges,
            &rest[close + 1..],
        )?;
        segments.push(Segment::Ranges(ranges));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        segments.push(Segment::Literal(rest));
    }
    Ok(Item { text, segments })
}

impl Item<'_> {
    /// Number of names, or `None` if it does not even fit in a `usize`.
    fn count(&self) -> Option<usize> {
        self.segments.iter().try_fold(1usize, |acc, segment| {
            let n = match segment {
                Segment::Literal(_) => 1,
                Segment::Ranges(ranges) => ranges.iter().try_fold(0usize, |sum, r| {
                    sum.checked_add(usize::try_from(r.len()?).ok()?)
                })?,
            };
            acc.checked_mul(n)
        })
    }

    /// Cartesian product over the segments, leftmost slowest. Each name is
    /// allocated once at its final size and numbers are written by hand:
    /// expanding 100,000 names is dominated by these two costs.
    fn expand_into(&self, out: &mut Vec<String>) {
        let longest: usize = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(text) => text.len(),
                Segment::Ranges(ranges) => {
                    ranges.iter().map(|r| r.width.max(20)).max().unwrap_or(0)
                }
            })
            .sum();
        let mut names = vec![String::with_capacity(longest)];
        for segment in &self.segments {
            names = match segment {
                Segment::Literal(text) => names
                    .into_iter()
                    .map(|mut name| {
                        name.push_str(text);
                        name
                    })
                    .collect(),
                Segment::Ranges(ranges) => {
                    let mut next = Vec::new();
                    for name in &names {
                        for r in ranges {
                            for v in r.values() {
                                let mut n = String::with_capacity(longest);
                                n.push_str(name);
                                push_padded(&mut n, v, r.width);
                                next.push(n);
                            }
                        }
                    }
                    next
                }
            };
        }
        out.extend(names);
    }
}

/// Drop later duplicates (`web[1-3],web2`) without cloning the names.
fn dedup_keep_order(names: Vec<String>) -> Vec<String> {
    let keep: Vec<bool> = {
        let mut seen = HashSet::with_capacity(names.len());
        names.iter().map(|n| seen.insert(n.as_str())).collect()
    };
    names
        .into_iter()
        .zip(keep)
        .filter_map(|(name, keep)| keep.then_some(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(p: &str) -> Vec<String> {
        match expand(p) {
            Ok(v) => v,
            Err(e) => panic!("{p:?}: {e}"),
        }
    }

    fn kind(p: &str) -> NodeSetErrorKind {
        match expand(p) {
            Ok(v) => panic!("{p:?} expanded to {v:?}"),
            Err(e) => e.kind,
        }
    }

    #[test]
    fn fold_examples() {
        assert_eq!(fold(["web01", "web02", "web03", "web07"]), "web[01-03,07]");
        assert_eq!(fold(["n1", "n2", "n10"]), "n[1-2,10]");
        assert_eq!(fold(["web01"]), "web01");
        assert_eq!(fold(["n01", "n1"]), "n[1,01]");
        assert_eq!(fold(["n08", "n09", "n10", "n9"]), "n[9,08-10]");
        assert_eq!(fold(["b", "a", "a"]), "a,b");
        assert_eq!(fold(["rack1node05", "rack1node06"]), "rack1node[05-06]");
        assert_eq!(fold(["n1-ib", "n2-ib", "n1"]), "n1,n[1-2]-ib");
        assert_eq!(fold(["web", "web1", "web2"]), "web,web[1-2]");
        assert_eq!(fold([""]), "");
        assert_eq!(fold(Vec::<&str>::new()), "");
        // Every digit run is an axis, as `nodeset -f` folds them.
        let da = ["da1c1", "da1c2", "da2c1", "da2c2", "da3c1", "da3c2"];
        assert_eq!(fold(da), "da[1-3]c[1-2]");
        let racks = ["r1n2", "r1n1", "r2n1", "r2n2", "r3n1"];
        assert_eq!(fold(racks), "r[1-2]n[1-2],r3n1");
        assert_eq!(fold(["x%y1", "x%y2", "x1"]), "x%y[1-2],x1");
    }

    #[test]
    fn sorted_is_nodeset_e_order() {
        assert_eq!(sorted(["n10", "n01", "n2", "n2"]), ["n2", "n01", "n10"]);
        assert_eq!(sorted(["n2-ib", "n1", "n1-ib"]), ["n1", "n1-ib", "n2-ib"]);
        assert_eq!(
            sorted(["r3n1", "r2n2", "r1n1", "r2n1", "r1n2"]),
            ["r1n1", "r1n2", "r2n1", "r2n2", "r3n1"]
        );
    }

    #[test]
    fn expand_examples() {
        assert_eq!(
            exp("node[01-03,15]"),
            ["node01", "node02", "node03", "node15"]
        );
        assert_eq!(exp("n[1-9/2]"), ["n1", "n3", "n5", "n7", "n9"]);
        assert_eq!(exp("n[08-11]"), ["n08", "n09", "n10", "n11"]);
        assert_eq!(exp("n[8-11]"), ["n8", "n9", "n10", "n11"]);
        assert_eq!(
            exp("rack[1-2]node[01-02]"),
            ["rack1node01", "rack1node02", "rack2node01", "rack2node02"]
        );
        assert_eq!(exp("a, b ,c[1]-x"), ["a", "b", "c1-x"]);
        assert_eq!(exp("n[1-3],n2"), ["n1", "n2", "n3"]);
        assert_eq!(exp("[1-2]"), ["1", "2"]);
        assert_eq!(exp(""), Vec::<String>::new());
        assert_eq!(exp("a,,b,"), ["a", "b"]);
        assert_eq!(exp("n[ 1 - 2 ]"), ["n1", "n2"]);
        assert_eq!(exp("n[18446744073709551615]"), ["n18446744073709551615"]);
        assert_eq!(exp("n[1-2,2-3]"), ["n1", "n2", "n3"]);
        assert_eq!(exp("n[0098-0100]"), ["n0098", "n0099", "n0100"]);
        assert_eq!(exp("n[-1-1]"), ["n-1", "n0", "n1"]);
        assert_eq!(exp("n[-3--1]"), ["n-3", "n-2", "n-1"]);
        assert_eq!(exp("n[- 1 -1]"), ["n-1", "n0", "n1"]);
        assert_eq!(exp("n[-10-1/3]"), ["n-10", "n-7", "n-4", "n-1"]);
        assert_eq!(exp("n[-0]"), ["n0"]);
        assert_eq!(exp("prod-2[10-12]"), ["prod-210", "prod-211", "prod-212"]);
        assert_eq!(exp("n2[9,11]"), ["n29", "n211"]);
        assert_eq!(exp("n2[08-10]"), ["n208", "n209", "n210"]);
        assert_eq!(exp("n[9-10]1"), ["n91", "n101"]);
    }

    #[test]
    fn names_repeated_across_brackets_are_dropped() {
        // "x1" + "11" and "x11" + "1" are the same name.
        let names = exp("x[1-11][1-11]");
        let unique: HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert_eq!(names.len(), 120);
    }

    #[test]
    fn expand_errors() {
        use NodeSetErrorKind::*;
        assert_eq!(kind("web[1-3"), UnbalancedBracket);
        assert_eq!(kind("web1-3]"), UnbalancedBracket);
        assert_eq!(kind("web[[1]]"), UnbalancedBracket);
        assert_eq!(kind("web[]"), EmptyRange);
        assert_eq!(kind("web[1,]"), EmptyRange);
        assert_eq!(kind("web[9-1]"), ReversedRange);
        assert_eq!(kind("web[a-3]"), BadNumber);
        assert_eq!(kind("web[1-2-3]"), BadNumber);
        assert_eq!(kind("web[--1]"), BadNumber);
        assert_eq!(kind("web[5-1-3]"), BadNumber);
        assert_eq!(kind("web[1--3]"), BadNumber);
        assert_eq!(kind("web[-03--01]"), NegativePadding);
        assert_eq!(kind("web[-3--5]"), ReversedRange);
        assert_eq!(kind("prod-2[-1-3]"), NegativeAfterDigits);
        assert_eq!(kind("n2[9-12]"), GluedDigits);
        assert_eq!(kind("n2[9,10]"), GluedDigits);
        assert_eq!(kind("n[1-5/2]0"), StepBeforeDigits);
        assert_eq!(kind("web[99999999999999999999]"), BadNumber);
        assert_eq!(kind("web[1-9/0]"), ZeroStep);
        assert_eq!(kind("web[5/2]"), StepWithoutRange);
        assert_eq!(kind("web[08-100]"), PaddingMismatch);
        assert_eq!(kind("web[1-1000001]"), TooLarge);
        assert_eq!(kind("a[1-4000],b[1-4000]c[1-4000]"), TooLarge);
        assert_eq!(kind("n[0-18446744073709551615]"), TooLarge);
    }

    #[test]
    fn errors_name_the_part() {
        let err = expand("ok[1-2],web[9-1]").err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("invalid node set \"9-1\": range start is greater than its end".into())
        );
        let err = expand("ok,web[1-3,db").err();
        assert_eq!(err.map(|e| e.part), Some("web[1-3".into()));
    }

    #[test]
    fn large_step_does_not_overflow() {
        assert_eq!(
            exp("n[18446744073709551614-18446744073709551615/7]"),
            ["n18446744073709551614"]
        );
    }
}
