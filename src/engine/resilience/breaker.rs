//! Circuit breakers per node and per transport: after `failure_threshold`
//! consecutive failing node runs a breaker opens and rejects work at once with
//! `CircuitOpen`; after `reset_timeout` it lets `half_open_probes` runs through,
//! closes when they succeed and opens again when one fails.
//!
//! A node run counts as a failure only when it ends in a category of `trip_on`
//! (Connection by default): a command that exits non-zero proves the node and the
//! transport work. Runs cancelled before they started do not count at all.
//!
//! Each change is stamped with the wall clock, so breakers can be shared through
//! the store: [`Breakers::adopt`] takes the changes other drover processes made,
//! where they are newer than this process's own. The changes include the count
//! of consecutive failures of a closed breaker (not only state changes), so a
//! node failing once in each of several short-lived processes (cron jobs, batch
//! runs) opens its breaker as if one process had seen every failure.

use crate::engine::common::duration::parse_duration;
use crate::engine::common::error::ErrorCategory;
use crate::engine::common::ids::now_millis;
use crate::store::{BreakerRecord, Millis};
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

impl BreakerScope {
    pub fn parse(s: &str) -> Option<BreakerScope> {
        match s {
            "node" => Some(BreakerScope::Node),
            "transport" => Some(BreakerScope::Transport),
            _ => None,
        }
    }
}

impl BreakerState {
    pub fn parse(s: &str) -> Option<BreakerState> {
        match s {
            "closed" => Some(BreakerState::Closed),
            "open" => Some(BreakerState::Open),
            "half_open" => Some(BreakerState::HalfOpen),
            _ => None,
        }
    }

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
    /// Wall-clock time of the last state change (0: never changed), whether made
    /// here or adopted: the newer change wins between processes.
    changed_at: Millis,
}

impl Breaker {
    fn new() -> Breaker {
        Breaker {
            state: BreakerState::Closed,
            failures: 0,
            opened_at: None,
            probes_in_flight: 0,
            probe_successes: 0,
            changed_at: 0,
        }
    }

    /// Moves to `state` now (wall clock kept for the other processes).
    fn turn(&mut self, state: BreakerState) {
        self.state = state;
        self.touch();
    }

    /// Marks a change now: later than any change made or adopted before, even
    /// when another process's clock runs ahead of ours.
    fn touch(&mut self) {
        self.changed_at = now_millis().max(self.changed_at + 1);
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

/// One state change, for events, journal, logs and the store; or, among
/// [`Recorded::counts`], a closed breaker's new failure count, for the store only
/// (other processes count on from it).
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerChange {
    pub scope: BreakerScope,
    pub name: String,
    pub state: BreakerState,
    pub failures: u32,
    /// Wall-clock time of the change.
    pub changed_at: Millis,
}

/// What a node run's end did to its breakers.
#[derive(Debug, Default, PartialEq)]
pub struct Recorded {
    /// State changes.
    pub changes: Vec<BreakerChange>,
    /// Closed breakers whose failure count changed.
    pub counts: Vec<BreakerChange>,
}

impl BreakerChange {
    /// The change as the store keeps it for every drover process.
    pub fn record(&self) -> BreakerRecord {
        BreakerRecord {
            scope: self.scope.as_str().to_string(),
            name: self.name.clone(),
            state: self.state.as_str().to_string(),
            failures: i64::from(self.failures),
            changed_at: self.changed_at,
        }
    }
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
                b.turn(BreakerState::HalfOpen);
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

    fn settle(&self, keys: &[(Key, bool)], verdict: Verdict) -> Recorded {
        let mut changes = Vec::new();
        let mut counts = Vec::new();
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
                        b.turn(BreakerState::Closed);
                        b.failures = 0;
                        b.opened_at = None;
                        changes.push(change(key, b));
                    }
                }
                (Verdict::Success, BreakerState::Closed) if b.failures > 0 => {
                    b.failures = 0;
                    b.touch();
                    counts.push(change(key, b));
                }
                (Verdict::Success, _) => b.failures = 0,
                (Verdict::Failure, BreakerState::Closed) => {
                    b.failures += 1;
                    if b.failures >= threshold {
                        b.turn(BreakerState::Open);
                        b.opened_at = Some(Instant::now());
                        changes.push(change(key, b));
                    } else {
                        b.touch();
                        counts.push(change(key, b));
                    }
                }
                (Verdict::Failure, BreakerState::HalfOpen) => {
                    b.failures += 1;
                    b.turn(BreakerState::Open);
                    b.opened_at = Some(Instant::now());
                    changes.push(change(key, b));
                }
                (Verdict::Failure, BreakerState::Open) => b.failures += 1,
            }
        }
        Recorded { changes, counts }
    }

    /// Takes the changes other processes recorded (`records`, read at wall-clock
    /// `now`) where they are newer than this process's own: a breaker opened
    /// elsewhere is open here, with what is left of its reset timeout counted from
    /// when it opened; one closed elsewhere after our last change is closed here.
    /// A breaker half-open elsewhere (another process is probing) is open here
    /// from then on, so the probe's answer comes before this process probes too.
    /// Returns the state changes it made. Records of unknown scopes or states,
    /// and transport breakers while those are disabled, are ignored.
    pub fn adopt(&self, records: &[BreakerRecord], now: Millis) -> Vec<BreakerChange> {
        let mut changes = Vec::new();
        if !self.config.enabled {
            return changes;
        }
        let mut map = self.lock();
        for r in records {
            let (Some(scope), Some(state)) =
                (BreakerScope::parse(&r.scope), BreakerState::parse(&r.state))
            else {
                continue;
            };
            if scope == BreakerScope::Transport && self.config.transport_failure_threshold == 0 {
                continue;
            }
            let key = (scope, r.name.clone());
            let known = map.get(&key);
            if known.is_some_and(|b| b.changed_at >= r.changed_at) {
                continue;
            }
            // Nothing to close or count that this process never counted.
            if known.is_none() && state == BreakerState::Closed && r.failures <= 0 {
                continue;
            }
            let b = map.entry(key.clone()).or_insert_with(Breaker::new);
            let before = b.state;
            b.changed_at = r.changed_at;
            b.failures = u32::try_from(r.failures).unwrap_or(u32::MAX);
            b.probe_successes = 0;
            match state {
                BreakerState::Closed => {
                    b.state = BreakerState::Closed;
                    b.opened_at = None;
                }
                BreakerState::Open | BreakerState::HalfOpen => {
                    let age = Duration::from_millis(u64::try_from(now - r.changed_at).unwrap_or(0));
                    b.state = BreakerState::Open;
                    b.opened_at =
                        Some(Instant::now().checked_sub(age).unwrap_or_else(Instant::now));
                }
            }
            if b.state != before {
                changes.push(change(&key, b));
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
        changed_at: b.changed_at,
    }
}

impl Admission {
    /// Records how the run ended; returns the state changes it caused.
    pub fn record(self, verdict: Verdict) -> Vec<BreakerChange> {
        self.record_counted(verdict).changes
    }

    /// Records how the run ended; returns the state changes and the new failure
    /// counts it caused.
    pub fn record_counted(mut self, verdict: Verdict) -> Recorded {
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

    fn record(name: &str, state: BreakerState, changed_at: Millis) -> BreakerRecord {
        BreakerRecord {
            scope: "node".into(),
            name: name.into(),
            state: state.as_str().into(),
            failures: if state == BreakerState::Closed { 0 } else { 3 },
            changed_at,
        }
    }

    #[test]
    fn a_breaker_opened_elsewhere_refuses_for_what_is_left_of_its_timeout() {
        let b = breakers(5, 30_000);
        let now = now_millis();
        let changes = b.adopt(&[record("n", BreakerState::Open, now - 10_000)], now);
        assert_eq!(changes[0].state, BreakerState::Open);
        let reason = b.admit("n", "ssh").0.err().expect("refused");
        assert!(
            reason.contains("circuit open for node n after 3 consecutive failures"),
            "{reason}"
        );
        let left = b.snapshot()[0].retry_in.expect("open");
        assert!(left <= Duration::from_secs(20), "{left:?}");
        assert!(left > Duration::from_secs(10), "{left:?}");
    }

    #[test]
    fn a_breaker_opened_elsewhere_long_ago_lets_a_probe_through() {
        let b = breakers(5, 1_000);
        let now = now_millis();
        b.adopt(&[record("n", BreakerState::Open, now - 1_001)], now);
        let (probe, changes) = b.admit("n", "ssh");
        assert_eq!(changes[0].state, BreakerState::HalfOpen);
        assert!(b.admit("n", "ssh").0.is_err(), "one probe at a time");
        probe.unwrap().record(Verdict::Success);
        assert!(b.admit("n", "ssh").0.is_ok());
    }

    #[test]
    fn a_close_elsewhere_after_our_open_closes_and_an_older_one_does_not() {
        let b = breakers(1, 30_000);
        b.admit("n", "ssh").0.unwrap().record(Verdict::Failure);
        let opened = b.lock()[&(BreakerScope::Node, "n".to_string())].changed_at;
        let older = b.adopt(&[record("n", BreakerState::Closed, opened - 1)], opened);
        assert!(older.is_empty());
        assert!(b.admit("n", "ssh").0.is_err(), "our newer open holds");
        let newer = b.adopt(&[record("n", BreakerState::Closed, opened + 1)], opened + 1);
        assert_eq!(newer[0].state, BreakerState::Closed);
        assert!(b.admit("n", "ssh").0.is_ok());
    }

    #[test]
    fn a_close_of_a_breaker_never_seen_here_adds_nothing() {
        let b = breakers(1, 30_000);
        let now = now_millis();
        assert!(
            b.adopt(&[record("n", BreakerState::Closed, now)], now)
                .is_empty()
        );
        assert!(b.snapshot().is_empty());
    }

    #[test]
    fn failures_counted_elsewhere_add_up_here() {
        let b = breakers(2, 30_000);
        let now = now_millis();
        let one = BreakerRecord {
            failures: 1,
            ..record("n", BreakerState::Closed, now)
        };
        assert!(
            b.adopt(&[one], now).is_empty(),
            "a count is no state change"
        );
        let changes = b.admit("n", "ssh").0.unwrap().record(Verdict::Failure);
        assert_eq!(changes[0].state, BreakerState::Open);
        assert_eq!(changes[0].failures, 2);
    }

    #[test]
    fn counts_are_published_but_are_no_state_change() {
        let b = breakers(2, 30_000);
        let failed = b
            .admit("n", "ssh")
            .0
            .unwrap()
            .record_counted(Verdict::Failure);
        assert!(failed.changes.is_empty());
        assert_eq!(failed.counts[0].failures, 1);
        let reset = b
            .admit("n", "ssh")
            .0
            .unwrap()
            .record_counted(Verdict::Success);
        assert_eq!(reset.counts[0].failures, 0);
        let quiet = b
            .admit("n", "ssh")
            .0
            .unwrap()
            .record_counted(Verdict::Success);
        assert_eq!(
            quiet,
            Recorded::default(),
            "a success after a success is not published"
        );
    }

    #[test]
    fn our_change_after_an_adopted_one_is_newer_whatever_the_clocks_say() {
        let b = breakers(2, 30_000);
        b.admit("n", "ssh").0.unwrap().record(Verdict::Failure);
        let now = now_millis();
        // Another process, whose clock runs a minute ahead, saw it succeed.
        b.adopt(&[record("n", BreakerState::Closed, now + 60_000)], now);
        b.admit("n", "ssh").0.unwrap().record(Verdict::Failure);
        let opened = b.admit("n", "ssh").0.unwrap().record(Verdict::Failure);
        assert_eq!(opened[0].state, BreakerState::Open);
        assert!(opened[0].changed_at > now + 60_000);
    }

    mod adopting {
        use super::*;
        use proptest::prelude::*;

        fn state() -> impl Strategy<Value = BreakerState> {
            prop_oneof![
                Just(BreakerState::Closed),
                Just(BreakerState::Open),
                Just(BreakerState::HalfOpen),
            ]
        }

        proptest! {
            /// Whatever this process saw and whatever the store holds: a record
            /// replaces the local state only when it is newer, a half-open one
            /// elsewhere reads as open here, and adopting the same rows again
            /// changes nothing.
            #[test]
            fn newer_wins_and_adopting_twice_changes_nothing(
                local_failures in proptest::collection::vec(0u32..3, 4),
                remote in proptest::collection::vec(
                    proptest::option::of((state(), -5_000i64..5_000, 0i64..3)), 4),
            ) {
                let b = breakers(2, 30_000);
                for (i, failures) in local_failures.iter().enumerate() {
                    for _ in 0..*failures {
                        let node = format!("n{i}");
                        if let Ok(a) = b.admit(&node, "ssh").0 {
                            a.record(Verdict::Failure);
                        }
                    }
                }
                let before: HashMap<Key, (BreakerState, Millis)> = b
                    .lock()
                    .iter()
                    .map(|(k, v)| (k.clone(), (v.state, v.changed_at)))
                    .collect();
                let now = now_millis();
                let records: Vec<BreakerRecord> = remote
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| {
                        r.map(|(s, off, failures)| BreakerRecord {
                            failures,
                            ..record(&format!("n{i}"), s, now + off)
                        })
                    })
                    .collect();
                b.adopt(&records, now);
                for r in &records {
                    let key = (BreakerScope::Node, r.name.clone());
                    let remote_state = BreakerState::parse(&r.state).unwrap();
                    let after = b.lock().get(&key).map(|v| (v.state, v.changed_at));
                    match before.get(&key) {
                        Some(&(state, at)) if at >= r.changed_at => {
                            prop_assert_eq!(after, Some((state, at)));
                        }
                        None if remote_state == BreakerState::Closed && r.failures == 0 => {
                            prop_assert_eq!(after, None);
                        }
                        _ => {
                            let expected = match remote_state {
                                BreakerState::Closed => BreakerState::Closed,
                                _ => BreakerState::Open,
                            };
                            prop_assert_eq!(after, Some((expected, r.changed_at)));
                            let failures = b.lock()[&key].failures;
                            prop_assert_eq!(i64::from(failures), r.failures);
                        }
                    }
                }
                prop_assert!(b.adopt(&records, now).is_empty());
            }
        }
    }
}
