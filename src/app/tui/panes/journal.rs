//! The journal pane: the entry type filter, a new note, opening a linked run
//! or playing a recorded session's transcript.

use super::super::action::Action;
use super::super::cursor::delta;
use super::super::keymap::Mode;
use super::super::msg::Effect;
use super::super::overlay::Overlay;
use super::super::pane::page;
use super::super::state::{AppState, Focus};
use super::{Handled, Pane};

pub struct Journal;

impl Pane for Journal {
    fn mode(&self) -> Mode {
        Mode::Journal
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        use Action::*;
        let page = page(state);
        let j = &mut state.journal;
        if let Some(d) = delta(action, page) {
            j.move_by(d, page);
            return Handled::done();
        }
        match action {
            CycleType => j.cycle_filter(),
            NewNote => match j.node.clone() {
                Some(node) => state.overlays.push(Overlay::editor(&node)),
                None => state.error("open a node's journal first"),
            },
            Refresh => {
                if let Some(node) = j.node.clone() {
                    j.loading = true;
                    return Handled::Consumed(vec![Effect::LoadJournal(node)]);
                }
            }
            // An entry linked to a run: enter replays that run from history; a
            // recorded session's entry: enter plays its transcript.
            Open => {
                let linked = j.shown().nth(j.cursor).map(|e| {
                    let transcript = e
                        .details
                        .get(crate::engine::transcript::DETAIL_KEY)
                        .and_then(|t| t.as_str())
                        .map(str::to_string);
                    (e.execution_id.clone(), transcript)
                });
                match linked {
                    Some((Some(id), _)) => {
                        state.info(format!("loading {id}"));
                        return Handled::Consumed(vec![Effect::LoadStoredRun(id)]);
                    }
                    Some((None, Some(transcript))) => {
                        return Handled::Consumed(vec![Effect::Replay(transcript)]);
                    }
                    Some((None, None)) => {
                        state.info("this entry is not linked to a run or a transcript")
                    }
                    None => {}
                }
            }
            Back => state.focus = Focus::Inventory,
            _ => return Handled::Ignored,
        }
        Handled::done()
    }
}
