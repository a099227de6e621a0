//! `[ui]`: the console's theme, key map and confirmation rules. Parsed and validated
//! here; the console applies them.

use super::KeyError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// `default` (the colours of `assets/theme.toml`) or `no-color` (as `NO_COLOR`).
    pub theme: String,
    /// A key map file merged over the built-in bindings, relative to the config file;
    /// unset: `keymap.toml` beside the config file.
    pub keymap: Option<PathBuf>,
    /// Runs over more nodes than this ask for confirmation first.
    pub confirm_above_nodes: usize,
    /// Commands containing any of these ask for confirmation whatever the node count.
    pub danger_patterns: Vec<String>,
}

pub const THEMES: &[&str] = &["default", "no-color"];

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            theme: "default".into(),
            keymap: None,
            confirm_above_nodes: 50,
            danger_patterns: [
                "rm -rf", "reboot", "shutdown", "halt", "poweroff", "mkfs", "dd ", "init 0",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl UiConfig {
    pub(super) fn validate(&self, config_file: &Path) -> Result<(), KeyError> {
        if !THEMES.contains(&self.theme.as_str()) {
            return Err(KeyError::new(
                "ui",
                "theme",
                format!("{:?} is not one of {}", self.theme, THEMES.join(", ")),
            ));
        }
        if let Some(k) = &self.keymap {
            let path = resolve(config_file, k);
            if !path.is_file() {
                return Err(KeyError::new(
                    "ui",
                    "keymap",
                    format!("{} is not a file", path.display()),
                ));
            }
        }
        if self.danger_patterns.iter().any(|p| p.is_empty()) {
            return Err(KeyError::new("ui", "danger_patterns", "a pattern is empty"));
        }
        Ok(())
    }

    /// Whether a run of `command` over `nodes` nodes needs a confirmation.
    pub fn needs_confirmation(&self, command: &str, nodes: usize) -> bool {
        nodes > self.confirm_above_nodes || self.danger_patterns.iter().any(|p| command.contains(p))
    }
}

/// A path from the config, relative to the config file's directory.
pub fn resolve(config_file: &Path, path: &Path) -> PathBuf {
    match config_file.parent() {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    }
}
