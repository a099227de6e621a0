//! Retry timing. Circuit breakers join this module with the orchestrator.

use super::request::Backoff;
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

#[cfg(test)]
mod tests {
    use super::*;

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
