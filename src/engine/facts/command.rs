//! Command providers from the config: a command run on the node whose output
//! is a JSON object (each member a fact) or `key=value` lines.

use super::config::{CommandProviderConfig, OutputFormat};
use super::{FactMap, FactProvider};
use crate::engine::Engine;
use crate::engine::executor::capture::Captured;
use crate::engine::inventory::Node;
use crate::engine::transport::BoxFuture;
use serde_json::Value;
use std::time::Duration;

/// Bytes of stderr quoted when a command fails.
const STDERR_TAIL: usize = 300;

pub struct CommandProvider {
    pub config: CommandProviderConfig,
    pub timeout: Duration,
}

impl FactProvider for CommandProvider {
    fn name(&self) -> &str {
        &self.config.name
    }
    fn priority(&self) -> i64 {
        self.config.priority
    }
    fn keys(&self) -> Vec<String> {
        self.config.keys.clone()
    }
    fn collect<'a>(
        &'a self,
        engine: &'a Engine,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<FactMap, String>> {
        Box::pin(async move {
            let out = engine
                .capture(node, &self.config.command, self.timeout)
                .await
                .map_err(|e| format!("{}: {}", e.category, e.reason))?;
            if out.exit.code != Some(0) {
                return Err(failed_exit(&out));
            }
            let text = String::from_utf8_lossy(&out.stdout);
            match self.config.format {
                OutputFormat::Json => parse_json(&text),
                OutputFormat::Kv => Ok(parse_kv(&text)),
            }
        })
    }
}

/// A JSON object: each member is a fact.
pub fn parse_json(text: &str) -> Result<FactMap, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map.into_iter().collect()),
        Ok(other) => Err(format!(
            "output is JSON but not an object (got {})",
            match other {
                Value::Array(_) => "a list",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            }
        )),
        Err(e) => Err(format!("output is not JSON: {e}")),
    }
}

/// `key=value` lines (blank lines and `#` comments skipped); values are text.
pub fn parse_kv(text: &str) -> FactMap {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !k.trim().is_empty())
        .map(|(k, v)| (k.trim().to_string(), Value::from(v.trim())))
        .collect()
}

/// Why a command that ran did not succeed, with the end of its stderr.
pub fn failed_exit(out: &Captured) -> String {
    let how = match (out.exit.code, out.exit.signal) {
        (Some(c), _) => format!("exited with code {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => "ended without an exit status".to_string(),
    };
    let err = String::from_utf8_lossy(&out.stderr);
    let err = err.trim();
    if err.is_empty() {
        return how;
    }
    let mut start = err.len().saturating_sub(STDERR_TAIL);
    while !err.is_char_boundary(start) {
        start += 1;
    }
    format!("{how}; stderr: {}", &err[start..])
}

/// Quotes text as one word for a POSIX shell.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
