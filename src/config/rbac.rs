//! `[rbac]`: roles, what they grant and where, and which users hold them. Without
//! this section the local user is admin.

use super::KeyError;
use crate::engine::rbac::{Policy, Role};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RbacConfig {
    pub roles: BTreeMap<String, RoleConfig>,
    /// OS user name → role names.
    pub users: BTreeMap<String, Vec<String>>,
    /// Roles of users not listed in `users` (none by default: they may do nothing).
    pub default_roles: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    pub capabilities: Vec<String>,
    /// A target expression limiting the nodes the role acts on.
    #[serde(default)]
    pub targets: Option<String>,
    #[serde(default)]
    pub allow_commands: Vec<String>,
    #[serde(default)]
    pub deny_commands: Vec<String>,
}

impl RbacConfig {
    pub(super) fn validate(&self) -> Result<(), KeyError> {
        self.policy().map(|_| ())
    }

    /// The policy the engine enforces; errors name the role's key.
    pub fn policy(&self) -> Result<Policy, KeyError> {
        let mut roles = BTreeMap::new();
        for (name, r) in &self.roles {
            let role = Role::new(
                name,
                &r.capabilities,
                r.targets.as_deref(),
                &r.allow_commands,
                &r.deny_commands,
            )
            .map_err(|e| KeyError::new(&format!("rbac.roles.{name}"), e.key, e.reason))?;
            roles.insert(name.clone(), role);
        }
        let unknown = |list: &[String]| list.iter().find(|r| !roles.contains_key(*r)).cloned();
        for (user, list) in &self.users {
            if let Some(r) = unknown(list) {
                return Err(KeyError::new(
                    "rbac.users",
                    user,
                    format!("no role {r:?} in [rbac.roles]"),
                ));
            }
        }
        if let Some(r) = unknown(&self.default_roles) {
            return Err(KeyError::new(
                "rbac",
                "default_roles",
                format!("no role {r:?} in [rbac.roles]"),
            ));
        }
        Ok(Policy {
            roles,
            users: self.users.clone(),
            default_roles: self.default_roles.clone(),
        })
    }
}
