//! Plain records the store reads and writes. The engine converts its own types into
//! these, so the store never depends on engine internals.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch; the store's only time type.
pub type Millis = i64;

/// An execution an ambiguous id prefix matches: enough to tell which one was meant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdCandidate {
    pub id: String,
    pub started_at: Millis,
    pub action: String,
    pub status: String,
}

/// One execution (a command or task over many nodes) as history knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    pub id: String,
    /// `command`, `task`, `plan-step`, ...
    pub kind: String,
    /// The command text or task name (secrets already redacted by the engine).
    pub action: String,
    /// The target expression as the user typed it.
    pub target_expr: String,
    /// The resolved node names.
    pub nodes: Vec<String>,
    pub user: String,
    pub correlation_id: String,
    /// queued | running | success | failed | partial | timeout | cancelled | interrupted
    pub status: String,
    pub started_at: Millis,
    pub finished_at: Option<Millis>,
    pub duration_ms: Option<i64>,
    pub success_count: i64,
    pub failed_count: i64,
    /// Request options as JSON (timeout, fanout, mode, retries, debug, ...).
    pub options: serde_json::Value,
    pub error: Option<String>,
    /// Process that ran it: used at start-up to tell a crashed run from a live one.
    pub owner_pid: i64,
    pub owner_start_time: i64,
    /// The run this one repeated on some of its nodes (`--rerun`, the console's `R`).
    #[serde(default)]
    pub rerun_of: Option<String>,
}

/// How a node's output was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputMode {
    /// Debug mode: every byte, also in `output_chunks`.
    Full,
    /// Normal mode: first and last lines plus byte counts.
    Summary,
}

/// One node's result within an execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeResultRecord {
    pub execution_id: String,
    pub node: String,
    /// success | failed | timeout | cancelled | interrupted
    pub status: String,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub started_at: Millis,
    pub finished_at: Millis,
    pub duration_ms: i64,
    pub attempts: i64,
    /// Validation | Authorization | Timeout | Connection | Execution | Plugin | QueueFull | CircuitOpen
    pub error_category: Option<String>,
    pub error: Option<String>,
    pub output_mode: OutputMode,
    /// Summary or full text (lossy UTF-8) per stream.
    pub stdout: String,
    pub stderr: String,
    pub stdout_bytes: i64,
    pub stderr_bytes: i64,
    /// Result data a task printed as JSON, if any.
    pub data: Option<serde_json::Value>,
}

/// Journal entry types (seeds requirement 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryType {
    Execution,
    Task,
    Package,
    Provisioning,
    Event,
    Manual,
}

impl EntryType {
    pub const ALL: [EntryType; 6] = [
        EntryType::Execution,
        EntryType::Task,
        EntryType::Package,
        EntryType::Provisioning,
        EntryType::Event,
        EntryType::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::Execution => "execution",
            EntryType::Task => "task",
            EntryType::Package => "package",
            EntryType::Provisioning => "provisioning",
            EntryType::Event => "event",
            EntryType::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<EntryType> {
        EntryType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One entry in a node's journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Assigned by the store; 0 before it is written.
    pub id: i64,
    pub node: String,
    pub entry_type: EntryType,
    pub timestamp: Millis,
    pub user: String,
    pub action: String,
    pub status: Option<String>,
    /// Links the entry to the execution that caused it.
    pub execution_id: Option<String>,
    pub details: serde_json::Value,
}

/// Filters for `history`; every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryFilter {
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    pub user: Option<String>,
    /// A node name: executions that targeted it.
    pub target: Option<String>,
    pub status: Option<String>,
    pub limit: Option<usize>,
    /// Leave each record's `nodes` empty. A list of runs that never shows them (the
    /// console's history pane, re-read after every run) would otherwise hold every
    /// run's node names: 5,000 runs of 1,000 nodes are five million strings.
    pub without_nodes: bool,
}

impl HistoryFilter {
    /// The backend's execution columns, with the node list left out when asked
    /// (`columns` names it `e.nodes`).
    pub(crate) fn columns<'a>(&self, columns: &'a str) -> std::borrow::Cow<'a, str> {
        if self.without_nodes {
            columns.replacen("e.nodes", "'[]'", 1).into()
        } else {
            columns.into()
        }
    }
}

/// Aggregates over executions that started in a time range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub total_executions: i64,
    /// Fraction of finished executions with status `success`, 0..=1.
    pub success_rate: f64,
    /// Mean duration in milliseconds of finished executions.
    pub average_duration_ms: f64,
    /// Total node-runs (targets) across the executions.
    pub target_count: i64,
    /// Fraction of node-runs that did not succeed, 0..=1.
    pub error_rate: f64,
}

impl Metrics {
    /// The figures from the aggregates both backends compute in SQL (see
    /// `Store::metrics`): every ratio is 0 when its denominator is 0, and the
    /// error rate is capped at 1 (nodes still pending in a running run).
    pub(crate) fn from_counts(
        total: i64,
        finished: i64,
        succeeded: i64,
        average_duration_ms: Option<f64>,
        targets: i64,
        failed: i64,
    ) -> Metrics {
        let ratio = |part: i64, whole: i64| {
            if whole <= 0 {
                0.0
            } else {
                part as f64 / whole as f64
            }
        };
        Metrics {
            total_executions: total,
            success_rate: ratio(succeeded, finished),
            average_duration_ms: average_duration_ms.unwrap_or(0.0),
            target_count: targets,
            error_rate: ratio(failed, targets).min(1.0),
        }
    }
}

/// One entry of the event log (`drover events`): what happened, when, in which
/// process and for whom. `body` holds the fields of its `kind` (see the engine's
/// `report::event_record` for the schema).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Assigned by the store, increasing across every process; 0 before it is written.
    pub seq: i64,
    pub ts: Millis,
    /// `node_finished`, `journal_appended`, ...
    pub kind: String,
    pub execution: Option<String>,
    pub node: Option<String>,
    pub user: Option<String>,
    /// The drover process that recorded it.
    pub pid: i64,
    pub body: serde_json::Value,
}

impl EventRecord {
    /// The stored JSON text of event `seq`'s `body`; text that is not JSON is
    /// `Corrupt`, naming the event.
    pub(crate) fn parse_body(seq: i64, text: &str) -> Result<serde_json::Value, super::StoreError> {
        serde_json::from_str(text).map_err(|e| super::StoreError::Corrupt {
            what: format!("events.body of seq {seq}"),
            reason: e.to_string(),
        })
    }
}

/// Which events to read; every set field narrows the result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    /// Only events numbered after this one.
    pub after_seq: Option<i64>,
    /// Only events stamped at or after this time.
    pub since: Option<Millis>,
    /// Only events of these kinds (all when empty).
    pub types: Vec<String>,
    /// Only events about these nodes, and events of runs that target one of them.
    pub nodes: Option<Vec<String>>,
    /// At most this many, oldest first.
    pub limit: usize,
}

/// Which output stream a debug-mode chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    pub fn parse(s: &str) -> Option<Stream> {
        match s {
            "stdout" => Some(Stream::Stdout),
            "stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }
}

#[cfg(test)]
impl ExecutionRecord {
    /// A queued command run with every other field empty, for unit tests that
    /// set what they need: `ExecutionRecord { status: "failed".into(),
    /// ..ExecutionRecord::sample("r1") }`.
    pub(crate) fn sample(id: &str) -> ExecutionRecord {
        ExecutionRecord {
            id: id.into(),
            kind: "command".into(),
            action: "uptime".into(),
            target_expr: String::new(),
            nodes: Vec::new(),
            user: "ops".into(),
            correlation_id: String::new(),
            status: "queued".into(),
            started_at: 0,
            finished_at: None,
            duration_ms: None,
            success_count: 0,
            failed_count: 0,
            options: serde_json::Value::Null,
            error: None,
            owner_pid: 0,
            owner_start_time: 0,
            rerun_of: None,
        }
    }
}

/// One node's cached facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedFacts {
    pub node: String,
    /// The provider set that gathered them (names and priorities).
    pub providers: String,
    /// Milliseconds since the epoch.
    pub collected_at: i64,
    /// The merged facts, as JSON.
    pub facts: String,
}

/// A circuit breaker's last change, shared by every drover process on the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerRecord {
    /// `node` or `transport`.
    pub scope: String,
    pub name: String,
    /// `closed`, `open` or `half_open`.
    pub state: String,
    /// Consecutive failures counted when it changed.
    pub failures: i64,
    /// When it changed (wall clock of the process that changed it).
    pub changed_at: Millis,
}

/// A session's transcript, as asciicast v2's header has it (width, height,
/// TERM, start time), with its node, who opened it and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptRecord {
    /// 16 hex digits, starting with the start time (as run ids).
    pub id: String,
    pub node: String,
    pub user: String,
    /// `session: shell`, `session: COMMAND`.
    pub action: String,
    pub started_at: Millis,
    /// The pty's size at the start; `None` for a session without a pty.
    pub width: Option<u16>,
    pub height: Option<u16>,
    pub term: Option<String>,
    /// `None` while the session runs (or when drover died during it).
    pub ended_at: Option<Millis>,
    /// Output bytes recorded.
    pub bytes: u64,
    /// The byte limit at which recording stopped, when it did.
    pub cut_at: Option<u64>,
}
