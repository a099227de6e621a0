//! The inventory tree as drawn: only the rows on screen, each node with its
//! own sign (last run or breaker).

use crate::app::tui::inventory::{InventoryView, Row, UNGROUPED};
use crate::ui::view::inventory::{Filter, InventoryPane, NodeSign, TreeRow};
use crate::ui::visible_top;

/// `height`: rows inside the pane.
pub fn pane(inv: &InventoryView, focused: bool, height: usize) -> InventoryPane<'_> {
    let filter = inv.filter.as_ref().map(|(expr, _)| Filter {
        expr,
        grammar: inv.grammar.to_string(),
        selected_shown: if inv.selected_count > 0 {
            inv.selected_shown()
        } else {
            0
        },
    });
    let top = visible_top(inv.top, inv.cursor, height);
    let rows = inv
        .rows
        .iter()
        .skip(top)
        .take(height)
        .map(|row| tree_row(inv, *row))
        .collect();
    InventoryPane {
        focused,
        loaded: inv.loaded,
        nodes: inv.names.len(),
        selected: inv.selected_count,
        filter,
        rows,
        cursor: inv.cursor.checked_sub(top),
    }
}

fn tree_row(inv: &InventoryView, row: Row) -> TreeRow<'_> {
    // A filter shows every matching group open.
    let filtered = inv.filter.is_some();
    match row {
        Row::Source(s) => {
            let src = &inv.sources[s as usize];
            TreeRow::Source {
                name: &src.name,
                open: src.open || filtered,
            }
        }
        Row::Group(s, g) => {
            let group = inv.group(s, g);
            TreeRow::Group {
                name: &group.name,
                ungrouped: group.name == UNGROUPED,
                open: group.open || filtered,
                members: group.nodes.len(),
                selected: group
                    .nodes
                    .iter()
                    .filter(|n| inv.selected[**n as usize])
                    .count(),
            }
        }
        Row::Node(_, _, n) => {
            let name = &inv.names[n as usize];
            let sign = match inv.breaker_of(name) {
                Some(b) => NodeSign::Breaker(b),
                None => inv.signs[n as usize],
            };
            TreeRow::Node {
                name,
                selected: inv.selected[n as usize],
                sign,
            }
        }
    }
}
