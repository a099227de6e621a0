//! The fleet as several inventory sources seen as one, cached.
//!
//! Each [`InventorySource`] is read on its own; a source that fails is marked
//! failed with its reason and the others still load. A source that fails on a
//! reload keeps the nodes it gave the last time it loaded (a malformed edit
//! must not empty the fleet), and the failure is reported. The merged
//! inventory is cached for a TTL: queries within it read no source; after it
//! the next query reloads (seeds properties 18 and 19).

use super::native::InventoryError;
use super::sources::merge_by_priority;
use super::targets::Grammar;
use super::{Inventory, detect};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One place nodes come from.
pub trait InventorySource: Send + Sync {
    /// Shown as `Node::source` and in failures (a path, `ssh_config`...).
    fn name(&self) -> &str;
    /// Higher wins when several sources define the same node.
    fn priority(&self) -> i64;
    /// Files and directories whose change means the source must be read again.
    fn watched_paths(&self) -> Vec<PathBuf>;
    /// Reads the source now (may block: files, scripts).
    fn load(&self) -> Result<Inventory, InventoryError>;
}

/// Defined with the engine's errors, which name failed sources too.
pub use crate::engine::common::error::SourceFailure;

/// How one source stands after the last load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceStatus {
    pub name: String,
    pub priority: i64,
    /// Nodes it contributes (from its last good load when it now fails).
    pub nodes: usize,
    pub error: Option<String>,
}

/// What a load produced: the merged inventory and the sources that failed.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub inventory: Arc<Inventory>,
    pub failures: Vec<SourceFailure>,
}

struct Slot {
    source: Arc<dyn InventorySource>,
    last_good: Option<Inventory>,
    error: Option<String>,
}

struct State {
    slots: Vec<Slot>,
    merged: Arc<Inventory>,
    loaded_at: Option<Instant>,
}

/// Sources, their last good contents, and the merged, cached inventory.
pub struct InventoryService {
    state: Mutex<State>,
    /// `None`: the cache never expires (reloads only on demand or file change).
    ttl: Option<Duration>,
    /// The target grammar forced for every merged inventory (`None`: auto).
    grammar: Option<Grammar>,
}

impl InventoryService {
    /// Nothing is read until the first [`refresh`](Self::refresh) or query.
    pub fn new(sources: Vec<Arc<dyn InventorySource>>, ttl: Option<Duration>) -> InventoryService {
        let slots = sources
            .into_iter()
            .map(|source| Slot {
                source,
                last_good: None,
                error: None,
            })
            .collect();
        InventoryService {
            state: Mutex::new(State {
                slots,
                merged: Arc::new(Inventory::default()),
                loaded_at: None,
            }),
            ttl,
            grammar: None,
        }
    }

    /// Forces the target grammar (`--grammar`, `[inventory] target_grammar`).
    pub fn with_grammar(mut self, grammar: Option<Grammar>) -> InventoryService {
        self.grammar = grammar;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads every source again.
    pub fn refresh(&self) -> Loaded {
        self.refresh_where(|_| true)
    }

    /// Reads again the sources `pick` chooses; the others keep what they had.
    pub fn refresh_where(&self, pick: impl Fn(&dyn InventorySource) -> bool) -> Loaded {
        let mut state = self.lock();
        for slot in &mut state.slots {
            if slot.last_good.is_some() && !pick(slot.source.as_ref()) {
                continue;
            }
            match slot.source.load() {
                Ok(inv) => {
                    slot.last_good = Some(inv);
                    slot.error = None;
                }
                Err(e) => {
                    tracing::warn!(source = slot.source.name(), "inventory source failed: {e}");
                    slot.error = Some(e.to_string());
                }
            }
        }
        let merged = merge_by_priority(
            state
                .slots
                .iter()
                .filter_map(|s| {
                    let inv = s.last_good.clone()?;
                    Some((s.source.priority(), s.source.name().to_string(), inv))
                })
                .collect(),
        );
        state.merged = Arc::new(merged.with_grammar(self.grammar));
        state.loaded_at = Some(Instant::now());
        Loaded {
            inventory: state.merged.clone(),
            failures: failures(&state.slots),
        }
    }

    /// Reloads the sources that watch `changed` (a file or directory path).
    pub fn refresh_changed(&self, changed: &[PathBuf]) -> Loaded {
        self.refresh_where(|s| {
            let watched = s.watched_paths();
            changed
                .iter()
                .any(|c| watched.iter().any(|w| c == w || c.starts_with(w)))
        })
    }

    /// The merged inventory: cached while younger than the TTL, else reloaded.
    pub fn get(&self) -> Arc<Inventory> {
        self.get_at(Instant::now())
    }

    /// [`get`](Self::get) as if the time were `now` (for tests of expiry).
    pub fn get_at(&self, now: Instant) -> Arc<Inventory> {
        {
            let state = self.lock();
            let fresh = match (state.loaded_at, self.ttl) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(at), Some(ttl)) => now.saturating_duration_since(at) < ttl,
            };
            if fresh {
                return state.merged.clone();
            }
        }
        self.refresh().inventory
    }

    pub fn ttl(&self) -> Option<Duration> {
        self.ttl
    }

    /// When the sources were last read (`None`: never).
    pub fn loaded_at(&self) -> Option<Instant> {
        self.lock().loaded_at
    }

    /// The sources that failed at the last load.
    pub fn failures(&self) -> Vec<SourceFailure> {
        failures(&self.lock().slots)
    }

    pub fn status(&self) -> Vec<SourceStatus> {
        self.lock()
            .slots
            .iter()
            .map(|s| SourceStatus {
                name: s.source.name().to_string(),
                priority: s.source.priority(),
                nodes: s.last_good.as_ref().map_or(0, Inventory::len),
                error: s.error.clone(),
            })
            .collect()
    }

    /// Every path some source wants watched.
    pub fn watched_paths(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .lock()
            .slots
            .iter()
            .flat_map(|s| s.source.watched_paths())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

fn failures(slots: &[Slot]) -> Vec<SourceFailure> {
    slots
        .iter()
        .filter_map(|s| {
            Some(SourceFailure {
                source: s.source.name().to_string(),
                reason: s.error.clone()?,
            })
        })
        .collect()
}

/// `[inventory]` in the config file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct InventoryConfig {
    /// How long a loaded inventory is used before sources are read again;
    /// "none": only on change or on demand.
    pub ttl: String,
    /// Time limit for one run of a dynamic inventory script.
    pub script_timeout: String,
    /// Quiet time after a file change before reloading (editors write in bursts).
    pub watch_debounce: String,
    /// How target expressions are read: "auto" (Ansible patterns when an
    /// Ansible inventory loaded, else ClusterShell), "ansible" or "clush".
    pub target_grammar: String,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        InventoryConfig {
            ttl: "5m".into(),
            script_timeout: "30s".into(),
            watch_debounce: "200ms".into(),
            target_grammar: "auto".into(),
        }
    }
}

impl InventoryConfig {
    /// The first bad key and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        parse_optional_duration(&self.ttl).map_err(|r| ("ttl", r))?;
        self.script_timeout().map_err(|r| ("script_timeout", r))?;
        crate::engine::common::duration::parse_duration(&self.watch_debounce)
            .map_err(|r| ("watch_debounce", r.to_string()))?;
        Grammar::parse_choice(&self.target_grammar).map_err(|r| ("target_grammar", r))?;
        Ok(())
    }

    pub fn ttl(&self) -> Option<Duration> {
        parse_optional_duration(&self.ttl).unwrap_or(Some(Duration::from_secs(300)))
    }

    pub fn script_timeout(&self) -> Result<Duration, String> {
        match crate::engine::common::duration::parse_duration(&self.script_timeout) {
            Ok(d) if d.is_zero() => Err("must be more than 0".into()),
            Ok(d) => Ok(d),
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn watch_debounce(&self) -> Duration {
        crate::engine::common::duration::parse_duration(&self.watch_debounce)
            .unwrap_or(Duration::from_millis(200))
    }
}

/// The built-in `localhost` (lowest priority: any file may redefine it).
pub struct BuiltinSource;

impl InventorySource for BuiltinSource {
    fn name(&self) -> &str {
        "builtin"
    }
    fn priority(&self) -> i64 {
        0
    }
    fn watched_paths(&self) -> Vec<PathBuf> {
        Vec::new()
    }
    fn load(&self) -> Result<Inventory, InventoryError> {
        Ok(Inventory::builtin())
    }
}

/// A `-i` path of any kind [`detect`] knows, a dynamic script included.
pub struct FileSource {
    path: PathBuf,
    name: String,
    priority: i64,
    script_timeout: Duration,
}

impl FileSource {
    pub fn new(path: &Path, priority: i64, script_timeout: Duration) -> FileSource {
        FileSource {
            path: path.to_path_buf(),
            name: path.display().to_string(),
            priority,
            script_timeout,
        }
    }
}

impl InventorySource for FileSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn priority(&self) -> i64 {
        self.priority
    }
    fn watched_paths(&self) -> Vec<PathBuf> {
        let path = std::path::absolute(&self.path).unwrap_or_else(|_| self.path.clone());
        let mut v = vec![path.clone()];
        // A ClusterShell groups.conf reads groups.d/ (and more) beside it.
        if !path.is_dir()
            && super::clustershell::is_config(&path)
            && let Some(dir) = path.parent()
        {
            v.push(dir.to_path_buf());
        }
        // Ansible reads group_vars/ and host_vars/ beside a file inventory.
        if !path.is_dir()
            && let Some(dir) = path.parent()
        {
            v.push(dir.join("group_vars"));
            v.push(dir.join("host_vars"));
        }
        v
    }
    fn load(&self) -> Result<Inventory, InventoryError> {
        detect::load_any_with(&self.path, self.script_timeout)
    }
}

/// The usual sources: `localhost`, the ssh_config (when given), then each
/// `-i` path, later paths winning over earlier ones.
pub fn standard_sources(
    ssh_config: Option<Arc<dyn InventorySource>>,
    paths: &[PathBuf],
    script_timeout: Duration,
) -> Vec<Arc<dyn InventorySource>> {
    let mut v: Vec<Arc<dyn InventorySource>> = vec![Arc::new(BuiltinSource)];
    v.extend(ssh_config);
    for (i, p) in paths.iter().enumerate() {
        v.push(Arc::new(FileSource::new(p, 100 + i as i64, script_timeout)));
    }
    v
}

/// Parses a TTL or time limit: a duration, or "none".
pub fn parse_optional_duration(text: &str) -> Result<Option<Duration>, String> {
    match text {
        "none" | "" => Ok(None),
        t => crate::engine::common::duration::parse_duration(t)
            .map(Some)
            .map_err(|e| e.to_string()),
    }
}
