//! Parts the benchmarks share.
#![allow(dead_code)]

use drover::engine::Node;
use drover::engine::report::output::OutputSink;
use drover::engine::transport::{
    BoxFuture, Capabilities, ExitInfo, Health, NodeJob, Transport, TransportError,
};
use tokio_util::sync::CancellationToken;

/// Succeeds at once: what is left of a node-run is the engine's own work.
pub struct NullTransport;

impl Transport for NullTransport {
    fn name(&self) -> &str {
        "null"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    fn check_node(&self, _node: &Node) -> Result<(), TransportError> {
        Ok(())
    }
    fn execute<'a>(
        &'a self,
        _job: NodeJob<'a>,
        _sink: &'a OutputSink,
        _stop: CancellationToken,
    ) -> BoxFuture<'a, Result<ExitInfo, TransportError>> {
        Box::pin(async {
            Ok(ExitInfo {
                code: Some(0),
                signal: None,
            })
        })
    }
    fn health(&self) -> BoxFuture<'_, Health> {
        Box::pin(async {
            Health {
                healthy: true,
                detail: String::new(),
            }
        })
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}
