//! Key bindings as data: the defaults shipped in `assets/keymap.toml`, with the
//! user's file merged over them. A bad binding is an error naming the file, the
//! line, the key and the reason.

use super::action::Action;
use super::keys::Key;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub const DEFAULT_KEYMAP: &str = include_str!("../../../assets/keymap.toml");

/// Where a set of bindings applies: the focused pane's mode, then `Global`;
/// a prompt's or popup's mode alone (its keys are its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Global,
    Inventory,
    Output,
    Progress,
    History,
    Journal,
    Facts,
    /// The input bar: command line, run, filter, search, history search, write.
    Prompt,
    /// Help, messages and the diff: scrolled text.
    Pager,
    Confirm,
    ConfirmQuit,
    HostKey,
    Passphrase,
    Editor,
}

impl Mode {
    pub const ALL: [Mode; 14] = [
        Mode::Global,
        Mode::Inventory,
        Mode::Output,
        Mode::Progress,
        Mode::History,
        Mode::Journal,
        Mode::Facts,
        Mode::Prompt,
        Mode::Pager,
        Mode::Confirm,
        Mode::ConfirmQuit,
        Mode::HostKey,
        Mode::Passphrase,
        Mode::Editor,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Global => "global",
            Mode::Inventory => "inventory",
            Mode::Output => "output",
            Mode::Progress => "progress",
            Mode::History => "history",
            Mode::Journal => "journal",
            Mode::Facts => "facts",
            Mode::Prompt => "prompt",
            Mode::Pager => "pager",
            Mode::Confirm => "confirm",
            Mode::ConfirmQuit => "confirm_quit",
            Mode::HostKey => "host_key",
            Mode::Passphrase => "passphrase",
            Mode::Editor => "editor",
        }
    }

    fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {what}: {reason}")]
pub struct KeymapError {
    pub file: String,
    pub line: usize,
    pub what: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct Keymap {
    bindings: HashMap<(Mode, Key), Action>,
}

impl Keymap {
    /// The shipped defaults (a test guards that they parse).
    pub fn defaults() -> Keymap {
        let mut map = Keymap::default();
        map.merge_toml(DEFAULT_KEYMAP, "assets/keymap.toml")
            .expect("the shipped keymap is valid");
        map
    }

    /// Defaults, then the user's file when it exists.
    pub fn load(user_file: Option<&Path>) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::defaults();
        if let Some(path) = user_file.filter(|p| p.is_file()) {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| KeymapError {
                file: name.clone(),
                line: 0,
                what: "keymap".into(),
                reason: e.to_string(),
            })?;
            map.merge_toml(&text, &name)?;
        }
        Ok(map)
    }

    pub fn merge_toml(&mut self, text: &str, file: &str) -> Result<(), KeymapError> {
        let error = |line: usize, what: String, reason: String| KeymapError {
            file: file.to_string(),
            line,
            what,
            reason,
        };
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
                .unwrap_or(0);
            error(line, "keymap".into(), e.message().to_string())
        })?;
        for (section, bindings) in &table {
            let line = line_of(text, &format!("[{section}]"));
            let mode = Mode::parse(section).ok_or_else(|| {
                let known: Vec<_> = Mode::ALL.iter().map(|m| m.name()).collect();
                error(
                    line,
                    format!("[{section}]"),
                    format!("unknown mode (known: {})", known.join(", ")),
                )
            })?;
            let toml::Value::Table(bindings) = bindings else {
                return Err(error(line, section.to_string(), "expected a table".into()));
            };
            for (key_text, action) in bindings {
                let line = line_of(text, &format!("\"{key_text}\""));
                let what = format!("[{section}] {key_text:?}");
                let key = Key::parse(key_text).map_err(|e| error(line, what.clone(), e.reason))?;
                let action: Action = action
                    .clone()
                    .try_into()
                    .map_err(|_| error(line, what.clone(), format!("unknown action {action}")))?;
                self.bindings.insert((mode, key), action);
            }
        }
        Ok(())
    }

    /// The focused pane's binding, else the global one.
    pub fn lookup(&self, mode: Mode, key: Key) -> Option<Action> {
        self.bindings
            .get(&(mode, key))
            .or_else(|| self.bindings.get(&(Mode::Global, key)))
            .copied()
    }

    /// The mode's own binding only (prompts and popups: no global keys).
    pub fn lookup_own(&self, mode: Mode, key: Key) -> Option<Action> {
        self.bindings.get(&(mode, key)).copied()
    }

    /// Keys bound per mode and action (in the order actions are declared), for
    /// the help overlay.
    pub fn described(&self) -> BTreeMap<Mode, BTreeMap<Action, Vec<Key>>> {
        let mut out: BTreeMap<Mode, BTreeMap<Action, Vec<Key>>> = BTreeMap::new();
        for ((mode, key), action) in &self.bindings {
            out.entry(*mode)
                .or_default()
                .entry(*action)
                .or_default()
                .push(*key);
        }
        for actions in out.values_mut() {
            for keys in actions.values_mut() {
                keys.sort();
            }
        }
        out
    }

    /// The first key (in a stable order) bound to `action` in `mode` or globally.
    pub fn key_for(&self, mode: Mode, action: Action) -> Option<Key> {
        let mut keys: Vec<Key> = self
            .bindings
            .iter()
            .filter(|((m, _), a)| (*m == mode || *m == Mode::Global) && **a == action)
            .map(|((_, k), _)| *k)
            .collect();
        keys.sort_by_key(|k| (k.to_string().len(), *k));
        keys.first().copied()
    }
}

/// 1-based line of the first occurrence of `needle`, or 0.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tui::keys::KeyName;

    #[test]
    fn defaults_parse_and_pane_bindings_win() {
        let map = Keymap::defaults();
        let slash = Key::plain(KeyName::Char('/'));
        assert_eq!(map.lookup(Mode::Inventory, slash), Some(Action::Filter));
        assert_eq!(map.lookup(Mode::Output, slash), Some(Action::Search));
        let q = Key::plain(KeyName::Char('q'));
        assert_eq!(map.lookup(Mode::Journal, q), Some(Action::Quit));
    }

    #[test]
    fn user_bindings_override_and_errors_name_the_line() {
        let mut map = Keymap::defaults();
        map.merge_toml("[global]\n\"x\" = \"quit\"\n", "mine.toml")
            .unwrap();
        assert_eq!(
            map.lookup(Mode::Output, Key::parse("x").unwrap()),
            Some(Action::Quit)
        );
        let err = map
            .merge_toml("[global]\n\n\"y\" = \"explode\"\n", "mine.toml")
            .unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.to_string().contains("mine.toml:3"), "{err}");
        assert!(err.to_string().contains("explode"), "{err}");
        let err = map.merge_toml("[nowhere]\n", "mine.toml").unwrap_err();
        assert!(err.to_string().contains("unknown mode"), "{err}");
    }
}
