//! `drover task list | show | run`: Bolt tasks from the task path.

use super::once;
use super::run::{FlagError, flag_options, follow};
use crate::app::exit;
use crate::app::rerun::Repeat;
use crate::app::setup::Runtime;
use crate::cli::{OutputFormat, TaskArgs, TaskCommand, TaskRunArgs};
use crate::engine::orchestrator::task::{self, Task};
use crate::engine::orchestrator::task_impl;
use crate::engine::orchestrator::task_lookup;
use crate::engine::orchestrator::task_submit::{self, TaskWanted};
use crate::engine::{ExecutionOptions, NodeStatus, Submitted};
use std::io::Write;

const STREAM_BUFFER: usize = 64;

pub async fn task(args: &TaskArgs, rt: &Runtime) -> u8 {
    let path = &rt.config.tasks.path;
    match &args.command {
        TaskCommand::List => list(path),
        TaskCommand::Show { name } => match task_lookup::find(path, name) {
            Ok(t) => {
                print!("{}", help(&t));
                exit::SUCCESS
            }
            Err(e) => {
                eprintln!("drover: {e}");
                exit::USAGE
            }
        },
        TaskCommand::Run(a) => run(a, rt).await,
    }
}

/// Every public task with its description, then every broken one with its file
/// and reason (exit 1 when there is one; the others are listed all the same).
fn list(path: &[std::path::PathBuf]) -> u8 {
    let found = task_lookup::discover(path);
    let public: Vec<&Task> = found.tasks.iter().filter(|t| !t.private).collect();
    let width = public
        .iter()
        .map(|t| t.name.len())
        .chain(found.broken.iter().map(|(n, _)| n.len()))
        .max()
        .unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for t in &public {
        let _ = writeln!(
            out,
            "{:width$}  {}",
            t.name,
            t.description.as_deref().unwrap_or("")
        );
    }
    for (name, e) in &found.broken {
        let _ = writeln!(out, "{name:width$}  BROKEN: {e}");
    }
    let _ = out.flush();
    if found.broken.is_empty() {
        exit::SUCCESS
    } else {
        eprintln!(
            "drover: {} task(s) could not be loaded (listed as BROKEN)",
            found.broken.len()
        );
        exit::FAILED
    }
}

/// Help text generated from the metadata.
pub fn help(t: &Task) -> String {
    let mut s = format!("{}\n", t.name);
    if let Some(d) = &t.description {
        s.push_str(&format!("\n{d}\n"));
    }
    s.push_str(&format!(
        "\nUSAGE:\n    drover task run {} -t TARGETS{}{}\n",
        t.name,
        t.params
            .iter()
            .flatten()
            .map(|p| if p.required() {
                format!(" {}=VALUE", p.name)
            } else {
                format!(" [{}=VALUE]", p.name)
            })
            .collect::<String>(),
        if t.supports_noop { " [--noop]" } else { "" }
    ));
    match &t.params {
        None => s.push_str("\nPARAMETERS: any (the metadata declares none)\n"),
        Some(ps) if ps.is_empty() => s.push_str("\nPARAMETERS: none\n"),
        Some(ps) => {
            s.push_str("\nPARAMETERS:\n");
            for p in ps {
                s.push_str(&format!("    {}  {}", p.name, p.ptype));
                if p.required() {
                    s.push_str("  (required)");
                }
                if let Some(d) = &p.default {
                    s.push_str(&format!("  [default: {d}]"));
                }
                if p.sensitive {
                    s.push_str("  (sensitive)");
                }
                s.push('\n');
                if let Some(d) = &p.description {
                    s.push_str(&format!("        {d}\n"));
                }
            }
        }
    }
    let chosen = task_impl::choose(t);
    let input = match &chosen {
        Ok(c) => c
            .shell
            .or(c.with_agent)
            .map(|i| format!("{:?}", i.input_method))
            .unwrap_or_default(),
        Err(_) => "-".into(),
    };
    s.push_str(&format!(
        "\nnoop: {}; input: {input}; journal: {}{}\nfile: {}\n",
        if t.supports_noop {
            "supported"
        } else {
            "not supported"
        },
        t.journal_type.as_str(),
        if t.private { "; private" } else { "" },
        t.metadata.display()
    ));
    s.push_str(&format!("implementations: {}\n", task_impl::listed(t)));
    match chosen {
        Ok(c) => {
            let file = |i: &task::Implementation| i.script.display().to_string();
            if let Some(a) = c.with_agent {
                s.push_str(&format!("runs with puppet-agent: {}\n", file(a)));
            }
            match c.shell {
                Some(i) => s.push_str(&format!("runs: {}\n", file(i))),
                None => s.push_str("runs: nothing on nodes without puppet-agent\n"),
            }
        }
        Err(e) => s.push_str(&format!("runs: nothing: {e}\n")),
    }
    s
}

fn options(a: &TaskRunArgs, rt: &Runtime) -> Result<ExecutionOptions, FlagError> {
    flag_options(&rt.config, &a.exec)
}

/// What to run: from the flags, or from the stored run `--rerun` names.
async fn wanted(a: &TaskRunArgs, rt: &Runtime) -> Result<TaskWanted, u8> {
    if let Some(spec) = &a.rerun {
        let rerun = super::rerun::load(rt, spec, super::rerun::Wanted::Task).await?;
        let targets = rerun.targets();
        let Repeat::Task { name, params, noop } = rerun.repeat else {
            return Err(exit::USAGE);
        };
        return Ok(TaskWanted {
            name,
            pairs: params,
            noop: noop || a.noop,
            targets,
            rerun: Some(rerun.of),
        });
    }
    let mut pairs = Vec::new();
    for kv in &a.params {
        let Some((k, v)) = kv.split_once('=') else {
            eprintln!("drover: parameter {kv:?} is not key=value");
            return Err(exit::USAGE);
        };
        pairs.push((k.to_string(), v.to_string()));
    }
    Ok(TaskWanted {
        name: a.name.clone().unwrap_or_default(),
        pairs,
        noop: a.noop,
        targets: a.targets.clone().unwrap_or_default(),
        rerun: None,
    })
}

async fn run(a: &TaskRunArgs, rt: &Runtime) -> u8 {
    let wanted = match wanted(a, rt).await {
        Ok(w) => w,
        Err(code) => return code,
    };
    let options = match options(a, rt) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::USAGE;
        }
    };
    let submission = match task_submit::prepare(&rt.config.tasks.path, wanted, options) {
        Ok(s) => s
            .as_user(rt.context.clone())
            .key(a.exec.idempotency_key.clone())
            .stream(STREAM_BUFFER),
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::USAGE;
        }
    };
    let engine = &rt.engine;
    let answer = engine.submit(submission).await;
    let (id, stream) = match once::started(a.exec.idempotency_key.as_deref(), answer) {
        Ok(Submitted {
            id,
            stream: Some(stream),
            ..
        }) => (id, stream),
        Ok(_) => return exit::FAILED,
        Err(code) => return code,
    };
    let (code, result) = follow(rt, id, stream, a.exec.output, false).await;
    if a.exec.output == OutputFormat::Json
        && let Some(result) = result
    {
        let mut out = std::io::stdout().lock();
        for n in &result.nodes {
            let line = serde_json::json!({
                "event": "task_result",
                "execution": result.id,
                "node": n.node,
                "status": n.status.as_str(),
                "value": n.value,
                "ok": n.status == NodeStatus::Success,
            });
            let _ = writeln!(out, "{line}");
        }
    }
    code
}
