//! What a run typed on the `!` prompt will hit, shown before Enter: the target
//! nodes folded as a node set with their count, and where they come from
//! (`selection`, or `cursor: web01` / `cursor: @web` when nothing is selected).

use super::inventory::{InventoryView, TargetSource};
use crate::engine::inventory::nodeset;

/// `→ web[01-12],db[1-4] (16) · selection`, or why nothing would run.
pub fn preview(inv: &InventoryView) -> String {
    let Some((nodes, source)) = inv.target_nodes() else {
        return "→ nothing: select nodes with space, or move the cursor to a node or group"
            .to_string();
    };
    let folded = nodeset::fold(nodes.iter().map(|n| inv.names[*n as usize].as_str()));
    let from = match source {
        TargetSource::Selection => "selection".to_string(),
        TargetSource::Cursor(name) => format!("cursor: {name}"),
    };
    format!("→ {folded} ({}) · {from}", nodes.len())
}
