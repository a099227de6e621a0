//! Real PostgreSQL servers for drover's tests: never a mock.
//!
//! [`PgServer::start`] runs `initdb` into a fresh temp dir
//! (`$TMPDIR/drover-pg-<pid>-…`) and `postgres` on a free loopback port,
//! both as the unprivileged system user [`machine::ACCOUNT`] (`drover-pg`)
//! when the tests run as root (initdb and postgres refuse root), as the
//! caller otherwise. The superuser is `drover` with a random password and
//! password authentication (scram-sha-256) on TCP and on the Unix socket, so
//! a wrong password is refused and a test can look for the password where it
//! must not appear. `fsync=off`: the data is throwaway.
//!
//! Many tests share one server per test binary ([`shared`]), each in a
//! database of its own ([`fresh_database`]). A test that stops or restarts
//! PostgreSQL starts its own [`PgServer`].
//!
//! Without the binaries (`apt-get install postgresql`; `scripts/test.sh`
//! does) `start` and `shared` give `None` after [`prereq::missing`]: a loud
//! SKIPPED line, or a failure under `DROVER_REQUIRE_FLEET=1`.
//!
//! Cleanup: dropping a server ends every process of it (immediate shutdown,
//! then SIGKILL to its process group if needed) and removes its dir. The
//! shared server, never dropped, is ended by an `atexit` hook; and every
//! postmaster gets SIGQUIT from the kernel when its test binary dies, even
//! killed outright (dirs left that way are removed by the next run).
#![allow(dead_code)] // each test binary uses a different subset

pub mod machine;
mod postmaster;

// A sibling module wherever this one is included (a test binary's root, or the
// library's PostgreSQL test helpers).
use super::prereq;
use machine::Account;
use postmaster::{Launch, LaunchError, Postmaster};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, TryLockError};
use tempfile::TempDir;

/// The superuser that tests connect as.
pub const USER: &str = "drover";

/// One PostgreSQL server with its own data dir, port and password.
pub struct PgServer {
    bins: PathBuf,
    account: Option<Account>,
    password: String,
    port: u16,
    /// `None` while stopped.
    running: Mutex<Option<Postmaster>>,
    databases: AtomicUsize,
    /// Holds `data/` (the cluster), `postgres.log`, the Unix socket.
    dir: TempDir,
}

impl PgServer {
    /// A running server, or `None` after [`prereq::missing`] when PostgreSQL
    /// is not installed (or the `drover-pg` user cannot be created). Panics,
    /// with initdb's output or the server's log, when it fails otherwise.
    pub fn start() -> Option<PgServer> {
        match Self::try_start() {
            Ok(server) => Some(server),
            Err(reason) => {
                prereq::missing(&reason);
                None
            }
        }
    }

    /// `Err` only for a missing prerequisite.
    fn try_start() -> Result<PgServer, String> {
        let bins = machine::bin_dir()?;
        let account = machine::account()?;
        machine::reap_stale_dirs();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}{}-", machine::DIR_PREFIX, std::process::id()))
            .tempdir()
            .expect("temp dir for PostgreSQL");
        if let Some(account) = account {
            account.give(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        }
        let password = machine::random_hex();
        initdb(&bins, dir.path(), &password, account).unwrap_or_else(|e| panic!("initdb: {e}"));
        let mut tries = Vec::new();
        // A port picked free may be taken by someone else before postgres binds it.
        for _ in 0..5 {
            let port = machine::pick_port().unwrap_or_else(|e| panic!("{e}"));
            match launch(&bins, dir.path(), port, account) {
                Ok(postmaster) => {
                    return Ok(PgServer {
                        bins,
                        account,
                        password,
                        port,
                        running: Mutex::new(Some(postmaster)),
                        databases: AtomicUsize::new(0),
                        dir,
                    });
                }
                Err(LaunchError::PortTaken(log)) => tries.push(log),
                Err(LaunchError::Failed(log)) => panic!("postgres did not start:\n{log}"),
            }
        }
        panic!("postgres found no free port:\n{}", tries.join("\n---\n"))
    }

    /// `postgres://drover:PASSWORD@127.0.0.1:PORT/<db>?sslmode=disable`
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://{USER}:{}@127.0.0.1:{}/{db}?sslmode=disable",
            self.password, self.port
        )
    }

    /// The password of [`USER`] (32 hex digits, random per server).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The loopback TCP port; the same across [`restart`](Self::restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The postmaster's pid, `None` while stopped.
    pub fn pid(&self) -> Option<u32> {
        self.state().as_ref().map(Postmaster::pid)
    }

    /// The server's log so far (every start of it).
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The temp dir holding `data/`, `postgres.log` and the Unix socket.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Creates the empty database `name` (letters, digits, `_`) and returns
    /// its [`url`](Self::url). Panics if it exists or the server is down.
    pub fn create_database(&self, name: &str) -> String {
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "database name {name:?}: letters, digits and _ only"
        );
        self.execute("postgres", &format!("CREATE DATABASE \"{name}\""));
        self.url(name)
    }

    /// A new database with a name unique on this server (`fresh_1`, …); its url.
    pub fn fresh_database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::Relaxed) + 1;
        self.create_database(&format!("fresh_{n}"))
    }

    /// A client of database `db`, with the password. From a plain thread only:
    /// the blocking `postgres` client panics inside a tokio runtime.
    pub fn connect(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to {db} on port {}: {e}", self.port))
    }

    /// Runs `sql` (one or more statements) in `db`, from a thread of its own
    /// so that it works from async tests too.
    pub fn execute(&self, db: &str, sql: &str) {
        let url = self.url(db);
        let done = std::thread::scope(|s| {
            s.spawn(|| postgres::Client::connect(&url, postgres::NoTls)?.batch_execute(sql))
                .join()
        });
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("{sql} in {db}: {e}"),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// Fast shutdown (sessions ended, data kept) and waits until every server
    /// process has exited. Connections are refused until [`start`](Self::start).
    /// Does nothing when already stopped.
    pub fn stop(&self) {
        if let Some(postmaster) = self.state().take() {
            postmaster.stop();
        }
    }

    /// Starts the stopped server again on the same data dir and port, and
    /// returns once it accepts connections. Does nothing when running.
    pub fn start_again(&self) {
        let mut state = self.state();
        if state.is_none() {
            let postmaster = launch(&self.bins, self.dir.path(), self.port, self.account)
                .unwrap_or_else(|e| panic!("postgres did not start again: {e:?}"));
            *state = Some(postmaster);
        }
    }

    /// [`stop`](Self::stop) then [`start_again`](Self::start_again): same data,
    /// port and password; every open connection is broken.
    pub fn restart(&self) {
        self.stop();
        self.start_again();
    }

    fn state(&self) -> MutexGuard<'_, Option<Postmaster>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // Ends every process of the server before the dir goes.
        drop(self.state().take());
    }
}

fn launch(
    bins: &Path,
    dir: &Path,
    port: u16,
    account: Option<Account>,
) -> Result<Postmaster, LaunchError> {
    Postmaster::launch(&Launch {
        postgres: &bins.join("postgres"),
        data: &dir.join("data"),
        socket_dir: dir,
        port,
        account,
        log: &dir.join("postgres.log"),
    })
}

/// A cluster in `dir/data` whose superuser is [`USER`] with `password`,
/// password authentication for every connection.
fn initdb(bins: &Path, dir: &Path, password: &str, account: Option<Account>) -> Result<(), String> {
    // initdb reads the password from a file: it never appears in a command line.
    let pwfile = dir.join("pwfile");
    fs::write(&pwfile, format!("{password}\n")).map_err(|e| format!("pwfile: {e}"))?;
    fs::set_permissions(&pwfile, fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("pwfile: {e}"))?;
    if let Some(account) = account {
        account.give(&pwfile)?;
    }
    let mut cmd = Command::new(bins.join("initdb"));
    cmd.arg("-D")
        .arg(dir.join("data"))
        .args(["--username", USER, "--auth", "scram-sha-256"])
        .arg(format!("--pwfile={}", pwfile.display()))
        .args(["--encoding", "UTF8", "--locale", "C", "--no-sync"])
        .arg("--no-instructions")
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        .current_dir(dir);
    if let Some(account) = account {
        cmd.uid(account.uid).gid(account.gid);
    }
    let out = cmd.output();
    let _ = fs::remove_file(&pwfile);
    let out = out.map_err(|e| format!("{}: {e}", bins.join("initdb").display()))?;
    if !out.status.success() {
        return Err(format!(
            "{}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

static SHARED: OnceLock<Result<PgServer, String>> = OnceLock::new();

/// The server this test binary's tests share, started on first use; `None`
/// (after [`prereq::missing`], at every call) when PostgreSQL is missing.
/// Give each test its own database ([`fresh_database`]) and never stop it.
pub fn shared() -> Option<&'static PgServer> {
    let server = SHARED.get_or_init(|| {
        let server = PgServer::try_start();
        if server.is_ok() {
            // SAFETY: registers a plain `extern "C" fn` that never unwinds.
            unsafe {
                nix::libc::atexit(end_shared);
            }
        }
        server
    });
    match server {
        Ok(server) => Some(server),
        Err(reason) => {
            prereq::missing(reason);
            None
        }
    }
}

/// The url of a new, empty database on the [`shared`] server; `None` as there.
pub fn fresh_database() -> Option<String> {
    Some(shared()?.fresh_database())
}

/// At exit: the shared server is never dropped, so end it and remove its dir.
extern "C" fn end_shared() {
    let _ = std::panic::catch_unwind(|| {
        let Some(Ok(server)) = SHARED.get() else {
            return;
        };
        // A thread still inside restart() at exit holds the lock: leave that
        // server to its parent-death signal.
        let postmaster = match server.running.try_lock() {
            Ok(mut state) => state.take(),
            Err(TryLockError::Poisoned(state)) => state.into_inner().take(),
            Err(TryLockError::WouldBlock) => return,
        };
        drop(postmaster);
        let _ = fs::remove_dir_all(server.dir.path());
    });
}
