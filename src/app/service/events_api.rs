//! `GET /v1/events`: the engine's live events as server-sent events, one JSON
//! object per message in the event log's field names ([`EngineEvent`]'s wire
//! form), its `event:` the object's `type`. Output itself is not carried (the
//! coalesced `node_output` says a node printed); a run's bytes are in its own
//! stream. A reader that falls behind the engine's bus gets `lagged` with the
//! number of events it missed. Needs `history.read`.
//!
//! The events waiting on the bus when the reader is ready are written as one
//! piece of the body, not one HTTP chunk each: under a burst (hundreds of
//! nodes ending together) per-message writes were what made a reader lag.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::broadcast;

use super::api_error::refusal;
use super::peer::Peer;
use super::run_stream::event_type;
use super::state::Service;
use crate::engine::rbac::Capability;
use crate::engine::{EngineEvent, StreamItem};

/// A comment line this often when nothing happens, so proxies and clients
/// that time out idle connections keep this one.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Most messages written as one piece.
const BATCH: usize = 512;

fn push_event(out: &mut String, ev: EngineEvent) {
    let kind = event_type(&ev);
    match serde_json::to_string(&StreamItem::Event(ev)) {
        Ok(json) => {
            let _ = write!(out, "event: {kind}\ndata: {json}\n\n");
        }
        Err(e) => tracing::warn!("event {kind} not encoded: {e}"),
    }
}

fn push_lagged(out: &mut String, n: u64) {
    let _ = write!(
        out,
        "event: lagged\ndata: {{\"type\":\"lagged\",\"missed_events\":{n}}}\n\n"
    );
}

/// The next piece of the body: what the bus holds now (at least one message,
/// or a keep-alive); `None` when the service stops.
async fn next_piece(rx: &mut broadcast::Receiver<EngineEvent>) -> Option<String> {
    let mut out = String::new();
    match tokio::time::timeout(KEEP_ALIVE, rx.recv()).await {
        Err(_) => return Some(":\n\n".into()),
        Ok(Ok(ev)) => push_event(&mut out, ev),
        Ok(Err(broadcast::error::RecvError::Lagged(n))) => push_lagged(&mut out, n),
        Ok(Err(broadcast::error::RecvError::Closed)) => return None,
    }
    for _ in 1..BATCH {
        match rx.try_recv() {
            Ok(ev) => push_event(&mut out, ev),
            Err(broadcast::error::TryRecvError::Lagged(n)) => push_lagged(&mut out, n),
            Err(_) => break,
        }
    }
    Some(out)
}

pub async fn events(
    State(s): State<Arc<Service>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
) -> Response {
    if let Err(e) = s
        .engine
        .authorize(&s.context(&peer), &Capability::HistoryRead, &[])
        .await
    {
        return refusal("reading events", &e);
    }
    let rx = s.engine.subscribe();
    let stop = s.stop.clone();
    let pieces = stream::unfold((rx, stop), |(mut rx, stop)| async move {
        let piece = tokio::select! {
            p = next_piece(&mut rx) => p?,
            _ = stop.cancelled() => return None,
        };
        Some((Ok::<_, Infallible>(piece), (rx, stop)))
    });
    let mut response = Body::from_stream(pieces).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
