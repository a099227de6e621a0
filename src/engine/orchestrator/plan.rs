//! Plans: a YAML file of named steps (command, task, script or upload), each with
//! targets, dependencies and execution options. Everything is checked before a
//! plan runs: every problem is reported at once, naming the file, the line and the
//! step; unknown dependencies and cycles name the steps involved.

use super::task::Task;
use super::task_lookup;
use super::task_run;
use crate::engine::common::duration::parse_duration;
use crate::engine::common::priority::Priority;
use crate::engine::common::request::Mode;
use crate::store::EntryType;
use serde::Deserialize;
use serde_json::{Map, Value};
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    name: Option<String>,
    description: Option<String>,
    targets: Option<String>,
    steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: Spanned<String>,
    command: Option<String>,
    task: Option<String>,
    #[serde(default)]
    parameters: Map<String, Value>,
    script: Option<PathBuf>,
    upload: Option<RawUpload>,
    targets: Option<String>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    mode: Mode,
    timeout: Option<String>,
    #[serde(default)]
    retries: u32,
    #[serde(default)]
    continue_on_failure: bool,
    #[serde(default)]
    noop: bool,
    priority: Option<Priority>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpload {
    source: PathBuf,
    destination: String,
    mode: Option<String>,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepAction {
    Command(String),
    Task {
        task: Box<Task>,
        params: Map<String, Value>,
        noop: bool,
    },
    /// A local script sent to each node and run there (a task without metadata).
    Script(Box<Task>),
    Upload {
        source: PathBuf,
        destination: String,
        mode: String,
    },
}

#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub line: u64,
    pub action: StepAction,
    pub targets: Option<String>,
    pub depends_on: Vec<String>,
    pub mode: Mode,
    pub timeout: Option<Duration>,
    pub retries: u32,
    pub continue_on_failure: bool,
    /// Queue priority; `None` takes the run's default.
    pub priority: Option<Priority>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    pub path: PathBuf,
    pub targets: Option<String>,
    /// In file order; dependencies refer to them by name.
    pub steps: Vec<Step>,
}

/// Why a plan cannot run: every problem, each with file:line where known.
#[derive(Debug, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct PlanError {
    pub problems: Vec<String>,
}

impl Plan {
    pub fn load(path: &Path, task_path: &[PathBuf]) -> Result<Plan, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|e| PlanError {
            problems: vec![format!("{}: cannot read: {e}", path.display())],
        })?;
        Plan::parse(&text, path, task_path)
    }

    pub fn parse(text: &str, path: &Path, task_path: &[PathBuf]) -> Result<Plan, PlanError> {
        let at = |line: u64| format!("{}:{line}", path.display());
        let raw: RawPlan = serde_saphyr::from_str(text).map_err(|e| PlanError {
            problems: vec![format!(
                "{}: {}",
                at(e.location().map(|l| l.line()).unwrap_or(0)),
                e.to_string().lines().next().unwrap_or_default()
            )],
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut problems = Vec::new();
        let mut steps = Vec::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        for rs in raw.steps {
            let line = rs.name.referenced.line();
            let name = rs.name.value.clone();
            let mut bad =
                |reason: String| problems.push(format!("{}: step {name}: {reason}", at(line)));
            if name.trim().is_empty() {
                bad("the name is empty".into());
            }
            if let Some(first) = seen.insert(name.clone(), line) {
                bad(format!(
                    "the name is already used by the step at line {first}"
                ));
            }
            let kinds = [
                rs.command.is_some(),
                rs.task.is_some(),
                rs.script.is_some(),
                rs.upload.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                bad("needs exactly one of command, task, script, upload".into());
                continue;
            }
            let timeout = match rs.timeout.as_deref().map(parse_duration) {
                Some(Ok(t)) => Some(t),
                Some(Err(e)) => {
                    bad(format!("timeout: {e}"));
                    None
                }
                None => None,
            };
            // A step whose action is invalid still takes part in the dependency
            // check (the plan is refused anyway), so its name is not reported unknown.
            let invalid = StepAction::Command(String::new());
            let action = if let Some(c) = rs.command {
                StepAction::Command(c)
            } else if let Some(tname) = rs.task {
                match task_lookup::find(task_path, &tname) {
                    Ok(t) => match task_run::validate(&t, &rs.parameters, rs.noop) {
                        Ok(params) => StepAction::Task {
                            task: Box::new(t),
                            params,
                            noop: rs.noop,
                        },
                        Err(errors) => {
                            for e in errors {
                                bad(format!("task {tname}: {e}"));
                            }
                            invalid
                        }
                    },
                    Err(e) => {
                        bad(e.to_string());
                        invalid
                    }
                }
            } else if let Some(script) = rs.script {
                let script = base.join(script);
                if !script.is_file() {
                    bad(format!("script {} does not exist", script.display()));
                }
                StepAction::Script(Box::new(script_task(&name, script)))
            } else if let Some(up) = rs.upload {
                let source = base.join(&up.source);
                let mode = up.mode.unwrap_or_else(|| "0644".into());
                if !source.is_file() {
                    bad(format!("upload source {} does not exist", source.display()));
                }
                if !mode.chars().all(|c| ('0'..='7').contains(&c)) || mode.len() > 4 {
                    bad(format!("upload mode {mode:?} is not octal"));
                }
                if up.destination.trim().is_empty() || up.destination.contains('\0') {
                    bad("upload destination is empty".into());
                }
                StepAction::Upload {
                    source,
                    destination: up.destination,
                    mode,
                }
            } else {
                invalid
            };
            steps.push(Step {
                name,
                line,
                action,
                targets: rs.targets,
                depends_on: rs.depends_on,
                mode: rs.mode,
                timeout,
                retries: rs.retries,
                continue_on_failure: rs.continue_on_failure,
                priority: rs.priority,
            });
        }
        if steps.is_empty() && problems.is_empty() {
            problems.push(format!("{}: the plan has no steps", at(0)));
        }
        problems.extend(dependency_problems(&steps, &at));
        if !problems.is_empty() {
            return Err(PlanError { problems });
        }
        Ok(Plan {
            name: raw.name.unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "plan".into())
            }),
            description: raw.description,
            path: path.to_path_buf(),
            targets: raw.targets,
            steps,
        })
    }

    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }
}

/// A plan step's script as a task with no parameters.
fn script_task(step: &str, script: PathBuf) -> Task {
    Task::from_script(format!("script:{step}"), script, EntryType::Execution)
}

/// Unknown dependencies, self-dependencies and cycles, each naming the steps.
pub fn dependency_problems(steps: &[Step], at: &dyn Fn(u64) -> String) -> Vec<String> {
    let mut problems = Vec::new();
    let index: BTreeMap<&str, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    for s in steps {
        for d in &s.depends_on {
            if !index.contains_key(d.as_str()) {
                problems.push(format!(
                    "{}: step {}: depends on unknown step {d:?}",
                    at(s.line),
                    s.name
                ));
            }
        }
    }
    // Depth-first search with colours; a grey node reached again closes a cycle.
    let mut colour = vec![0u8; steps.len()];
    let mut stack: Vec<usize> = Vec::new();
    for start in 0..steps.len() {
        if colour[start] == 0 {
            visit(
                start,
                steps,
                &index,
                &mut colour,
                &mut stack,
                &mut problems,
                at,
            );
        }
    }
    problems
}

fn visit(
    i: usize,
    steps: &[Step],
    index: &BTreeMap<&str, usize>,
    colour: &mut [u8],
    stack: &mut Vec<usize>,
    problems: &mut Vec<String>,
    at: &dyn Fn(u64) -> String,
) {
    colour[i] = 1;
    stack.push(i);
    for d in &steps[i].depends_on {
        let Some(&j) = index.get(d.as_str()) else {
            continue;
        };
        match colour[j] {
            0 => visit(j, steps, index, colour, stack, problems, at),
            1 => {
                let from = stack.iter().position(|&k| k == j).unwrap_or(0);
                let mut names: Vec<&str> = stack[from..]
                    .iter()
                    .map(|&k| steps[k].name.as_str())
                    .collect();
                names.push(&steps[j].name);
                problems.push(format!(
                    "{}: dependency cycle: {}",
                    at(steps[j].line),
                    names.join(" -> ")
                ));
            }
            _ => {}
        }
    }
    stack.pop();
    colour[i] = 2;
}
