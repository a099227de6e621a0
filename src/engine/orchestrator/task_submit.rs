//! The steps from "run task NAME with these parameters" to a [`Submission`],
//! written once for every front end: find the task on the task path, read and
//! check its parameters, pick the implementation and build the command that
//! delivers it (see [`task_run::build`]), and label the run as the task.

use super::task::TaskError;
use super::{task_lookup, task_run};
use crate::engine::common::error::{EngineError, FieldError};
use crate::engine::common::request::ExecutionOptions;
use crate::engine::submit::label::RerunOf;
use crate::engine::submit::submission::Submission;
use std::path::PathBuf;

/// A task run as a front end asks for it.
#[derive(Debug, Clone)]
pub struct TaskWanted {
    pub name: String,
    /// `key=value` pairs as typed; each value is read as its declared type.
    pub pairs: Vec<(String, String)>,
    pub noop: bool,
    pub targets: String,
    /// The run this one repeats (`--rerun`, `R`).
    pub rerun: Option<RerunOf>,
}

/// Why a task run was not submitted; nothing ran.
#[derive(Debug, thiserror::Error)]
pub enum TaskSubmitError {
    /// No such task on the path, or its metadata cannot be read.
    #[error(transparent)]
    Find(#[from] TaskError),
    /// Every problem with the parameters or the task's files at once.
    #[error("task {task}: {}", EngineError::Validation(.errors.clone()))]
    Invalid {
        task: String,
        errors: Vec<FieldError>,
    },
}

/// The submission that runs `wanted` with `options` from the tasks on
/// `task_path`; add who asks (and a key or a stream tap) and submit it.
pub fn prepare(
    task_path: &[PathBuf],
    wanted: TaskWanted,
    options: ExecutionOptions,
) -> Result<Submission, TaskSubmitError> {
    let task = task_lookup::find(task_path, &wanted.name)?;
    let given = task_run::coerce_cli(&task, &wanted.pairs);
    let (request, label) = task_run::validate(&task, &given, wanted.noop)
        .and_then(|params| task_run::build(&task, &params, wanted.noop, &wanted.targets, options))
        .map_err(|errors| TaskSubmitError::Invalid {
            task: task.name.clone(),
            errors,
        })?;
    Ok(Submission::request(request)
        .label(label)
        .rerun_of(wanted.rerun))
}
