//! The configuration file (TOML). Every key is documented in the README with its
//! default; an unknown key or a bad value is an error naming the file, the line and
//! the key.

use crate::engine::duration::parse_duration;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {reason}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub execution: ExecutionConfig,
    pub output: OutputConfig,
    pub logging: LoggingConfig,
    pub inventory: crate::engine::inventory::service::InventoryConfig,
    pub facts: crate::engine::facts::FactsConfig,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ExecutionConfig {
    /// Per-node time limit; "none" waits forever.
    pub timeout: String,
    pub fanout: usize,
    pub max_concurrency: usize,
    pub retries: u32,
    pub backoff: String,
    pub retry_delay: String,
    pub kill_grace: String,
}

impl Default for ExecutionConfig {
    fn default() -> Self {
        ExecutionConfig {
            timeout: "none".into(),
            fanout: 64,
            max_concurrency: 512,
            retries: 0,
            backoff: "exponential".into(),
            retry_delay: "500ms".into(),
            kill_grace: "2s".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Bytes kept per node and stream in memory.
    pub ring_bytes: usize,
    /// Lines kept at each end of a summarised output.
    pub summary_lines: usize,
    /// Bytes of output one run keeps in memory across all its nodes.
    pub run_budget_bytes: usize,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            ring_bytes: 1 << 20,
            summary_lines: 20,
            run_budget_bytes: 24 << 20,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// trace, debug, info, warn or error.
    pub level: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            level: "info".into(),
        }
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
                .unwrap_or(0),
            reason: e.message().to_string(),
        })?;
        config
            .validate()
            .map_err(|(key, reason)| ConfigError::Invalid {
                path: path.to_path_buf(),
                line: line_of_key(text, key),
                reason: format!("{key}: {reason}"),
            })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        self.inventory.validate()?;
        self.facts.validate()?;
        let e = &self.execution;
        self.timeout().map_err(|r| ("timeout", r))?;
        parse_duration(&e.retry_delay).map_err(|r| ("retry_delay", r.to_string()))?;
        let grace = parse_duration(&e.kill_grace).map_err(|r| ("kill_grace", r.to_string()))?;
        if grace.is_zero() {
            return Err(("kill_grace", "must be more than 0".into()));
        }
        if !matches!(e.backoff.as_str(), "linear" | "exponential") {
            return Err((
                "backoff",
                format!("{:?} is not linear or exponential", e.backoff),
            ));
        }
        if e.fanout == 0 {
            return Err(("fanout", "must be at least 1".into()));
        }
        if e.max_concurrency == 0 {
            return Err(("max_concurrency", "must be at least 1".into()));
        }
        if self.output.run_budget_bytes < 1 << 20 {
            return Err(("run_budget_bytes", "must be at least 1048576".into()));
        }
        if self.output.ring_bytes < 1024 {
            return Err(("ring_bytes", "must be at least 1024".into()));
        }
        if !matches!(
            self.logging.level.as_str(),
            "trace" | "debug" | "info" | "warn" | "error"
        ) {
            return Err((
                "level",
                format!("{:?} is not a log level", self.logging.level),
            ));
        }
        Ok(())
    }

    /// The default per-node timeout; `None` for "none".
    pub fn timeout(&self) -> Result<Option<Duration>, String> {
        match self.execution.timeout.as_str() {
            "none" | "" => Ok(None),
            t => parse_duration(t).map(Some).map_err(|e| e.to_string()),
        }
    }

    pub fn kill_grace(&self) -> Duration {
        parse_duration(&self.execution.kill_grace).unwrap_or(Duration::from_secs(2))
    }

    pub fn retry_delay(&self) -> Duration {
        parse_duration(&self.execution.retry_delay).unwrap_or(Duration::from_millis(500))
    }
}

fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.starts_with(key) && t[key.len()..].trim_start().starts_with('=')
        })
        .map(|i| i + 1)
        .unwrap_or(0)
}
