//! Typed errors of the engine. Every node error names the node, a category and the
//! reason (seeds property 47); request-level errors say which field or name is wrong.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The error categories every front end can rely on (DESIGN "Errors are structured").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCategory {
    Validation,
    Authorization,
    Timeout,
    Connection,
    Execution,
    Plugin,
    QueueFull,
    CircuitOpen,
}

impl ErrorCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCategory::Validation => "Validation",
            ErrorCategory::Authorization => "Authorization",
            ErrorCategory::Timeout => "Timeout",
            ErrorCategory::Connection => "Connection",
            ErrorCategory::Execution => "Execution",
            ErrorCategory::Plugin => "Plugin",
            ErrorCategory::QueueFull => "QueueFull",
            ErrorCategory::CircuitOpen => "CircuitOpen",
        }
    }

    /// Categories worth another attempt by default: the node may answer next time.
    pub fn retryable_by_default(self) -> bool {
        matches!(self, ErrorCategory::Connection | ErrorCategory::Timeout)
    }
}

impl fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one node did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{node}: {category}: {reason}")]
pub struct NodeError {
    pub node: String,
    pub category: ErrorCategory,
    pub reason: String,
}

/// One invalid field of a request, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Errors of a whole request: nothing ran when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Every bad field is listed, not just the first (seeds property 56).
    #[error("invalid request: {}", join(.0))]
    Validation(Vec<FieldError>),
    #[error("no node matched: {}", .unmatched.join(", "))]
    NoMatch { unmatched: Vec<String> },
    #[error("permission denied: {user} may not use {capability} on {target}: {reason}")]
    Authorization {
        user: String,
        capability: String,
        target: String,
        reason: String,
    },
    #[error("unknown execution {0}")]
    UnknownExecution(String),
    #[error("transport {name}: {reason}")]
    Transport { name: String, reason: String },
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("idempotency key {key:?}: {reason}")]
    IdempotencyKey { key: String, reason: String },
    #[error("engine is shut down")]
    ShutDown,
    /// A read of history on an engine started without a store.
    #[error("no history: drover was started without a store")]
    NoStore,
    #[error(transparent)]
    QueueFull(#[from] QueueFull),
    /// Inventory sources failed to load: running on the others could silently
    /// miss nodes the operator meant, so nothing runs until they are fixed.
    #[error("inventory source failed, nothing ran: {}", sources(.0))]
    InventorySources(Vec<SourceFailure>),
}

impl EngineError {
    pub fn category(&self) -> ErrorCategory {
        match self {
            EngineError::Validation(_)
            | EngineError::NoMatch { .. }
            | EngineError::InventorySources(_) => ErrorCategory::Validation,
            EngineError::Authorization { .. } => ErrorCategory::Authorization,
            EngineError::UnknownExecution(_) => ErrorCategory::Validation,
            EngineError::QueueFull(_) => ErrorCategory::QueueFull,
            EngineError::Transport { .. }
            | EngineError::Store(_)
            | EngineError::IdempotencyKey { .. }
            | EngineError::ShutDown
            | EngineError::NoStore => ErrorCategory::Plugin,
        }
    }
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A source that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFailure {
    pub source: String,
    pub reason: String,
}

fn sources(failures: &[SourceFailure]) -> String {
    failures
        .iter()
        .map(|f| f.reason.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Refused: the queue already holds `depth` executions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("queue full: {depth} executions are already waiting for a slot")]
pub struct QueueFull {
    pub depth: usize,
}
