//! Small operations on the console state that every action module needs:
//! opening the input bar and the focused pane's page height. Kept apart from
//! `update` so that the action modules `update` dispatches to do not reach back.

use super::input::{Bar, BarKind};
use super::layout;
use super::state::{AppState, Focus};

pub(super) fn open_bar(state: &mut AppState, kind: BarKind, initial: &str) {
    state.bar = Some(Bar::new(kind, initial));
}

/// Rows in the focused pane, for page-wise scrolling.
pub(super) fn page(state: &AppState) -> usize {
    let a = state.areas();
    match state.focus {
        Focus::Inventory => layout::inner_height(a.inventory),
        Focus::Main => layout::inner_height(a.main),
    }
}
