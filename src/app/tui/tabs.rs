//! Narrow terminals show one pane at a time, as tabs: the inventory, then the
//! main pane's views. `tab` / `shift-tab` go round them.

use super::commands::{node_view, show};
use super::layout::SIDE_BY_SIDE_MIN_WIDTH;
use super::msg::Effect;
use super::state::{AppState, Focus, View};

/// What one tab shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Inventory,
    Main(View),
}

impl Tab {
    pub fn title(self) -> &'static str {
        match self {
            Tab::Inventory => "Inventory",
            Tab::Main(v) => v.title(),
        }
    }
}

/// Every tab, in order.
pub fn all() -> impl Iterator<Item = Tab> {
    std::iter::once(Tab::Inventory).chain(View::ALL.into_iter().map(Tab::Main))
}

/// Whether the terminal is too narrow for two panes side by side.
pub fn narrow(state: &AppState) -> bool {
    state.size.width < SIDE_BY_SIDE_MIN_WIDTH
}

/// The tab on screen.
pub fn current(state: &AppState) -> Tab {
    match state.focus {
        Focus::Inventory => Tab::Inventory,
        Focus::Main => Tab::Main(state.view),
    }
}

/// The next (or previous) tab. A node's journal or facts open for the node
/// under the inventory cursor when none is open yet.
pub fn step(state: &mut AppState, forward: bool) -> Vec<Effect> {
    let tabs: Vec<Tab> = all().collect();
    let at = tabs.iter().position(|t| *t == current(state)).unwrap_or(0);
    let n = tabs.len();
    let next = tabs[if forward {
        (at + 1) % n
    } else {
        (at + n - 1) % n
    }];
    match next {
        Tab::Inventory => {
            state.focus = Focus::Inventory;
            Vec::new()
        }
        Tab::Main(View::Journal) if state.journal.node.is_none() => {
            open_for_cursor(state, View::Journal)
        }
        Tab::Main(View::Facts) if state.facts.node.is_none() => open_for_cursor(state, View::Facts),
        Tab::Main(view) => show(state, view),
    }
}

fn open_for_cursor(state: &mut AppState, view: View) -> Vec<Effect> {
    if state.inventory.current_node().is_some() {
        node_view(state, view, "")
    } else {
        show(state, view)
    }
}
