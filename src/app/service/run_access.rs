//! Who may read a run, and the answer for a run the service does not hold.

use axum::http::StatusCode;
use axum::response::Response;

use super::api_error::{error, refusal};
use super::peer::Peer;
use super::state::Service;
use crate::engine::ExecutionSnapshot;
use crate::engine::rbac::Capability;

/// Reads of other users' runs need `history.read`.
pub async fn may_read(s: &Service, peer: &Peer) -> Result<(), Response> {
    s.engine
        .authorize(&s.context(peer), &Capability::HistoryRead, &[])
        .await
        .map_err(|e| refusal("reading runs", &e))
}

/// A caller may always read a run they started; another's needs `history.read`.
pub async fn may_read_run(
    s: &Service,
    peer: &Peer,
    run: &ExecutionSnapshot,
) -> Result<(), Response> {
    if run.user == peer.user {
        return Ok(());
    }
    may_read(s, peer).await
}

pub fn unknown_run(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "no run {id} in this service (it holds running and recently ended runs; older ones are in `drover history`)"
        ),
    )
}
