//! `-l USER` against real sshd nodes: the command line's user wins over the
//! ssh_config's, for `run`, `task run` and `ssh`, as `ssh -l` and `pdsh -l` do.

use crate::cli_support::finish;
use crate::ssh_support::Drover;
use crate::sshd::{Fleet, USER};

#[test]
fn l_user_logs_in_as_that_user_over_the_ssh_config() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    // The fleet's ssh_config logs node00N in as root.
    let out = d.run(&cfg, "node001,node002", &["--sequential"], "whoami");
    out.expect(0);
    assert_eq!(
        out.out_lines(),
        ["node001: root", "node002: root"],
        "{out:?}"
    );
    let out = d.run(
        &cfg,
        "node001,node002",
        &["-l", USER, "--sequential"],
        "whoami",
    );
    out.expect(0);
    let want: Vec<String> = ["node001", "node002"]
        .iter()
        .map(|n| format!("{n}: {USER}"))
        .collect();
    assert_eq!(out.out_lines(), want, "{out:?}");
    let out = finish(d.cmd(&cfg, &["ssh", "node001", "-l", USER, "--", "whoami"]));
    out.expect(0);
    assert_eq!(out.out().trim(), USER, "{out:?}");
}

#[test]
fn l_user_that_cannot_log_in_fails_the_nodes_naming_the_user() {
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let out = d.run(
        &fleet.ssh_config(),
        "node001",
        &["-l", "nobody-here"],
        "true",
    );
    out.expect(1);
    let text = format!("{}{}", out.out(), out.err());
    assert!(text.contains("nobody-here"), "{out:?}");
}
