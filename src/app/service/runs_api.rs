//! `/v1/runs`: start a run, list the runs the engine holds, look at one, cancel
//! one. Starting goes through the engine's one door as the caller (RBAC
//! decides); reading other users' runs needs `history.read` (a caller's own
//! runs are always theirs to see); cancelling is for the run's own user and
//! admins.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::api_error::{error, refusal, status_of};
use super::peer::Peer;
use super::run_access::{may_read, may_read_run, unknown_run};
use super::run_stream;
use super::state::Service;
use crate::app::wire::run_request::{Created, Duplicate, RunRequest};
use crate::app::wire::run_view::RunView;
use crate::engine::rbac::Capability;
use crate::engine::{ExecutionId, ExecutionSnapshot, Submission, Submitted};

/// Items buffered between the engine and a streaming client; a slow client
/// slows the run's output (backpressure), as a slow pipe does for `--batch`.
const STREAM_BUFFER: usize = 64;

/// `POST /v1/runs`: `201 {"id"}`, or with `"stream": true` the run's event
/// stream (see [`run_stream`]).
pub async fn start(
    State(s): State<Arc<Service>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    body: Result<Json<RunRequest>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("POST /v1/runs: {}", e.body_text()),
            );
        }
    };
    let streaming = body.stream;
    let key = body.idempotency_key.clone();
    let request = match body.into_request(&s.run_options) {
        Ok(r) => r,
        Err(fields) => {
            return refusal(
                "starting the run",
                &crate::engine::EngineError::Validation(fields),
            );
        }
    };
    let context = s.context(&peer);
    tracing::info!(user = %peer.user, targets = %request.targets, "run asked over the API");
    let mut submission = Submission::request(request)
        .as_user(context)
        .key(key.clone());
    if streaming {
        submission = submission.stream(STREAM_BUFFER);
    }
    match s.engine.submit(submission).await {
        // The engine's words as they are (they name the targets, the user and
        // the capability): what the embedded `drover run` prints.
        Err(e) => error(status_of(&e), e.to_string()),
        Ok(Submitted {
            id,
            earlier: Some(earlier),
            ..
        }) => {
            let run = if id.0.is_empty() {
                "another drover process's run".to_string()
            } else {
                format!("execution {id}")
            };
            let state = earlier.status.as_deref().unwrap_or("starting");
            (
                StatusCode::CONFLICT,
                Json(Duplicate {
                    error: format!(
                        "idempotency key {:?}: {run} answers for it ({state}); not run again",
                        key.unwrap_or_default()
                    ),
                    id: id.0,
                    status: earlier.status,
                }),
            )
                .into_response()
        }
        Ok(Submitted {
            id,
            stream: Some(stream),
            ..
        }) => (StatusCode::CREATED, run_stream::tapped(id, stream)).into_response(),
        Ok(Submitted { id, .. }) => {
            (StatusCode::CREATED, Json(Created { id: id.0 })).into_response()
        }
    }
}

async fn view(s: &Service, snapshot: &ExecutionSnapshot) -> RunView {
    let result = if snapshot.status.is_terminal() {
        s.engine.wait(&snapshot.id).await.ok()
    } else {
        None
    };
    RunView::of(snapshot, result.as_deref())
}

/// `GET /v1/runs`: every run the engine holds (running and recently ended),
/// oldest first; without `history.read`, the caller's own.
pub async fn list(State(s): State<Arc<Service>>, ConnectInfo(peer): ConnectInfo<Peer>) -> Response {
    let everyone = may_read(&s, &peer).await.is_ok();
    let mut runs = Vec::new();
    for snapshot in s.engine.executions() {
        if !everyone && snapshot.user != peer.user {
            continue;
        }
        runs.push(view(&s, &snapshot).await);
    }
    Json(runs).into_response()
}

/// `GET /v1/runs/{id}`.
pub async fn one(
    State(s): State<Arc<Service>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(id): Path<String>,
) -> Response {
    let Some(snapshot) = s.engine.snapshot(&ExecutionId(id.clone())) else {
        return unknown_run(&id);
    };
    if let Err(r) = may_read_run(&s, &peer, &snapshot).await {
        return r;
    }
    Json(view(&s, &snapshot).await).into_response()
}

/// `POST /v1/runs/{id}/cancel`: `202 {"id"}`; the run ends as cancelled (its
/// stream's `execution_finished` says when). The run's own user may, and admins.
pub async fn cancel(
    State(s): State<Arc<Service>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(id): Path<String>,
) -> Response {
    let id = ExecutionId(id);
    let Some(snapshot) = s.engine.snapshot(&id) else {
        return unknown_run(&id.0);
    };
    if snapshot.user != peer.user
        && let Err(e) = s
            .engine
            .authorize(&s.context(&peer), &Capability::Admin, &[])
            .await
    {
        return refusal(
            &format!("cancelling {id} (started by {})", snapshot.user),
            &e,
        );
    }
    tracing::info!(user = %peer.user, %id, "cancel asked over the API");
    match s.engine.cancel(&id) {
        Ok(()) => (StatusCode::ACCEPTED, Json(Created { id: id.0 })).into_response(),
        Err(e) => refusal(&format!("cancelling {id}"), &e),
    }
}
