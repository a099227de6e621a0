//! The command-line habits of pdsh, clush and ripgrep, through the real binary:
//! targets from a file (`-t ^FILE`), from stdin (`-t -`) and from `$WCOLL`;
//! completions, the man page, `--version` and the exit codes in `--help`.

use crate::cli_support::{BIN, Fleet, finish};
use std::io::Write;
use std::process::{Command, Stdio};

fn nodes_of(out: &crate::cli_support::Out) -> Vec<String> {
    let mut nodes: Vec<String> = out
        .out_lines()
        .iter()
        .filter_map(|l| l.split_once(": ").map(|(n, _)| n.to_string()))
        .collect();
    nodes.sort();
    nodes
}

#[test]
fn targets_come_from_a_file_with_comments_as_pdsh_reads_w_caret_file() {
    let f = Fleet::nodes(&["n1", "n2", "n3"]);
    std::fs::write(
        f.path("hosts"),
        "# the two we want\nn1\n\nn3   # and this one\n",
    )
    .unwrap();
    let out = f.run(&format!("^{}", f.path_str("hosts")), &[], "echo up");
    out.expect(0);
    assert_eq!(nodes_of(&out), ["n1", "n3"], "{out:?}");
}

#[test]
fn a_dash_reads_the_targets_from_standard_input() {
    let f = Fleet::nodes(&["n1", "n2", "n3"]);
    let mut cmd = f.cmd(&["run", "-t", "-", "--", "echo up"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"n2\nn3\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut nodes: Vec<&str> = text.lines().filter_map(|l| l.split(": ").next()).collect();
    nodes.sort();
    assert_eq!(nodes, ["n2", "n3"], "{text}");
}

#[test]
fn wcoll_names_the_targets_when_no_t_is_given() {
    let f = Fleet::nodes(&["n1", "n2", "n3"]);
    std::fs::write(f.path("wcoll"), "n2\n").unwrap();
    let mut cmd = f.cmd(&["run", "--", "echo up"]);
    cmd.env("WCOLL", f.path("wcoll"));
    let out = finish(cmd);
    out.expect(0);
    assert_eq!(nodes_of(&out), ["n2"], "{out:?}");
    // -t wins over WCOLL.
    let mut cmd = f.cmd(&["run", "-t", "n3", "--", "echo up"]);
    cmd.env("WCOLL", f.path("wcoll"));
    assert_eq!(nodes_of(&finish(cmd)), ["n3"]);
}

#[test]
fn no_targets_and_bad_target_files_exit_2_running_nothing() {
    let f = Fleet::nodes(&["n1"]);
    let mut cmd = f.cmd(&["run", "--", "touch", &f.path_str("ran")]);
    cmd.env_remove("WCOLL");
    finish(cmd)
        .expect(2)
        .err_has("no targets: give -t TARGETS (or -t ^FILE), or set WCOLL");
    let missing = f.path_str("no-such-file");
    f.run(
        &format!("^{missing}"),
        &[],
        &format!("touch {}", f.path_str("ran")),
    )
    .expect(2)
    .err_has(&format!("-t ^{missing}: cannot read it"));
    std::fs::write(f.path("empty"), "# nobody\n").unwrap();
    f.run(&format!("^{}", f.path_str("empty")), &[], "true")
        .expect(2)
        .err_has("names no targets");
    assert!(!f.path("ran").exists(), "nothing may run");
}

#[test]
fn l_user_on_a_local_node_is_refused_naming_it() {
    let f = Fleet::nodes(&["n1"]);
    f.run(
        "n1",
        &["-l", "someone"],
        &format!("touch {}", f.path_str("ran")),
    )
    .expect(2)
    .err_has("-l someone: n1 runs as the current user on this machine");
    assert!(!f.path("ran").exists(), "nothing may run");
}

fn drover(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().expect("run drover")
}

#[test]
fn completions_for_each_shell_name_the_subcommands() {
    for (shell, marker) in [
        ("bash", "_drover()"),
        ("zsh", "#compdef drover"),
        ("fish", "complete -c drover"),
    ] {
        let out = drover(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}: no {marker}");
        assert!(
            text.contains("rerun") && text.contains("history"),
            "{shell}"
        );
    }
    let out = drover(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn the_man_page_renders_with_every_subcommand() {
    let out = drover(&["man"]);
    assert!(out.status.success(), "{out:?}");
    let page = String::from_utf8_lossy(&out.stdout);
    for title in [
        ".TH drover 1",
        ".TH drover-run 1",
        ".TH drover-task 1",
        ".TH drover-ssh 1",
    ] {
        assert!(page.contains(title), "no {title}");
    }
    assert!(
        page.contains("WCOLL") && page.contains("143"),
        "exit codes and targets"
    );
}

#[test]
fn version_names_the_release_commit_and_build() {
    let out = drover(&["--version"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let expected = format!("drover {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&expected), "{text}");
    assert!(
        text.contains("-linux-") && text.contains(" build)"),
        "target and profile: {text}"
    );
}
