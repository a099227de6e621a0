//! The input bar at the bottom: command line (`:`), run (`!`), the inventory
//! filter, output search, history search, the file to write to. Enter
//! submits, esc leaves, up and down recall earlier commands; any other key
//! is text.

use super::super::action::Action;
use super::super::commands;
use super::super::input::BarKind;
use super::super::keymap::Mode;
use super::super::msg::Effect;
use super::super::state::AppState;
use super::{Handled, Pane};
use crossterm::event::KeyEvent;

pub struct Prompt;

impl Pane for Prompt {
    fn mode(&self) -> Mode {
        Mode::Prompt
    }

    fn modal(&self) -> bool {
        true
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        let Some(bar) = state.bar.as_mut() else {
            return Handled::done();
        };
        let kind = bar.kind;
        match action {
            Action::Submit => {
                let text = bar.text().to_string();
                state.bar = None;
                Handled::Consumed(submit(state, kind, &text))
            }
            Action::Back => {
                state.bar = None;
                Handled::done()
            }
            Action::Up | Action::Down => {
                // Only commands are recalled.
                let recall: &[String] = if kind == BarKind::Run {
                    &state.recall
                } else {
                    &[]
                };
                bar.recall(action == Action::Up, recall);
                Handled::done()
            }
            _ => Handled::Ignored,
        }
    }

    fn on_unbound(&self, state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
        if let Some(bar) = state.bar.as_mut()
            && bar.input(key)
            && bar.kind == BarKind::HistoryQuery
        {
            // History search follows the text as it is typed.
            let q = bar.text().to_string();
            state.history.set_query(&q);
        }
        Vec::new()
    }
}

/// What enter on the bar means, by its kind.
fn submit(state: &mut AppState, kind: BarKind, text: &str) -> Vec<Effect> {
    match kind {
        BarKind::Command => commands::execute(state, text),
        BarKind::Run => commands::run_on_selection(state, text),
        BarKind::Filter => {
            let inventory = state.inventory_data.clone();
            match state.inventory.set_filter(&inventory, text) {
                Ok(n) if text.trim().is_empty() => state.info(format!("filter cleared: {n} nodes")),
                Ok(n) => {
                    let grammar = state.inventory.grammar;
                    let mut line = format!("filter [{grammar}] {text:?}: {n} nodes");
                    for warning in &state.inventory.filter_warnings {
                        line.push_str(&format!(" · warning: {warning}"));
                    }
                    state.info(line)
                }
                Err(e) => state.error(e),
            }
            Vec::new()
        }
        BarKind::Search => {
            state.output.set_search(text);
            if !text.is_empty() {
                match state.output.find(true) {
                    Some(_) => {
                        let counter = super::super::output_search::match_counter(&state.output);
                        state.info(format!("{text:?}: {counter} · n next, N previous"));
                    }
                    None => state.error(format!("{text:?} not found")),
                }
            }
            Vec::new()
        }
        BarKind::HistoryQuery => {
            state.history.set_query(text);
            Vec::new()
        }
        BarKind::Write => super::super::write_output::write_command(state, text, false),
    }
}
