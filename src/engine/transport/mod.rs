//! The plug-in interface every way of reaching a node implements: `local`
//! processes, `ssh`, and `exec` (a command template such as `docker exec`; see
//! [`exec`]). The executor owns timeouts, retries and bookkeeping; a transport
//! only runs one command on one node, streams its output into the sink, and stops
//! the remote work for real when `stop` fires.

pub mod exec;
pub mod exec_template;
pub mod interaction;
pub mod local;
pub mod process;
pub mod session;
pub mod ssh;

use super::inventory::Node;
use crate::engine::common::error::ErrorCategory;
use crate::engine::report::output::OutputSink;
use session::{SessionIo, SessionRequest};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A boxed future, so transports can live behind `dyn Transport`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a transport can do, for front ends to offer only what works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub command: bool,
    pub upload: bool,
    pub interactive: bool,
    /// Whether `stop` ends the remote process (not only our wait for it).
    pub real_cancel: bool,
}

/// One command for one node.
#[derive(Debug, Clone, Copy)]
pub struct NodeJob<'a> {
    pub node: &'a Node,
    pub command: &'a str,
    pub env: &'a BTreeMap<String, String>,
}

/// How the remote command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExitInfo {
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

/// A failure to run the command at all (not a non-zero exit).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{category}: {reason}")]
pub struct TransportError {
    pub category: ErrorCategory,
    pub reason: String,
}

impl TransportError {
    pub fn new(category: ErrorCategory, reason: impl Into<String>) -> TransportError {
        TransportError {
            category,
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub healthy: bool,
    pub detail: String,
}

pub trait Transport: Send + Sync + 'static {
    fn name(&self) -> &str;
    fn capabilities(&self) -> Capabilities;
    /// Rejects a node this transport cannot serve (missing address, bad port...)
    /// before anything runs.
    fn check_node(&self, node: &Node) -> Result<(), TransportError>;
    /// Runs the job. When `stop` is cancelled the transport ends the remote work
    /// (gracefully, then forcibly) and returns how it ended: `Ok` once the work is
    /// known to have ended, `Err` saying why not (e.g. "remote kill unconfirmed").
    fn execute<'a>(
        &'a self,
        job: NodeJob<'a>,
        sink: &'a OutputSink,
        stop: CancellationToken,
    ) -> BoxFuture<'a, Result<ExitInfo, TransportError>>;
    fn health(&self) -> BoxFuture<'_, Health>;
    /// Longest `execute` may take to return once `stop` fires. The executor waits
    /// no longer: past it the node is reported with its kill unconfirmed.
    fn stop_bound(&self) -> std::time::Duration {
        std::time::Duration::from_secs(30)
    }
    /// An interactive session on the node (see [`session`]); transports without
    /// `interactive` in their capabilities refuse it.
    fn session<'a>(
        &'a self,
        node: &'a Node,
        request: SessionRequest,
        io: SessionIo,
    ) -> BoxFuture<'a, Result<ExitInfo, TransportError>> {
        let _ = (request, io);
        Box::pin(async move {
            Err(TransportError::new(
                ErrorCategory::Validation,
                format!(
                    "{}: the {} transport has no interactive sessions",
                    node.name,
                    self.name()
                ),
            ))
        })
    }
    /// Closes what the transport holds open (pooled connections); nothing by default.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Transports by name, as nodes refer to them.
#[derive(Clone, Default)]
pub struct TransportRegistry {
    by_name: HashMap<String, Arc<dyn Transport>>,
}

impl TransportRegistry {
    pub fn register(&mut self, transport: Arc<dyn Transport>) {
        self.by_name.insert(transport.name().to_string(), transport);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Transport>> {
        self.by_name.get(name)
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn Transport>> {
        self.by_name.values()
    }

    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.by_name.keys().cloned().collect();
        v.sort();
        v
    }
}

/// Stands in for a transport that could not start (say, an invalid ssh_config):
/// every node that needs it fails with the reason, and everything else still runs.
pub struct Unavailable {
    pub name: String,
    pub reason: String,
}

impl Transport for Unavailable {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    fn check_node(&self, _node: &Node) -> Result<(), TransportError> {
        Err(TransportError::new(
            ErrorCategory::Validation,
            self.reason.clone(),
        ))
    }

    fn execute<'a>(
        &'a self,
        _job: NodeJob<'a>,
        _sink: &'a OutputSink,
        _stop: CancellationToken,
    ) -> BoxFuture<'a, Result<ExitInfo, TransportError>> {
        Box::pin(async move {
            Err(TransportError::new(
                ErrorCategory::Validation,
                self.reason.clone(),
            ))
        })
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        Box::pin(async move {
            Health {
                healthy: false,
                detail: self.reason.clone(),
            }
        })
    }
}
