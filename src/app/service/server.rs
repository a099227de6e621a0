//! The service's process: the socket bound, the engine started, the routes
//! served until a stop; ended when idle if a console started it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::console_host::{ConsoleHost, HostSettings};
use super::peer::{Peer, user_name};
use super::routes::{Service, router};
use crate::app::exit;
use crate::app::setup;
use crate::app::wire::place::{inputs, socket_path};
use crate::cli::{GlobalArgs, ServeArgs};
use crate::config::Config;

/// `drover serve --foreground`: the service itself (the client side of
/// `serve`, starting one in the background and `--stop`, is `attach::start`).
pub async fn serve(
    args: &ServeArgs,
    global: &GlobalArgs,
    config: Config,
    state_dir: PathBuf,
) -> u8 {
    let path = socket_path(global, &config);
    foreground(args, global, config, state_dir, &path).await
}

/// A service a console started for itself ends once no console session and no
/// run is left, as tmux's server does: looked at each time a session or a run ends.
fn end_when_idle(service: &Arc<Service>) {
    let service = Arc::clone(service);
    let mut events = service.engine.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = service.host.ended.notified() => {}
                event = events.recv() => match event {
                    Ok(crate::engine::EngineEvent::ExecutionFinished { .. })
                    | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = service.stop.cancelled() => return,
            }
            let running = service
                .engine
                .executions()
                .iter()
                .any(|r| !r.status.is_terminal());
            if service.host.is_empty() && !running {
                tracing::info!("no console session and no run left: the service ends");
                service.stop.cancel();
                return;
            }
        }
    });
}

/// The service itself, until `--stop` or SIGTERM/SIGINT (which cancel the runs,
/// as systemd's stop expects). SIGHUP is ignored: a service has no terminal.
async fn foreground(
    args: &ServeArgs,
    global: &GlobalArgs,
    config: Config,
    state_dir: PathBuf,
    path: &Path,
) -> u8 {
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
    let (interaction, questions) = crate::app::tui::interaction::ConsoleInteraction::new();
    let rt = match setup::start_service(global, config, state_dir.clone(), Arc::new(interaction)) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("drover: {e:#}");
            return exit::USAGE;
        }
    };
    let _watch = setup::watch_inventory(&rt)
        .map_err(|e| tracing::warn!("inventory files are not watched: {e:#}"))
        .ok();
    let (keymap, ui) = match crate::app::tui::console_settings(global, &rt.config) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("drover: {e}");
            setup::finish(rt).await;
            return exit::USAGE;
        }
    };
    let uid = nix::unistd::getuid().as_raw();
    let host = ConsoleHost::new(HostSettings {
        engine: rt.engine.clone(),
        owner: user_name(uid),
        keymap,
        ui,
        run_options: setup::run_defaults(&rt.config),
        task_path: rt.config.tasks.path.clone(),
    });
    host.route_questions(questions);
    let service = Arc::new(Service {
        engine: rt.engine.clone(),
        owner_uid: uid,
        owner: user_name(uid),
        inputs: inputs(global, &state_dir),
        host: Arc::clone(&host),
        run_options: setup::run_defaults(&rt.config),
        stop: tokio_util::sync::CancellationToken::new(),
    });
    if args.exit_when_idle {
        end_when_idle(&service);
    }
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
    match super::tcp::bind(&rt.config.engine).await {
        Ok(None) => {}
        Ok(Some((listener, tokens))) => {
            let addr = listener.local_addr_string();
            let app = router(Arc::clone(&service))
                .layer(axum::middleware::from_fn_with_state(
                    tokens,
                    super::tcp::bearer,
                ))
                .into_make_service_with_connect_info::<Peer>();
            let stop = service.stop.clone();
            tokio::spawn(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await;
                if let Err(e) = served {
                    tracing::error!("service TCP listener: {e}");
                }
            });
            eprintln!("drover: serving on {addr} (TLS, bearer tokens)");
        }
        Err(e) => {
            eprintln!("drover: {e}");
            drop(bound);
            setup::finish(rt).await;
            return exit::USAGE;
        }
    }
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
    service.stop.cancel();
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
