//! Carries out effects against the engine, off the UI loop: each job runs in
//! its own task and reports back as a message. History is read through the
//! engine (under the console user's permissions); reads that block run on the
//! blocking pool, so a slow disk never freezes the console.

use super::history::LOAD_LIMIT;
use super::msg::{Effect, FactRow, Loaded, Msg};
use super::plan::{PlanDone, PlanStarted};
use crate::engine::common::ids::now_millis;
use crate::engine::records::{EntryType, HistoryFilter, JournalEntry};
use crate::engine::submit::label::RerunOf;
use crate::engine::{
    Engine, EngineError, ExecutionContext, ExecutionId, ExecutionOptions, OutputReader, StoredRun,
    Submission,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Journal entries loaded for one node at a time.
const JOURNAL_LIMIT: usize = 1_000;

#[derive(Clone)]
pub struct Runner {
    pub engine: Engine,
    pub options: ExecutionOptions,
    /// Who the console acts as (RBAC checks and audit name this user).
    pub context: ExecutionContext,
    /// Where `:task` looks for tasks (`[tasks] path`).
    pub task_path: Vec<PathBuf>,
    /// Plans started here and still running, by plan id: what cancels them.
    pub plans: Arc<Mutex<HashMap<String, CancellationToken>>>,
    pub tx: UnboundedSender<Msg>,
}

/// Writes a file; an existing one is kept unless `overwrite` (the check and
/// the creation are one step, so a file appearing meanwhile is not clobbered).
fn write_file(path: &std::path::Path, contents: &[u8], overwrite: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.flush()
}

/// Runs a store read on the blocking pool.
async fn blocking<T: Send + 'static>(
    read: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(read)
        .await
        .unwrap_or_else(|e| Err(format!("store read failed: {e}")))
}

/// What the console shows for a failed read: a store's own words (an
/// ambiguous run id lists its candidates), or the engine's refusal.
fn reason(e: EngineError) -> String {
    match e {
        EngineError::Store(e) => crate::app::run_id::ambiguity_lines(&e)
            .map(|lines| lines.join("\n"))
            .unwrap_or_else(|| e.to_string()),
        other => other.to_string(),
    }
}

impl Runner {
    /// The console's identity with a fresh correlation id for one request.
    fn run_context(&self) -> ExecutionContext {
        ExecutionContext {
            correlation_id: crate::engine::ExecutionId::new().0,
            ..self.context.clone()
        }
    }

    /// Finds, validates and submits a task (as `drover task run` does).
    async fn submit_task(
        &self,
        name: &str,
        pairs: &[(String, String)],
        targets: &str,
        noop: bool,
        rerun: Option<RerunOf>,
    ) -> Result<crate::engine::ExecutionId, String> {
        use crate::engine::orchestrator::task_submit::{self, TaskSubmitError, TaskWanted};
        let wanted = TaskWanted {
            name: name.to_string(),
            pairs: pairs.to_vec(),
            noop,
            targets: targets.to_string(),
            rerun,
        };
        let submission = task_submit::prepare(&self.task_path, wanted, self.options.clone())
            .map_err(|e| match e {
                TaskSubmitError::Invalid { errors, .. } => {
                    crate::engine::EngineError::Validation(errors).to_string()
                }
                find => find.to_string(),
            })?
            .as_user(self.run_context());
        self.engine
            .submit(submission)
            .await
            .map(|s| s.id)
            .map_err(|e| e.to_string())
    }

    /// `:plan FILE`: loads and checks the plan off the loop (nothing runs when
    /// it has problems), starts it as `drover plan run` does, and reports its end.
    async fn run_plan(&self, file: PathBuf, targets: Option<String>, correlation_id: String) {
        use crate::engine::orchestrator::plan::Plan;
        use crate::engine::orchestrator::plan_run;
        let (path, task_path) = (file.clone(), self.task_path.clone());
        let loaded = tokio::task::spawn_blocking(move || Plan::load(&path, &task_path))
            .await
            .unwrap_or_else(|e| {
                Err(crate::engine::orchestrator::plan::PlanError {
                    problems: vec![format!("{}: not loaded: {e}", file.display())],
                })
            });
        let plan = match loaded {
            Ok(p) => p,
            Err(e) => {
                self.send(Loaded::PlanStarted(Err(e.problems.join("; "))));
                return;
            }
        };
        let started = PlanStarted {
            id: ExecutionId(String::new()),
            name: plan.name.clone(),
            file: file.display().to_string(),
            steps: plan.steps.iter().map(|s| s.name.clone()).collect(),
        };
        let options = self.options.clone();
        // Every step runs under this context: the console tells the plan's
        // executions from others by its correlation id.
        let context = ExecutionContext {
            correlation_id,
            ..self.context.clone()
        };
        let handle = match plan_run::start(&self.engine, plan, options, targets, context) {
            Ok(h) => h,
            Err(e) => {
                self.send(Loaded::PlanStarted(Err(format!(
                    "plan {} not run: {e}",
                    started.name
                ))));
                return;
            }
        };
        let id = handle.id.clone();
        self.plan_slots().insert(id.0.clone(), handle.canceller());
        self.send(Loaded::PlanStarted(Ok(PlanStarted {
            id: id.clone(),
            ..started
        })));
        let result = handle.wait().await;
        self.plan_slots().remove(&id.0);
        match result {
            Ok(r) => self.send(Loaded::PlanDone(PlanDone::from(&r))),
            Err(e) => tracing::warn!("plan {}: {e}", id.0),
        }
    }

    fn plan_slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        // A panic while holding the map cannot leave it half-written.
        self.plans.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A node's facts as rows: each fact with its provider, then the providers
    /// that failed (the others still answer).
    async fn facts_of(&self, node: &str, refresh: bool) -> Result<Vec<FactRow>, String> {
        let nodes = [node.to_string()];
        let mut answers = self
            .engine
            .read_facts(&self.run_context(), &nodes, refresh, 1)
            .await
            .map_err(reason)?;
        // One answer per node asked.
        let set = match answers.pop() {
            Some(answer) => answer.map_err(reason)?,
            None => return Err(format!("{node}: no facts answer")),
        };
        let mut rows: Vec<FactRow> = set
            .facts
            .iter()
            .map(|(key, fact)| FactRow {
                key: key.clone(),
                value: match &fact.value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
                source: fact.source.clone(),
            })
            .collect();
        rows.extend(set.failures.iter().map(|f| FactRow {
            key: "(provider failed)".into(),
            value: f.reason.clone(),
            source: f.provider.clone(),
        }));
        Ok(rows)
    }

    /// A run from history (id or unique prefix), once the engine's pending
    /// writes are in: a run that just ended is read with every result.
    async fn stored_run(&self, id: String) -> Result<Box<StoredRun>, String> {
        let ctx = self.run_context();
        match self.engine.read_run(&ctx, id.clone()).await {
            Ok(Some(run)) => Ok(Box::new(run)),
            Ok(None) => Err(format!("no run {id:?} in history")),
            Err(e) => Err(reason(e)),
        }
    }

    /// A run from history and the reader of its stored output.
    async fn stored_output(&self, id: String) -> Result<(Box<StoredRun>, OutputReader), String> {
        let run = self.stored_run(id).await?;
        let reader = self
            .engine
            .read_stored_output(&self.run_context(), &run.0.id)
            .await
            .map_err(reason)?;
        Ok((run, reader))
    }

    fn send(&self, loaded: Loaded) {
        let _ = self.tx.send(Msg::Loaded(loaded));
    }

    /// Starts the job for one effect. Effects about the loop itself (quit,
    /// suspend, answers, shells) are handled by the console, not here.
    pub fn spawn(&self, effect: Effect) {
        let this = self.clone();
        match effect {
            Effect::Submit {
                command,
                targets,
                rerun,
            } => {
                tokio::spawn(async move {
                    let submission = Submission::command(command.clone(), targets)
                        .options(this.options.clone())
                        .rerun_of(rerun)
                        .as_user(this.run_context());
                    let result = this
                        .engine
                        .submit(submission)
                        .await
                        .map(|s| s.id)
                        .map_err(|e| e.to_string());
                    this.send(Loaded::Submitted { command, result });
                });
            }
            Effect::LoadRerun { id, scope } => {
                tokio::spawn(async move {
                    let run = this.stored_run(id).await;
                    this.send(Loaded::Rerun { scope, run });
                });
            }
            Effect::SubmitTask {
                name,
                params,
                targets,
                noop,
                rerun,
            } => {
                tokio::spawn(async move {
                    let result = this
                        .submit_task(&name, &params, &targets, noop, rerun)
                        .await;
                    this.send(Loaded::Submitted {
                        command: format!("task {name}"),
                        result,
                    });
                });
            }
            Effect::RunPlan {
                file,
                targets,
                correlation_id,
            } => {
                tokio::spawn(async move { this.run_plan(file, targets, correlation_id).await });
            }
            Effect::CancelPlan(id) => {
                if let Some(token) = self.plan_slots().get(&id.0) {
                    token.cancel();
                }
            }
            Effect::Cancel(id) => {
                if let Err(e) = self.engine.cancel(&id) {
                    tracing::warn!("cancel {}: {e}", id.0);
                }
            }
            Effect::LoadHistory => {
                tokio::spawn(async move {
                    let filter = HistoryFilter {
                        limit: Some(LOAD_LIMIT),
                        without_nodes: true,
                        ..HistoryFilter::default()
                    };
                    let ctx = this.run_context();
                    let r = this.engine.read_history(&ctx, filter).await.map_err(reason);
                    this.send(Loaded::History(r));
                });
            }
            Effect::LoadStoredRun(id) => {
                tokio::spawn(async move {
                    let r = match this.stored_output(id).await {
                        Err(e) => Err(e),
                        Ok((run, reader)) => {
                            blocking(move || {
                                let (record, results) = *run;
                                results
                                    .iter()
                                    .map(|r| crate::app::stored_output::load(&reader, r))
                                    .collect::<Result<Vec<_>, _>>()
                                    .map(|nodes| Box::new((record, nodes)))
                                    .map_err(|e| e.to_string())
                            })
                            .await
                        }
                    };
                    this.send(Loaded::StoredRun(r));
                });
            }
            Effect::LoadJournal(node) => {
                tokio::spawn(async move {
                    let ctx = this.run_context();
                    let entries = this
                        .engine
                        .read_journal(&ctx, &node, Vec::new(), Some(JOURNAL_LIMIT))
                        .await
                        .map_err(reason);
                    this.send(Loaded::Journal { node, entries });
                });
            }
            Effect::SaveNote { node, text } => {
                tokio::spawn(async move {
                    let entry = JournalEntry {
                        id: 0,
                        node: node.clone(),
                        entry_type: EntryType::Manual,
                        timestamp: now_millis(),
                        user: this.context.user.clone(),
                        action: text,
                        status: None,
                        execution_id: None,
                        details: serde_json::json!({}),
                    };
                    let result = async {
                        this.engine.append_journal(entry).await?;
                        this.engine.flush().await
                    }
                    .await
                    .map_err(|e| e.to_string());
                    this.send(Loaded::NoteSaved { node, result });
                });
            }
            Effect::LoadFacts { node, refresh } => {
                tokio::spawn(async move {
                    let facts = this.facts_of(&node, refresh).await;
                    this.send(Loaded::Facts { node, facts });
                });
            }
            Effect::LoadStatus => {
                tokio::spawn(async move {
                    let report = this.engine.health().await;
                    let text = crate::app::batch::status::render(&report, &this.context);
                    this.send(Loaded::Status(text));
                });
            }
            Effect::WriteFile {
                path,
                contents,
                lines,
                overwrite,
            } => {
                tokio::spawn(async move {
                    let p = path.clone();
                    let result = tokio::task::spawn_blocking(move || {
                        write_file(&p, contents.as_bytes(), overwrite)
                            .map(|()| lines)
                            .map_err(|e| super::write_output::describe_io_error(&p, &e))
                    })
                    .await
                    .unwrap_or_else(|e| Err(format!("cannot write {}: {e}", path.display())));
                    this.send(Loaded::Written { path, result });
                });
            }
            Effect::Answer { .. }
            | Effect::ShowExecution(_)
            | Effect::Shell(_)
            | Effect::Replay(_)
            | Effect::Suspend
            | Effect::Quit => {}
        }
    }
}
