//! Narrow terminals show one pane at a time, as tabs: the inventory, then the
//! main pane's views. `tab` / `shift-tab` go round them
//! (`commands::step_tab`).

use super::layout::SIDE_BY_SIDE_MIN_WIDTH;
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
