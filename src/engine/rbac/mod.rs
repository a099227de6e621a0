//! The authorisation check point. Every request passes through an [`Authorizer`]
//! before anything runs, whichever front end asked; front ends also ask the engine
//! (`Engine::authorize`) before reading history or journals. Without an RBAC policy
//! the local user may do everything ([`AllowAll`]); with one, [`Policy`] decides.

mod capability;
mod commands;
mod policy;

pub use capability::Capability;
pub use commands::{CommandPattern, command_problem};
pub use policy::{Policy, Role, RoleError};

use super::inventory::Inventory;
use crate::engine::common::request::ExecutionContext;

/// What someone wants to do, on which nodes.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    pub capability: &'a Capability,
    /// Node names; empty for actions that concern no node (reading history).
    pub nodes: &'a [&'a str],
    /// The command to run, for `command.run` (checked against allow/deny patterns).
    pub command: Option<&'a str>,
}

/// Why an access was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The requested nodes that were refused (all of them, or the ones outside every
    /// role's targets); empty when the access concerns no node.
    pub nodes: Vec<String>,
    pub reason: String,
}

pub trait Authorizer: Send + Sync + 'static {
    /// `Err` says which nodes were refused and why. `inventory` resolves the target
    /// expressions roles are limited to.
    fn authorize(
        &self,
        context: &ExecutionContext,
        access: &Access<'_>,
        inventory: &Inventory,
    ) -> Result<(), Denial>;

    /// The roles a user has, for display and for the execution context.
    fn roles_of(&self, _user: &str) -> Vec<String> {
        Vec::new()
    }

    /// Whether this authorizer can refuse anything.
    fn enforced(&self) -> bool {
        true
    }
}

/// No RBAC configured: the local user is admin.
pub struct AllowAll;

impl Authorizer for AllowAll {
    fn authorize(
        &self,
        _context: &ExecutionContext,
        _access: &Access<'_>,
        _inventory: &Inventory,
    ) -> Result<(), Denial> {
        Ok(())
    }

    fn enforced(&self) -> bool {
        false
    }
}
