//! Stopping an attempt: why the executor stopped it, and waiting for the stopped
//! transport no longer than its own bound.

use crate::engine::common::duration::format_duration;
use crate::engine::common::error::ErrorCategory;
use crate::engine::transport::{ExitInfo, TransportError};
use std::time::Duration;

/// Why the executor stopped an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StopReason {
    Timeout,
    Cancelled,
}

/// Waits for a stopped transport, for `bound` at most (a transport that does not
/// keep its own bound must not hold the run: its node ends unconfirmed).
pub(super) async fn bounded_stop<F>(run: std::pin::Pin<&mut F>, bound: Duration) -> F::Output
where
    F: std::future::Future<Output = Result<ExitInfo, TransportError>>,
{
    match tokio::time::timeout(bound, run).await {
        Ok(r) => r,
        Err(_) => Err(TransportError::new(
            ErrorCategory::Connection,
            format!(
                "remote kill unconfirmed: the transport did not end the command within {}",
                format_duration(bound)
            ),
        )),
    }
}

/// Polls a future once: its output if it is already done.
pub(super) async fn poll_once<F: std::future::Future>(
    fut: std::pin::Pin<&mut F>,
) -> Option<F::Output> {
    let mut fut = fut;
    match std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await {
        std::task::Poll::Ready(out) => Some(out),
        std::task::Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_transport_that_overruns_its_bound_ends_unconfirmed() {
        let run = std::future::pending::<Result<ExitInfo, TransportError>>();
        tokio::pin!(run);
        let err = bounded_stop(run.as_mut(), Duration::from_millis(20))
            .await
            .expect_err("the bound ends the wait");
        assert_eq!(err.category, ErrorCategory::Connection);
        assert!(
            err.reason.starts_with("remote kill unconfirmed") && err.reason.contains("20ms"),
            "{}",
            err.reason
        );
    }

    #[tokio::test]
    async fn a_transport_that_stops_in_time_keeps_its_result() {
        let run = async {
            tokio::task::yield_now().await;
            Ok(ExitInfo {
                code: None,
                signal: Some(15),
            })
        };
        tokio::pin!(run);
        let r = bounded_stop(run.as_mut(), Duration::from_secs(60)).await;
        assert_eq!(r.expect("in time").signal, Some(15));
    }

    #[tokio::test]
    async fn poll_once_takes_only_what_is_ready() {
        let ready = std::future::ready(7);
        tokio::pin!(ready);
        assert_eq!(poll_once(ready.as_mut()).await, Some(7));
        let pending = std::future::pending::<u8>();
        tokio::pin!(pending);
        assert_eq!(poll_once(pending.as_mut()).await, None);
    }
}
