//! `drover run`: builds the request from flags and config, streams the execution
//! through a renderer, handles Ctrl-C, and maps the outcome to an exit code.

use super::once;
use super::render::{GroupedRenderer, JsonRenderer, LinesRenderer, Renderer, TextPolicy};
use crate::app::exit;
use crate::app::rerun::Repeat;
use crate::app::setup::{Runtime, run_defaults};
use crate::app::stop_signals::{self, RunStop, Stop, StopSignal};
use crate::cli::{BackoffArg, ExecFlags, OutputFormat, RunArgs};
use crate::config::Config;
use crate::engine::common::duration::parse_duration;
use crate::engine::{
    Backoff, EngineEvent, ExecutionId, ExecutionOptions, ExecutionRequest, ExecutionResult,
    ExecutionStatus, Mode, RunLabel, StreamItem, Submission, Submitted,
};
use std::io::{self, BufWriter, IsTerminal};

/// A usage error: the flag and what is wrong with it (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{flag}: {reason}")]
pub struct FlagError {
    pub flag: String,
    pub reason: String,
}

pub fn request_from_args(args: &RunArgs, rt: &Runtime) -> Result<ExecutionRequest, FlagError> {
    let mut options = flag_options(&rt.config, &args.exec)?;
    for kv in &args.env {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(FlagError {
                flag: "--env".into(),
                reason: format!("{kv:?} is not K=V"),
            });
        };
        options.env.insert(k.to_string(), v.to_string());
    }
    for kv in &args.secret_env {
        let (k, v) = match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => match std::env::var(kv) {
                Ok(v) => (kv.clone(), v),
                Err(_) => {
                    return Err(FlagError {
                        flag: "--secret-env".into(),
                        reason: format!("{kv:?} has no =VALUE and is not set in the environment"),
                    });
                }
            },
        };
        options.secret_env.insert(k.clone());
        options.env.insert(k, v);
    }
    match args.backoff {
        Some(BackoffArg::Linear) => options.backoff = Backoff::Linear,
        Some(BackoffArg::Exponential) => options.backoff = Backoff::Exponential,
        None => {}
    }
    Ok(ExecutionRequest {
        command: args.command.join(" "),
        targets: args.targets.clone().unwrap_or_default(),
        options,
    })
}

/// The config's run defaults ([`run_defaults`]) with the flags `run` and
/// `task run` share laid over them.
pub fn flag_options(config: &Config, flags: &ExecFlags) -> Result<ExecutionOptions, FlagError> {
    let mut options = run_defaults(config);
    if let Some(t) = &flags.timeout {
        options.timeout = Some(parse_duration(t).map_err(|e| FlagError {
            flag: "--timeout".into(),
            reason: e.to_string(),
        })?);
    }
    if let Some(fanout) = flags.fanout {
        options.fanout = fanout;
    }
    if let Some(retries) = flags.retries {
        options.retries = retries;
    }
    if flags.sequential {
        options.mode = Mode::Sequential;
    }
    options.debug = flags.debug;
    options.priority = flags.priority.unwrap_or_default();
    Ok(options)
}

pub use crate::app::exit::exit_code_for;

/// Items buffered between the engine and the printer. Small on purpose: when the
/// terminal or pipe is slow, nodes wait (backpressure) instead of drover's memory
/// growing by up to 16 KiB per buffered chunk.
const STREAM_BUFFER: usize = 64;

/// Bytes collected before a write to the terminal or pipe.
const OUT_BUFFER: usize = 64 * 1024;

pub async fn run(args: &RunArgs, rt: &Runtime) -> u8 {
    let mut request = match request_from_args(args, rt) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::USAGE;
        }
    };
    let mut label = RunLabel::default();
    if let Some(spec) = &args.rerun {
        let rerun = match super::rerun::load(rt, spec, super::rerun::Wanted::Command).await {
            Ok(r) => r,
            Err(code) => return code,
        };
        if let Repeat::Command(command) = &rerun.repeat {
            request.command = command.clone();
        }
        request.targets = rerun.targets();
        label.rerun = Some(rerun.of);
    }
    let engine = &rt.engine;
    // Parts that matched nothing are said before the run; an empty
    // selection is refused by the engine below.
    if let Ok(selection) = engine.inventory().select(&request.targets) {
        for warning in &selection.warnings {
            eprintln!("drover: warning: {warning}");
        }
    }
    let submission = Submission::request(request)
        .label(label)
        .as_user(rt.context.clone())
        .key(args.exec.idempotency_key.clone())
        .stream(STREAM_BUFFER);
    let answer = engine.submit(submission).await;
    let (id, stream) = match once::started(args.exec.idempotency_key.as_deref(), answer) {
        Ok(Submitted {
            id,
            stream: Some(stream),
            ..
        }) => (id, stream),
        Ok(_) => return exit::FAILED,
        Err(code) => return code,
    };
    follow(rt, id, stream, args.exec.output, args.max_exit)
        .await
        .0
}

/// Prints an execution's stream with the chosen renderer until it ends, cancels it
/// on Ctrl-C, SIGTERM or SIGHUP, and returns the exit code and the result. After a
/// stop signal it waits [`RunStop::grace`] at most; a second signal leaves at once.
pub async fn follow(
    rt: &Runtime,
    id: ExecutionId,
    mut stream: tokio::sync::mpsc::Receiver<StreamItem>,
    output: OutputFormat,
    max_exit: bool,
) -> (u8, Option<std::sync::Arc<ExecutionResult>>) {
    let engine = &rt.engine;
    let mut renderer = renderer(output);
    let mut output_open = true;
    let mut stop = RunStop::listen(&rt.config);
    let grace = stop.grace();
    loop {
        let item = tokio::select! {
            item = stream.recv() => item,
            s = stop.next() => match s {
                Stop::Cancel(which) => {
                    eprintln!(
                        "drover: cancelling {id} ({}; again to leave at once; leaving in {} s at most)",
                        which.name(),
                        grace.as_secs()
                    );
                    let _ = engine.cancel(&id);
                    continue;
                }
                Stop::Second(which) => {
                    eprintln!("drover: second {}: leaving now; the next start records {id} as interrupted", which.name());
                    return (which.exit_code(), None);
                }
                // Said below, where the wait for the result ends at once too.
                Stop::GraceOver(_) => break,
            },
        };
        let Some(item) = item else { break };
        let last = matches!(
            item,
            StreamItem::Event(EngineEvent::ExecutionFinished { .. })
        );
        // A closed pipe (`| head`) stops our printing, never the run or its record.
        if output_open && let Err(e) = renderer.item(&item) {
            output_open = false;
            if e.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("drover: writing output: {e}");
            }
        }
        if last {
            break;
        }
    }
    let ended = tokio::select! {
        r = engine.wait(&id) => Ok(r),
        which = stop.grace_over() => Err(which),
    };
    let result = match ended {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            eprintln!("drover: {e}");
            return (exit::FAILED, None);
        }
        Err(which) => {
            eprintln!(
                "drover: {id} did not end within {} s of {}: leaving; the next start records it as interrupted",
                grace.as_secs(),
                which.name()
            );
            stop_signals::abandon();
            return (which.exit_code(), None);
        }
    };
    if output_open
        && let Err(e) = renderer.finish(&result, engine)
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        eprintln!("drover: writing output: {e}");
    }
    let flushed = tokio::select! {
        r = engine.flush() => r.map_err(|e| e.to_string()),
        _ = stop.grace_over() => Err("stopped waiting after the signal's grace".into()),
    };
    if let Err(e) = flushed {
        // The last line, so a script that reads the tail sees history is incomplete.
        eprintln!(
            "drover: history incomplete: {e}; {id} ended {} but history may show it otherwise until the next start",
            result.status.as_str()
        );
    }
    let code = exit_code(&result, stop.first(), max_exit);
    (code, Some(result))
}

/// The exit code of a run that ended: 130 (or the signal's code) when
/// cancelled, the highest remote exit code with `--max-exit`, else 0 for
/// success and 1 for anything else.
pub fn exit_code(result: &ExecutionResult, stopped_by: Option<StopSignal>, max_exit: bool) -> u8 {
    match result.status {
        ExecutionStatus::Cancelled => stopped_by.map_or(exit::CANCELLED, StopSignal::exit_code),
        _ if max_exit => result.max_exit_code().clamp(0, 255) as u8,
        ExecutionStatus::Success => exit::SUCCESS,
        _ => exit::FAILED,
    }
}

/// The renderer of `-o FORMAT`, writing to stdout and stderr.
pub fn renderer(output: OutputFormat) -> Box<dyn Renderer> {
    let policy = || TextPolicy {
        stdout_tty: io::stdout().is_terminal(),
        stderr_tty: io::stderr().is_terminal(),
    };
    match output {
        // Buffered: one write per chunk of output, not one per line (renderers flush
        // after every item, so output still appears as it arrives).
        OutputFormat::Lines => Box::new(LinesRenderer::new(
            BufWriter::with_capacity(OUT_BUFFER, io::stdout().lock()),
            BufWriter::with_capacity(OUT_BUFFER, io::stderr()),
            policy(),
        )),
        OutputFormat::Grouped => Box::new(GroupedRenderer {
            out: BufWriter::with_capacity(OUT_BUFFER, io::stdout().lock()),
            err: io::stderr(),
            policy: policy(),
        }),
        OutputFormat::Json => Box::new(JsonRenderer::new(BufWriter::with_capacity(
            OUT_BUFFER,
            io::stdout().lock(),
        ))),
    }
}
