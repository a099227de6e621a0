//! Membership in a node set without expanding it: `node[00001-99999]`
//! holds `node04217` if the name splits into the item's literals and
//! numbers that its ranges print. Selecting 10,000 nodes out of a
//! 100,000-name set then costs 10,000 checks, not 100,000 allocations.

use super::{Item, Range, Segment};

impl Item<'_> {
    /// Whether the item expands to `name`.
    pub(super) fn contains(&self, name: &str) -> bool {
        matches(&self.segments, name)
    }
}

/// The longest number a range prints: `u64::MAX` has 20 digits, and a
/// padded bound is as long as its width.
fn longest_number(ranges: &[Range]) -> usize {
    ranges.iter().map(|r| r.width.max(20)).max().unwrap_or(0)
}

/// Tries every split of the leading digits, since a range may be followed
/// by a literal starting with a digit or by another range (`[1-2][0-9]`).
fn matches(segments: &[Segment<'_>], name: &str) -> bool {
    match segments.split_first() {
        None => name.is_empty(),
        Some((Segment::Literal(text), rest)) => name
            .strip_prefix(text)
            .is_some_and(|tail| matches(rest, tail)),
        Some((Segment::Ranges(ranges), rest)) => {
            let sign = usize::from(name.starts_with('-'));
            let digits = name[sign..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count()
                .min(longest_number(ranges));
            (1..=digits).any(|len| {
                let (number, tail) = name.split_at(sign + len);
                ranges.iter().any(|r| r.prints(number)) && matches(rest, tail)
            })
        }
    }
}

impl Range {
    /// Whether one of the range's values is written `number` (ASCII digits
    /// after an optional `-`): the value is in the range and on its step,
    /// and `number` is that value zero-padded to the range's width, no
    /// more, no less.
    fn prints(&self, number: &str) -> bool {
        let (negative, digits) = match number.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, number),
        };
        let Ok(magnitude) = digits.parse::<u64>() else {
            return false;
        };
        let v = if negative {
            -i128::from(magnitude)
        } else {
            i128::from(magnitude)
        };
        let written = magnitude.checked_ilog10().map_or(1, |l| l as usize + 1);
        // `-0` is never printed: zero is written `0`.
        (self.start..=self.end).contains(&v)
            && !(negative && magnitude == 0)
            && (v - self.start) % self.step == 0
            && digits.len() == written.max(self.width)
    }
}
