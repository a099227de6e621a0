//! `[logging]`: how much drover logs and how long it keeps its log files.

use super::{KeyError, retention};
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// trace, debug, info, warn or error.
    pub level: String,
    /// Daily log files older than this are deleted; "none" keeps them all.
    pub retention: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            level: "info".into(),
            retention: "14d".into(),
        }
    }
}

impl LoggingConfig {
    pub(super) fn validate(&self) -> Result<(), KeyError> {
        if !matches!(
            self.level.as_str(),
            "trace" | "debug" | "info" | "warn" | "error"
        ) {
            return Err(KeyError::new(
                "logging",
                "level",
                format!("{:?} is not trace, debug, info, warn or error", self.level),
            ));
        }
        retention(&self.retention).map_err(|r| KeyError::new("logging", "retention", r))?;
        Ok(())
    }

    /// How many daily files to keep; `None` keeps every file.
    pub fn files_kept(&self) -> Option<usize> {
        retention(&self.retention)
            .ok()
            .flatten()
            .map(|d| d.as_secs().div_ceil(86_400).max(1) as usize)
    }

    pub fn retention(&self) -> Option<Duration> {
        retention(&self.retention).ok().flatten()
    }
}
