//! One running `postgres` (the postmaster and the backends it forks): started
//! unprivileged in its own process group, ready when its log says so, ended
//! with the whole group.
//!
//! Events, not sleeps: a thread reads the server's stderr (which every server
//! process inherits) into `postgres.log` and reports the line "database
//! system is ready to accept connections" and the end of the stream — which
//! comes only once every server process has exited.
//!
//! A test binary that is killed outright runs no destructor, so the
//! postmaster is also started with a parent-death signal (SIGQUIT: immediate
//! shutdown, the postmaster ends its backends and frees its shared memory).
//! Linux sends it when the *thread* that forked the child ends, and the test
//! harness ends a thread per test, so every postmaster is forked by one
//! thread of this module that lives as long as the process.

use super::machine::Account;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// Longest a starting server may take to say it is ready (a bound, not a wait).
const READY_LIMIT: Duration = Duration::from_secs(60);
/// Longest a stopping server may take before its process group is killed.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(30);
const READY_LINE: &[u8] = b"database system is ready to accept connections";

/// Where and how to run one server.
pub struct Launch<'a> {
    pub postgres: &'a Path,
    pub data: &'a Path,
    pub socket_dir: &'a Path,
    pub port: u16,
    pub account: Option<Account>,
    pub log: &'a Path,
}

/// Why a server did not come up.
#[derive(Debug)]
pub enum LaunchError {
    /// Someone else bound the port first: try another one.
    PortTaken(String),
    Failed(String),
}

enum Event {
    Ready,
    /// stderr closed: every process of the server has exited.
    Closed,
}

pub struct Postmaster {
    child: Child,
    events: Receiver<Event>,
    log: PathBuf,
    ended: bool,
}

impl Postmaster {
    /// Starts the server and returns once it accepts connections.
    pub fn launch(l: &Launch) -> Result<Postmaster, LaunchError> {
        let mut cmd = Command::new(l.postgres);
        cmd.arg("-D")
            .arg(l.data)
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("port={}", l.port))
            .arg("-c")
            .arg(format!(
                "unix_socket_directories={}",
                l.socket_dir.display()
            ))
            // Throwaway data: durability costs time and buys nothing.
            .args(["-c", "fsync=off"])
            // The ready line is matched in English.
            .args(["-c", "lc_messages=C"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("LC_ALL", "C")
            .current_dir(l.socket_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // Its own group: the backends it forks are ended together with it.
            .process_group(0);
        if let Some(account) = l.account {
            // std drops the supplementary groups too when leaving root.
            cmd.uid(account.uid).gid(account.gid);
        }
        let parent = std::process::id();
        // SAFETY: only async-signal-safe calls (prctl, close_range, getppid), no
        // allocation.
        // Runs after the uid change, which would otherwise clear the setting.
        unsafe {
            cmd.pre_exec(move || {
                nix::sys::prctl::set_pdeathsig(Signal::SIGQUIT)?;
                // Descriptors the test binary inherited without close-on-exec
                // (a CI runner's output pipe, a jobserver) must not be held
                // open by the server: mark every one above stderr to close at
                // exec (an older kernel without close_range keeps them).
                nix::libc::syscall(
                    nix::libc::SYS_close_range,
                    3u32,
                    u32::MAX,
                    nix::libc::CLOSE_RANGE_CLOEXEC,
                );
                if nix::unistd::getppid().as_raw() as u32 != parent {
                    // The test binary died before the signal was armed.
                    return Err(io::Error::from_raw_os_error(nix::libc::ESRCH));
                }
                Ok(())
            });
        }
        let mut child = spawn_from_lasting_thread(cmd)
            .map_err(|e| LaunchError::Failed(format!("{}: {e}", l.postgres.display())))?;
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, events) = mpsc::channel();
        let log = l.log.to_path_buf();
        let reader_log = log.clone();
        std::thread::Builder::new()
            .name("postgres-log".into())
            .spawn(move || read_log(stderr, &reader_log, tx))
            .expect("log reader thread");
        let mut server = Postmaster {
            child,
            events,
            log,
            ended: false,
        };
        match server.events.recv_timeout(READY_LIMIT) {
            Ok(Event::Ready) => Ok(server),
            Ok(Event::Closed) | Err(RecvTimeoutError::Disconnected) => {
                server.ended = true;
                let _ = server.child.wait();
                let log = server.log_tail();
                Err(if log.contains("Address already in use") {
                    LaunchError::PortTaken(log)
                } else {
                    LaunchError::Failed(log)
                })
            }
            Err(RecvTimeoutError::Timeout) => {
                server.end(Signal::SIGKILL);
                Err(LaunchError::Failed(format!(
                    "not ready within {READY_LIMIT:?}:\n{}",
                    server.log_tail()
                )))
            }
        }
    }

    /// The postmaster's pid (also its process group).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fast shutdown (SIGINT: sessions ended, data flushed), then waits until
    /// every process of the server has exited.
    pub fn stop(mut self) {
        self.end(Signal::SIGINT);
    }

    /// The last lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// Sends `signal` to the postmaster, waits (bounded) for every server
    /// process to exit, kills the process group if they did not, reaps.
    fn end(&mut self, signal: Signal) {
        if self.ended {
            return;
        }
        self.ended = true;
        // Unreaped, the postmaster keeps its pid (and so its group id) ours.
        let group = Pid::from_raw(self.child.id() as i32);
        let _ = kill(group, signal);
        if !self.wait_closed(SHUTDOWN_LIMIT) {
            let _ = killpg(group, Signal::SIGKILL);
            self.wait_closed(SHUTDOWN_LIMIT);
        }
        let _ = self.child.wait();
    }

    fn wait_closed(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(Event::Ready) => continue,
                Ok(Event::Closed) | Err(RecvTimeoutError::Disconnected) => return true,
                Err(RecvTimeoutError::Timeout) => return false,
            }
        }
    }
}

impl Drop for Postmaster {
    /// Immediate shutdown: nothing of a dropped server needs to survive.
    fn drop(&mut self) {
        self.end(Signal::SIGQUIT);
    }
}

/// Copies the server's stderr into `log` line by line, reporting readiness
/// and, at the end of the stream, that every server process has exited.
fn read_log(stderr: ChildStderr, log: &Path, events: Sender<Event>) {
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .ok();
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if let Some(f) = file.as_mut() {
            let _ = f.write_all(&line);
        }
        if line.windows(READY_LINE.len()).any(|w| w == READY_LINE) {
            let _ = events.send(Event::Ready);
        }
    }
    let _ = events.send(Event::Closed);
}

pub fn log_tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

type SpawnJob = (Command, Sender<io::Result<Child>>);

/// Spawns `cmd` from a thread that lives until the process exits, so that the
/// child's parent-death signal fires when the test binary ends, not when the
/// test that started it does.
fn spawn_from_lasting_thread(cmd: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<Sender<SpawnJob>> = OnceLock::new();
    let jobs = SPAWNER.get_or_init(|| {
        let (jobs, queue) = mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("postgres-spawner".into())
            .spawn(move || {
                for (mut cmd, answer) in queue {
                    let _ = answer.send(cmd.spawn());
                }
            })
            .expect("spawner thread");
        jobs
    });
    let (answer, answered) = mpsc::channel();
    jobs.send((cmd, answer))
        .map_err(|_| io::Error::other("spawner thread gone"))?;
    answered
        .recv()
        .map_err(|_| io::Error::other("spawner thread gone"))?
}
