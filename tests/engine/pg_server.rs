//! The PostgreSQL test server itself (tests/pg_support): it serves with its
//! password and refuses others, keeps data across a restart, gives separate
//! fresh databases, and leaves no process or file behind.

use crate::pg_support::{self, PgServer};
use postgres::error::SqlState;
use postgres::{Client, NoTls};

fn query_one_i64(client: &mut Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).expect(sql).get(0)
}

/// Live and not a zombie.
fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| Some(s.get(s.rfind(')')? + 2..)?.chars().next()? != 'Z'))
        .unwrap_or(false)
}

fn process_uid(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn pg_server_serves_select_1_with_its_password() {
    let Some(server) = pg_support::shared() else {
        return;
    };
    let url = pg_support::fresh_database().expect("shared server runs");
    assert!(url.contains(server.password()), "{url}");
    let mut client = Client::connect(&url, NoTls).expect("connect with the password");
    assert_eq!(query_one_i64(&mut client, "SELECT 1::bigint"), 1);
    let user: String = client
        .query_one("SELECT current_user::text", &[])
        .expect("current_user")
        .get(0);
    assert_eq!(user, pg_support::USER);
}

/// Async tests (the store's own) create their databases from inside a runtime,
/// where the blocking client alone would panic.
#[tokio::test]
async fn pg_server_fresh_database_from_an_async_test() {
    let Some(url) = pg_support::fresh_database() else {
        return;
    };
    let rows = tokio::task::spawn_blocking(move || {
        let mut client = Client::connect(&url, NoTls).expect("connect");
        query_one_i64(
            &mut client,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        )
    })
    .await
    .expect("blocking client");
    assert_eq!(rows, 0, "a fresh database is empty");
}

#[test]
fn pg_server_runs_unprivileged_when_the_tests_run_as_root() {
    let Some(server) = pg_support::shared() else {
        return;
    };
    let pid = server.pid().expect("running");
    let uid = process_uid(pid).expect("postmaster's uid");
    if nix::unistd::geteuid().is_root() {
        let account = nix::unistd::User::from_name(pg_support::machine::ACCOUNT)
            .expect("passwd")
            .expect("the server's account exists");
        assert_eq!(uid, account.uid.as_raw(), "postmaster {pid} runs as {uid}");
    } else {
        assert_eq!(uid, nix::unistd::geteuid().as_raw());
    }
}

#[test]
fn pg_server_refuses_a_wrong_password() {
    let Some(server) = pg_support::shared() else {
        return;
    };
    let wrong = server
        .url("postgres")
        .replace(server.password(), "not-the-password");
    let err = Client::connect(&wrong, NoTls)
        .err()
        .expect("a wrong password is refused");
    assert_eq!(
        err.code(),
        Some(&SqlState::INVALID_PASSWORD),
        "refused for the password: {err}"
    );
    assert!(!server.log().contains(server.password()));
}

#[test]
fn pg_server_restart_keeps_rows_and_serves_new_connections() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let url = server.fresh_database();
    let mut before = Client::connect(&url, NoTls).expect("connect");
    before
        .batch_execute(
            "CREATE TABLE runs (id bigint PRIMARY KEY, command text NOT NULL);
             INSERT INTO runs SELECT g, 'echo ' || g FROM generate_series(1, 100) g;",
        )
        .expect("table and rows");
    let (port, pid) = (server.port(), server.pid());

    server.restart();

    assert_eq!(server.port(), port, "same port after restart");
    assert_ne!(server.pid(), pid, "a new postmaster");
    assert!(
        before.simple_query("SELECT 1").is_err(),
        "a connection from before the restart is broken"
    );
    let mut after = Client::connect(&url, NoTls).expect("connect after restart");
    assert_eq!(query_one_i64(&mut after, "SELECT count(*) FROM runs"), 100);
    let last: String = after
        .query_one("SELECT command FROM runs WHERE id = 100", &[])
        .expect("row 100")
        .get(0);
    assert_eq!(last, "echo 100");
}

#[test]
fn pg_server_stopped_refuses_connections_until_started_again() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let url = server.url("postgres");
    server.stop();
    assert_eq!(server.pid(), None);
    let err = Client::connect(&url, NoTls)
        .err()
        .expect("nothing listens while stopped");
    assert!(err.as_db_error().is_none(), "refused by the OS: {err}");
    server.stop(); // idempotent

    server.start_again();
    server.start_again(); // idempotent
    let mut client = Client::connect(&url, NoTls).expect("connect after start");
    assert_eq!(query_one_i64(&mut client, "SELECT 1::bigint"), 1);
}

#[test]
fn pg_server_fresh_databases_are_separate() {
    let (Some(first), Some(second)) = (pg_support::fresh_database(), pg_support::fresh_database())
    else {
        return;
    };
    assert_ne!(first, second);
    let mut a = Client::connect(&first, NoTls).expect("first");
    let mut b = Client::connect(&second, NoTls).expect("second");
    a.batch_execute("CREATE TABLE journal (note text); INSERT INTO journal VALUES ('only in a');")
        .expect("table in the first");
    assert_eq!(query_one_i64(&mut a, "SELECT count(*) FROM journal"), 1);
    let missing = b
        .query_one("SELECT count(*) FROM journal", &[])
        .expect_err("the second database has no such table");
    assert_eq!(
        missing.code(),
        Some(&SqlState::UNDEFINED_TABLE),
        "{missing}"
    );
}

#[test]
fn pg_server_dropped_leaves_no_process_or_dir() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let mut client = server.connect("postgres");
    let backend: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .expect("backend pid")
        .get(0);
    let postmaster = server.pid().expect("running");
    let dir = server.dir().to_path_buf();
    assert!(process_alive(backend as u32) && process_alive(postmaster));

    drop(server);

    assert!(!process_alive(postmaster), "postmaster {postmaster} ended");
    assert!(!process_alive(backend as u32), "backend {backend} ended");
    assert!(!dir.exists(), "{} removed", dir.display());
}

/// Set in the child test binary that holds a server until it is killed.
const HOLDER: &str = "DROVER_PG_HOLDER";

/// A test binary killed outright runs no destructor and no exit hook: its
/// servers must still end (the parent-death signal). Runs this very test in a
/// child binary that starts the shared server, opens a session, reports the
/// pids and waits; kills it; waits for the postmaster and the backend to exit.
#[test]
fn pg_server_ends_when_its_test_binary_is_killed() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    if std::env::var_os(HOLDER).is_some() {
        let Some(server) = pg_support::shared() else {
            return;
        };
        let mut client = server.connect("postgres");
        let backend: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .expect("backend pid")
            .get(0);
        let postmaster = server.pid().expect("running");
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "HOLDING {postmaster} {backend} {}",
            server.dir().display()
        )
        .unwrap();
        out.flush().unwrap();
        // Holds the server until killed: stdin stays open and silent.
        let _ = std::io::stdin().lines().next();
        return;
    }
    if pg_support::machine::bin_dir().is_err() {
        pg_support::shared(); // SKIPPED, or fails under DROVER_REQUIRE_FLEET=1
        return;
    }
    let mut holder = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "pg_server::pg_server_ends_when_its_test_binary_is_killed",
        ])
        .args(["--nocapture", "--test-threads=1"])
        .env(HOLDER, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("holder test binary");
    let stdout = BufReader::new(holder.stdout.take().expect("stdout"));
    let held = stdout
        .lines()
        .map_while(Result::ok)
        // The harness may have begun the line with the test's name.
        .find_map(|l| l.split_once("HOLDING ").map(|(_, held)| held.to_owned()))
        .expect("the holder reports its server");
    let mut fields = held.split(' ');
    let postmaster: u32 = fields.next().unwrap().parse().unwrap();
    let backend: u32 = fields.next().unwrap().parse().unwrap();
    let dir = std::path::PathBuf::from(fields.next().unwrap());
    let exits = [postmaster, backend].map(|pid| ExitWatch::open(pid).expect("pidfd"));

    holder.kill().expect("kill the holder");
    holder.wait().expect("reap the holder");

    for (pid, exit) in [postmaster, backend].iter().zip(exits) {
        assert!(exit.wait(), "server process {pid} outlived its test binary");
    }
    // What a killed run leaves: the next run's start removes it too.
    assert!(dir.exists());
    std::fs::remove_dir_all(&dir).expect("remove the holder's dir");
}

/// The exit of a process that is not our child, as an event (a pidfd).
struct ExitWatch(std::os::fd::OwnedFd);

impl ExitWatch {
    fn open(pid: u32) -> Option<ExitWatch> {
        use std::os::fd::FromRawFd;
        // SAFETY: pidfd_open returns a new fd or -1; the fd is owned from here on.
        let fd = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, pid, 0) };
        (fd >= 0).then(|| ExitWatch(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) }))
    }

    /// True once the process has exited; false if it is still running after
    /// a generous bound.
    fn wait(self) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let mut fds = [PollFd::new(self.0.as_fd(), PollFlags::POLLIN)];
        matches!(poll(&mut fds, PollTimeout::from(60_000u16)), Ok(n) if n > 0)
    }
}
