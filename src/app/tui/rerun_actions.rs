//! Running a run again: `R` repeats the shown run on the nodes that did not
//! succeed, `:rerun failed|unreachable|all [ID]` on the nodes a scope picks of
//! any run in history, and history's `r` puts a run's command on the prompt to
//! edit. A re-run reads the stored run (after what the engine holds is written)
//! and runs only on nodes that run targeted.

use super::input::BarKind;
use super::msg::Effect;
use super::overlay::Overlay;
use super::pane::open_bar;
use super::run_request::request_run;
use super::state::{AppState, Focus, View};
use crate::app::rerun::{self, Repeat, RerunError, Scope};
use crate::engine::common::ids::short_id;
use crate::engine::inventory::nodeset;
use crate::engine::records::{ExecutionRecord, NodeResultRecord};

/// The run `R` and a bare `:rerun` mean: the history entry under the cursor in
/// history, the run the progress pane shows there, else the output pane's run
/// (live or replayed), else the newest run.
fn current_run(state: &AppState) -> Option<String> {
    let progress = || state.progress.current().map(|r| r.id.0.clone());
    let output = || state.output.run.as_ref().map(|r| r.id.clone());
    match (state.focus, state.view) {
        (Focus::Main, View::History) => state.history.selected().map(|r| r.id.clone()),
        (Focus::Main, View::Progress) => progress().or_else(output),
        _ => output().or_else(progress),
    }
}

/// `R`: the current run again on its failed, unreachable, timed-out and
/// cancelled nodes.
pub fn rerun_failed(state: &mut AppState) -> Vec<Effect> {
    load(state, None, Scope::Failed)
}

/// `:rerun SCOPE [ID]`.
pub fn rerun_command(state: &mut AppState, rest: &str) -> Vec<Effect> {
    let mut words = rest.split_whitespace();
    let (Some(scope), id, None) = (words.next(), words.next(), words.next()) else {
        state
            .error(":rerun needs a scope and at most a run id: :rerun failed|unreachable|all [ID]");
        return Vec::new();
    };
    match Scope::parse(scope) {
        Ok(scope) => load(state, id, scope),
        Err(e) => {
            state.error(format!(":rerun: {e}"));
            Vec::new()
        }
    }
}

fn load(state: &mut AppState, id: Option<&str>, scope: Scope) -> Vec<Effect> {
    let Some(id) = id.map(String::from).or_else(|| current_run(state)) else {
        state.error("no run to re-run yet (:rerun SCOPE ID names one from history)");
        return Vec::new();
    };
    state.info(format!(
        "re-run {}: reading run {}",
        scope.name(),
        short_id(&id)
    ));
    vec![Effect::LoadRerun { id, scope }]
}

/// The stored run arrived: submit its re-run, or say why there is none.
pub fn on_loaded(
    state: &mut AppState,
    scope: Scope,
    run: Result<Box<(ExecutionRecord, Vec<NodeResultRecord>)>, String>,
) -> Vec<Effect> {
    let (record, results) = match run {
        Ok(run) => *run,
        Err(e) => {
            // An ambiguous id comes with the runs it could mean, one per line.
            let mut lines = e.lines();
            state.error(format!("re-run: {}", lines.next().unwrap_or_default()));
            let candidates: Vec<&str> = lines.collect();
            if !candidates.is_empty() {
                state.overlays.push(Overlay::Message {
                    title: " Matching runs · any key closes ".into(),
                    text: candidates.join("\n"),
                    top: 0,
                });
            }
            return Vec::new();
        }
    };
    let planned = match rerun::plan(&record, &results, scope) {
        Ok(p) => p,
        Err(e @ RerunError::NothingToRerun { .. }) => {
            state.info(e.to_string());
            return Vec::new();
        }
        Err(e) => {
            state.error(e.to_string());
            return Vec::new();
        }
    };
    let targets = planned.targets();
    let count = planned.nodes.len();
    state.info(format!(
        "re-running {} of {} on {} ({count})",
        scope.name(),
        short_id(&record.id),
        nodeset::fold(planned.nodes.iter().map(String::as_str))
    ));
    state.progress.follow_newest();
    match planned.repeat {
        Repeat::Command(command) => request_run(state, &command, &targets, count, Some(planned.of)),
        Repeat::Task { name, params, noop } => vec![Effect::SubmitTask {
            name,
            params,
            targets,
            noop,
            rerun: Some(planned.of),
        }],
    }
}

/// History's `r`: the entry's command on the `!` prompt (a task's on the `:`
/// prompt as `task NAME key=value…`), to edit before it runs.
pub fn edit_in_prompt(state: &mut AppState) {
    let Some(r) = state.history.selected() else {
        return;
    };
    let (kind, text) = if r.kind == "task" {
        (
            BarKind::Command,
            r.action.trim_end_matches(" --noop").to_string(),
        )
    } else {
        (BarKind::Run, r.action.clone())
    };
    open_bar(state, kind, &text);
}
