//! Times as users type and read them, in UTC: the store keeps milliseconds since
//! the epoch, and the CLI needs only dates and "2h ago". Shared by the console
//! and batch output, so it lives here rather than with either.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;

use crate::engine::common::duration::parse_duration;
use crate::engine::common::ids::now_millis;

/// `2026-11-23`, `2026-11-23T14:05`, `2026-11-23 14:05:09Z`, or a duration ago
/// (`2h`, `30m`, `7d`).
pub fn parse_time(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(d) = parse_duration(s) {
        return Ok(now_millis() - d.as_millis() as i64);
    }
    parse_date_time(s).ok_or_else(|| {
        format!(
            "{s:?} is neither a time (2026-11-23, 2026-11-23T14:05:09Z) nor a duration ago (2h, 7d)"
        )
    })
}

fn parse_date_time(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    let civil: DateTime = s.replacen(' ', "T", 1).parse().ok()?;
    Some(Offset::UTC.to_timestamp(civil).ok()?.as_millisecond())
}

/// `2026-11-23 14:05:09` (UTC) for a millisecond timestamp; the bare number for
/// one outside the calendar's years -9999..=9999.
pub fn format_time(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => Offset::UTC
            .to_datetime(t)
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        Err(_) => format!("{ms} ms since 1970"),
    }
}

/// `340ms` under a second, `4.2s` under a minute, `3m07s` above: how long a
/// run or plan has taken (never `0.0s` for a quick one).
pub fn duration(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if d.as_secs() == 0 {
        format!("{}ms", d.subsec_millis())
    } else if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_format() {
        let ms = parse_time("2026-11-23T14:05:09Z").unwrap();
        assert_eq!(format_time(ms), "2026-11-23 14:05:09");
        assert_eq!(parse_time("1970-01-01").unwrap(), 0);
        assert!(parse_time("2026-13-01").is_err());
        assert!(parse_time("2026-02-30").is_err(), "no such day");
        assert_eq!(parse_time("2024-02-29 00:00").unwrap(), 1_709_164_800_000);
        assert_eq!(format_time(-1), "1969-12-31 23:59:59");
        assert_eq!(format_time(i64::MAX), format!("{} ms since 1970", i64::MAX));
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn short_durations_show_milliseconds() {
        use std::time::Duration;
        assert_eq!(duration(Duration::from_millis(340)), "340ms");
        assert_eq!(duration(Duration::from_millis(0)), "0ms");
        assert_eq!(duration(Duration::from_millis(999)), "999ms");
        assert_eq!(duration(Duration::from_millis(4_200)), "4.2s");
        assert_eq!(duration(Duration::from_secs(187)), "3m07s");
    }

    #[test]
    fn durations_mean_ago() {
        let t = parse_time("2h").unwrap();
        let expect = now_millis() - 7_200_000;
        assert!((t - expect).abs() < 5_000);
    }
}
