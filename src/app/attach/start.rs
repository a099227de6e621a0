//! The client side of `drover serve`: starting a service in the background (by
//! hand, or by a console that finds none) and `--stop`.

use std::path::Path;
use std::time::Duration;

use super::client::{Client, ClientError};
use crate::app::exit;
use crate::app::wire::place::socket_path;
use crate::app::wire::protocol::{StopAnswer, StopRequest};
use crate::cli::{GlobalArgs, ServeArgs};
use crate::config::Config;

/// How long a background start waits for the new service to answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// `drover serve` without `--foreground`: start one, or `--stop` it.
pub async fn serve(args: &ServeArgs, global: &GlobalArgs, config: &Config, state_dir: &Path) -> u8 {
    let path = socket_path(global, config);
    if args.stop {
        return stop(&path, args.now).await;
    }
    match start_background(global, state_dir, &path, false).await {
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
    exit_when_idle: bool,
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
    if exit_when_idle {
        command.arg("--exit-when-idle");
    }
    command.args(super::input_flags(global));
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
