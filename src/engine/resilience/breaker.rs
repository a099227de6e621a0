//! Circuit breakers per node and per transport: after `failure_threshold`
//! consecutive failing node runs a breaker opens and rejects work at once with
//! `CircuitOpen`; after `reset_timeout` it lets `half_open_probes` runs through,
//! closes when they succeed and opens again when one fails.
//!
//! A node run counts as a failure only when it ends in a category of `trip_on`
//! (Connection by default): a command that exits non-zero proves the node and the
//! transport work. Runs cancelled before they started do not count at all.

use crate::engine::common::duration::parse_duration;
use crate::engine::common::error::ErrorCategory;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BreakerScope {
    Node,
    Transport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerScope {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerScope::Node => "node",
            BreakerScope::Transport => "transport",
        }
    }
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// Engine-side breaker settings.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    pub enabled: bool,
    /// Consecutive failing runs of one node that open its breaker.
    pub failure_threshold: u32,
    /// Consecutive failing runs over one transport (any node) that open the
    /// transport's breaker; 0 disables transport breakers.
    pub transport_failure_threshold: u32,
    pub reset_timeout: Duration,
    pub half_open_probes: u32,
    pub trip_on: Vec<ErrorCategory>,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            enabled: true,
            failure_threshold: 5,
            transport_failure_threshold: 100,
            reset_timeout: Duration::from_secs(30),
            half_open_probes: 1,
            trip_on: vec![ErrorCategory::Connection],
        }
    }
}

/// `[breakers]` in the config file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerSettings {
    pub enabled: bool,
    pub failure_threshold: u32,
    pub transport_failure_threshold: u32,
    pub reset_timeout: String,
    pub half_open_probes: u32,
    pub trip_on: Vec<ErrorCategory>,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        let d = BreakerConfig::default();
        BreakerSettings {
            enabled: d.enabled,
            failure_threshold: d.failure_threshold,
            transport_failure_threshold: d.transport_failure_threshold,
            reset_timeout: "30s".into(),
            half_open_probes: d.half_open_probes,
            trip_on: d.trip_on,
        }
    }
}

impl BreakerSettings {
    /// The engine's settings, or (key, reason).
    pub fn to_config(&self) -> Result<BreakerConfig, (&'static str, String)> {
        let reset =
            parse_duration(&self.reset_timeout).map_err(|e| ("reset_timeout", e.to_string()))?;
        if reset.is_zero() {
            return Err(("reset_timeout", "must be more than 0".into()));
        }
        if self.failure_threshold == 0 {
            return Err(("failure_threshold", "must be at least 1".into()));
        }
        if self.half_open_probes == 0 {
            return Err(("half_open_probes", "must be at least 1".into()));
        }
        Ok(BreakerConfig {
            enabled: self.enabled,
            failure_threshold: self.failure_threshold,
            transport_failure_threshold: self.transport_failure_threshold,
            reset_timeout: reset,
            half_open_probes: self.half_open_probes,
            trip_on: self.trip_on.clone(),
        })
    }
}

#[derive(Debug)]
struct Breaker {
    state: BreakerState,
    failures: u32,
    opened_at: Option<Instant>,
    probes_in_flight: u32,
    probe_successes: u32,
}

impl Breaker {
    fn new() -> Breaker {
        Breaker {
            state: BreakerState::Closed,
            failures: 0,
            opened_at: None,
            probes_in_flight: 0,
            probe_successes: 0,
        }
    }
}

/// What `drover status` shows of one breaker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakerSnapshot {
    pub scope: BreakerScope,
    pub name: String,
    pub state: BreakerState,
    /// Consecutive failures counted so far.
    pub failures: u32,
    /// Time until an open breaker lets a probe through.
    pub retry_in: Option<Duration>,
}

/// One state change, for events, journal and logs.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerChange {
    pub scope: BreakerScope,
    pub name: String,
    pub state: BreakerState,
    pub failures: u32,
}

/// How a node run ended, as far as breakers care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Success,
    Failure,
    /// Did not tell anything (cancelled before it ran).
    Neutral,
}

type Key = (BreakerScope, String);

pub struct Breakers {
    config: BreakerConfig,
    map: Mutex<HashMap<Key, Breaker>>,
}

/// Leave to run one node; records a neutral verdict if dropped unrecorded (a
/// panicking transport), so a half-open breaker never waits for a lost probe.
pub struct Admission {
    breakers: Arc<Breakers>,
    keys: Vec<(Key, bool)>,
    recorded: bool,
}

impl Breakers {
    pub fn new(config: BreakerConfig) -> Breakers {
        Breakers {
            config,
            map: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Breaker>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn keys(&self, node: &str, transport: &str) -> Vec<Key> {
        let mut keys = vec![(BreakerScope::Node, node.to_string())];
        if self.config.transport_failure_threshold > 0 {
            keys.push((BreakerScope::Transport, transport.to_string()));
        }
        keys
    }

    /// Leave to run `node` over `transport`, or the reason it is refused; plus the
    /// state changes this caused (open → half-open).
    pub fn admit(
        self: &Arc<Self>,
        node: &str,
        transport: &str,
    ) -> (Result<Admission, String>, Vec<BreakerChange>) {
        let mut admission = Admission {
            breakers: self.clone(),
            keys: Vec::new(),
            recorded: true,
        };
        if !self.config.enabled {
            return (Ok(admission), Vec::new());
        }
        let mut changes = Vec::new();
        let mut map = self.lock();
        let now = Instant::now();
        for key in self.keys(node, transport) {
            let b = map.entry(key.clone()).or_insert_with(Breaker::new);
            if b.state == BreakerState::Open
                && b.opened_at
                    .is_some_and(|t| now >= t + self.config.reset_timeout)
            {
                b.state = BreakerState::HalfOpen;
                b.probes_in_flight = 0;
                b.probe_successes = 0;
                changes.push(change(&key, b));
            }
            let refused = match b.state {
                BreakerState::Closed => None,
                BreakerState::Open => {
                    let left = b
                        .opened_at
                        .map(|t| (t + self.config.reset_timeout).saturating_duration_since(now))
                        .unwrap_or_default();
                    Some(format!(
                        "circuit open for {} {} after {} consecutive failures; next probe in {}",
                        key.0.as_str(),
                        key.1,
                        b.failures,
                        crate::engine::common::duration::format_duration(left)
                    ))
                }
                BreakerState::HalfOpen if b.probes_in_flight >= self.config.half_open_probes => {
                    Some(format!(
                        "circuit half-open for {} {}: waiting for its probe",
                        key.0.as_str(),
                        key.1
                    ))
                }
                BreakerState::HalfOpen => None,
            };
            if let Some(reason) = refused {
                // Give back what this admission already took on other breakers.
                for (k, probe) in admission.keys.drain(..) {
                    if probe && let Some(b) = map.get_mut(&k) {
                        b.probes_in_flight = b.probes_in_flight.saturating_sub(1);
                    }
                }
                return (Err(reason), changes);
            }
            let probe = b.state == BreakerState::HalfOpen;
            if probe {
                b.probes_in_flight += 1;
            }
            admission.keys.push((key, probe));
        }
        admission.recorded = false;
        (Ok(admission), changes)
    }

    /// Whether an error category trips breakers.
    pub fn verdict(&self, error: Option<ErrorCategory>) -> Verdict {
        match error {
            Some(c) if self.config.trip_on.contains(&c) => Verdict::Failure,
            _ => Verdict::Success,
        }
    }

    fn settle(&self, keys: &[(Key, bool)], verdict: Verdict) -> Vec<BreakerChange> {
        let mut changes = Vec::new();
        let mut map = self.lock();
        for (key, probe) in keys {
            let Some(b) = map.get_mut(key) else { continue };
            if *probe {
                b.probes_in_flight = b.probes_in_flight.saturating_sub(1);
            }
            let threshold = match key.0 {
                BreakerScope::Node => self.config.failure_threshold,
                BreakerScope::Transport => self.config.transport_failure_threshold,
            };
            match (verdict, b.state) {
                (Verdict::Neutral, _) => {}
                (Verdict::Success, BreakerState::HalfOpen) if *probe => {
                    b.probe_successes += 1;
                    if b.probe_successes >= self.config.half_open_probes {
                        b.state = BreakerState::Closed;
                        b.failures = 0;
                        b.opened_at = None;
                        changes.push(change(key, b));
                    }
                }
                (Verdict::Success, _) => b.failures = 0,
                (Verdict::Failure, BreakerState::Closed) => {
                    b.failures += 1;
                    if b.failures >= threshold {
                        b.state = BreakerState::Open;
                        b.opened_at = Some(Instant::now());
                        changes.push(change(key, b));
                    }
                }
                (Verdict::Failure, BreakerState::HalfOpen) => {
                    b.failures += 1;
                    b.state = BreakerState::Open;
                    b.opened_at = Some(Instant::now());
                    changes.push(change(key, b));
                }
                (Verdict::Failure, BreakerState::Open) => b.failures += 1,
            }
        }
        changes
    }

    /// Every breaker that has seen a run, sorted by scope and name.
    pub fn snapshot(&self) -> Vec<BreakerSnapshot> {
        let now = Instant::now();
        let mut v: Vec<BreakerSnapshot> = self
            .lock()
            .iter()
            .map(|((scope, name), b)| BreakerSnapshot {
                scope: *scope,
                name: name.clone(),
                state: b.state,
                failures: b.failures,
                retry_in: (b.state == BreakerState::Open)
                    .then(|| {
                        b.opened_at
                            .map(|t| (t + self.config.reset_timeout).saturating_duration_since(now))
                    })
                    .flatten(),
            })
            .collect();
        v.sort_by(|a, b| (a.scope.as_str(), &a.name).cmp(&(b.scope.as_str(), &b.name)));
        v
    }
}

fn change(key: &Key, b: &Breaker) -> BreakerChange {
    BreakerChange {
        scope: key.0,
        name: key.1.clone(),
        state: b.state,
        failures: b.failures,
    }
}

impl Admission {
    /// Records how the run ended; returns the state changes it caused.
    pub fn record(mut self, verdict: Verdict) -> Vec<BreakerChange> {
        self.recorded = true;
        self.breakers.settle(&self.keys, verdict)
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if !self.recorded {
            self.breakers.settle(&self.keys, Verdict::Neutral);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breakers(threshold: u32, reset_ms: u64) -> Arc<Breakers> {
        Arc::new(Breakers::new(BreakerConfig {
            failure_threshold: threshold,
            transport_failure_threshold: 0,
            reset_timeout: Duration::from_millis(reset_ms),
            ..BreakerConfig::default()
        }))
    }

    #[test]
    fn opens_after_threshold_probes_and_closes() {
        let b = breakers(2, 30);
        for _ in 0..2 {
            let (a, _) = b.admit("n", "ssh");
            a.unwrap().record(Verdict::Failure);
        }
        let (refused, _) = b.admit("n", "ssh");
        let reason = refused.err().unwrap();
        assert!(
            reason.contains("circuit open for node n after 2"),
            "{reason}"
        );
        std::thread::sleep(Duration::from_millis(40));
        let (probe, changes) = b.admit("n", "ssh");
        assert_eq!(changes[0].state, BreakerState::HalfOpen);
        assert!(b.admit("n", "ssh").0.is_err(), "one probe at a time");
        let changes = probe.unwrap().record(Verdict::Success);
        assert_eq!(changes[0].state, BreakerState::Closed);
        assert!(b.admit("n", "ssh").0.is_ok());
    }

    #[test]
    fn a_dropped_probe_frees_its_slot() {
        let b = breakers(1, 1);
        b.admit("n", "ssh").0.unwrap().record(Verdict::Failure);
        std::thread::sleep(Duration::from_millis(5));
        drop(b.admit("n", "ssh").0.unwrap());
        assert!(
            b.admit("n", "ssh").0.is_ok(),
            "lost probe blocks the breaker"
        );
    }
}
