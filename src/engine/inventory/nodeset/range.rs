//! One bracket's ranges: `N`, `A-B`, `A-B/STEP`, negative bounds, zero
//! padding, and the digits that may touch a bracket, read as ClusterShell
//! reads them; and how a value is printed back.

use super::{NodeSetError, NodeSetErrorKind};

fn is_padded(digits: &str) -> bool {
    digits.len() > 1 && digits.starts_with('0')
}

/// `start..=end` by `step`, printed zero-padded to `width` digits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Range {
    pub(super) start: i128,
    pub(super) end: i128,
    pub(super) step: i128,
    pub(super) width: usize,
}

impl Range {
    /// Number of values; `None` when it does not fit in a `u64`.
    pub(super) fn len(&self) -> Option<u64> {
        u64::try_from((self.end - self.start) / self.step + 1).ok()
    }

    pub(super) fn holds(&self, v: i128) -> bool {
        (self.start..=self.end).contains(&v) && (v - self.start) % self.step == 0
    }

    pub(super) fn values(self) -> impl Iterator<Item = i128> {
        std::iter::successors(Some(self.start), move |&n| {
            n.checked_add(self.step).filter(|&next| next <= self.end)
        })
    }
}

/// Digits touching a bracket: ClusterShell glues digits before it to the
/// bounds of each run of consecutive values (`2[9-12]` is `29-212`, not
/// `29,210,211,212`) and refuses digits after a bracket with a step. Where
/// its reading and the plain one (the digits, then each value) differ, the
/// item is refused: drover never selects other nodes than `nodeset` would,
/// nor nodes the text does not show.
pub(super) fn check_digits_around(
    item: &str,
    before: &str,
    inside: &str,
    ranges: &[Range],
    after: &str,
) -> Result<(), NodeSetError> {
    let refuse = |kind| Err(NodeSetError::new(item, kind));
    if after.starts_with(|c: char| c.is_ascii_digit()) && inside.contains('/') {
        return refuse(NodeSetErrorKind::StepBeforeDigits);
    }
    if !before.ends_with(|c: char| c.is_ascii_digit()) {
        return Ok(());
    }
    if ranges.iter().any(|r| r.start < 0) {
        return refuse(NodeSetErrorKind::NegativeAfterDigits);
    }
    let holds = |v: i128| ranges.iter().any(|r| r.width == 0 && r.holds(v));
    let mut power: i128 = 10;
    for _ in 0..20 {
        if holds(power - 1) && holds(power) {
            return refuse(NodeSetErrorKind::GluedDigits);
        }
        power *= 10;
    }
    Ok(())
}

/// `N`, `-N`, `A-B` or `A-B/STEP`, where `A` and `B` may be negative
/// (`-3--1`, `-1-3`); whitespace around numbers is ignored. A padded bound
/// cannot be negative, as in ClusterShell.
pub(super) fn parse_range(spec: &str) -> Result<Range, NodeSetError> {
    let spec = spec.trim();
    let err = |kind| NodeSetError::new(spec, kind);
    if spec.is_empty() {
        return Err(err(NodeSetErrorKind::EmptyRange));
    }
    let (bounds, step) = match spec.split_once('/') {
        Some((bounds, step)) => (bounds, Some(step.trim())),
        None => (spec, None),
    };
    let step = match step {
        Some(s) => parse_signed(s).ok_or_else(|| err(NodeSetErrorKind::BadNumber))?,
        None => 1,
    };
    let parts: Vec<&str> = bounds.split('-').map(str::trim).collect();
    // (digits, negative) of each bound.
    let (lo, hi) = match parts.as_slice() {
        [single] if step != 1 => {
            if parse_number(single).is_none() {
                return Err(err(NodeSetErrorKind::BadNumber));
            }
            return Err(err(NodeSetErrorKind::StepWithoutRange));
        }
        [single] => ((*single, false), (*single, false)),
        ["", n] => ((*n, true), (*n, true)),
        [a, b] => ((*a, false), (*b, false)),
        ["", a, b] => ((*a, true), (*b, false)),
        ["", a, "", b] => ((*a, true), (*b, true)),
        _ => return Err(err(NodeSetErrorKind::BadNumber)),
    };
    let value = |(digits, negative): (&str, bool)| {
        parse_number(digits).map(|n| {
            if negative {
                -i128::from(n)
            } else {
                i128::from(n)
            }
        })
    };
    let start = value(lo).ok_or_else(|| err(NodeSetErrorKind::BadNumber))?;
    let end = value(hi).ok_or_else(|| err(NodeSetErrorKind::BadNumber))?;
    if (is_padded(lo.0) || is_padded(hi.0)) && lo.0.len() != hi.0.len() {
        return Err(err(NodeSetErrorKind::PaddingMismatch));
    }
    if is_padded(lo.0) && lo.1 {
        return Err(err(NodeSetErrorKind::NegativePadding));
    }
    if start > end {
        return Err(err(NodeSetErrorKind::ReversedRange));
    }
    if step < 1 {
        return Err(err(NodeSetErrorKind::ZeroStep));
    }
    let width = if is_padded(lo.0) { lo.0.len() } else { 0 };
    Ok(Range {
        start,
        end,
        step,
        width,
    })
}

/// Plain ASCII digits only: no sign, no `_`, fits in a `u64`.
fn parse_number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A step: digits, with an optional `-` (refused later as below 1).
fn parse_signed(s: &str) -> Option<i128> {
    match s.strip_prefix('-') {
        Some(digits) => parse_number(digits.trim()).map(|n| -i128::from(n)),
        None => parse_number(s).map(i128::from),
    }
}

/// Appends `v` in decimal, zero-padded to `width` digits (a negative
/// value is never padded: such ranges are refused).
pub(super) fn push_padded(out: &mut String, v: i128, width: usize) {
    if v < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 40];
    let mut i = digits.len();
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for _ in (digits.len() - i)..width {
        out.push('0');
    }
    // ASCII digits only.
    out.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
}
