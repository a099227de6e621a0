//! Several inventory sources seen as one (seeds properties 20 and 21).
//!
//! A fleet is often described twice: an Ansible inventory, a Bolt project,
//! a drover file with local overrides. Every node of every source is kept;
//! a node defined by several sources takes *all* its data (address, vars,
//! groups) from the source of highest priority, never a field-by-field mix,
//! so what runs is what one file says. `Node::source` records the winner.

use super::{Inventory, Node};
use std::cmp::Ordering;
use std::sync::Arc;

/// One source's contribution: its priority (higher wins), its name (what
/// `@name:group` targets and `Node::source` show), and its nodes.
pub type Source = (i64, String, Inventory);

/// Merges sources; a node in several sources comes from the one with the
/// highest priority, and between equal priorities from the later one in
/// `sources` (as [`Inventory::merge`] lets a later file override).
pub fn merge_by_priority(sources: Vec<Source>) -> Inventory {
    let mut ranked: Vec<(usize, Source)> = sources.into_iter().enumerate().collect();
    // Lowest first, so each `add` may override what came before.
    ranked.sort_by(|(ia, a), (ib, b)| match a.0.cmp(&b.0) {
        Ordering::Equal => ia.cmp(ib),
        other => other,
    });
    // Ansible order and declared sources follow the same ranking.
    let mut facts = Inventory::default();
    for (_, (_, _, inv)) in &ranked {
        facts.absorb_sources(inv);
    }
    let mut merged = Inventory::from_nodes(ranked.into_iter().flat_map(|(_, (_, name, inv))| {
        inv.nodes
            .into_values()
            .map(|node| Node {
                source: name.clone(),
                ..Arc::unwrap_or_clone(node)
            })
            .collect::<Vec<_>>()
    }));
    merged.absorb_sources(&facts);
    merged
}
