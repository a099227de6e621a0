//! A plan's steps made ready to run, all of them before the first one starts.

use crate::engine::common::error::FieldError;
use crate::engine::common::ids::ExecutionId;
use crate::engine::common::request::{ExecutionOptions, ExecutionRequest};
use crate::engine::orchestrator::plan::{Plan, StepAction};
use crate::engine::orchestrator::task_run::{self, MAX_SCRIPT_BYTES};
use crate::engine::rbac::Capability;
use crate::engine::submit::label::RunLabel;
use crate::engine::{Engine, EngineError};
use serde_json::Value;

/// One step as the engine will be asked to run it.
pub(super) struct Prepared {
    pub(super) request: ExecutionRequest,
    pub(super) label: RunLabel,
}

/// Turns every step into a request and its label (targets resolved, scripts and
/// uploads read, tasks built), or lists every problem: a plan with one bad step
/// runs none of them.
pub(super) fn prepare(
    engine: &Engine,
    plan: &Plan,
    id: &ExecutionId,
    defaults: ExecutionOptions,
    targets: Option<String>,
) -> Result<Vec<Prepared>, EngineError> {
    let mut errors = Vec::new();
    let mut prepared = Vec::new();
    for step in &plan.steps {
        let field = |reason: String| FieldError {
            field: format!("step {}", step.name),
            reason,
        };
        let Some(t) = step
            .targets
            .clone()
            .or(plan.targets.clone())
            .or(targets.clone())
        else {
            errors.push(field(
                "has no targets (give the step, the plan or -t some)".into(),
            ));
            continue;
        };
        if let Err(e) = engine.inventory().resolve(&t) {
            errors.push(field(e.to_string()));
            continue;
        }
        let options = ExecutionOptions {
            timeout: step.timeout.or(defaults.timeout),
            mode: step.mode,
            retries: step.retries,
            priority: step.priority.unwrap_or(defaults.priority),
            ..defaults.clone()
        };
        let built = match &step.action {
            StepAction::Command(c) => Ok((
                ExecutionRequest {
                    command: c.clone(),
                    targets: t.clone(),
                    options,
                },
                RunLabel {
                    kind: "plan-step".into(),
                    ..RunLabel::default()
                },
            )),
            StepAction::Task { task, params, noop } => {
                task_run::build(task, params, *noop, &t, options)
            }
            StepAction::Script(task) => {
                task_run::build(task, &Default::default(), false, &t, options).map(|(r, l)| {
                    let label = RunLabel {
                        kind: "plan-step".into(),
                        action: Some(format!("script {}", task.metadata.display())),
                        ..l
                    };
                    (r, label)
                })
            }
            StepAction::Upload {
                source,
                destination,
                mode,
            } => match std::fs::read(source) {
                Ok(bytes) if bytes.len() <= MAX_SCRIPT_BYTES => Ok((
                    ExecutionRequest {
                        command: task_run::upload_command(&bytes, destination, mode),
                        targets: t.clone(),
                        options,
                    },
                    RunLabel {
                        kind: "plan-step".into(),
                        action: Some(format!("upload {} -> {destination}", source.display())),
                        ..RunLabel::default()
                    },
                )),
                Ok(bytes) => Err(vec![field(format!(
                    "{}: {} bytes is more than the {MAX_SCRIPT_BYTES} drover sends",
                    source.display(),
                    bytes.len()
                ))]),
                Err(e) => Err(vec![field(format!("{}: {e}", source.display()))]),
            },
        };
        match built {
            Ok((request, mut label)) => {
                let shown = label.shown(&request).to_string();
                label.action = Some(format!("plan {} step {}: {shown}", plan.name, step.name));
                label
                    .details
                    .insert("plan".into(), Value::String(plan.name.clone()));
                label
                    .details
                    .insert("plan_run".into(), Value::String(id.0.clone()));
                label
                    .details
                    .insert("step".into(), Value::String(step.name.clone()));
                // Every step, a task's too, runs under the plan's authorisation.
                label.capability = Capability::PlanRun;
                prepared.push(Prepared { request, label });
            }
            Err(es) => errors.extend(es.into_iter().map(|e| field(e.to_string()))),
        }
    }
    if !errors.is_empty() {
        return Err(EngineError::Validation(errors));
    }
    Ok(prepared)
}
