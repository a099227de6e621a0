//! How the API says no: an [`ErrorBody`] with the status that fits the reason.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::app::wire::protocol::ErrorBody;
use crate::engine::EngineError;

/// `{"error": message}` with `status`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorBody {
            error: message.into(),
        }),
    )
        .into_response()
}

/// The status of a refusal by the engine: 403 for RBAC, 404 for targets that
/// matched nothing or a run the engine does not hold, 400 for a bad request,
/// 409 for an idempotency key in use, 503 when the queue is full or the engine
/// is stopping.
pub fn status_of(e: &EngineError) -> StatusCode {
    match e {
        EngineError::Authorization { .. } => StatusCode::FORBIDDEN,
        EngineError::NoMatch { .. } | EngineError::UnknownExecution(_) => StatusCode::NOT_FOUND,
        EngineError::Validation(_) | EngineError::InventorySources(_) => StatusCode::BAD_REQUEST,
        EngineError::IdempotencyKey { .. } => StatusCode::CONFLICT,
        EngineError::QueueFull(_) | EngineError::ShutDown => StatusCode::SERVICE_UNAVAILABLE,
        EngineError::Transport { .. } | EngineError::Store(_) | EngineError::NoStore => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The engine's refusal, in its words, under `what` (the thing asked for).
pub fn refusal(what: &str, e: &EngineError) -> Response {
    error(status_of(e), format!("{what}: {e}"))
}
