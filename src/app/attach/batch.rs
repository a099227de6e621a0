//! `drover --batch --attach`: batch subcommands served by the running service
//! instead of an engine of their own. `run` submits through `POST /v1/runs`
//! and renders the run's stream with the renderers and exit codes of the
//! embedded `run`; the run belongs to the service and outlives this process
//! (a stop signal cancels it through the API, as the embedded run cancels its
//! own).

use std::path::Path;

use hyper::{Method, StatusCode};

use super::client::{Client, ClientError, EventStream};
use super::collected::Collected;
use crate::app::batch::run::{FlagError, exit_code, renderer};
use crate::app::exit;
use crate::app::stop_signals::{RunStop, Stop};
use crate::app::wire::run_messages::SubmittedMessage;
use crate::app::wire::run_request::{RunOptions, RunRequest};
use crate::app::wire::run_view::RunView;
use crate::cli::{BackoffArg, Command, GlobalArgs, RunArgs};
use crate::config::Config;
use crate::engine::common::duration::parse_duration;
use crate::engine::{
    EngineConfig, EngineEvent, ExecutionId, ExecutionResult, NodeResult, StreamItem,
};

/// Runs `command` through the service.
pub async fn dispatch(
    command: &Command,
    global: &GlobalArgs,
    config: &Config,
    state_dir: &Path,
) -> u8 {
    match command {
        Command::Run(args) => run(args, global, config, state_dir).await,
        Command::Events(_) => {
            eprintln!(
                "drover: not available with --attach yet: `drover events` (without --attach it reads the event log the service writes to, `--follow` included; tools can read GET /v1/events)"
            );
            exit::USAGE
        }
        other => {
            let name = other_name(other);
            eprintln!(
                "drover: not available with --attach yet: `drover {name}` (run it without --attach; only `run` goes through the service so far)"
            );
            exit::USAGE
        }
    }
}

fn other_name(command: &Command) -> String {
    let debug = format!("{command:?}");
    let name = debug.split(['(', ' ', '{']).next().unwrap_or("?");
    // `SshConfig` → `ssh-config`.
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The request of `drover run`'s flags: only what the flags set; the rest is
/// the service's default.
pub fn request(args: &RunArgs) -> Result<RunRequest, FlagError> {
    let unsupported = |flag: &str| FlagError {
        flag: flag.into(),
        reason: "not available with --attach yet".into(),
    };
    if args.rerun.is_some() {
        return Err(unsupported("--rerun"));
    }
    if !args.secret_env.is_empty() {
        return Err(unsupported("--secret-env"));
    }
    if args.exec.login_user.is_some() {
        return Err(unsupported("--login-user"));
    }
    let flags = &args.exec;
    let mut options = RunOptions {
        fanout: flags.fanout,
        retries: flags.retries,
        sequential: flags.sequential,
        debug: flags.debug,
        priority: flags.priority,
        ..RunOptions::default()
    };
    if let Some(t) = &flags.timeout {
        let d = parse_duration(t).map_err(|e| FlagError {
            flag: "--timeout".into(),
            reason: e.to_string(),
        })?;
        options.timeout_s = Some(d.as_secs_f64());
    }
    options.backoff = args.backoff.map(|b| match b {
        BackoffArg::Linear => "linear".to_string(),
        BackoffArg::Exponential => "exponential".to_string(),
    });
    for kv in &args.env {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(FlagError {
                flag: "--env".into(),
                reason: format!("{kv:?} is not K=V"),
            });
        };
        options.env.insert(k.to_string(), v.to_string());
    }
    Ok(RunRequest {
        targets: args.targets.clone().unwrap_or_default(),
        command: args.command.join(" "),
        options,
        idempotency_key: flags.idempotency_key.clone(),
        stream: true,
    })
}

/// The exit code of a refusal, as the embedded run gives it for the engine's.
fn refused_code(e: &ClientError) -> u8 {
    match e {
        ClientError::Refused { status, .. } => match *status {
            StatusCode::FORBIDDEN => exit::DENIED,
            StatusCode::NOT_FOUND => exit::NO_MATCH,
            StatusCode::BAD_REQUEST | StatusCode::CONFLICT => exit::USAGE,
            StatusCode::SERVICE_UNAVAILABLE => exit::QUEUE_FULL,
            _ => exit::FAILED,
        },
        ClientError::Duplicate(d) => match d.status.as_deref() {
            Some("success") => exit::SUCCESS,
            Some("cancelled") => exit::CANCELLED,
            Some("queued" | "running") | None => exit::DUPLICATE,
            Some(_) => exit::FAILED,
        },
        _ => exit::FAILED,
    }
}

fn said(e: &ClientError) -> String {
    match e {
        ClientError::Refused { message, .. } => message.clone(),
        ClientError::Duplicate(d) => d.error.clone(),
        other => other.to_string(),
    }
}

async fn run(args: &RunArgs, global: &GlobalArgs, config: &Config, state_dir: &Path) -> u8 {
    let body = match request(args) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::USAGE;
        }
    };
    let (client, _hello) = match super::reach(global, config, state_dir, false).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("drover: --attach: {e} (start it with `drover serve`)");
            return exit::FAILED;
        }
    };
    let mut stream = match client.events(Method::POST, "/v1/runs", Some(&body)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("drover: {}", said(&e));
            return refused_code(&e);
        }
    };
    let id = match stream.next().await {
        Ok(Some(m)) if m.event == "submitted" => {
            match serde_json::from_str::<SubmittedMessage>(&m.data) {
                Ok(s) => ExecutionId(s.id),
                Err(e) => {
                    eprintln!("drover: the service's answer is unreadable: {e}");
                    return exit::FAILED;
                }
            }
        }
        Ok(other) => {
            eprintln!("drover: the service did not start the run: {other:?}");
            return exit::FAILED;
        }
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::FAILED;
        }
    };
    follow(&client, config, id, stream, args).await
}

/// [`crate::app::batch::run::follow`] over the API.
async fn follow(
    client: &Client,
    config: &Config,
    id: ExecutionId,
    mut stream: EventStream,
    args: &RunArgs,
) -> u8 {
    let mut renderer = renderer(args.exec.output);
    let mut collected = Collected::new(EngineConfig::default().ring_capacity);
    let mut output_open = true;
    let mut stop = RunStop::listen(config);
    let grace = stop.grace();
    let mut finished = false;
    loop {
        let message = tokio::select! {
            m = stream.next() => m,
            s = stop.next() => match s {
                Stop::Cancel(which) => {
                    eprintln!(
                        "drover: cancelling {id} ({}; again to leave at once; leaving in {} s at most)",
                        which.name(),
                        grace.as_secs()
                    );
                    let uri = format!("/v1/runs/{id}/cancel");
                    if let Err(e) = client.json::<serde_json::Value>(Method::POST, &uri, None::<&()>).await {
                        eprintln!("drover: cancelling {id}: {e}");
                    }
                    continue;
                }
                Stop::Second(which) => {
                    eprintln!("drover: second {}: leaving now; {id} goes on ending in the service", which.name());
                    return which.exit_code();
                }
                Stop::GraceOver(which) => {
                    eprintln!(
                        "drover: {id} did not end within {} s of {}: leaving; the service still holds it",
                        grace.as_secs(),
                        which.name()
                    );
                    return which.exit_code();
                }
            },
        };
        let message = match message {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(e) => {
                eprintln!("drover: {id}: {e}");
                return exit::FAILED;
            }
        };
        let item: StreamItem = match serde_json::from_str(&message.data) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(event = %message.event, "unreadable stream item: {e}");
                continue;
            }
        };
        let last = matches!(
            item,
            StreamItem::Event(EngineEvent::ExecutionFinished { .. })
        );
        collected.item(&item);
        if output_open && let Err(e) = renderer.item(&item) {
            output_open = false;
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("drover: writing output: {e}");
            }
        }
        if last {
            finished = true;
            break;
        }
    }
    if !finished {
        eprintln!(
            "drover: the service ended {id}'s stream before the run ended (did the service stop?)"
        );
        return exit::FAILED;
    }
    let view: RunView = match client
        .json(Method::GET, &format!("/v1/runs/{id}"), None::<&()>)
        .await
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("drover: {id}: {e}");
            return exit::FAILED;
        }
    };
    let Some(result) = result_of(&view) else {
        eprintln!("drover: the service holds no result for {id}");
        return exit::FAILED;
    };
    if output_open
        && let Err(e) = renderer.finish(&result, &collected)
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("drover: writing output: {e}");
    }
    exit_code(&result, stop.first(), args.max_exit)
}

fn result_of(view: &RunView) -> Option<ExecutionResult> {
    let r = view.result.as_ref()?;
    let duration = std::time::Duration::from_millis(r.duration_ms);
    Some(ExecutionResult {
        id: ExecutionId(view.id.clone()),
        status: r.status,
        started_at: view.started_at,
        finished_at: view.started_at + r.duration_ms as i64,
        duration,
        nodes: r
            .nodes
            .iter()
            .map(|n| {
                let bytes = view.nodes.iter().find(|v| v.node == n.node);
                NodeResult {
                    node: n.node.clone(),
                    status: n.status,
                    exit_code: n.exit_code,
                    signal: n.signal,
                    duration: std::time::Duration::from_millis(n.duration_ms),
                    attempts: n.attempts,
                    error: n.error.clone(),
                    stdout: n.stdout.clone(),
                    stderr: n.stderr.clone(),
                    stdout_bytes: bytes.map_or(0, |b| b.stdout_bytes),
                    stderr_bytes: bytes.map_or(0, |b| b.stderr_bytes),
                    output_complete: n.output_complete,
                    value: None,
                }
            })
            .collect(),
    })
}
