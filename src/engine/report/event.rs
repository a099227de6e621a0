//! The vocabulary the front ends and tests learn from. Events are small: output
//! itself stays in the node rings (read with `Engine::read_output`) or flows through
//! a lossless [`StreamItem`] stream for headless consumers.

use crate::engine::common::error::NodeError;
use crate::engine::common::error::SourceFailure;
use crate::engine::common::ids::ExecutionId;
use crate::engine::report::plan_state::{PlanProgress, StepState};
use crate::engine::report::result::{ExecutionStatus, NodeStatus, Progress};
use crate::engine::resilience::breaker::{BreakerChange, BreakerScope, BreakerState};
use crate::store::{EntryType, Stream};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// On the wire (the service's API), an event is one JSON object tagged by
/// `type`, in the words of the event log's schema (`drover events`): durations
/// as `duration_ms`/`delay_ms`, a retry's reason as `error`, a plan step's run as
/// `step_execution`. Breaker changes keep one type, `breaker_changed`, with the
/// new `state`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    /// Accepted and validated; nothing runs yet.
    ExecutionQueued {
        execution: ExecutionId,
        action: String,
        nodes: Vec<String>,
        user: String,
        correlation_id: String,
    },
    ExecutionStarted {
        execution: ExecutionId,
        total: usize,
    },
    NodeStarted {
        execution: ExecutionId,
        node: String,
        attempt: u32,
    },
    /// The node's ring has bytes nobody has read yet (coalesced: one event until a
    /// reader calls `Engine::read_output`).
    NodeOutput {
        execution: ExecutionId,
        node: String,
        stream: Stream,
    },
    #[serde(rename = "retry_attempt")]
    RetryAttempt {
        execution: ExecutionId,
        node: String,
        /// The attempt about to start (2 = first retry).
        attempt: u32,
        max_attempts: u32,
        #[serde(rename = "delay_ms", with = "millis")]
        delay: Duration,
        #[serde(rename = "error")]
        reason: NodeError,
    },
    NodeFinished {
        execution: ExecutionId,
        node: String,
        status: NodeStatus,
        exit_code: Option<i32>,
        #[serde(rename = "duration_ms", with = "millis")]
        duration: Duration,
        error: Option<NodeError>,
        progress: Progress,
    },
    ExecutionFinished {
        execution: ExecutionId,
        status: ExecutionStatus,
        #[serde(rename = "duration_ms", with = "millis")]
        duration: Duration,
        progress: Progress,
    },
    JournalAppended {
        node: String,
        entry_type: EntryType,
        execution: Option<ExecutionId>,
    },
    /// A circuit breaker changed state (`name` is a node or a transport).
    BreakerChanged {
        scope: BreakerScope,
        name: String,
        state: BreakerState,
    },
    /// A plan step changed state; `progress` counts the plan's steps.
    PlanStepChanged {
        plan: ExecutionId,
        step: String,
        state: StepState,
        #[serde(rename = "step_execution")]
        execution: Option<ExecutionId>,
        progress: PlanProgress,
    },
    PlanFinished {
        plan: ExecutionId,
        name: String,
        state: StepState,
        progress: PlanProgress,
    },
    /// The inventory was read again (a file changed, or on demand) and swapped
    /// in. Failed sources kept their last good nodes; each names its reason.
    InventoryReloaded {
        nodes: usize,
        failed_sources: Vec<SourceFailure>,
    },
}

impl EngineEvent {
    pub fn execution(&self) -> Option<&ExecutionId> {
        match self {
            EngineEvent::ExecutionQueued { execution, .. }
            | EngineEvent::ExecutionStarted { execution, .. }
            | EngineEvent::NodeStarted { execution, .. }
            | EngineEvent::NodeOutput { execution, .. }
            | EngineEvent::RetryAttempt { execution, .. }
            | EngineEvent::NodeFinished { execution, .. }
            | EngineEvent::ExecutionFinished { execution, .. } => Some(execution),
            EngineEvent::JournalAppended { execution, .. } => execution.as_ref(),
            // Plan events are about the plan; `PlanStepChanged` names its step's
            // execution as data.
            EngineEvent::BreakerChanged { .. }
            | EngineEvent::PlanStepChanged { .. }
            | EngineEvent::PlanFinished { .. } => None,
            EngineEvent::InventoryReloaded { .. } => None,
        }
    }
}

/// A breaker's change as the event that announces it (made here or adopted from
/// another drover process alike).
impl From<BreakerChange> for EngineEvent {
    fn from(c: BreakerChange) -> EngineEvent {
        EngineEvent::BreakerChanged {
            scope: c.scope,
            name: c.name,
            state: c.state,
        }
    }
}

/// What a lossless per-execution stream carries, in order: every event of that
/// execution (except the coalesced `NodeOutput`) and every output chunk.
///
/// On the wire an event is its own object ([`EngineEvent`]); a chunk is
/// `{"type": "output", "node", "stream", "data"}` with `data` the bytes in
/// standard base64 (output is bytes, not necessarily UTF-8, and a chunk may end
/// inside a character).
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    Event(EngineEvent),
    Output {
        node: String,
        stream: Stream,
        data: Vec<u8>,
    },
}

#[derive(Serialize, Deserialize)]
struct OutputChunk<'a> {
    #[serde(rename = "type")]
    kind: std::borrow::Cow<'a, str>,
    node: std::borrow::Cow<'a, str>,
    stream: Stream,
    data: String,
}

impl Serialize for StreamItem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        match self {
            StreamItem::Event(event) => event.serialize(s),
            StreamItem::Output { node, stream, data } => OutputChunk {
                kind: "output".into(),
                node: node.as_str().into(),
                stream: *stream,
                data: base64::engine::general_purpose::STANDARD.encode(data),
            }
            .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for StreamItem {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine as _;
        use serde::de::Error;
        let value = serde_json::Value::deserialize(d)?;
        if value.get("type").and_then(|t| t.as_str()) == Some("output") {
            let chunk = OutputChunk::deserialize(value).map_err(D::Error::custom)?;
            let data = base64::engine::general_purpose::STANDARD
                .decode(chunk.data.as_bytes())
                .map_err(|e| D::Error::custom(format!("output data: {e}")))?;
            return Ok(StreamItem::Output {
                node: chunk.node.into_owned(),
                stream: chunk.stream,
                data,
            });
        }
        EngineEvent::deserialize(value)
            .map(StreamItem::Event)
            .map_err(D::Error::custom)
    }
}

/// A duration as whole milliseconds.
mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod wire_tests {
    use super::*;
    use crate::engine::common::error::ErrorCategory;

    #[test]
    fn stream_items_read_back_as_written() {
        let items = [
            StreamItem::Output {
                node: "web1".into(),
                stream: Stream::Stderr,
                data: b"caf\xc3\xa9 \xff\n".to_vec(),
            },
            StreamItem::Event(EngineEvent::NodeFinished {
                execution: ExecutionId("e1".into()),
                node: "web1".into(),
                status: NodeStatus::Failed,
                exit_code: Some(3),
                duration: Duration::from_millis(1500),
                error: Some(NodeError {
                    node: "web1".into(),
                    category: ErrorCategory::Execution,
                    reason: "exit 3".into(),
                }),
                progress: Progress::default(),
            }),
            StreamItem::Event(EngineEvent::BreakerChanged {
                scope: BreakerScope::Node,
                name: "web1".into(),
                state: BreakerState::HalfOpen,
            }),
        ];
        for item in items {
            let json = serde_json::to_string(&item).unwrap();
            assert_eq!(
                serde_json::from_str::<StreamItem>(&json).unwrap(),
                item,
                "{json}"
            );
        }
        let json = serde_json::to_value(&StreamItem::Output {
            node: "a".into(),
            stream: Stream::Stdout,
            data: b"hi\n".to_vec(),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "output", "node": "a", "stream": "stdout", "data": "aGkK"})
        );
    }

    #[test]
    fn events_use_the_event_logs_field_names() {
        let json = serde_json::to_value(EngineEvent::ExecutionFinished {
            execution: ExecutionId("e1".into()),
            status: ExecutionStatus::Partial,
            duration: Duration::from_millis(42),
            progress: Progress::default(),
        })
        .unwrap();
        assert_eq!(json["type"], "execution_finished");
        assert_eq!(json["execution"], "e1");
        assert_eq!(json["status"], "partial");
        assert_eq!(json["duration_ms"], 42);
    }
}
