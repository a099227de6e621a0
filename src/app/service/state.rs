//! What every route shares: the service's engine and who runs it, and the
//! caller's identity in the engine.

use std::sync::Arc;

use super::console_host::ConsoleHost;
use super::peer::Peer;
use crate::app::wire::protocol::Inputs;
use crate::engine::{Engine, ExecutionContext, ExecutionOptions};

/// What the routes share.
pub struct Service {
    pub engine: Engine,
    pub owner_uid: u32,
    pub owner: String,
    pub inputs: Inputs,
    pub host: Arc<ConsoleHost>,
    /// Options of a run a client leaves unset (the service's `[execution]`).
    pub run_options: ExecutionOptions,
    /// Cancelled to stop the service.
    pub stop: tokio_util::sync::CancellationToken,
}

impl Service {
    /// The caller's identity in the engine: their account, and the roles the
    /// service's policy gives it.
    pub fn context(&self, peer: &Peer) -> ExecutionContext {
        ExecutionContext {
            roles: self.engine.roles_of(&peer.user),
            user: peer.user.clone(),
            ..ExecutionContext::local()
        }
    }
}
