//! `[secrets]`: environment variable names whose values are secret.

use super::KeyError;
use crate::engine::secrets::DEFAULT_PATTERNS;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SecretsConfig {
    /// Globs (`*`, `?`, case-insensitive) over env var names.
    pub patterns: Vec<String>,
}

impl Default for SecretsConfig {
    fn default() -> Self {
        SecretsConfig {
            patterns: DEFAULT_PATTERNS.iter().map(|p| p.to_string()).collect(),
        }
    }
}

impl SecretsConfig {
    pub(super) fn validate(&self) -> Result<(), KeyError> {
        for p in &self.patterns {
            if p.trim().is_empty() {
                return Err(KeyError::new("secrets", "patterns", "a pattern is empty"));
            }
            if p.trim_matches('*').is_empty() {
                return Err(KeyError::new(
                    "secrets",
                    "patterns",
                    format!("{p:?} would mark every variable secret"),
                ));
            }
        }
        Ok(())
    }
}
