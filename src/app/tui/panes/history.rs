//! The history pane: searching, opening a stored run, editing its command.

use super::super::action::Action;
use super::super::cursor::delta;
use super::super::input::BarKind;
use super::super::keymap::Mode;
use super::super::msg::Effect;
use super::super::pane::{open_bar, page};
use super::super::state::{AppState, Focus};
use super::{Handled, Pane};

pub struct History;

impl Pane for History {
    fn mode(&self) -> Mode {
        Mode::History
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        use Action::*;
        let page = page(state);
        let h = &mut state.history;
        if let Some(d) = delta(action, page) {
            h.move_by(d, page);
            return Handled::done();
        }
        match action {
            Search | Filter => {
                let q = h.query.clone();
                open_bar(state, BarKind::HistoryQuery, &q);
            }
            Open => {
                if let Some(r) = h.selected() {
                    let id = r.id.clone();
                    state.info(format!("loading {id}"));
                    return Handled::Consumed(vec![Effect::LoadStoredRun(id)]);
                }
            }
            Rerun => super::super::rerun_actions::edit_in_prompt(state),
            Refresh => {
                h.loading = true;
                return Handled::Consumed(vec![Effect::LoadHistory]);
            }
            Back => state.focus = Focus::Inventory,
            _ => return Handled::Ignored,
        }
        Handled::done()
    }
}
