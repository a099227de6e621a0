//! Roles and users: the RBAC policy drawn from the config. A user's request is
//! allowed when, for every node it touches, one of the user's roles grants the
//! capability, includes the node in its targets and allows the command.

use super::{Access, Authorizer, Capability, CommandPattern, Denial, command_problem};
use crate::engine::common::request::ExecutionContext;
use crate::engine::inventory::Inventory;
use crate::engine::inventory::targets::{TargetError, TargetExpr};
use std::collections::{BTreeMap, HashSet};

/// One role: what it may do, where, and which commands.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    capabilities: Vec<Capability>,
    /// `None`: every node.
    targets: Option<TargetExpr>,
    allow: Vec<CommandPattern>,
    deny: Vec<CommandPattern>,
}

impl Role {
    /// Errors name the bad capability, target expression or pattern.
    pub fn new(
        name: &str,
        capabilities: &[String],
        targets: Option<&str>,
        allow_commands: &[String],
        deny_commands: &[String],
    ) -> Result<Role, RoleError> {
        let capabilities = capabilities
            .iter()
            .map(|c| Capability::parse(c))
            .collect::<Result<_, _>>()
            .map_err(|r| RoleError::new("capabilities", r))?;
        let targets = targets
            .map(TargetExpr::parse)
            .transpose()
            .map_err(|e| RoleError::new("targets", e.to_string()))?;
        let patterns = |key: &'static str, list: &[String]| {
            list.iter()
                .map(|p| CommandPattern::new(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|r| RoleError::new(key, r))
        };
        Ok(Role {
            name: name.to_string(),
            capabilities,
            targets,
            allow: patterns("allow_commands", allow_commands)?,
            deny: patterns("deny_commands", deny_commands)?,
        })
    }

    fn grants(&self, wanted: &Capability) -> bool {
        self.capabilities.iter().any(|c| c.grants(wanted))
    }

    /// The node names this role covers; `None` for all. A target expression that
    /// matches nothing in the current inventory covers nothing.
    fn scope(&self, inventory: &Inventory) -> Option<HashSet<String>> {
        let expr = self.targets.as_ref()?;
        Some(match expr.select(inventory) {
            Ok(nodes) => nodes.iter().map(|n| n.name.clone()).collect(),
            Err(TargetError::NoMatch { parts }) => {
                tracing::warn!(role = %self.name, ?parts, "role targets match no node");
                HashSet::new()
            }
            Err(e) => {
                tracing::warn!(role = %self.name, "role targets unusable: {e}");
                HashSet::new()
            }
        })
    }
}

/// A role that failed to build: the key at fault and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleError {
    pub key: &'static str,
    pub reason: String,
}

impl RoleError {
    fn new(key: &'static str, reason: String) -> RoleError {
        RoleError { key, reason }
    }
}

/// Roles by name and users' roles by OS user name.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub roles: BTreeMap<String, Role>,
    pub users: BTreeMap<String, Vec<String>>,
    /// Roles of users the policy does not name.
    pub default_roles: Vec<String>,
}

impl Policy {
    fn roles_for(&self, user: &str) -> Vec<&Role> {
        self.users
            .get(user)
            .unwrap_or(&self.default_roles)
            .iter()
            .filter_map(|r| self.roles.get(r))
            .collect()
    }
}

impl Authorizer for Policy {
    fn authorize(
        &self,
        context: &ExecutionContext,
        access: &Access<'_>,
        inventory: &Inventory,
    ) -> Result<(), Denial> {
        let all_nodes = || access.nodes.iter().map(|n| n.to_string()).collect();
        let roles = self.roles_for(&context.user);
        if roles.is_empty() {
            return Err(Denial {
                nodes: all_nodes(),
                reason: format!("user {:?} has no role", context.user),
            });
        }
        let granting: Vec<&Role> = roles
            .into_iter()
            .filter(|r| r.grants(access.capability))
            .collect();
        if granting.is_empty() {
            return Err(Denial {
                nodes: all_nodes(),
                reason: format!("no role of {:?} grants {}", context.user, access.capability),
            });
        }
        let mut command_refusals = Vec::new();
        let mut usable = Vec::new();
        for role in granting {
            match access
                .command
                .and_then(|c| command_problem(c, &role.allow, &role.deny))
            {
                Some(why) => command_refusals.push(format!("role {}: {why}", role.name)),
                None => usable.push(role),
            }
        }
        if usable.is_empty() {
            return Err(Denial {
                nodes: all_nodes(),
                reason: command_refusals.join("; "),
            });
        }
        let scopes: Vec<Option<HashSet<String>>> =
            usable.iter().map(|r| r.scope(inventory)).collect();
        let denied: Vec<String> = access
            .nodes
            .iter()
            .filter(|n| {
                !scopes
                    .iter()
                    .any(|s| s.as_ref().is_none_or(|s| s.contains(**n)))
            })
            .map(|n| n.to_string())
            .collect();
        if denied.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = usable.iter().map(|r| r.name.as_str()).collect();
        let mut reason = format!("outside the targets of role {}", names.join(", "));
        if !command_refusals.is_empty() {
            reason.push_str(&format!(" ({})", command_refusals.join("; ")));
        }
        Err(Denial {
            nodes: denied,
            reason,
        })
    }

    fn roles_of(&self, user: &str) -> Vec<String> {
        self.roles_for(user)
            .iter()
            .map(|r| r.name.clone())
            .collect()
    }
}
