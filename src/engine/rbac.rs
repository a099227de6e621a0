//! The authorisation check point. Every request passes through an [`Authorizer`]
//! before anything runs, whichever front end asked. Roles and capabilities come
//! with the config; until then the local user may do everything.

use super::error::EngineError;
use super::inventory::Node;
use super::request::ExecutionContext;
use std::sync::Arc;

/// Capability names checked by the engine.
pub const COMMAND_RUN: &str = "command.run";
pub const TASK_RUN: &str = "task.run";

pub trait Authorizer: Send + Sync + 'static {
    /// `Err(EngineError::Authorization)` names the capability and the target.
    fn authorize(
        &self,
        context: &ExecutionContext,
        capability: &str,
        nodes: &[Arc<Node>],
        action: &str,
    ) -> Result<(), EngineError>;
}

/// No RBAC configured: the local user is admin.
pub struct AllowAll;

impl Authorizer for AllowAll {
    fn authorize(
        &self,
        _context: &ExecutionContext,
        _capability: &str,
        _nodes: &[Arc<Node>],
        _action: &str,
    ) -> Result<(), EngineError> {
        Ok(())
    }
}
