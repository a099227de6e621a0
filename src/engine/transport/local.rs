//! Runs commands as local processes: `sh -c` in a process group of its own, so a
//! timeout or cancel can end the whole tree the command started, not only the shell.

use super::process::{GroupRun, run_in_group};
use super::{BoxFuture, Capabilities, ExitInfo, Health, NodeJob, Transport, TransportError};
use crate::engine::common::error::ErrorCategory;
use crate::engine::inventory::Node;
use crate::engine::report::output::OutputSink;
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub shell: PathBuf,
    /// Time between SIGTERM and SIGKILL when stopping a process group.
    pub kill_grace: Duration,
}

impl Default for LocalConfig {
    fn default() -> Self {
        LocalConfig {
            shell: PathBuf::from("/bin/sh"),
            kill_grace: Duration::from_secs(2),
        }
    }
}

pub struct LocalTransport {
    config: LocalConfig,
}

impl LocalTransport {
    /// Validates the configuration at initialisation (seeds property 57).
    pub fn new(config: LocalConfig) -> Result<LocalTransport, TransportError> {
        if !config.shell.is_file() {
            return Err(TransportError::new(
                ErrorCategory::Plugin,
                format!("local: shell {} does not exist", config.shell.display()),
            ));
        }
        if config.kill_grace.is_zero() || config.kill_grace > Duration::from_secs(600) {
            return Err(TransportError::new(
                ErrorCategory::Plugin,
                "local: kill_grace must be between 1ms and 10 minutes",
            ));
        }
        Ok(LocalTransport { config })
    }

    async fn run(
        &self,
        job: NodeJob<'_>,
        sink: &OutputSink,
        stop: CancellationToken,
    ) -> Result<ExitInfo, TransportError> {
        let mut command = tokio::process::Command::new(&self.config.shell);
        command
            .arg("-c")
            .arg(job.command)
            .envs(job.env)
            .env("DROVER_NODE", &job.node.name);
        let program = self.config.shell.display().to_string();
        let run = GroupRun {
            command,
            program: &program,
            stdin: None,
            node: &job.node.name,
            kill_grace: self.config.kill_grace,
        };
        run_in_group(run, sink, stop).await
    }
}

impl Transport for LocalTransport {
    fn name(&self) -> &str {
        "local"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            command: true,
            upload: true,
            interactive: true,
            real_cancel: true,
        }
    }

    fn check_node(&self, _node: &Node) -> Result<(), TransportError> {
        Ok(())
    }

    fn execute<'a>(
        &'a self,
        job: NodeJob<'a>,
        sink: &'a OutputSink,
        stop: CancellationToken,
    ) -> BoxFuture<'a, Result<ExitInfo, TransportError>> {
        Box::pin(self.run(job, sink, stop))
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        Box::pin(async move {
            let ok = self.config.shell.is_file();
            Health {
                healthy: ok,
                detail: format!("shell {}", self.config.shell.display()),
            }
        })
    }
}
