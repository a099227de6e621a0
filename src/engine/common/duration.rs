//! Durations as users type them (timeouts, intervals) and as we show them.
//!
//! The input syntax is OpenSSH's time format (`sshd_config(5)`, "TIME
//! FORMATS"), which operators already know from `ConnectTimeout` and
//! friends, plus `ms` and decimal fractions because command timeouts below
//! a second are common. The output of [`format_duration`] is itself
//! accepted by [`parse_duration`].

use std::time::Duration;

/// Shown in every error so the user learns the syntax from the mistake.
const ACCEPTED: &str = "expected seconds (`30`) or numbers with units ms, s, m, h, d, w \
     (case-insensitive, may be combined), e.g. `500ms`, `1.5s`, `1m30s`, `2h`";

const NANOS_PER_MILLI: u128 = 1_000_000;
const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Fraction digits beyond this are below nanosecond resolution for every
/// unit and would only risk overflow, so they are ignored.
const MAX_FRACTION_DIGITS: usize = 18;

/// Why a duration string was rejected; every variant quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing (or only whitespace) was given.
    #[error("empty duration: {ACCEPTED}")]
    Empty,
    /// A leading `-`: timeouts and intervals cannot be negative.
    #[error("invalid duration {input:?}: negative durations are not allowed; {ACCEPTED}")]
    Negative { input: String },
    /// Letters after a number that are not one of the known units.
    #[error("invalid duration {input:?}: unknown unit {unit:?}; {ACCEPTED}")]
    UnknownUnit { input: String, unit: String },
    /// The value does not fit in a [`Duration`].
    #[error("invalid duration {input:?}: too large")]
    Overflow { input: String },
    /// Anything else that does not match the syntax.
    #[error("invalid duration {input:?}: {reason}; {ACCEPTED}")]
    Syntax { input: String, reason: &'static str },
}

/// Parse a duration such as `30`, `500ms`, `1.5s`, `1m30s` or `1h5M`.
///
/// A number without a unit means seconds; it is allowed only as the last
/// part (`1m30` is 90 s, as in OpenSSH). Units are `ms`, `s`, `m`, `h`, `d`
/// (24 h) and `w` (7 d), in any case and order; repeated parts add up.
/// Every number may have a decimal fraction (`1.5h`); precision is
/// truncated to nanoseconds. Surrounding whitespace is ignored, inner
/// whitespace is not accepted.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let input = s.trim();
    if input.is_empty() {
        return Err(DurationError::Empty);
    }
    if input.starts_with('-') {
        return Err(DurationError::Negative {
            input: input.to_owned(),
        });
    }
    let mut total: u128 = 0;
    let mut rest = input;
    while !rest.is_empty() {
        let (nanos, tail) = parse_part(rest, input)?;
        total = total.checked_add(nanos).ok_or_else(|| overflow(input))?;
        rest = tail;
    }
    nanos_to_duration(total).ok_or_else(|| overflow(input))
}

/// One `<number>[unit]` part: its value in nanoseconds and the rest.
fn parse_part<'s>(part: &'s str, input: &str) -> Result<(u128, &'s str), DurationError> {
    let (whole, fraction, rest) = split_number(part, input)?;
    let unit_len = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    let (unit, rest) = rest.split_at(unit_len);
    if unit.is_empty() && !rest.is_empty() {
        return Err(syntax(input, "unexpected character after a number"));
    }
    let unit_nanos = unit_nanos(unit).ok_or_else(|| DurationError::UnknownUnit {
        input: input.to_owned(),
        unit: unit.to_owned(),
    })?;
    let nanos = scale(whole, fraction, unit_nanos).ok_or_else(|| overflow(input))?;
    Ok((nanos, rest))
}

/// Split `12.5rest` into `("12", "5", "rest")`; the fraction may be empty.
fn split_number<'s>(s: &'s str, input: &str) -> Result<(&'s str, &'s str, &'s str), DurationError> {
    let digits = |t: &str| t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n = digits(s);
    if n == 0 {
        return Err(syntax(input, "expected a number"));
    }
    let (whole, rest) = s.split_at(n);
    let Some(after_dot) = rest.strip_prefix('.') else {
        return Ok((whole, "", rest));
    };
    let f = digits(after_dot);
    if f == 0 {
        return Err(syntax(input, "expected digits after the decimal point"));
    }
    let (fraction, rest) = after_dot.split_at(f);
    Ok((whole, fraction, rest))
}

/// Nanoseconds per unit; the empty unit is seconds.
fn unit_nanos(unit: &str) -> Option<u128> {
    let secs = match unit.to_ascii_lowercase().as_str() {
        "ms" => return Some(NANOS_PER_MILLI),
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    Some(secs * NANOS_PER_SEC)
}

/// `whole.fraction * unit_nanos`, truncated, or `None` on overflow.
fn scale(whole: &str, fraction: &str, unit_nanos: u128) -> Option<u128> {
    let whole: u128 = whole.parse().ok()?;
    let mut nanos = whole.checked_mul(unit_nanos)?;
    let fraction = &fraction[..fraction.len().min(MAX_FRACTION_DIGITS)];
    if !fraction.is_empty() {
        let numerator: u128 = fraction.parse().ok()?;
        let denominator = 10u128.pow(u32::try_from(fraction.len()).ok()?);
        nanos = nanos.checked_add(numerator * unit_nanos / denominator)?;
    }
    Some(nanos)
}

fn nanos_to_duration(nanos: u128) -> Option<Duration> {
    let secs = u64::try_from(nanos / NANOS_PER_SEC).ok()?;
    let sub = u32::try_from(nanos % NANOS_PER_SEC).ok()?;
    Some(Duration::new(secs, sub))
}

fn overflow(input: &str) -> DurationError {
    DurationError::Overflow {
        input: input.to_owned(),
    }
}

fn syntax(input: &str, reason: &'static str) -> DurationError {
    DurationError::Syntax {
        input: input.to_owned(),
        reason,
    }
}

/// Short human form for status lines: `850ms`, `1.2s`, `2m05s`, `1h02m`,
/// `3d04h`.
///
/// Two significant units at most, so columns stay narrow; the value is
/// truncated (never rounded up), so `59.99s` shows as `59.9s`, not `60.0s`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0 => format!("{}ms", d.subsec_millis()),
        1..60 => format!("{secs}.{}s", d.subsec_millis() / 100),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        3600..86_400 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{:02}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> Duration {
        match parse_duration(s) {
            Ok(d) => d,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    #[test]
    fn plain_seconds() {
        assert_eq!(ok("30"), Duration::from_secs(30));
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok(" 7 "), Duration::from_secs(7));
        assert_eq!(ok("1.5"), Duration::from_millis(1500));
    }

    #[test]
    fn units_and_combinations() {
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("1m30s"), Duration::from_secs(90));
        assert_eq!(ok("1h5M"), Duration::from_secs(3900));
        assert_eq!(ok("2d"), Duration::from_secs(172_800));
        assert_eq!(ok("1W"), Duration::from_secs(604_800));
        assert_eq!(ok("1MS"), Duration::from_millis(1));
        assert_eq!(ok("1m30"), Duration::from_secs(90));
        assert_eq!(ok("1s1s"), Duration::from_secs(2));
        assert_eq!(ok("1.5h"), Duration::from_secs(5400));
        assert_eq!(ok("0.0000000015s"), Duration::from_nanos(1));
        assert_eq!(ok("1.0000000000000000000000001s"), Duration::from_secs(1));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(parse_duration("  "), Err(DurationError::Empty));
        assert!(matches!(
            parse_duration("-5s"),
            Err(DurationError::Negative { .. })
        ));
        assert_eq!(
            parse_duration("5sec"),
            Err(DurationError::UnknownUnit {
                input: "5sec".into(),
                unit: "sec".into()
            })
        );
        for bad in [
            "s", "5 s", "1.s", ".5s", "1..5s", "1m-5s", "+5", "1.5.2s", "30 ",
        ] {
            let trimmed_ok = bad == "30 ";
            assert_eq!(parse_duration(bad).is_ok(), trimmed_ok, "{bad:?}");
        }
    }

    #[test]
    fn rejects_overflow() {
        for big in [
            "18446744073709551616",
            "99999999999999999999999999999999999999999",
            "40000000000000w",
            "18446744073709551615s1s",
        ] {
            assert!(
                matches!(parse_duration(big), Err(DurationError::Overflow { .. })),
                "{big:?}"
            );
        }
        assert_eq!(ok("18446744073709551615"), Duration::from_secs(u64::MAX));
    }

    #[test]
    fn errors_quote_input_and_syntax() {
        let msg = match parse_duration("3x") {
            Err(e) => e.to_string(),
            Ok(d) => panic!("parsed as {d:?}"),
        };
        assert!(msg.contains("\"3x\""), "{msg}");
        assert!(msg.contains("1m30s"), "{msg}");
    }

    #[test]
    fn formats() {
        assert_eq!(format_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(format_duration(Duration::ZERO), "0ms");
        assert_eq!(format_duration(Duration::from_millis(1234)), "1.2s");
        assert_eq!(format_duration(Duration::from_millis(59_999)), "59.9s");
        assert_eq!(format_duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(format_duration(Duration::from_secs(3720)), "1h02m");
        assert_eq!(
            format_duration(Duration::from_secs(86_400 * 3 + 3600 * 4)),
            "3d04h"
        );
    }

    /// What `format_duration` keeps of a whole number of seconds.
    fn displayed(secs: u64) -> u64 {
        match secs {
            0..3600 => secs,
            3600..86_400 => secs - secs % 60,
            _ => secs - secs % 3600,
        }
    }

    proptest! {
        #[test]
        fn whole_seconds_round_trip(secs in 0u64..100_000_000) {
            let d = Duration::from_secs(secs);
            prop_assert_eq!(parse_duration(&secs.to_string()), Ok(d));
            let hms = format!("{}h{}m{}s", secs / 3600, secs % 3600 / 60, secs % 60);
            prop_assert_eq!(parse_duration(&hms), Ok(d));
            let shown = parse_duration(&format_duration(d));
            prop_assert_eq!(shown, Ok(Duration::from_secs(displayed(secs))));
        }

        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = parse_duration(&s);
        }
    }
}
