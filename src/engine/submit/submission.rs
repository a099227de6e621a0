//! The one door into the engine: a [`Submission`] says what to run (a command,
//! or a task already turned into one with its label), where, how, for whom,
//! under which idempotency key, and whether to tap its stream;
//! [`Engine::submit`](crate::engine::Engine::submit) takes it and answers with a
//! [`Submitted`]. Every front end (console, batch, plans) enters here.

use crate::engine::common::ids::ExecutionId;
use crate::engine::common::priority::Priority;
use crate::engine::common::request::{ExecutionContext, ExecutionOptions, ExecutionRequest};
use crate::engine::rbac::Capability;
use crate::engine::report::event::StreamItem;
use crate::engine::submit::label::{RerunOf, RunLabel};
use tokio::sync::mpsc;

/// Everything one submission carries. Build it with [`Submission::command`] or
/// [`Submission::request`] and the builder methods.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The work (command text), the targets and the options.
    pub request: ExecutionRequest,
    /// How the run presents itself and what it needs: capability, journal
    /// entry type, the run it repeats, whether output is parsed as JSON.
    pub label: RunLabel,
    /// While a run submitted under this key is queued, running, or finished
    /// within the engine's idempotency window, it answers instead of a new one.
    pub key: Option<String>,
    /// Who asks.
    pub context: ExecutionContext,
    /// Items buffered in the lossless stream tap; 0 means no tap.
    pub stream: usize,
}

/// What the engine answers to a submission.
#[derive(Debug)]
pub struct Submitted {
    /// The run started, or the earlier run the key named.
    pub id: ExecutionId,
    /// The run's events and output, when a tap was asked and a run started.
    pub stream: Option<mpsc::Receiver<StreamItem>>,
    /// Set when the key named an earlier run: nothing new started.
    pub earlier: Option<EarlierRun>,
}

/// The run an idempotency key still answers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierRun {
    /// Its status as recorded (`queued`, `running`, `success`, ...); `None`
    /// while another process is still starting it (then `id` is empty).
    pub status: Option<String>,
}

impl Submission {
    /// `command` on `targets`, with default options, by the local user.
    pub fn command(command: impl Into<String>, targets: impl Into<String>) -> Submission {
        Submission::request(ExecutionRequest {
            command: command.into(),
            targets: targets.into(),
            options: ExecutionOptions::default(),
        })
    }

    /// A request already built (a task's, a plan step's), by the local user.
    pub fn request(request: ExecutionRequest) -> Submission {
        Submission {
            request,
            label: RunLabel::default(),
            key: None,
            context: ExecutionContext::local(),
            stream: 0,
        }
    }

    pub fn as_user(mut self, context: ExecutionContext) -> Submission {
        self.context = context;
        self
    }

    pub fn options(mut self, options: ExecutionOptions) -> Submission {
        self.request.options = options;
        self
    }

    pub fn priority(mut self, priority: Priority) -> Submission {
        self.request.options.priority = priority;
        self
    }

    pub fn label(mut self, label: RunLabel) -> Submission {
        self.label = label;
        self
    }

    /// Work authorised by another capability than `command.run`: a task
    /// (`task.run:NAME`) or a plan (`plan.run`). Its command is the task's own,
    /// so role command patterns do not apply; role targets do.
    pub fn capability(mut self, capability: Capability) -> Submission {
        self.label.capability = capability;
        self
    }

    /// The earlier run this one repeats on some of its nodes.
    pub fn rerun_of(mut self, rerun: Option<RerunOf>) -> Submission {
        self.label.rerun = rerun;
        self
    }

    pub fn key(mut self, key: Option<String>) -> Submission {
        self.key = key;
        self
    }

    /// Taps the run's events and output, `buffer` items deep. The tap applies
    /// backpressure: read it.
    pub fn stream(mut self, buffer: usize) -> Submission {
        self.stream = buffer;
        self
    }
}

impl From<ExecutionRequest> for Submission {
    fn from(request: ExecutionRequest) -> Submission {
        Submission::request(request)
    }
}
