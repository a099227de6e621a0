//! Every part of the console that takes keys, as one module each: the panes
//! (inventory, output, progress with the plan's steps, history, journal,
//! facts), the prompt (command line, run, filter, search, history search,
//! write) and the popups (pager: help, messages and diff; confirmations; the
//! engine's questions; the note editor). A key goes through the keymap to
//! the one that has it (`active`): the top popup, else the open prompt, else
//! the focused pane. Each says what an action means to it, what it does with
//! keys bound to nothing, and which keys it shows in the bar.
//!
//! Adding one: its module, a `Mode` (its keymap section), and a line in
//! `PANES`; `active` says when it has the keys if it is a popup or prompt.

mod confirm;
mod editor;
mod facts;
mod global;
mod history;
mod inventory;
mod journal;
mod output;
mod pager;
mod progress;
mod prompt;
mod question;
#[cfg(test)]
mod tests;

use super::action::Action;
use super::keymap::{Keymap, Mode};
use super::keys::Key;
use super::msg::Effect;
use super::overlay::Overlay;
use super::state::AppState;
use crate::engine::transport::interaction::Question;
use crossterm::event::KeyEvent;

/// What a pane did with an action.
pub enum Handled {
    Consumed(Vec<Effect>),
    /// Not its action: a pane's goes on to the global meaning.
    Ignored,
}

impl Handled {
    /// Consumed, with nothing for the runner to do.
    pub fn done() -> Handled {
        Handled::Consumed(Vec::new())
    }
}

pub trait Pane: Sync {
    /// Its section of the keymap.
    fn mode(&self) -> Mode;

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled;

    /// A key its own section binds to nothing (or to an action it ignored).
    /// Panes: the global binding applies; prompts and popups (`modal`) get it
    /// here (text for a text field, closing for a pager).
    fn on_unbound(&self, _state: &mut AppState, _key: KeyEvent) -> Vec<Effect> {
        Vec::new()
    }

    /// Takes every key (a prompt or popup): no global binding applies.
    fn modal(&self) -> bool {
        false
    }

    /// The keys the bar shows while it has focus.
    fn hints(&self, keymap: &Keymap) -> Vec<(Key, Action)> {
        hints(keymap, self.mode())
    }
}

/// Everything that takes keys, one line each.
static PANES: [&dyn Pane; 14] = [
    &inventory::Inventory,
    &output::Output,
    &progress::Progress,
    &history::History,
    &journal::Journal,
    &facts::Facts,
    &prompt::Prompt,
    &pager::Pager,
    &confirm::ConfirmRun,
    &confirm::ConfirmQuit,
    &question::HostKey,
    &question::Passphrase,
    &editor::Editor,
    &global::Global,
];

fn pane(mode: Mode) -> &'static dyn Pane {
    PANES
        .iter()
        .copied()
        .find(|p| p.mode() == mode)
        .unwrap_or(&global::Global)
}

/// The mode of whatever has the keys: the top popup, the prompt, the focused
/// pane.
pub fn active(state: &AppState) -> Mode {
    match state.overlays.last() {
        Some(Overlay::Help { .. } | Overlay::Diff { .. } | Overlay::Message { .. }) => Mode::Pager,
        Some(Overlay::Confirm { .. }) => Mode::Confirm,
        Some(Overlay::ConfirmQuit { .. }) => Mode::ConfirmQuit,
        Some(Overlay::Question { question, .. }) => match question {
            Question::UnknownHostKey { .. } => Mode::HostKey,
            Question::Passphrase { .. } => Mode::Passphrase,
        },
        Some(Overlay::Editor { .. }) => Mode::Editor,
        None if state.bar.is_some() => Mode::Prompt,
        None => state.mode(),
    }
}

/// A key: to the one that has the keys, through the keymap.
pub fn on_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let target = pane(active(state));
    let k = Key::from_event(&key);
    if target.modal() {
        let action = k.and_then(|k| state.keymap.lookup_own(target.mode(), k));
        if let Some(action) = action
            && let Handled::Consumed(effects) = target.on_action(state, action)
        {
            return effects;
        }
        return target.on_unbound(state, key);
    }
    let Some(action) = k.and_then(|k| state.keymap.lookup(target.mode(), k)) else {
        return Vec::new();
    };
    on_action(state, action)
}

/// An action for the focused pane, else its global meaning.
pub fn on_action(state: &mut AppState, action: Action) -> Vec<Effect> {
    let target = pane(state.mode());
    match target.on_action(state, action) {
        Handled::Consumed(effects) => effects,
        Handled::Ignored => match global::Global.on_action(state, action) {
            Handled::Consumed(effects) => effects,
            Handled::Ignored => Vec::new(),
        },
    }
}

/// The focused pane's hints for the bar.
pub fn focused_hints(state: &AppState) -> Vec<(Key, Action)> {
    pane(state.mode()).hints(&state.keymap)
}

/// Global actions the idle bar advertises around the focused pane's own keys
/// (help and run come first, so they show however narrow the bar).
const GLOBAL_HINTS: [Action; 6] = [
    Action::Help,
    Action::RunPrompt,
    Action::CommandMode,
    Action::FocusNext,
    Action::ShowMessage,
    Action::Quit,
];

/// Help and run, the keys of `mode` (one per action, in the order actions are
/// declared), then a few global ones, each only where the key really does
/// that in this mode.
pub fn hints(keymap: &Keymap, mode: Mode) -> Vec<(Key, Action)> {
    let described = keymap.described();
    let mut own: Vec<(Key, Action)> = described
        .get(&mode)
        .into_iter()
        .flatten()
        .filter(|(a, _)| mode != Mode::Global && !GLOBAL_HINTS.contains(a))
        .filter_map(|(a, keys)| Some((*keys.first()?, *a)))
        .collect();
    // What the pane does first; switching to another view last.
    own.sort_by_key(|(_, a)| matches!(a, Action::ShowJournal | Action::ShowFacts));
    let global = GLOBAL_HINTS.into_iter().filter_map(|action| {
        let key = keymap.key_for(mode, action)?;
        (keymap.lookup(mode, key) == Some(action)).then_some((key, action))
    });
    let (first, rest): (Vec<_>, Vec<_>) =
        global.partition(|(_, a)| matches!(a, Action::Help | Action::RunPrompt));
    first.into_iter().chain(own).chain(rest).collect()
}
