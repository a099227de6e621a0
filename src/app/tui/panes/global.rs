//! What the `[global]` keys mean wherever a pane has focus and did not take
//! the action itself: quit, help, the prompts, switching panes and views,
//! cancelling, the messages, a shell.

use super::super::action::Action;
use super::super::commands::{self, cancel_newest, node_view, show};
use super::super::input::BarKind;
use super::super::keymap::Mode;
use super::super::msg::Effect;
use super::super::overlay::Overlay;
use super::super::pane::open_bar;
use super::super::state::{AppState, Focus, View};
use super::{Handled, Pane};

pub struct Global;

impl Pane for Global {
    fn mode(&self) -> Mode {
        Mode::Global
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        use Action::*;
        let effects = match action {
            Quit => commands::quit_or_ask(state),
            RerunFailed => super::super::rerun_actions::rerun_failed(state),
            Help => {
                state.overlays.push(Overlay::Help { top: 0 });
                Vec::new()
            }
            Suspend => vec![Effect::Suspend],
            CommandMode => {
                open_bar(state, BarKind::Command, "");
                Vec::new()
            }
            RunPrompt => {
                open_bar(state, BarKind::Run, "");
                Vec::new()
            }
            FocusNext | FocusPrev if super::super::tabs::narrow(state) => {
                commands::step_tab(state, action == FocusNext)
            }
            FocusNext | FocusPrev => {
                state.focus = match state.focus {
                    Focus::Inventory => Focus::Main,
                    Focus::Main => Focus::Inventory,
                };
                Vec::new()
            }
            ShowOutput => show(state, View::Output),
            ShowProgress => show(state, View::Progress),
            ShowHistory => show(state, View::History),
            ShowJournal => node_view(state, View::Journal, ""),
            ShowFacts => node_view(state, View::Facts, ""),
            CancelExecution => cancel_newest(state),
            ShowMessage => {
                super::super::messages::open_status_message(state);
                Vec::new()
            }
            Messages => {
                super::super::messages::open_messages(state);
                Vec::new()
            }
            Shell => match state.inventory.current_node() {
                Some(n) => vec![Effect::Shell(n.to_string())],
                None => {
                    state.error("move the inventory cursor to a node to open a shell on it");
                    Vec::new()
                }
            },
            _ => return Handled::Ignored,
        };
        Handled::Consumed(effects)
    }
}
