//! The inventory pane: counts for its title and the tree rows on screen,
//! each node with its own last-run sign.

pub use crate::ui::sign::NodeSign;

pub struct InventoryPane<'a> {
    pub focused: bool,
    pub loaded: bool,
    /// Nodes in the inventory.
    pub nodes: usize,
    /// Selected nodes, hidden by the filter or not (all are hit by a run).
    pub selected: usize,
    /// The filter's expression, the grammar it is read with, and how many
    /// selected nodes it shows.
    pub filter: Option<Filter<'a>>,
    /// The rows on screen, from the first one shown.
    pub rows: Vec<TreeRow<'a>>,
    /// The cursor's place among `rows`, when it is on screen.
    pub cursor: Option<usize>,
}

pub struct Filter<'a> {
    pub expr: &'a str,
    pub grammar: String,
    pub selected_shown: usize,
}

pub enum TreeRow<'a> {
    Source {
        name: &'a str,
        open: bool,
    },
    Group {
        name: &'a str,
        /// The group of nodes in no group but `all` (shown without `@`).
        ungrouped: bool,
        open: bool,
        members: usize,
        selected: usize,
    },
    Node {
        name: &'a str,
        selected: bool,
        sign: NodeSign,
    },
}
