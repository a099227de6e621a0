//! `--rerun SCOPE ID` of `drover run` and `drover task run`: reads the stored run
//! (reading it needs `history.read`) and says what to repeat on which nodes, or
//! why nothing runs.

use super::history::engine_error;
use crate::app::exit::{self, exit_code_for};
use crate::app::rerun::{self, Repeat, Rerun, RerunError, Scope};
use crate::app::setup::Runtime;
use crate::engine::EngineError;
use crate::engine::inventory::nodeset;

/// Which front end asks: a command re-runs only commands, a task only tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Command,
    Task,
}

/// The re-run `spec` (`[SCOPE, ID]`) names, or the exit code to stop with after
/// saying why (0 when the run has no node in scope: nothing to do).
pub async fn load(rt: &Runtime, spec: &[String], wanted: Wanted) -> Result<Rerun, u8> {
    let usage = |reason: String| {
        eprintln!("drover: --rerun: {reason}");
        exit::USAGE
    };
    let [scope, id] = spec else {
        return Err(usage(
            "takes a scope and a run id: --rerun failed ID".into(),
        ));
    };
    let scope = Scope::parse(scope).map_err(usage)?;
    let (record, results) = match rt.engine.read_run(&rt.context, id.clone()).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(usage(format!("no run {id:?} in history"))),
        Err(e @ EngineError::Store(_)) => return Err(engine_error(e)),
        Err(e) => {
            eprintln!("drover: --rerun: {e}");
            return Err(exit_code_for(&e));
        }
    };
    let planned = match rerun::plan(&record, &results, scope) {
        Ok(p) => p,
        Err(e @ RerunError::NothingToRerun { .. }) => {
            eprintln!("drover: {e}");
            return Err(exit::SUCCESS);
        }
        Err(e) => return Err(usage(e.to_string())),
    };
    match (&planned.repeat, wanted) {
        (Repeat::Command(_), Wanted::Command) | (Repeat::Task { .. }, Wanted::Task) => {}
        (Repeat::Command(c), Wanted::Task) => {
            return Err(usage(format!(
                "run {} ran the command {c:?}, not a task: use drover run --rerun",
                record.id
            )));
        }
        (Repeat::Task { name, .. }, Wanted::Command) => {
            return Err(usage(format!(
                "run {} ran the task {name}, not a command: use drover task run --rerun",
                record.id
            )));
        }
    }
    eprintln!(
        "drover: re-running {} of run {} on {} ({})",
        scope.name(),
        record.id,
        nodeset::fold(planned.nodes.iter().map(String::as_str)),
        planned.nodes.len()
    );
    Ok(planned)
}
