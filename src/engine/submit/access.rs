//! Authorisation as every front end meets it: one check, one error shape, and one
//! audit trail. A refusal becomes `EngineError::Authorization` naming the user, the
//! capability, the target and the reason, and a journal entry of type `event` on
//! each refused node, or on the pseudo node [`AUDIT_NODE`] when the action concerns
//! no node (reading history).

use crate::engine::common::error::EngineError;
use crate::engine::common::ids::now_millis;
use crate::engine::common::request::ExecutionContext;
use crate::engine::inventory::nodeset::fold;
use crate::engine::rbac::{Access, Capability};
use crate::engine::secrets::{Secrets, redact};
use crate::engine::{Engine, EngineEvent, EngineInner};
use crate::store::{EntryType, JournalEntry, WriteOp};

/// Where refusals of actions that concern no node are journaled.
pub const AUDIT_NODE: &str = "drover";

impl Engine {
    /// Checks that `context` may use `capability` on `nodes` (node names; empty for
    /// actions on no node). Front ends call this before reading or writing history
    /// and journals; executions are checked by the engine itself.
    pub async fn authorize(
        &self,
        context: &ExecutionContext,
        capability: &Capability,
        nodes: &[&str],
    ) -> Result<(), EngineError> {
        let access = Access {
            capability,
            nodes,
            command: None,
        };
        check(&self.inner, context, &access, &Secrets::default()).await
    }

    /// As [`Engine::authorize`], with the role's command limits applied to
    /// `command` (interactive sessions, which the executor does not see).
    pub async fn authorize_command(
        &self,
        context: &ExecutionContext,
        capability: &Capability,
        nodes: &[&str],
        command: &str,
    ) -> Result<(), EngineError> {
        let access = Access {
            capability,
            nodes,
            command: Some(command),
        };
        check(&self.inner, context, &access, &Secrets::default()).await
    }

    /// The subset of `nodes` `context` may use `capability` on, without an audit
    /// entry: for listings that show only what the user may see.
    pub fn permitted<'a>(
        &self,
        context: &ExecutionContext,
        capability: &Capability,
        nodes: &[&'a str],
    ) -> Vec<&'a str> {
        let access = Access {
            capability,
            nodes,
            command: None,
        };
        match self
            .inner
            .authorizer
            .authorize(context, &access, &self.inventory())
        {
            Ok(()) => nodes.to_vec(),
            Err(d) if d.nodes.len() == nodes.len() => Vec::new(),
            Err(d) => nodes
                .iter()
                .filter(|n| !d.nodes.iter().any(|x| x == *n))
                .copied()
                .collect(),
        }
    }
}

/// The check itself; on refusal, audits and returns the error. `secrets` redact
/// the command and reason in what is written.
pub(crate) async fn check(
    inner: &EngineInner,
    context: &ExecutionContext,
    access: &Access<'_>,
    secrets: &Secrets,
) -> Result<(), EngineError> {
    let inventory = inner
        .inventory
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let Err(denial) = inner.authorizer.authorize(context, access, &inventory) else {
        return Ok(());
    };
    let reason = redact(&denial.reason, secrets);
    let target = if denial.nodes.is_empty() {
        AUDIT_NODE.to_string()
    } else {
        fold(denial.nodes.iter().map(String::as_str))
    };
    let mut action = format!("denied {}", access.capability);
    if let Some(c) = access.command {
        action.push_str(&format!(": {}", redact(c, secrets)));
    }
    tracing::warn!(
        user = %context.user, correlation = %context.correlation_id,
        capability = %access.capability, %target, "{action}: {reason}"
    );
    let audit_nodes: Vec<&str> = if denial.nodes.is_empty() {
        vec![AUDIT_NODE]
    } else {
        denial.nodes.iter().map(String::as_str).collect()
    };
    for node in audit_nodes {
        let entry = JournalEntry {
            id: 0,
            node: node.to_string(),
            entry_type: EntryType::Event,
            timestamp: now_millis(),
            user: context.user.clone(),
            action: action.clone(),
            status: Some("denied".into()),
            execution_id: None,
            details: serde_json::json!({
                "capability": access.capability.to_string(),
                "target": target,
                "reason": reason,
                "correlation_id": context.correlation_id,
            }),
        };
        inner.record(WriteOp::Journal(entry)).await;
        inner.events.send_as(
            EngineEvent::JournalAppended {
                node: node.to_string(),
                entry_type: EntryType::Event,
                execution: None,
            },
            Some(&context.user),
        );
    }
    // Committed before the caller reports the refusal and perhaps exits.
    if let Some(store) = &inner.store
        && let Err(e) = store.flush().await
    {
        tracing::error!("audit entry not recorded: {e}");
    }
    Err(EngineError::Authorization {
        user: context.user.clone(),
        capability: access.capability.to_string(),
        target,
        reason,
    })
}
