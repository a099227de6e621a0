//! A run as server-sent events: one SSE message per event or output chunk, its
//! `event:` the item's `type` and its `data:` the item as JSON ([`StreamItem`]'s
//! wire form: output bytes in base64). The stream ends after
//! `execution_finished`.
//!
//! Two ways to get one. `POST /v1/runs` with `"stream": true` answers with the
//! stream of the run it starts, tapped as the run starts: every event and every
//! byte, in order, nothing missed ([`tapped`]); its first message is
//! `submitted` with the run's id. `GET /v1/runs/{id}/stream` follows a run
//! already going ([`followed`]): events from the moment it is asked, and output
//! read from the node's ring, which holds the latest bytes only; a
//! `output_missed` message says how many bytes a slow reader lost.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};

use super::peer::Peer;
use super::run_access::{may_read_run, unknown_run};
use super::state::Service;
use crate::app::wire::run_messages::{MissedMessage, SubmittedMessage};
use crate::engine::{Engine, EngineEvent, ExecutionId, StreamItem};
use crate::store::Stream as OutStream;

fn message(kind: &str, json: &impl Serialize) -> Event {
    let data = serde_json::to_string(json).unwrap_or_else(|e| {
        format!("{{\"type\":\"error\",\"error\":\"cannot encode a {kind}: {e}\"}}")
    });
    Event::default().event(kind).data(data)
}

pub fn item_message(item: &StreamItem) -> Event {
    let kind = match item {
        StreamItem::Output { .. } => "output",
        StreamItem::Event(ev) => event_type(ev),
    };
    message(kind, item)
}

/// The `type` an event has on the wire.
pub fn event_type(ev: &EngineEvent) -> &'static str {
    match ev {
        EngineEvent::ExecutionQueued { .. } => "execution_queued",
        EngineEvent::ExecutionStarted { .. } => "execution_started",
        EngineEvent::NodeStarted { .. } => "node_started",
        EngineEvent::NodeOutput { .. } => "node_output",
        EngineEvent::RetryAttempt { .. } => "retry_attempt",
        EngineEvent::NodeFinished { .. } => "node_finished",
        EngineEvent::ExecutionFinished { .. } => "execution_finished",
        EngineEvent::JournalAppended { .. } => "journal_appended",
        EngineEvent::BreakerChanged { .. } => "breaker_changed",
        EngineEvent::PlanStepChanged { .. } => "plan_step_changed",
        EngineEvent::PlanFinished { .. } => "plan_finished",
        EngineEvent::InventoryReloaded { .. } => "inventory_reloaded",
    }
}

fn is_end(item: &StreamItem) -> bool {
    matches!(
        item,
        StreamItem::Event(EngineEvent::ExecutionFinished { .. })
    )
}

fn sse<S>(messages: S) -> Response
where
    S: Stream<Item = Event> + Send + 'static,
{
    Sse::new(messages.map(Ok::<_, Infallible>))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The lossless stream of a run just started with a tap.
pub fn tapped(id: ExecutionId, rx: mpsc::Receiver<StreamItem>) -> Response {
    let first = message(
        "submitted",
        &SubmittedMessage {
            kind: "submitted".into(),
            id: id.0,
        },
    );
    let rest = stream::unfold((rx, false), |(mut rx, ended)| async move {
        if ended {
            return None;
        }
        let item = rx.recv().await?;
        let end = is_end(&item);
        Some((item_message(&item), (rx, end)))
    });
    sse(stream::once(async move { first }).chain(rest))
}

/// `GET /v1/runs/{id}/stream` (another user's run needs `history.read`).
pub async fn follow(
    State(s): State<Arc<Service>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(id): Path<String>,
) -> Response {
    let id = ExecutionId(id);
    // Subscribed before the look, so an end between the two is not missed.
    let events = s.engine.subscribe();
    let Some(snapshot) = s.engine.snapshot(&id) else {
        return unknown_run(&id.0);
    };
    if let Err(r) = may_read_run(&s, &peer, &snapshot).await {
        return r;
    }
    if snapshot.status.is_terminal() {
        let end = StreamItem::Event(EngineEvent::ExecutionFinished {
            execution: id,
            status: snapshot.status,
            duration: snapshot.elapsed,
            progress: snapshot.progress,
        });
        return sse(stream::once(async move { item_message(&end) }));
    }
    sse(followed(s.engine.clone(), id, events))
}

struct Follower {
    engine: Engine,
    id: ExecutionId,
    events: broadcast::Receiver<EngineEvent>,
    offsets: HashMap<(String, OutStream), u64>,
    queue: std::collections::VecDeque<Event>,
    ended: bool,
}

impl Follower {
    /// Queues what the node's ring holds past our offset.
    fn drain(&mut self, node: &str, stream: OutStream) {
        let at = self.offsets.entry((node.to_string(), stream)).or_insert(0);
        let Some(read) = self.engine.read_output(&self.id, node, stream, *at) else {
            return;
        };
        *at = read.next;
        if read.missed > 0 {
            self.queue.push_back(message(
                "output_missed",
                &MissedMessage {
                    kind: "output_missed".into(),
                    node: node.to_string(),
                    stream,
                    bytes: read.missed,
                },
            ));
        }
        if !read.data.is_empty() {
            self.queue.push_back(item_message(&StreamItem::Output {
                node: node.to_string(),
                stream,
                data: read.data,
            }));
        }
    }

    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(m) = self.queue.pop_front() {
                return Some(m);
            }
            if self.ended {
                return None;
            }
            let ev = match self.events.recv().await {
                Ok(ev) => ev,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    return Some(lagged(n));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            if ev.execution() != Some(&self.id) {
                continue;
            }
            match &ev {
                EngineEvent::NodeOutput { node, stream, .. } => {
                    let (node, stream) = (node.clone(), *stream);
                    self.drain(&node, stream);
                    continue;
                }
                EngineEvent::NodeFinished { node, .. } => {
                    let node = node.clone();
                    self.drain(&node, OutStream::Stdout);
                    self.drain(&node, OutStream::Stderr);
                }
                EngineEvent::ExecutionFinished { .. } => self.ended = true,
                _ => {}
            }
            self.queue
                .push_back(item_message(&StreamItem::Event(ev.clone())));
        }
    }
}

/// Said when a reader fell behind the engine's event bus by `n` events.
pub fn lagged(n: u64) -> Event {
    message(
        "lagged",
        &serde_json::json!({"type": "lagged", "missed_events": n}),
    )
}

fn followed(
    engine: Engine,
    id: ExecutionId,
    events: broadcast::Receiver<EngineEvent>,
) -> impl Stream<Item = Event> + Send + 'static {
    let follower = Follower {
        engine,
        id,
        events,
        offsets: HashMap::new(),
        queue: Default::default(),
        ended: false,
    };
    stream::unfold(follower, |mut f| async move {
        let m = f.next().await?;
        Some((m, f))
    })
}
