//! The inventory tree: moving, opening and closing groups, selecting, the
//! filter.

use super::super::action::Action;
use super::super::cursor::delta;
use super::super::input::BarKind;
use super::super::keymap::Mode;
use super::super::pane::{open_bar, page};
use super::super::state::{AppState, Focus};
use super::{Handled, Pane};

pub struct Inventory;

impl Pane for Inventory {
    fn mode(&self) -> Mode {
        Mode::Inventory
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        use Action::*;
        let page = page(state);
        let inv = &mut state.inventory;
        if let Some(d) = delta(action, page) {
            inv.move_by(d, page);
            return Handled::done();
        }
        match action {
            Left => inv.set_open(false),
            Right => inv.set_open(true),
            Open => {
                if inv.current_node().is_some() {
                    state.focus = Focus::Main;
                } else {
                    inv.toggle_open();
                }
            }
            ToggleSelect => {
                inv.toggle_select();
                inv.move_by(1, page);
            }
            SelectAll => inv.select_all_visible(),
            ClearSelection => inv.clear_selection(),
            ExpandAll => inv.open_all(true),
            CollapseAll => inv.open_all(false),
            Filter => {
                let current = inv
                    .filter
                    .as_ref()
                    .map(|(e, _)| e.clone())
                    .unwrap_or_default();
                open_bar(state, BarKind::Filter, &current);
            }
            Back if inv.filter.is_some() => {
                let inventory = state.inventory_data.clone();
                let _ = state.inventory.set_filter(&inventory, "");
                state.info("filter cleared");
            }
            _ => return Handled::Ignored,
        }
        Handled::done()
    }
}
