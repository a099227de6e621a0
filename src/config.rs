//! The configuration file (TOML). Every key is documented in the README with its
//! default; an unknown key or a bad value is an error naming the file, the line and
//! the key.

mod journal;
mod logging;
mod rbac;
mod secrets;
mod service;
mod sessions;
mod store;
mod ui;

pub use journal::{JournalConfig, TransportJournal};
pub use logging::LoggingConfig;
pub use rbac::{RbacConfig, RoleConfig};
pub use secrets::SecretsConfig;
pub use service::{SOCKET_ENV, ServiceConfig};
pub use sessions::SessionsConfig;
pub use store::{STORE_URL_ENV, StoreConfig};
pub use ui::UiConfig;

use crate::engine::common::duration::parse_duration;
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
    pub journal: JournalConfig,
    pub secrets: SecretsConfig,
    pub sessions: SessionsConfig,
    pub store: StoreConfig,
    pub engine: ServiceConfig,
    pub ui: UiConfig,
    /// `None` when the file has no `[rbac]` section: the local user is admin.
    pub rbac: Option<RbacConfig>,
    pub inventory: crate::engine::inventory::service::InventoryConfig,
    pub facts: crate::engine::facts::FactsConfig,
    pub tasks: crate::engine::orchestrator::task::TaskSettings,
    pub breakers: crate::engine::resilience::breaker::BreakerSettings,
    pub retry: crate::engine::resilience::RetrySettings,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ExecutionConfig {
    /// Per-node time limit; "none" waits forever.
    pub timeout: String,
    pub fanout: usize,
    pub max_concurrency: usize,
    /// Most runs waiting for their first slot before new ones are refused.
    pub queue_depth: usize,
    /// Waiting this long in the queue counts as one priority level.
    pub queue_aging: String,
    /// How long a finished run still answers for its idempotency key.
    pub idempotency_window: String,
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
            queue_depth: 1000,
            queue_aging: "10s".into(),
            idempotency_window: "10m".into(),
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
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| {
                    let before = text.get(..s.start).unwrap_or(text);
                    before.matches('\n').count() + 1
                })
                .unwrap_or(0);
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                reason: name_the_key(text, line, e.message()),
            }
        })?;
        config.validate(path).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: line_of(text, &e.section, &e.key),
            reason: format!("[{}] {}: {}", e.section, e.key, e.reason),
        })?;
        if let Some(k) = &config.ui.keymap {
            config.ui.keymap = Some(ui::resolve(path, k));
        }
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), KeyError> {
        self.inventory
            .validate()
            .map_err(|(k, r)| KeyError::new("inventory", k, r))?;
        self.facts
            .validate()
            .map_err(|(k, r)| KeyError::new("facts", k, r))?;
        self.breakers
            .to_config()
            .map_err(|(k, r)| KeyError::new("breakers", k, r))?;
        self.retry
            .validate()
            .map_err(|(k, r)| KeyError::new("retry", k, r))?;
        let e = &self.execution;
        let bad = |key: &str, reason: String| Err(KeyError::new("execution", key, reason));
        if let Err(r) = self.timeout() {
            return bad("timeout", r);
        }
        if let Err(r) = parse_duration(&e.retry_delay) {
            return bad("retry_delay", r.to_string());
        }
        match parse_duration(&e.kill_grace) {
            Err(r) => return bad("kill_grace", r.to_string()),
            Ok(g) if g.is_zero() => return bad("kill_grace", "must be more than 0".into()),
            Ok(_) => {}
        }
        if !matches!(e.backoff.as_str(), "linear" | "exponential") {
            return bad(
                "backoff",
                format!("{:?} is not linear or exponential", e.backoff),
            );
        }
        if e.fanout == 0 {
            return bad("fanout", "must be at least 1".into());
        }
        if e.max_concurrency == 0 {
            return bad("max_concurrency", "must be at least 1".into());
        }
        if e.queue_depth == 0 {
            return bad("queue_depth", "must be at least 1".into());
        }
        if let Err(r) = parse_duration(&e.idempotency_window) {
            return bad("idempotency_window", r.to_string());
        }
        match parse_duration(&e.queue_aging) {
            Err(r) => return bad("queue_aging", r.to_string()),
            Ok(a) if a.is_zero() => return bad("queue_aging", "must be more than 0".into()),
            Ok(_) => {}
        }
        let out = |key: &str, reason: &str| Err(KeyError::new("output", key, reason));
        if self.output.run_budget_bytes < 1 << 20 {
            return out("run_budget_bytes", "must be at least 1048576");
        }
        if self.output.ring_bytes < 1024 {
            return out("ring_bytes", "must be at least 1024");
        }
        self.logging.validate()?;
        self.journal.validate()?;
        self.secrets.validate()?;
        self.sessions.validate()?;
        self.ui.validate(path)?;
        if let Some(rbac) = &self.rbac {
            rbac.validate()?;
        }
        Ok(())
    }

    /// How long a finished run answers for its idempotency key.
    pub fn idempotency_window(&self) -> Duration {
        parse_duration(&self.execution.idempotency_window).unwrap_or(Duration::from_secs(600))
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

/// A bad value: the section and key at fault, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    /// Dotted table name, as in its header: `journal`, `rbac.roles.ops`.
    pub section: String,
    pub key: String,
    pub reason: String,
}

impl KeyError {
    pub fn new(section: &str, key: &str, reason: impl Into<String>) -> KeyError {
        KeyError {
            section: section.to_string(),
            key: key.to_string(),
            reason: reason.into(),
        }
    }
}

/// `"none"` (keep forever) or a duration of at least a day.
fn retention(value: &str) -> Result<Option<Duration>, String> {
    if value == "none" {
        return Ok(None);
    }
    let d = parse_duration(value).map_err(|e| format!("{e}, or \"none\""))?;
    if d < Duration::from_secs(86_400) {
        return Err(format!("{value:?} is less than a day"));
    }
    Ok(Some(d))
}

/// The line of `key` inside the `[section]` table (1-based), else the first line
/// that sets `key` anywhere, else the section header, else 0.
fn line_of(text: &str, section: &str, key: &str) -> usize {
    let sets = |l: &str| {
        let t = l.trim_start().trim_start_matches('"');
        t.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start_matches('"').trim_start().starts_with('='))
    };
    let mut current = String::new();
    let mut header = 0;
    let mut anywhere = 0;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            current = name.trim_matches(['[', ']']).trim().replace(['"', ' '], "");
            if current == section && header == 0 {
                header = i + 1;
            }
            continue;
        }
        if sets(l) {
            if current == section {
                return i + 1;
            }
            if anywhere == 0 {
                anywhere = i + 1;
            }
        }
    }
    if anywhere != 0 { anywhere } else { header }
}

/// toml's message for a bad value does not always say which key: add it.
fn name_the_key(text: &str, line: usize, message: &str) -> String {
    let key = text
        .lines()
        .nth(line.saturating_sub(1))
        .and_then(|l| l.split_once('='))
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    match key {
        Some(k) if !message.contains(&k) => format!("{k}: {}", message.trim_end()),
        _ => message.trim_end().to_string(),
    }
}
