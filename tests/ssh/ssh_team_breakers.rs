//! Circuit breakers shared by every drover process on one store, with real parts:
//! OpenSSH servers (`tests/sshd/`), separate `drover` processes with homes of their
//! own, and a shared store (a SQLite file, then a PostgreSQL database). Two
//! one-shot `drover run`s in home A fail to connect to a stopped node: each counts
//! one failure, the second counts on from the first's and opens the breaker; a
//! third is refused. The node comes back, and a process in home B, which never
//! ran against it, refuses it at once with "circuit open" without logging in, and
//! `drover status` in B lists the breaker. A process on a store of its own runs
//! the node: the refusal came through the store. Needs root (and PostgreSQL for
//! the second test); prints SKIPPED lines otherwise.

use crate::cli_support::finish;
use crate::pg_support;
use crate::ssh_support::{Drover, Report, accepted, accepted_settles, assert_error};
use crate::sshd::Fleet;

/// The same breaker settings in every process: two failures open a node's
/// breaker, for longer than the test takes.
const BREAKERS: &str = "[breakers]\nfailure_threshold = 2\ntransport_failure_threshold = 0\n\
                        reset_timeout = \"10m\"\n";

/// A drover home whose config has [`BREAKERS`].
fn home() -> Drover {
    let d = Drover::new();
    let config = d.path("config").join("drover");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), BREAKERS).unwrap();
    d
}

/// `drover run -o json -t NODE -- true` in `home` on the store at `url`.
fn run_on(home: &Drover, fleet: &Fleet, url: &str, node: &str) -> Report {
    let mut cmd = home.run_cmd(&fleet.ssh_config(), node, &["-o", "json"], "true");
    cmd.env("DROVER_STORE_URL", url);
    Report::new(finish(cmd))
}

fn breaker_is_team_wide(url: &str) {
    let Some(mut fleet) = Fleet::or_skip(1) else {
        return;
    };
    let node = fleet.alias(0);
    let (a, b) = (home(), home());

    fleet.stop_node(0);
    for _ in 0..2 {
        let r = run_on(&a, &fleet, url, &node);
        assert_error(&r, &node, "Connection", &["refused"]);
    }
    let r = run_on(&a, &fleet, url, &node);
    assert_error(&r, &node, "CircuitOpen", &["circuit open for node"]);

    fleet.start_node(0);
    let logins = accepted(&fleet.sshd_log(0));
    let r = run_on(&b, &fleet, url, &node);
    assert_error(
        &r,
        &node,
        "CircuitOpen",
        &[&format!(
            "circuit open for node {node} after 2 consecutive failures"
        )],
    );

    let mut status = b.cmd(&fleet.ssh_config(), &["status"]);
    status.env("DROVER_STORE_URL", url);
    let out = finish(status);
    let text = out.out();
    assert!(
        text.contains(&format!("breaker     node {node}: open")),
        "{out:?}"
    );

    // The node is up: a process on another store runs it.
    let own = home();
    let own_url = format!("sqlite:{}", own.path("own.db").display());
    let r = run_on(&own, &fleet, &own_url, &node);
    assert_eq!(r.status(&node), "success", "{r:?}");
    assert_eq!(
        accepted_settles(&fleet.sshd_log(0), logins + 1),
        logins + 1,
        "B logged in despite the open breaker"
    );
}

#[test]
fn a_breaker_opened_by_one_process_refuses_in_another_on_a_shared_sqlite_file() {
    let store = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", store.path().join("team.db").display());
    breaker_is_team_wide(&url);
}

#[test]
fn a_breaker_opened_by_one_process_refuses_in_another_on_postgresql() {
    let Some(url) = pg_support::fresh_database() else {
        return;
    };
    breaker_is_team_wide(&url);
}
