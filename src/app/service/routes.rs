//! The service's routes. Every one names its caller by the socket's peer
//! credentials and goes through the engine's one door with that caller's
//! context; none takes a config from the client.

use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::TokioIo;
use ratatui::layout::Size;
use serde::Deserialize;

use super::api_error::error;
use super::console_host::ConsoleHost;
use super::peer::Peer;
pub use super::state::Service;
use super::{events_api, run_stream, runs_api};
use crate::app::wire::protocol::{
    CONSOLE_UPGRADE, ClientFrame, Hello, PROTOCOL, PROTOCOL_HEADER, ServerFrame, StopAnswer,
    StopRequest,
};
use crate::engine::ExecutionContext;
use crate::engine::rbac::Capability;

pub fn router(service: Arc<Service>) -> axum::Router {
    axum::Router::new()
        .route("/v1/hello", get(hello))
        .route("/v1/stop", post(stop))
        .route("/v1/console", get(console))
        .route("/v1/runs", post(runs_api::start).get(runs_api::list))
        .route("/v1/runs/{id}", get(runs_api::one))
        .route("/v1/runs/{id}/cancel", post(runs_api::cancel))
        .route("/v1/runs/{id}/stream", get(run_stream::follow))
        .route("/v1/events", get(events_api::events))
        .fallback(unknown)
        .layer(axum::middleware::from_fn(check_protocol))
        .with_state(service)
}

/// A client of another protocol version is told so, in words, before any route
/// could answer it with something it would misread.
async fn check_protocol(request: Request, next: Next) -> Response {
    if let Some(version) = request.headers().get(PROTOCOL_HEADER) {
        let theirs = version.to_str().unwrap_or("?");
        if theirs != PROTOCOL.to_string() {
            return error(
                StatusCode::UPGRADE_REQUIRED,
                format!(
                    "this drover service speaks protocol {PROTOCOL} ({}); the client speaks {theirs}: use a drover of the service's release, or restart the service with yours (`drover serve --stop`)",
                    env!("CARGO_PKG_VERSION")
                ),
            );
        }
    }
    next.run(request).await
}

async fn unknown(request: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "no route {} {} (this service speaks protocol {PROTOCOL}, under /v1/)",
            request.method(),
            request.uri().path()
        ),
    )
}

async fn hello(State(s): State<Arc<Service>>, ConnectInfo(peer): ConnectInfo<Peer>) -> Json<Hello> {
    Json(Hello {
        protocol: PROTOCOL,
        version: env!("CARGO_PKG_VERSION").to_string(),
        pid: std::process::id(),
        owner: s.owner.clone(),
        peer: peer.user,
        inputs: s.inputs.clone(),
    })
}

/// Stops the service once its runs have ended (cancelled first with `now`).
/// The service's owner may, and anyone the policy makes an admin.
async fn stop(
    State(s): State<Arc<Service>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    body: Option<Json<StopRequest>>,
) -> Response {
    let now = body.is_some_and(|Json(b)| b.now);
    if peer.uid != s.owner_uid
        && let Err(e) = s
            .engine
            .authorize(&s.context(&peer), &Capability::Admin, &[])
            .await
    {
        return error(StatusCode::FORBIDDEN, format!("stopping the service: {e}"));
    }
    let running: Vec<_> = s
        .engine
        .executions()
        .into_iter()
        .filter(|r| !r.status.is_terminal())
        .map(|r| r.id)
        .collect();
    tracing::info!(user = %peer.user, now, runs = running.len(), "service stop asked");
    if now {
        for id in &running {
            let _ = s.engine.cancel(id);
        }
    }
    for id in &running {
        let _ = s.engine.wait(id).await;
    }
    s.stop.cancel();
    Json(StopAnswer {
        runs: running.iter().map(|id| id.0.clone()).collect(),
        cancelled: now,
    })
    .into_response()
}

#[derive(Deserialize)]
struct ConsoleQuery {
    cols: u16,
    rows: u16,
    #[serde(default)]
    no_color: bool,
    /// A session of its own even when a detached one is there.
    #[serde(default)]
    fresh: bool,
}

/// Upgrades the connection to an attached console (see [`super::protocol`]).
async fn console(
    State(s): State<Arc<Service>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Query(q): Query<ConsoleQuery>,
    mut request: Request,
) -> Response {
    let wants = request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case(CONSOLE_UPGRADE));
    if !wants {
        return error(
            StatusCode::BAD_REQUEST,
            format!("/v1/console is an upgrade to `{CONSOLE_UPGRADE}`"),
        );
    }
    let size = Size::new(q.cols.max(1), q.rows.max(1));
    let upgrade = hyper::upgrade::on(&mut request);
    let context = s.context(&peer);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(io) => pump(&s.host, context, size, q, TokioIo::new(io)).await,
            Err(e) => tracing::warn!("console upgrade failed: {e}"),
        }
    });
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static(CONSOLE_UPGRADE));
    response
}

/// Carries one attached terminal's frames until it goes or is let go.
async fn pump<IO>(
    host: &Arc<ConsoleHost>,
    context: ExecutionContext,
    size: Size,
    q: ConsoleQuery,
    io: IO,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let user = context.user.clone();
    let attached = host.attach(context, size, q.no_color, q.fresh);
    tracing::info!(session = attached.session.id, %user, resumed = attached.resumed, "terminal attached");
    let (mut reader, mut writer) = tokio::io::split(io);
    let mut frames = attached.frames;
    let sending = tokio::spawn(async move {
        while let Some(frame) = frames.recv().await {
            let last = matches!(frame, ServerFrame::Detached(_) | ServerFrame::Ended);
            if frame.write(&mut writer).await.is_err() || last {
                break;
            }
        }
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut writer).await;
    });
    loop {
        match ClientFrame::read(&mut reader).await {
            Ok(Some(ClientFrame::Input(event))) => attached.session.input(event),
            Ok(Some(ClientFrame::HandoffDone(result))) => attached.session.handoff_done(result),
            Ok(None) => break,
            Err(e) => {
                tracing::info!(session = attached.session.id, "terminal connection: {e}");
                break;
            }
        }
        if sending.is_finished() {
            break;
        }
    }
    attached.session.detach(attached.connection);
    sending.abort();
    tracing::info!(session = attached.session.id, %user, "terminal detached");
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// `(METHOD, path)` of every `.route(..)` in [`super::router`], read from
    /// this file's source.
    fn routed() -> BTreeSet<(String, String)> {
        let source = include_str!("routes.rs");
        let body = &source[source.find("pub fn router").expect("router")..];
        let body = &body[..body.find("\n}\n").expect("end of router")];
        let mut routes = BTreeSet::new();
        for call in body.split(".route(\"").skip(1) {
            let (path, rest) = call.split_once('"').expect("a quoted path");
            let handlers = &rest[..rest.find("))").map_or(rest.len(), |i| i + 1)];
            for method in ["get", "post", "put", "delete", "patch"] {
                if handlers.contains(&format!("{method}(")) {
                    routes.insert((method.to_uppercase(), path.to_string()));
                }
            }
        }
        routes
    }

    #[test]
    fn every_route_is_in_the_openapi_description_and_nothing_else() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/openapi.json")).expect("JSON");
        let mut described = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                described.insert((method.to_uppercase(), path.clone()));
            }
        }
        let routed = routed();
        assert!(
            routed.len() >= 8,
            "the router's routes were not found: {routed:?}"
        );
        assert_eq!(routed, described, "docs/openapi.json and the router differ");
    }
}
