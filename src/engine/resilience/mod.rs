//! Retry timing and which failures are worth another attempt; circuit breakers
//! (`breaker`) stop attempts against what keeps failing, team-wide through the
//! store (`shared`).

pub mod breaker;
pub(crate) mod shared;

use crate::engine::common::error::ErrorCategory;
use crate::engine::common::request::Backoff;
use serde::Deserialize;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Longest wait between two attempts, whatever the backoff says.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(300);

/// Delay before retry number `retry` (1 = the first retry): linear is
/// `base × retry`, exponential is `base × 2^(retry-1)`, both capped.
pub fn retry_delay(backoff: Backoff, base: Duration, retry: u32) -> Duration {
    let retry = retry.max(1);
    let d = match backoff {
        Backoff::Linear => base.saturating_mul(retry),
        Backoff::Exponential => base.saturating_mul(2u32.saturating_pow(retry - 1)),
    };
    d.min(MAX_RETRY_DELAY)
}

/// `delay` moved by up to ±`fraction` of itself at random, so nodes that failed
/// together do not all retry in the same instant.
pub fn jittered(delay: Duration, fraction: f64) -> Duration {
    let fraction = fraction.clamp(0.0, 1.0);
    if fraction == 0.0 || delay.is_zero() {
        return delay;
    }
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(delay.as_nanos());
    let unit = (h.finish() >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
    delay.mul_f64(1.0 + fraction * (2.0 * unit - 1.0))
}

/// `[retry]` in the config file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySettings {
    /// Error categories worth another attempt.
    pub on: Vec<ErrorCategory>,
    /// Random spread of each delay, as a fraction of it (0 to 1).
    pub jitter: f64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            on: vec![ErrorCategory::Connection, ErrorCategory::Timeout],
            jitter: 0.2,
        }
    }
}

impl RetrySettings {
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(("jitter", format!("{} is not between 0 and 1", self.jitter)));
        }
        if let Some(c) = self
            .on
            .iter()
            .find(|c| matches!(c, ErrorCategory::Validation | ErrorCategory::Authorization))
        {
            return Err(("on", format!("{c} failures never change on a retry")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_its_fraction_and_varies() {
        let d = Duration::from_millis(1000);
        let seen: std::collections::BTreeSet<Duration> =
            (0..50).map(|_| jittered(d, 0.2)).collect();
        assert!(
            seen.iter()
                .all(|j| *j >= Duration::from_millis(800) && *j <= Duration::from_millis(1200))
        );
        assert!(seen.len() > 1, "no spread");
        assert_eq!(jittered(d, 0.0), d);
    }

    #[test]
    fn linear_and_exponential_grow_as_documented() {
        let b = Duration::from_millis(100);
        assert_eq!(
            retry_delay(Backoff::Linear, b, 3),
            Duration::from_millis(300)
        );
        assert_eq!(
            retry_delay(Backoff::Exponential, b, 4),
            Duration::from_millis(800)
        );
        assert_eq!(retry_delay(Backoff::Exponential, b, 60), MAX_RETRY_DELAY);
    }
}
