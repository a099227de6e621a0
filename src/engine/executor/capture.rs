//! One command on one node, its output captured, outside any execution: no
//! history row, no journal entry, no events. Fact gathering uses it. It still
//! takes a slot of the engine-wide concurrency limit, and a timeout stops the
//! remote process as a run's timeout does.

use crate::engine::Engine;
use crate::engine::common::duration::format_duration;
use crate::engine::common::error::{ErrorCategory, NodeError};
use crate::engine::common::ids::ExecutionId;
use crate::engine::common::priority::Priority;
use crate::engine::inventory::Node;
use crate::engine::report::event_bus::EventBus;
use crate::engine::report::output::{OutputSink, SharedOutput};
use crate::engine::transport::{ExitInfo, NodeJob};
use crate::store::Stream;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Most bytes kept per stream; beyond it the start is dropped and
/// [`Captured::truncated`] says so.
pub const CAPTURE_LIMIT: usize = 1 << 20;

/// What the command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub exit: ExitInfo,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// A stream printed more than [`CAPTURE_LIMIT`] bytes.
    pub truncated: bool,
}

impl Engine {
    /// Runs `command` on `node` through its transport and returns its output.
    /// A failure to run at all (no transport, unreachable, timeout) is a
    /// [`NodeError`]; a non-zero exit is a normal [`Captured`].
    pub async fn capture(
        &self,
        node: &Node,
        command: &str,
        timeout: Duration,
    ) -> Result<Captured, NodeError> {
        let fail = |category, reason: String| NodeError {
            node: node.name.clone(),
            category,
            reason,
        };
        let transport = self
            .inner
            .transports
            .get(&node.transport)
            .cloned()
            .ok_or_else(|| {
                fail(
                    ErrorCategory::Plugin,
                    format!(
                        "no transport {:?} (available: {})",
                        node.transport,
                        self.inner.transports.names().join(", ")
                    ),
                )
            })?;
        transport
            .check_node(node)
            .map_err(|e| fail(e.category, e.reason))?;
        // A capture is a short read someone is waiting for: ahead of normal runs.
        let slots = &self.inner.slots;
        let _slot = slots.acquire(slots.place(Priority::HIGH)).await;
        let output = SharedOutput::new(CAPTURE_LIMIT);
        // Nobody listens: a capture announces nothing on the engine's bus, nor logs.
        let events = EventBus::new(1, None);
        let sink = OutputSink {
            execution: ExecutionId::new(),
            node: node.name.clone(),
            output: output.clone(),
            events,
            user: String::new(),
            tap: None,
            store: None,
            secrets: Default::default(),
            redactors: Default::default(),
        };
        let env = BTreeMap::new();
        let job = NodeJob {
            node,
            command,
            env: &env,
        };
        let stop = CancellationToken::new();
        let run = transport.execute(job, &sink, stop.clone());
        tokio::pin!(run);
        let result = tokio::select! {
            r = &mut run => r,
            _ = tokio::time::sleep(timeout) => {
                stop.cancel();
                let _ = run.await;
                return Err(fail(
                    ErrorCategory::Timeout,
                    format!("timed out after {}; its processes were terminated", format_duration(timeout)),
                ));
            }
        };
        let exit = result.map_err(|e| fail(e.category, e.reason))?;
        let out = output.lock();
        let stream = |s| out.stream(s).ring.contents();
        Ok(Captured {
            exit,
            stdout: stream(Stream::Stdout),
            stderr: stream(Stream::Stderr),
            truncated: out.stdout.ring.evicted() > 0 || out.stderr.ring.evicted() > 0,
        })
    }
}
