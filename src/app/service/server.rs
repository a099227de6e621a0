//! `drover serve`: in the foreground (systemd), in the background (started by
//! hand or by a console), and `--stop`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::console_host::{ConsoleHost, HostSettings};
use super::peer::{Peer, user_name};
use super::protocol::{Inputs, StopAnswer, StopRequest};
use super::routes::{Service, router};
use crate::app::attach::client::{Client, ClientError};
use crate::app::exit;
use crate::app::setup;
use crate::app::tui::keymap::Keymap;
use crate::app::tui::state::UiOptions;
use crate::cli::{GlobalArgs, ServeArgs};
use crate::config::Config;

/// How long a background start waits for the new service to answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The socket: `--socket`/`$DROVER_SOCKET`, else `[engine] socket`, else the default.
pub fn socket_path(global: &GlobalArgs, config: &Config) -> PathBuf {
    global
        .socket
        .clone()
        .or_else(|| config.engine.socket.clone())
        .unwrap_or_else(super::socket::default_path)
}

/// What chooses the engine's inputs, as paths that compare equal when they name
/// the same file.
pub fn inputs(global: &GlobalArgs, state_dir: &Path) -> Inputs {
    let canonical = |p: &Path| {
        std::fs::canonicalize(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .display()
            .to_string()
    };
    Inputs {
        state_dir: canonical(state_dir),
        config: global.config.as_deref().map(canonical),
        inventories: global.inventory.iter().map(|p| canonical(p)).collect(),
        ssh_config: global.ssh_config.as_deref().map(canonical),
        grammar: global.grammar.clone(),
    }
}

pub async fn serve(
    args: &ServeArgs,
    global: &GlobalArgs,
    config: Config,
    state_dir: PathBuf,
) -> u8 {
    let path = socket_path(global, &config);
    if args.stop {
        return stop(&path, args.now).await;
    }
    if args.foreground {
        return foreground(global, config, state_dir, &path).await;
    }
    match start_background(global, &state_dir, &path).await {
        Ok(pid) => {
            eprintln!("drover: service started (pid {pid}) on {}", path.display());
            exit::SUCCESS
        }
        Err(e) => {
            eprintln!("drover: {e}");
            exit::FAILED
        }
    }
}

/// `drover serve --stop [--now]`: asks, then waits for the service to be gone.
async fn stop(path: &Path, now: bool) -> u8 {
    let client = Client::new(path);
    let answer: Result<StopAnswer, ClientError> = client
        .json(hyper::Method::POST, "/v1/stop", Some(&StopRequest { now }))
        .await;
    match answer {
        Ok(a) => {
            let verb = if a.cancelled {
                "cancelled"
            } else {
                "waited for"
            };
            eprintln!(
                "drover: service on {} stopped ({verb} {} run{})",
                path.display(),
                a.runs.len(),
                if a.runs.len() == 1 { "" } else { "s" }
            );
            exit::SUCCESS
        }
        Err(e @ ClientError::NotRunning { .. }) => {
            eprintln!("drover: {e}");
            exit::FAILED
        }
        Err(e) => {
            eprintln!("drover: {e}");
            exit::FAILED
        }
    }
}

/// Starts `drover serve --foreground` with this drover's inputs, in a process
/// group of its own (a closing terminal's SIGHUP does not reach it), and waits
/// until it answers. Its stderr goes to `serve.err` in the state dir, which is
/// quoted when it does not come up.
pub async fn start_background(
    global: &GlobalArgs,
    state_dir: &Path,
    path: &Path,
) -> Result<u32, String> {
    use std::os::unix::process::CommandExt;
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find this drover's binary: {e}"))?;
    let err_path = state_dir.join("serve.err");
    let err_file = std::fs::File::create(&err_path)
        .map_err(|e| format!("cannot create {}: {e}", err_path.display()))?;
    let mut command = std::process::Command::new(exe);
    command
        .arg("serve")
        .arg("--foreground")
        .arg("--state-dir")
        .arg(state_dir)
        .arg("--socket")
        .arg(path);
    if let Some(c) = &global.config {
        command.arg("--config").arg(c);
    }
    for i in &global.inventory {
        command.arg("-i").arg(i);
    }
    if let Some(f) = &global.ssh_config {
        command.arg("-F").arg(f);
    }
    if let Some(g) = &global.grammar {
        command.arg("--grammar").arg(g);
    }
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(err_file)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start drover serve: {e}"))?;
    let pid = child.id();
    let client = Client::new(path);
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        if client.hello().await.is_ok() {
            return Ok(pid);
        }
        if let Ok(Some(status)) = child.try_wait() {
            let said = std::fs::read_to_string(&err_path).unwrap_or_default();
            return Err(format!(
                "drover serve exited ({status}) before it answered: {}",
                said.trim()
            ));
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(format!(
                "drover serve (pid {pid}) did not answer on {} within {} s; see {}",
                path.display(),
                START_TIMEOUT.as_secs(),
                err_path.display()
            ));
        }
        // The child is another process starting up: nothing to await but its socket.
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// The service itself, until `--stop` or SIGTERM/SIGINT (which cancel the runs,
/// as systemd's stop expects). SIGHUP is ignored: a service has no terminal.
async fn foreground(global: &GlobalArgs, config: Config, state_dir: PathBuf, path: &Path) -> u8 {
    let mode = match config.engine.mode() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("drover: config: [engine] {e}");
            return exit::USAGE;
        }
    };
    let (listener, bound) = match super::socket::bind(path, mode) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::USAGE;
        }
    };
    let rt = match setup::start(global, config, state_dir.clone()) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("drover: {e:#}");
            return exit::USAGE;
        }
    };
    let _watch = setup::watch_inventory(&rt)
        .map_err(|e| tracing::warn!("inventory files are not watched: {e:#}"))
        .ok();
    let keymap_file = rt
        .config
        .ui
        .keymap
        .clone()
        .or_else(|| setup::keymap_path(global));
    let keymap = match Keymap::load(keymap_file.as_deref()) {
        Ok(k) => Arc::new(k),
        Err(e) => {
            eprintln!("drover: {e}");
            setup::finish(rt).await;
            return exit::USAGE;
        }
    };
    let host = ConsoleHost::new(HostSettings {
        engine: rt.engine.clone(),
        keymap,
        ui: UiOptions {
            no_color: rt.config.ui.theme == "no-color",
            confirm_above: rt.config.ui.confirm_above_nodes,
            danger: rt.config.ui.danger_patterns.clone(),
            ..UiOptions::default()
        },
        run_options: setup::run_defaults(&rt.config),
        task_path: rt.config.tasks.path.clone(),
    });
    let uid = nix::unistd::getuid().as_raw();
    let service = Arc::new(Service {
        engine: rt.engine.clone(),
        owner_uid: uid,
        owner: user_name(uid),
        inputs: inputs(global, &state_dir),
        host: Arc::clone(&host),
        run_options: setup::run_defaults(&rt.config),
        stop: tokio_util::sync::CancellationToken::new(),
    });
    let stop = service.stop.clone();
    let engine = rt.engine.clone();
    let signalled = async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            return stop.cancelled().await;
        };
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => tracing::info!("SIGHUP ignored: the service has no terminal"),
            }
        }
        tracing::info!("stop signal: cancelling the runs");
        for run in engine.executions() {
            let _ = engine.cancel(&run.id);
        }
        // Ends the event streams, which would otherwise hold the shutdown open.
        stop.cancel();
    };
    eprintln!(
        "drover: serving on {} (pid {})",
        path.display(),
        std::process::id()
    );
    tracing::info!(socket = %path.display(), "service listening");
    let app = router(Arc::clone(&service)).into_make_service_with_connect_info::<Peer>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(signalled)
        .await;
    host.let_all_go("the drover service stopped");
    drop(bound);
    setup::finish(rt).await;
    match served {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            eprintln!("drover: service: {e}");
            exit::FAILED
        }
    }
}
