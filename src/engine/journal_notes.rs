//! Journal entries written through the handle (manual notes, events), checked
//! like any other act and announced to every subscriber.

use super::rbac::Capability;
use super::{Engine, EngineError, EngineEvent, ExecutionContext, ExecutionId};
use crate::store::{JournalEntry, WriteOp};

impl Engine {
    /// Writes a journal entry (manual notes, events) and announces it. A manual note
    /// is the user's own act: its author needs `journal.write` on the node.
    pub async fn append_journal(&self, entry: JournalEntry) -> Result<(), EngineError> {
        if entry.entry_type == crate::store::EntryType::Manual {
            let context = ExecutionContext {
                user: entry.user.clone(),
                roles: Vec::new(),
                correlation_id: ExecutionId::new().0,
            };
            self.authorize(&context, &Capability::JournalWrite, &[&entry.node])
                .await?;
        }
        let node = entry.node.clone();
        let entry_type = entry.entry_type;
        let user = entry.user.clone();
        if let Some(store) = &self.inner.store {
            store.send(WriteOp::Journal(entry)).await?;
        }
        self.inner.events.send_as(
            EngineEvent::JournalAppended {
                node,
                entry_type,
                execution: None,
            },
            Some(&user),
        );
        Ok(())
    }
}
