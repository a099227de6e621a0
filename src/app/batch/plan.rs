//! `drover plan validate | run`: plans from YAML files.

use super::run::exit_code_for;
use crate::app::exit;
use crate::app::setup::Runtime;
use crate::app::stop_signals::{self, RunStop, Stop, StopSignal};
use crate::cli::{PlanArgs, PlanCommand};
use crate::engine::orchestrator::plan::Plan;
use crate::engine::orchestrator::plan_run::{self, StepState};
use crate::engine::{EngineEvent, ExecutionOptions};
use std::io::Write;
use std::path::Path;

pub async fn plan(args: &PlanArgs, rt: &Runtime) -> u8 {
    match &args.command {
        PlanCommand::Validate { file } => match load(file, rt) {
            Some(p) => {
                println!(
                    "{}: plan {} is valid ({} steps)",
                    file.display(),
                    p.name,
                    p.steps.len()
                );
                exit::SUCCESS
            }
            None => exit::USAGE,
        },
        PlanCommand::Run {
            file,
            targets,
            json,
            priority,
        } => match load(file, rt) {
            Some(p) => {
                let defaults = ExecutionOptions {
                    priority: priority.unwrap_or_default(),
                    ..crate::app::setup::run_defaults(&rt.config)
                };
                run(p, targets.clone(), *json, defaults, rt).await
            }
            None => exit::USAGE,
        },
    }
}

fn load(file: &Path, rt: &Runtime) -> Option<Plan> {
    match Plan::load(file, &rt.config.tasks.path) {
        Ok(p) => Some(p),
        Err(e) => {
            for line in e.problems {
                eprintln!("drover: {line}");
            }
            None
        }
    }
}

async fn run(
    plan: Plan,
    targets: Option<String>,
    json: bool,
    defaults: ExecutionOptions,
    rt: &Runtime,
) -> u8 {
    let engine = &rt.engine;
    let mut events = engine.subscribe();
    let handle = match plan_run::start(engine, plan, defaults, targets, rt.context.clone()) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit_code_for(&e);
        }
    };
    let id = handle.id.clone();
    let canceller = handle.canceller();
    let mut done = tokio::spawn(handle.wait());
    let mut finished = None;
    // Ctrl-C, SIGTERM and SIGHUP cancel the plan alike; the exit code names the first.
    let mut stop = RunStop::listen(&rt.config);
    let grace = stop.grace();
    let mut out = std::io::stdout().lock();
    loop {
        let ev = if finished.is_some() {
            // The plan ended: what is left is already in the channel.
            match events.try_recv() {
                Ok(ev) => Ok(ev),
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => continue,
                Err(_) => break,
            }
        } else {
            tokio::select! {
            biased;
            ev = events.recv() => ev,
            s = stop.next() => match s {
                Stop::Cancel(which) => {
                    eprintln!(
                        "drover: cancelling plan {id} ({}; again to leave at once; leaving in {} s at most)",
                        which.name(),
                        grace.as_secs()
                    );
                    canceller.cancel();
                    continue;
                }
                Stop::Second(which) => {
                    eprintln!("drover: second {}: leaving now; the next start records plan {id}'s runs as interrupted", which.name());
                    return which.exit_code();
                }
                Stop::GraceOver(which) => {
                    eprintln!(
                        "drover: plan {id} did not end within {} s of {}: leaving; the next start records its runs as interrupted",
                        grace.as_secs(),
                        which.name()
                    );
                    stop_signals::abandon();
                    return which.exit_code();
                }
            },
            // Only when no event is waiting: a subscriber that lagged past the
            // plan's end still stops.
            r = &mut done, if finished.is_none() => {
                finished = Some(r);
                continue;
            }
            }
        };
        let ev = match ev {
            Ok(ev) => ev,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => break,
        };
        let (EngineEvent::PlanStepChanged { plan, .. } | EngineEvent::PlanFinished { plan, .. }) =
            &ev
        else {
            continue;
        };
        if *plan != id {
            continue;
        }
        if json {
            if let Some(v) = super::json::event(&ev) {
                let _ = writeln!(out, "{v}");
            }
        } else if let EngineEvent::PlanStepChanged {
            step,
            state,
            execution,
            progress,
            ..
        } = &ev
        {
            let exec = execution
                .as_ref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "step {step}: {}{exec} [{} completed, {} failed, {} cancelled of {}]",
                state.as_str(),
                progress.completed,
                progress.failed,
                progress.cancelled,
                progress.total
            );
        }
        let _ = out.flush();
        if matches!(ev, EngineEvent::PlanFinished { .. }) {
            break;
        }
    }
    let finished = match finished {
        Some(f) => f,
        None => done.await,
    };
    let result = match finished
        .map_err(|_| crate::engine::EngineError::ShutDown)
        .and_then(|r| r)
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::FAILED;
        }
    };
    if !json {
        for s in &result.steps {
            if let Some(r) = &s.result {
                for n in &r.nodes {
                    for line in n.stdout.lines() {
                        let _ = writeln!(out, "{}/{}: {line}", s.name, n.node);
                    }
                }
            }
            if let Some(reason) = &s.reason {
                eprintln!("drover: step {}: {}: {reason}", s.name, s.state.as_str());
            }
        }
        let _ = writeln!(out, "plan {}: {}", result.name, result.state.as_str());
    }
    if let Err(e) = engine.flush().await {
        eprintln!(
            "drover: history incomplete: {e}; plan {id} ended {} but history may show it otherwise",
            result.state.as_str()
        );
    }
    match result.state {
        StepState::Completed => exit::SUCCESS,
        StepState::Cancelled => stop.first().map_or(exit::CANCELLED, StopSignal::exit_code),
        _ => exit::FAILED,
    }
}
