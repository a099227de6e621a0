//! `GET /v1/events`: the engine's live events as server-sent events, one JSON
//! object per message in the event log's field names ([`EngineEvent`]'s wire
//! form), its `event:` the object's `type`. Output itself is not carried (the
//! coalesced `node_output` says a node printed); a run's bytes are in its own
//! stream. A reader that falls behind the engine's bus gets `lagged` with the
//! number of events it missed. Needs `history.read`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::broadcast;

use super::api_error::refusal;
use super::peer::Peer;
use super::routes::Service;
use super::run_stream::{item_message, lagged};
use crate::engine::StreamItem;
use crate::engine::rbac::Capability;

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
    let messages = stream::unfold((rx, stop), |(mut rx, stop)| async move {
        let received = tokio::select! {
            r = rx.recv() => r,
            _ = stop.cancelled() => return None,
        };
        let message = match received {
            Ok(ev) => item_message(&StreamItem::Event(ev)),
            Err(broadcast::error::RecvError::Lagged(n)) => lagged(n),
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok::<_, Infallible>(message), (rx, stop)))
    });
    Sse::new(messages)
        .keep_alive(KeepAlive::default())
        .into_response()
}
