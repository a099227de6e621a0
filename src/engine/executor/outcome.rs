//! How one attempt's end becomes a node status: the executor's own stop (timeout
//! or cancel) wins over what the transport reports, and an exit code, a signal or
//! a transport error each say why a node failed.

use super::stop::StopReason;
use crate::engine::common::duration::format_duration;
use crate::engine::common::error::ErrorCategory;
use crate::engine::report::result::NodeStatus;
use crate::engine::transport::{ExitInfo, TransportError};
use std::time::{Duration, Instant};

/// How one node's work ended, before bookkeeping.
pub(super) struct Outcome {
    pub(super) status: NodeStatus,
    pub(super) exit: ExitInfo,
    pub(super) error: Option<(ErrorCategory, String)>,
    pub(super) attempts: u32,
    pub(super) started: Option<Instant>,
}

impl Outcome {
    pub(super) fn not_started() -> Outcome {
        Outcome {
            status: NodeStatus::Cancelled,
            exit: ExitInfo::default(),
            error: Some((
                ErrorCategory::Execution,
                "cancelled before it started".into(),
            )),
            attempts: 0,
            started: None,
        }
    }

    /// A failure before the command could run (no transport, bad node config).
    pub(super) fn error(category: ErrorCategory, reason: String) -> Outcome {
        Outcome {
            status: NodeStatus::Failed,
            exit: ExitInfo::default(),
            error: Some((category, reason)),
            attempts: 0,
            started: None,
        }
    }
}

fn stopped_how(result: &Result<ExitInfo, TransportError>) -> String {
    match result {
        Ok(_) => "its processes were terminated".into(),
        Err(e) => e.reason.clone(),
    }
}

pub(super) fn classify(
    result: Result<ExitInfo, TransportError>,
    reason: Option<StopReason>,
    timeout: Option<Duration>,
    attempts: u32,
    started: Instant,
) -> Outcome {
    let mut o = Outcome {
        status: NodeStatus::Failed,
        exit: result.as_ref().copied().unwrap_or_default(),
        error: None,
        attempts,
        started: Some(started),
    };
    match (reason, result) {
        // What became of the processes is the transport's to say: an error after
        // the stop is why their end is not confirmed.
        (Some(StopReason::Timeout), r) => {
            o.status = NodeStatus::Timeout;
            let t = timeout.map(format_duration).unwrap_or_default();
            o.error = Some((
                ErrorCategory::Timeout,
                format!("timed out after {t}; {}", stopped_how(&r)),
            ));
        }
        (Some(StopReason::Cancelled), r) => {
            o.status = NodeStatus::Cancelled;
            o.error = Some((
                ErrorCategory::Execution,
                format!("cancelled; {}", stopped_how(&r)),
            ));
        }
        (None, Err(e)) => o.error = Some((e.category, e.reason)),
        (None, Ok(exit)) => match (exit.code, exit.signal) {
            (Some(0), _) => o.status = NodeStatus::Success,
            (Some(code), _) => {
                o.error = Some((ErrorCategory::Execution, format!("exited with code {code}")))
            }
            (None, Some(sig)) => {
                o.error = Some((ErrorCategory::Execution, format!("killed by signal {sig}")))
            }
            (None, None) => {
                o.error = Some((
                    ErrorCategory::Execution,
                    "ended without an exit status".into(),
                ))
            }
        },
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exit(code: Option<i32>, signal: Option<i32>) -> Result<ExitInfo, TransportError> {
        Ok(ExitInfo { code, signal })
    }

    fn run(r: Result<ExitInfo, TransportError>, reason: Option<StopReason>) -> Outcome {
        classify(r, reason, Some(Duration::from_secs(4)), 2, Instant::now())
    }

    fn why(o: &Outcome) -> (ErrorCategory, &str) {
        let (c, r) = o.error.as_ref().expect("an error");
        (*c, r.as_str())
    }

    #[test]
    fn exit_zero_is_the_only_success() {
        let o = run(exit(Some(0), None), None);
        assert_eq!(o.status, NodeStatus::Success);
        assert!(o.error.is_none());
        assert_eq!((o.attempts, o.exit.code), (2, Some(0)));
    }

    #[test]
    fn an_exit_code_a_signal_or_no_status_fail_and_say_which() {
        let o = run(exit(Some(3), None), None);
        assert_eq!(o.status, NodeStatus::Failed);
        assert_eq!(o.exit.code, Some(3));
        assert_eq!(why(&o), (ErrorCategory::Execution, "exited with code 3"));
        let o = run(exit(None, Some(9)), None);
        assert_eq!(why(&o), (ErrorCategory::Execution, "killed by signal 9"));
        let o = run(exit(None, None), None);
        assert_eq!(
            why(&o),
            (ErrorCategory::Execution, "ended without an exit status")
        );
    }

    #[test]
    fn a_transport_error_keeps_its_category_and_reason() {
        let e = TransportError::new(ErrorCategory::Connection, "connection reset");
        let o = run(Err(e), None);
        assert_eq!(o.status, NodeStatus::Failed);
        assert_eq!(why(&o), (ErrorCategory::Connection, "connection reset"));
    }

    #[test]
    fn a_timeout_wins_over_what_the_transport_reports() {
        let o = run(exit(Some(0), None), Some(StopReason::Timeout));
        assert_eq!(o.status, NodeStatus::Timeout);
        assert_eq!(
            why(&o),
            (
                ErrorCategory::Timeout,
                "timed out after 4.0s; its processes were terminated"
            )
        );
        let unconfirmed = TransportError::new(ErrorCategory::Connection, "remote kill unconfirmed");
        let o = run(Err(unconfirmed), Some(StopReason::Timeout));
        assert_eq!(
            why(&o),
            (
                ErrorCategory::Timeout,
                "timed out after 4.0s; remote kill unconfirmed"
            )
        );
    }

    #[test]
    fn a_cancel_wins_and_is_never_a_failure() {
        let o = run(exit(Some(0), None), Some(StopReason::Cancelled));
        assert_eq!(o.status, NodeStatus::Cancelled);
        assert_eq!(
            why(&o),
            (
                ErrorCategory::Execution,
                "cancelled; its processes were terminated"
            )
        );
    }

    #[test]
    fn a_node_cancelled_before_it_started_made_no_attempt() {
        let o = Outcome::not_started();
        assert_eq!((o.status, o.attempts), (NodeStatus::Cancelled, 0));
        assert!(o.started.is_none());
    }

    fn results() -> impl Strategy<Value = Result<ExitInfo, TransportError>> {
        prop_oneof![
            (
                proptest::option::of(-1i32..256),
                proptest::option::of(1i32..32)
            )
                .prop_map(|(code, signal)| Ok(ExitInfo { code, signal })),
            "[a-z ]{0,12}".prop_map(|r| Err(TransportError::new(ErrorCategory::Connection, r))),
        ]
    }

    fn reasons() -> impl Strategy<Value = Option<StopReason>> {
        prop_oneof![
            Just(None),
            Just(Some(StopReason::Timeout)),
            Just(Some(StopReason::Cancelled)),
        ]
    }

    proptest! {
        /// The node state machine's last step: success exactly when nothing stopped
        /// the attempt and it exited 0; every other end carries its reason; a stop
        /// decides the status whatever the transport said.
        #[test]
        fn every_end_but_a_clean_exit_carries_a_reason(r in results(), reason in reasons()) {
            let clean = reason.is_none() && matches!(r, Ok(ExitInfo { code: Some(0), .. }));
            let o = run(r, reason);
            prop_assert_eq!(o.status == NodeStatus::Success, clean);
            prop_assert_eq!(o.error.is_none(), clean);
            match reason {
                Some(StopReason::Timeout) => prop_assert_eq!(o.status, NodeStatus::Timeout),
                Some(StopReason::Cancelled) => prop_assert_eq!(o.status, NodeStatus::Cancelled),
                None => prop_assert!(matches!(o.status, NodeStatus::Success | NodeStatus::Failed)),
            }
        }
    }
}
