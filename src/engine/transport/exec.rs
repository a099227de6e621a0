//! Runs commands through a command template on this machine: `docker exec -i
//! {container} sh -c {command}`, `kubectl exec -i {pod} -- sh -c {command}`,
//! `ip netns exec {netns} sh -c {command}`. The template is the node's var
//! `exec_template` (see [`exec_template`](super::exec_template) for how it is
//! split and filled); the program it names runs as a local process does, in a
//! process group of its own that a timeout or cancel ends (TERM, then KILL after
//! `kill_grace`).
//!
//! Environment variables (`-e`) travel on the program's stdin, never in an argv:
//! `{command}` then holds a short POSIX-sh preamble that reads them and starts the
//! command with `/dev/null` as its stdin. A template that does not pass stdin on
//! (`docker exec` without `-i`) makes the node fail with a message saying so,
//! rather than running the command without its variables.

use super::exec_template::{self, Template};
use super::process::{GroupRun, run_in_group};
use super::ssh::wrapper::{env_from_stdin, nonce};
use super::{BoxFuture, Capabilities, ExitInfo, Health, NodeJob, Transport, TransportError};
use crate::engine::common::error::ErrorCategory;
use crate::engine::inventory::Node;
use crate::engine::report::output::OutputSink;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The transport's name, as nodes refer to it.
pub const NAME: &str = "exec";

/// Exit status of the preamble when the environment did not arrive.
const NO_ENV_STATUS: i32 = 125;

pub struct ExecTransport {
    kill_grace: Duration,
}

impl ExecTransport {
    /// `kill_grace`: time between SIGTERM and SIGKILL when stopping a group.
    pub fn new(kill_grace: Duration) -> Result<ExecTransport, TransportError> {
        if kill_grace.is_zero() || kill_grace > Duration::from_secs(600) {
            return Err(TransportError::new(
                ErrorCategory::Plugin,
                "exec: kill_grace must be between 1ms and 10 minutes",
            ));
        }
        Ok(ExecTransport { kill_grace })
    }

    async fn run(
        &self,
        job: NodeJob<'_>,
        sink: &OutputSink,
        stop: CancellationToken,
    ) -> Result<ExitInfo, TransportError> {
        let template = template_of(job.node)?;
        let (command, stdin) = with_env(job.command, job.env);
        let argv = template
            .argv(job.node, &command)
            .map_err(|reason| validation(job.node, &reason))?;
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| validation(job.node, "the template is empty"))?;
        let mut process = tokio::process::Command::new(program);
        process.args(args);
        let run = GroupRun {
            command: process,
            program,
            stdin,
            node: &job.node.name,
            kill_grace: self.kill_grace,
        };
        run_in_group(run, sink, stop).await
    }
}

fn template_of(node: &Node) -> Result<Template, TransportError> {
    exec_template::for_node(node).map_err(|r| TransportError::new(ErrorCategory::Validation, r))
}

fn validation(node: &Node, reason: &str) -> TransportError {
    let template = node
        .vars
        .get(exec_template::TEMPLATE_VAR)
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    TransportError::new(
        ErrorCategory::Validation,
        format!(
            "node {}: {} {template:?}: {reason}",
            node.name,
            exec_template::TEMPLATE_VAR
        ),
    )
}

/// The command as `{command}` receives it, and the bytes for stdin: the command
/// itself without variables; with them, a preamble that reads them from stdin.
fn with_env(command: &str, env: &BTreeMap<String, String>) -> (String, Option<Vec<u8>>) {
    if env.is_empty() {
        return (command.to_string(), None);
    }
    let on_eof = format!(
        "echo 'drover: the -e variables did not arrive on standard input: \
         the exec template must pass stdin on (docker exec -i, kubectl exec -i)' >&2; \
         exit {NO_ENV_STATUS}"
    );
    let (reader, stdin) = env_from_stdin(&nonce(), env, &on_eof);
    (format!("{reader}exec </dev/null\n{command}"), Some(stdin))
}

impl Transport for ExecTransport {
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            command: true,
            upload: false,
            interactive: false,
            // The group of the template's program ends; what `docker exec` or
            // `kubectl exec` started inside a container may outlive its client.
            real_cancel: false,
        }
    }

    fn check_node(&self, node: &Node) -> Result<(), TransportError> {
        template_of(node).map(|_| ())
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
            Health {
                healthy: true,
                detail: "runs each node's exec_template".into(),
            }
        })
    }
}
