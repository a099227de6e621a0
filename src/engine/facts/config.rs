//! `[facts]` in the config file.

use crate::engine::common::duration::parse_duration;
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FactsConfig {
    /// How long gathered facts are served from the cache; "none": always gather.
    pub ttl: String,
    /// Time limit for one provider on one node.
    pub timeout: String,
    /// Run the built-in gatherer (OS, kernel, CPU, memory, addresses, packages).
    pub builtin: bool,
    pub builtin_priority: i64,
    /// Priority of the node's inventory variables as facts.
    pub inventory_priority: i64,
    /// Most nodes gathered at once.
    pub fanout: usize,
    pub providers: Vec<CommandProviderConfig>,
}

impl Default for FactsConfig {
    fn default() -> Self {
        FactsConfig {
            ttl: "1h".into(),
            timeout: "30s".into(),
            builtin: true,
            builtin_priority: 50,
            inventory_priority: 10,
            fanout: 64,
            providers: Vec::new(),
        }
    }
}

/// `[[facts.providers]]`: a command whose output gives facts.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CommandProviderConfig {
    pub name: String,
    pub command: String,
    #[serde(default)]
    pub format: OutputFormat,
    #[serde(default = "default_command_priority")]
    pub priority: i64,
    /// The keys it is expected to give (documentation for `--key`; optional).
    #[serde(default)]
    pub keys: Vec<String>,
}

fn default_command_priority() -> i64 {
    100
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// A JSON object; each member is a fact.
    #[default]
    Json,
    /// `key=value` lines.
    Kv,
}

impl FactsConfig {
    /// The first bad key and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        self.ttl_value().map_err(|r| ("ttl", r))?;
        match parse_duration(&self.timeout) {
            Ok(d) if d.is_zero() => return Err(("timeout", "must be more than 0".into())),
            Ok(_) => {}
            Err(e) => return Err(("timeout", e.to_string())),
        }
        if self.fanout == 0 {
            return Err(("fanout", "must be at least 1".into()));
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &self.providers {
            if p.name.trim().is_empty() || p.command.trim().is_empty() {
                return Err((
                    "name",
                    "every [[facts.providers]] needs a name and a command".into(),
                ));
            }
            if ["builtin", "inventory"].contains(&p.name.as_str()) || !seen.insert(&p.name) {
                return Err((
                    "name",
                    format!("fact provider name {:?} is already taken", p.name),
                ));
            }
        }
        Ok(())
    }

    pub fn ttl_value(&self) -> Result<Option<Duration>, String> {
        match self.ttl.as_str() {
            "none" | "" | "0" => Ok(None),
            t => parse_duration(t).map(Some).map_err(|e| e.to_string()),
        }
    }

    pub fn timeout_value(&self) -> Duration {
        parse_duration(&self.timeout).unwrap_or(Duration::from_secs(30))
    }
}
