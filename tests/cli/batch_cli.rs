//! End-to-end tests of headless `drover`: streams, exit codes, output formats,
//! history, journals, metrics, set-up errors, retries, timeouts and Ctrl-C.

use crate::cli_support;
use crate::prereq;

use cli_support::{Fleet, KillOnDrop, Running, bare, eventually, finish, pid_gone, read_pid, s};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

const FAIL_ON_N02: &str = "if [ \"$DROVER_NODE\" = n02 ]; then exit 3; fi; echo ok";
const SECS_30: Duration = Duration::from_secs(30);

#[test]
fn stdout_and_stderr_stay_separate() {
    let f = Fleet::nodes(&["n01", "n02"]);
    let out = f.run("n01,n02", &[], "echo out; echo err >&2");
    out.expect(0);
    let mut lines = out.out_lines();
    lines.sort();
    assert_eq!(lines, ["n01: out", "n02: out"], "{out:?}");
    let err = out.err();
    let mut err_lines: Vec<&str> = err.lines().collect();
    err_lines.sort();
    assert_eq!(err_lines, ["n01: err", "n02: err"], "{out:?}");
}

#[test]
fn partial_failure_exits_1_and_names_node_and_code() {
    let f = Fleet::nodes(&["n01", "n02"]);
    let out = f.run("n01,n02", &[], FAIL_ON_N02);
    out.expect(1);
    let err = out.err();
    let named = err
        .lines()
        .any(|l| l.contains("n02") && l.contains("code 3"));
    assert!(named, "{out:?}");
    assert!(!err.contains("n01"), "n01 succeeded: {out:?}");
    assert_eq!(s(&f.only_execution(), "status"), "partial");
}

#[test]
fn max_exit_returns_the_highest_remote_code() {
    let f = Fleet::nodes(&["n01", "n02", "n03"]);
    let cmd = "case $DROVER_NODE in n01) exit 2;; n02) exit 7;; esac";
    f.run("n0[1-3]", &["--max-exit"], cmd).expect(7);
}

#[test]
fn unknown_targets_exit_4_naming_what_did_not_match() {
    let f = Fleet::nodes(&["n01", "n02", "n03"]);
    let touch = format!("touch {}", f.path_str("ran"));
    f.run("nope", &[], &touch).expect(4).err_has("nope");
    let out = f.run("n0[1-5]", &[], &touch);
    out.expect(4);
    // Any spelling of the missing set will do; the matched nodes must not be named.
    let named = ["n0[4-5]", "n[04-05]", "n04,n05"]
        .iter()
        .any(|set| out.err().contains(set));
    assert!(named && !out.err().contains("01"), "{out:?}");
    assert!(!f.path("ran").exists(), "ran despite unmatched targets");
    assert!(f.history(&[]).is_empty());
}

#[test]
fn invalid_flags_exit_2_naming_the_flag_and_run_nothing() {
    let f = Fleet::nodes(&["n01"]);
    let touch = format!("touch {}", f.path_str("ran"));
    f.run("n01", &["--timeout", "abc"], &touch)
        .expect(2)
        .err_has("--timeout");
    f.run("n01", &["--env", "NOEQUALS"], &touch)
        .expect(2)
        .err_has("--env");
    f.run("n01", &["--env", "1BAD=x"], &touch)
        .expect(2)
        .err_has("1BAD");
    f.run("n01", &["--priority", "urgent"], &touch)
        .expect(2)
        .err_has("--priority");
    assert!(!f.path("ran").exists(), "ran despite a usage error");
}

#[test]
fn env_vars_reach_the_command() {
    let f = Fleet::nodes(&["n01"]);
    let flags = ["-e", "GREETING=hello", "--env", "OTHER=a b=c"];
    let out = f.run("n01", &flags, "echo \"$GREETING|$OTHER|$DROVER_NODE\"");
    out.expect(0);
    assert_eq!(out.out_lines(), ["n01: hello|a b=c|n01"], "{out:?}");
}

#[test]
fn sequential_runs_nodes_one_at_a_time_in_target_order() {
    let f = Fleet::nodes(&["n01", "n02", "n03"]);
    // In parallel the slow first node would finish last.
    let cmd = "echo start; [ $DROVER_NODE = n03 ] && sleep 0.3; echo end";
    let out = f.run("n03,n01,n02", &["--sequential"], cmd);
    out.expect(0);
    let expected: Vec<String> = ["n03", "n01", "n02"]
        .iter()
        .flat_map(|n| [format!("{n}: start"), format!("{n}: end")])
        .collect();
    assert_eq!(out.out_lines(), expected, "{out:?}");
}

/// The first line after `header` that is not a `-----` rule.
fn body_after<'a>(lines: &'a [String], header: &str) -> &'a str {
    let at = lines.iter().position(|l| l.trim() == header);
    let at = at.unwrap_or_else(|| panic!("no header {header:?} in {lines:#?}"));
    let mut rest = lines[at + 1..].iter().map(|l| l.trim());
    rest.find(|l| !l.chars().all(|c| c == '-')).unwrap_or("")
}

#[test]
fn grouped_output_folds_identical_nodes_under_a_node_set() {
    let f = Fleet::nodes(&["n01", "n02", "n03", "n04"]);
    let cmd = "if [ $DROVER_NODE = n04 ]; then echo other; else echo same; fi";
    let out = f.run("@web", &["-o", "grouped"], cmd);
    out.expect(0);
    let lines = out.out_lines();
    assert_eq!(body_after(&lines, "n[01-03] (3)"), "same", "{out:?}");
    assert_eq!(body_after(&lines, "n04 (1)"), "other", "{out:?}");
    let count = |text: &str| lines.iter().filter(|l| l.trim() == text).count();
    assert_eq!((count("same"), count("other")), (1, 1), "{out:?}");
}

#[test]
fn json_output_is_one_object_per_line_in_lifecycle_order() {
    let f = Fleet::nodes(&["n01", "n02"]);
    let out = f.run("n01,n02", &["-o", "json"], "echo hi-$DROVER_NODE");
    out.expect(0);
    let parse = |l: &String| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}"));
    let objs: Vec<Value> = out.out_lines().iter().map(parse).collect();
    let events: Vec<&str> = objs.iter().map(|o| s(o, "event")).collect();
    assert!(events.iter().all(|e| !e.is_empty()), "{events:?}");
    assert_eq!(events[..2], ["execution_queued", "execution_started"]);
    assert_eq!(events.last(), Some(&"execution_finished"));
    let id = s(&f.only_execution(), "id").to_string();
    let mut with_id = objs.iter().filter(|o| o.get("execution").is_some());
    assert!(with_id.all(|o| s(o, "execution") == id), "{events:?}");
    for node in ["n01", "n02"] {
        let at = |event: &str| {
            objs.iter()
                .position(|o| s(o, "event") == event && s(o, "node") == node)
                .unwrap_or_else(|| panic!("no {event} for {node}: {events:?}"))
        };
        let (started, output, finished) = (at("node_started"), at("output"), at("node_finished"));
        assert!(
            1 < started && started < output && output < finished,
            "{events:?}"
        );
        assert_eq!(s(&objs[output], "line"), format!("hi-{node}"));
        assert_eq!(s(&objs[output], "stream"), "stdout");
        assert_eq!(s(&objs[finished], "status"), "success");
    }
}

#[test]
fn history_and_journal_are_written_before_exit() {
    let f = Fleet::nodes(&["n01", "n02"]);
    f.run("n01,n02", &[], "echo hello-$DROVER_NODE").expect(0);
    let exec = f.only_execution();
    let id = s(&exec, "id");
    assert_eq!(s(&exec, "status"), "success");
    assert_eq!(exec["nodes"], serde_json::json!(["n01", "n02"]));
    let shown = f.drover(&["history", "show", id]);
    let text = shown.expect(0).out();
    for needle in [id, "n01", "n02", "success"] {
        assert!(text.contains(needle), "{needle}: {shown:?}");
    }
    assert!(!text.contains("hello-n01"), "output without --output");
    let with_output = f.drover(&["history", "show", id, "--output"]).out();
    assert!(with_output.contains("hello-n01") && with_output.contains("hello-n02"));
    for node in ["n01", "n02"] {
        let entries = f.journal(node);
        let linked: Vec<&Value> = entries
            .iter()
            .filter(|e| s(e, "execution_id") == id)
            .collect();
        assert_eq!(linked.len(), 1, "{node}: {entries:#?}");
        assert_eq!(s(linked[0], "entry_type"), "execution");
        assert_eq!(s(linked[0], "status"), "success");
    }
}

#[test]
fn manual_journal_notes_are_kept_and_filtered_by_type() {
    let f = Fleet::nodes(&["n01"]);
    f.drover(&["journal", "add", "n01", "-m", "replaced the fan"])
        .expect(0);
    let manual = f.drover(&["journal", "n01", "--type", "manual"]);
    assert!(
        manual.expect(0).out().contains("replaced the fan"),
        "{manual:?}"
    );
    let executions = f.drover(&["journal", "n01", "--type", "execution"]);
    assert!(
        !executions.out().contains("replaced the fan"),
        "{executions:?}"
    );
}

#[test]
fn metrics_count_executions_and_node_errors() {
    let f = Fleet::nodes(&["n01", "n02"]);
    f.run("n01,n02", &[], "true").expect(0);
    f.run("n01,n02", &[], FAIL_ON_N02).expect(1);
    let m = f.json(&["metrics", "--json"]);
    assert_eq!(m["total_executions"], 2, "{m}");
    assert_eq!(m["target_count"], 4, "{m}");
    assert_eq!(m["success_rate"].as_f64(), Some(0.5), "{m}");
    assert_eq!(m["error_rate"].as_f64(), Some(0.25), "{m}");
}

#[test]
fn history_filters_by_status_target_and_user() {
    let f = Fleet::nodes(&["n01", "n02"]);
    let mut as_alice = f.run_cmd("n01", &[], "echo a");
    as_alice.env("USER", "alice");
    finish(as_alice).expect(0);
    let mut as_bob = f.run_cmd("n01,n02", &[], FAIL_ON_N02);
    as_bob.env("USER", "bob");
    finish(as_bob).expect(1);
    let actions = |extra: &[&str]| -> Vec<String> {
        f.history(extra)
            .iter()
            .map(|r| s(r, "action").to_string())
            .collect()
    };
    assert_eq!(actions(&["--status", "partial"]), [FAIL_ON_N02]);
    assert_eq!(actions(&["--target", "n02"]), [FAIL_ON_N02]);
    assert_eq!(actions(&["--user", "alice"]), ["echo a"]);
    assert_eq!(actions(&["--target", "n01"]).len(), 2);
    assert!(actions(&["--user", "carol"]).is_empty());
    f.drover(&["history", "--status", "bogus"]).expect(2);
}

#[test]
fn malformed_inventory_exits_2_with_path_and_line() {
    let f = Fleet::nodes(&["n01"]);
    let touch = format!("touch {}", f.path_str("ran"));
    let at = format!("{}:3:", f.inventory.display());
    for yaml in [
        "nodes:\n  n01:\n    groups: [web\n",
        "nodes:\n  n01:\n    colour: red\n",
        "nodes:\n  n01:\n    transport: telnet\n",
    ] {
        std::fs::write(&f.inventory, yaml).unwrap();
        let t = std::time::Instant::now();
        f.run("n01", &[], &touch).expect(2).err_has(&at);
        println!(
            "FAULT-ROW malformed-inventory: {:?} refused, exit 2 in {:.2} s naming file:line, 0 nodes ran",
            yaml.lines().last().unwrap_or("").trim(),
            t.elapsed().as_secs_f64()
        );
    }
    assert!(!f.path("ran").exists(), "ran with a broken inventory");
}

#[test]
fn unwritable_state_dir_exits_2_naming_it_and_runs_nothing() {
    let f = Fleet::nodes(&["n01"]);
    std::fs::write(f.path("plain-file"), "not a dir").unwrap();
    let state = f.path("plain-file").join("state");
    let mut cmd = bare(&f.path("config"));
    cmd.arg("--state-dir")
        .arg(&state)
        .arg("-i")
        .arg(&f.inventory);
    cmd.args([
        "run",
        "-t",
        "n01",
        "--",
        &format!("touch {}", f.path_str("ran")),
    ]);
    finish(cmd).expect(2).err_has(&state.display().to_string());
    assert!(!f.path("ran").exists(), "ran without a state dir");
}

#[test]
fn retry_after_timeout_succeeds_on_attempt_2() {
    let f = Fleet::nodes(&["n01"]);
    let m = f.path_str("marker");
    let cmd = format!("if [ -e {m} ]; then echo second; else touch {m}; sleep 30; fi");
    let out = f.run("n01", &["--retries", "1", "--timeout", "1s"], &cmd);
    out.expect(0).err_has("attempt 2");
    assert_eq!(out.out_lines(), ["n01: second"], "{out:?}");
    let shown = f.show(s(&f.only_execution(), "id"));
    assert_eq!(shown["nodes"][0]["attempts"], 2, "{shown:#}");
}

#[test]
fn global_flags_are_accepted_after_the_subcommand() {
    let f = Fleet::nodes(&["n01"]);
    let state = f.path("elsewhere");
    let mut cmd = bare(&f.path("config"));
    cmd.args(["run", "-t", "n01", "--state-dir"]).arg(&state);
    cmd.arg("-i").arg(&f.inventory).args(["--", "echo hi"]);
    assert_eq!(finish(cmd).expect(0).out_lines(), ["n01: hi"]);
    // Read back through DROVER_STATE_DIR: the run landed in the flag's dir.
    let mut cmd = bare(&f.path("config"));
    cmd.env("DROVER_STATE_DIR", &state)
        .args(["history", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&finish(cmd).stdout).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(s(&rows[0], "action"), "echo hi");
}

#[test]
fn batch_without_subcommand_is_a_usage_error() {
    let f = Fleet::nodes(&["n01"]);
    f.drover(&["--batch"]).expect(2).err_has("subcommand");
}

#[test]
fn timeout_kills_the_whole_process_tree() {
    let f = Fleet::nodes(&["n01"]);
    let (shell, pidfile) = (f.path("shell.pid"), f.path("grandchild.pid"));
    let cmd = format!(
        "echo $$ > {}; sleep 300 & echo $! > {}; wait",
        shell.display(),
        pidfile.display()
    );
    let mut guard = KillOnDrop::default();
    let out = f.run("n01", &["--timeout", "1s"], &cmd);
    guard.group(read_pid(&shell));
    let grandchild = read_pid(&pidfile);
    out.expect(1);
    let exec = f.only_execution();
    assert_eq!(s(&exec, "status"), "timeout");
    assert_eq!(f.node_statuses(s(&exec, "id")), ["n01 timeout"]);
    let gone = eventually(Duration::from_secs(5), || pid_gone(grandchild));
    assert!(gone, "grandchild {grandchild} survived the timeout");
}

#[test]
fn ctrl_c_cancels_exits_130_and_kills_the_tree() {
    let f = Fleet::nodes(&["n01"]);
    let pidfile = f.path("grandchild.pid");
    let cmd = format!(
        "sleep 300 & echo $! > {}; echo first $$; wait; echo never",
        pidfile.display()
    );
    let mut guard = KillOnDrop::default();
    let mut run = Running::start(f.run_cmd("n01", &[], &cmd));
    let first = run.expect_line(SECS_30, |l| l.starts_with("n01: first "));
    guard.group(first["n01: first ".len()..].parse().expect("shell pid"));
    let grandchild = read_pid(&pidfile);
    // Idle first: a Ctrl-C while drover renders output can be lost (see
    // `ctrl_c_during_heavy_output_is_not_lost`); here drover waits for the command.
    assert!(cli_support::wait_idle(
        run.pid().as_raw(),
        Duration::from_secs(10)
    ));
    let t = std::time::Instant::now();
    kill(run.pid(), Signal::SIGINT).unwrap();
    let (status, lines, err) = run.wait(SECS_30);
    let took = t.elapsed();
    assert_eq!(status.code(), Some(130), "{lines:?} {err}");
    assert_eq!(lines, [first], "stderr: {err}");
    assert_eq!(s(&f.only_execution(), "status"), "cancelled");
    // The summary names the cancelled node as cancelled, not as a failure.
    assert!(
        err.contains("0 of 1 nodes succeeded; 1 cancelled (n01)") && !err.contains("failed ("),
        "{err}"
    );
    let gone = eventually(Duration::from_secs(5), || pid_gone(grandchild));
    assert!(gone, "grandchild {grandchild} survived Ctrl-C");
    println!(
        "FAULT-ROW ctrl-c-local: exit 130 in {:.2} s, history cancelled, 0 processes left",
        took.as_secs_f64()
    );
}

/// SIGTERM (`timeout(1)`, systemd, cron) and SIGHUP (a closed terminal) cancel as
/// Ctrl-C does, exiting 128 + the signal, and a second one leaves at once.
#[test]
fn sigterm_and_sighup_cancel_exit_128_plus_the_signal_and_kill_the_tree() {
    for (signal, code) in [(Signal::SIGTERM, 143), (Signal::SIGHUP, 129)] {
        let f = Fleet::nodes(&["n01"]);
        let pidfile = f.path("grandchild.pid");
        let cmd = format!(
            "sleep 300 & echo $! > {}; echo first $$; wait; echo never",
            pidfile.display()
        );
        let mut guard = KillOnDrop::default();
        let mut run = Running::start(f.run_cmd("n01", &[], &cmd));
        let first = run.expect_line(SECS_30, |l| l.starts_with("n01: first "));
        guard.group(first["n01: first ".len()..].parse().expect("shell pid"));
        let grandchild = read_pid(&pidfile);
        assert!(cli_support::wait_idle(
            run.pid().as_raw(),
            Duration::from_secs(10)
        ));
        let t = std::time::Instant::now();
        kill(run.pid(), signal).unwrap();
        let (status, lines, err) = run.wait(SECS_30);
        let took = t.elapsed();
        assert_eq!(status.code(), Some(code), "{signal}: {lines:?} {err}");
        assert!(err.contains(signal.as_str()), "{signal}: {err}");
        assert!(took < Duration::from_secs(9), "{signal}: took {took:?}");
        assert_eq!(lines, [first], "{signal}: stderr: {err}");
        assert_eq!(s(&f.only_execution(), "status"), "cancelled", "{signal}");
        let gone = eventually(Duration::from_secs(5), || pid_gone(grandchild));
        assert!(gone, "{signal}: grandchild {grandchild} survived");
        println!(
            "FAULT-ROW {}-local: exit {code} in {:.2} s, history cancelled, 0 processes left",
            signal.as_str().to_lowercase(),
            took.as_secs_f64()
        );
    }
}

#[test]
fn a_second_sigterm_during_the_grace_leaves_at_once() {
    let f = Fleet::nodes(&["n01"]);
    // The node ignores TERM, so the cancel waits out kill_grace (30 s here); the
    // trap's marker says drover's cancel reached it.
    std::fs::create_dir_all(f.path("config/drover")).unwrap();
    std::fs::write(
        f.path("config/drover/config.toml"),
        "[execution]\nkill_grace = \"30s\"\n",
    )
    .unwrap();
    let marker = f.path("term-seen");
    let mut guard = KillOnDrop::default();
    let mut run = Running::start(f.run_cmd(
        "n01",
        &[],
        &format!(
            "trap 'touch {}' TERM; echo first $$; while :; do sleep 1; done",
            marker.display()
        ),
    ));
    let first = run.expect_line(SECS_30, |l| l.starts_with("n01: first "));
    guard.group(first["n01: first ".len()..].parse().expect("shell pid"));
    assert!(cli_support::wait_idle(
        run.pid().as_raw(),
        Duration::from_secs(10)
    ));
    kill(run.pid(), Signal::SIGTERM).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || marker.exists()),
        "the cancel never reached the node"
    );
    let t = std::time::Instant::now();
    kill(run.pid(), Signal::SIGTERM).unwrap();
    let (status, _, err) = run.wait(SECS_30);
    assert_eq!(status.code(), Some(143), "{err}");
    assert!(err.contains("second SIGTERM"), "{err}");
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // Left behind on purpose: the next start says so in history.
    assert_eq!(s(&f.only_execution(), "status"), "interrupted");
    let shell: i32 = first["n01: first ".len()..].parse().unwrap();
    let left = usize::from(!pid_gone(shell));
    println!(
        "FAULT-ROW second-sigterm: exit 143 {:.2} s after the second signal, history interrupted at the next start, \
         {left} process left (it ignores TERM; kill_grace 30 s not waited for)",
        took.as_secs_f64()
    );
}

/// A node set of ten million names is refused at once, naming it and the bound,
/// before anything runs or is recorded.
#[test]
fn an_absurd_node_set_is_refused_fast_and_runs_nothing() {
    let f = Fleet::nodes(&["n01"]);
    let t = std::time::Instant::now();
    let out = f.run(
        "node[1-9999999]",
        &[],
        &format!("touch {}", f.path_str("ran")),
    );
    let took = t.elapsed();
    out.expect(2)
        .err_has("node[1-9999999]")
        .err_has("more than 1000000 names");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert!(!f.path("ran").exists());
    assert!(f.history(&[]).is_empty());
    println!(
        "FAULT-ROW huge-node-set: -t 'node[1-9999999]' refused, exit 2 in {:.2} s, 0 nodes ran, 0 records",
        took.as_secs_f64()
    );
}

/// A state dir whose database is not SQLite: exit 2 naming the file, nothing runs,
/// and the file is left exactly as it was (it may be someone's data).
#[test]
fn a_corrupt_database_exits_2_naming_it_runs_nothing_and_keeps_the_file() {
    let f = Fleet::nodes(&["n01"]);
    std::fs::create_dir_all(&f.state).unwrap();
    let db = f.state.join("drover.db");
    let garbage: Vec<u8> = (0..100_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&db, &garbage).unwrap();
    let t = std::time::Instant::now();
    let out = f.run("n01", &[], &format!("touch {}", f.path_str("ran")));
    let took = t.elapsed();
    out.expect(2).err_has("drover.db").err_has("not a database");
    assert!(!f.path("ran").exists(), "the command ran");
    let kept = std::fs::read(&db).unwrap();
    let lost = garbage.iter().zip(&kept).filter(|(a, b)| a != b).count()
        + garbage.len().abs_diff(kept.len());
    assert_eq!(lost, 0, "the corrupt file was changed");
    println!(
        "FAULT-ROW corrupt-state-dir: exit 2 in {:.2} s naming drover.db, 0 nodes ran, {lost} bytes of the file changed",
        took.as_secs_f64()
    );
}

/// Two drover processes writing one state dir at once: both runs and every node
/// result and journal entry are recorded.
#[test]
fn two_drovers_on_one_state_dir_both_record_everything() {
    let names: Vec<String> = (1..=20).map(|i| format!("w{i:02}")).collect();
    let f = Fleet::nodes(&names.iter().map(String::as_str).collect::<Vec<_>>());
    // Both start before either ends: each node waits for the other process's file.
    let a = f.path("a");
    let b = f.path("b");
    let cmd = |mine: &std::path::Path, theirs: &std::path::Path| {
        format!(
            "touch {}; while [ ! -e {} ]; do sleep 0.05; done; seq 1 200",
            mine.display(),
            theirs.display()
        )
    };
    let t = std::time::Instant::now();
    let first = Running::start(f.run_cmd("w[01-20]", &[], &cmd(&a, &b)));
    let second = Running::start(f.run_cmd("w[01-20]", &[], &cmd(&b, &a)));
    let (s1, l1, e1) = first.wait(SECS_30);
    let (s2, l2, e2) = second.wait(SECS_30);
    let took = t.elapsed();
    assert_eq!(s1.code(), Some(0), "{e1}");
    assert_eq!(s2.code(), Some(0), "{e2}");
    assert_eq!(l1.len() + l2.len(), 2 * 20 * 200);
    let runs = f.history(&[]);
    assert_eq!(runs.len(), 2, "{runs:?}");
    let mut results = 0;
    for run in &runs {
        assert_eq!(s(run, "status"), "success", "{run}");
        let statuses = f.node_statuses(s(run, "id"));
        assert!(
            statuses.iter().all(|n| n.ends_with(" success")),
            "{statuses:?}"
        );
        results += statuses.len();
    }
    let entries: usize = names.iter().map(|n| f.journal(n).len()).sum();
    assert_eq!(results, 40);
    assert_eq!(entries, 40);
    println!(
        "FAULT-ROW two-writers: 2 processes x 20 nodes in {:.1} s, 2/2 runs, {results}/40 node results, {entries}/40 journal entries, 0 records lost",
        took.as_secs_f64()
    );
}

#[test]
fn ctrl_c_during_heavy_output_is_not_lost() {
    let f = Fleet::nodes(&["n01"]);
    let shell = f.path("shell.pid");
    let mut cmd = f.run_cmd(
        "n01",
        &[],
        &format!("echo $$ > {}; exec yes", shell.display()),
    );
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("spawn drover");
    let pid = child.id() as i32;
    let mut guard = KillOnDrop::default();
    guard.pid(pid);
    // Busy rendering: at least 10 MB of `n01: y` lines written.
    let busy = eventually(SECS_30, || cli_support::bytes_written(pid) > 10_000_000);
    guard.group(read_pid(&shell));
    assert!(busy, "drover never got busy writing output");
    kill(Pid::from_raw(pid), Signal::SIGINT).unwrap();
    let status = cli_support::wait_deadline(&mut child, Duration::from_secs(20));
    let code = status.and_then(|s| s.code());
    assert_eq!(code, Some(130), "the single Ctrl-C was lost");
}

// Regression: the transport can end a node's processes on the cancel before the
// executor notices the cancel; the node must still count as cancelled.
#[test]
fn ctrl_c_marks_every_running_node_cancelled() {
    let names: Vec<String> = (1..=60).map(|i| format!("m{i:02}")).collect();
    let f = Fleet::nodes(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let mut guard = KillOnDrop::default();
    for _round in 0..3 {
        let mut run = Running::start(f.run_cmd("m[01-60]", &[], "echo first $$; exec sleep 300"));
        for _ in &names {
            let line = run.expect_line(SECS_30, |l| l.contains(": first "));
            guard.group(line.rsplit(' ').next().unwrap().parse().unwrap());
        }
        assert!(cli_support::wait_idle(
            run.pid().as_raw(),
            Duration::from_secs(10)
        ));
        kill(run.pid(), Signal::SIGINT).unwrap();
        let (status, _, err) = run.wait(SECS_30);
        assert_eq!(status.code(), Some(130), "{err}");
        let statuses = f.node_statuses(s(&f.latest(), "id"));
        let odd: Vec<&String> = statuses
            .iter()
            .filter(|n| !n.ends_with(" cancelled"))
            .collect();
        assert!(odd.is_empty(), "not cancelled: {odd:?}\nstderr: {err}");
    }
}

#[test]
fn hostile_output_is_raw_on_a_pipe_but_sanitised_in_history() {
    let f = Fleet::nodes(&["n01"]);
    let out = f.run("n01", &[], r"printf 'a\033]0;pwned\007\033[2Jb\n'");
    out.expect(0);
    let raw: &[u8] = b"n01: a\x1b]0;pwned\x07\x1b[2Jb\n";
    assert!(cli_support::contains_bytes(&out.stdout, raw), "{out:?}");
    let shown = f.drover(&["history", "show", s(&f.only_execution(), "id"), "--output"]);
    shown.expect(0);
    let controls = shown.stdout.iter().any(|b| *b == 0x1b || *b == 0x07);
    assert!(
        !controls,
        "escape sequences reached history show: {shown:?}"
    );
    let mut lines = shown.out_lines().into_iter().map(|l| l.trim().to_string());
    assert!(
        lines.any(|l| l.starts_with("n01: a") && l.ends_with('b')),
        "{shown:?}"
    );
    println!(
        "FAULT-ROW hostile-output: raw on a pipe as pdsh passes it, 0 escape bytes in history show"
    );
}

#[test]
fn an_idempotency_key_runs_once_across_processes() {
    let f = Fleet::nodes(&["n01"]);
    let count = f.path_str("count");
    let once = format!("echo x >> {count}");
    let key = ["--idempotency-key", "nightly-1"];
    f.run("n01", &key, &once).expect(0);
    f.run("n01", &key, &once)
        .expect(0)
        .err_has("succeeded; not run again");
    assert_eq!(std::fs::read_to_string(&count).unwrap(), "x\n");
    // A failed run answers with its failure, and is not retried under its key.
    let fail = ["--idempotency-key", "nightly-2"];
    f.run("n01", &fail, &format!("echo y >> {count}; exit 3"))
        .expect(1);
    f.run("n01", &fail, &format!("echo y >> {count}; exit 3"))
        .expect(1)
        .err_has("failed; not run again");
    assert_eq!(std::fs::read_to_string(&count).unwrap(), "x\ny\n");
    // While the first is still running, a second process runs nothing (exit 6).
    let go = f.path_str("go");
    let slow = format!("echo started; while [ ! -e {go} ]; do sleep 0.05; done");
    let mut first = Running::start(f.run_cmd("n01", &["--idempotency-key", "k3"], &slow));
    first.expect_line(SECS_30, |l| l.contains("started"));
    f.run("n01", &["--idempotency-key", "k3"], &once)
        .expect(6)
        .err_has("is still running");
    std::fs::write(&go, "").unwrap();
    let (status, _, _) = first.wait(SECS_30);
    assert_eq!(status.code(), Some(0));
    // A refused run (unknown target) gives its key back: the next one runs.
    f.run("nope", &["--idempotency-key", "k4"], &once).expect(4);
    f.run("n01", &["--idempotency-key", "k4"], &once).expect(0);
    assert_eq!(std::fs::read_to_string(&count).unwrap(), "x\ny\nx\n");
    assert_eq!(f.history(&[]).len(), 4, "every keyed run, once each");
}

// As clush -b does, identical output with different exit codes makes separate
// groups (dshbak -c, which knows no exit codes, would fold them). Unlike
// clush -b, whose headers name no code (it reports codes on stderr lines) and
// which lists the successful group first, the header names the outcome and the
// failure comes first.
#[test]
fn grouped_output_keeps_a_failed_node_apart_from_the_same_output() {
    let f = Fleet::nodes(&["n01", "n02", "n03"]);
    let out = f.run(
        "n[01-03]",
        &["-o", "grouped"],
        "echo same; test $DROVER_NODE != n02 || exit 3",
    );
    out.expect(1);
    let lines = out.out_lines();
    assert_eq!(body_after(&lines, "n[01,03] (2)"), "same", "{out:?}");
    assert_eq!(body_after(&lines, "n02 (1) exit code 3"), "same", "{out:?}");
    // The groups of one output stay together, the failure first.
    let headers: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| l.contains(" ("))
        .collect();
    assert_eq!(headers, ["n02 (1) exit code 3", "n[01,03] (2)"], "{out:?}");
    out.err_has("1 failed (n02)");
}

#[test]
fn ctrl_c_counts_cancelled_nodes_apart_in_json_progress() {
    let f = Fleet::nodes(&["n01", "n02"]);
    let mut guard = KillOnDrop::default();
    let cmd = "echo first $$; exec sleep 300";
    let mut run = Running::start(f.run_cmd("n[01-02]", &["-o", "json"], cmd));
    for _ in 0..2 {
        let output = |l: &str| {
            serde_json::from_str::<Value>(l)
                .is_ok_and(|v| s(&v, "event") == "output" && s(&v, "line").starts_with("first "))
        };
        let line = run.expect_line(SECS_30, output);
        let v: Value = serde_json::from_str(&line).unwrap();
        guard.group(s(&v, "line").rsplit(' ').next().unwrap().parse().unwrap());
    }
    assert!(cli_support::wait_idle(
        run.pid().as_raw(),
        Duration::from_secs(10)
    ));
    kill(run.pid(), Signal::SIGINT).unwrap();
    let (status, lines, err) = run.wait(SECS_30);
    assert_eq!(status.code(), Some(130), "{lines:?} {err}");
    let finished: Value = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| s(v, "event") == "execution_finished")
        .unwrap_or_else(|| panic!("no execution_finished: {lines:?}"));
    let p = &finished["progress"];
    assert_eq!(
        (&p["total"], &p["cancelled"], &p["failed"], &p["completed"]),
        (
            &Value::from(2),
            &Value::from(2),
            &Value::from(0),
            &Value::from(0)
        ),
        "{finished}"
    );
}

#[test]
fn history_show_takes_any_unique_id_prefix_and_lists_an_ambiguous_ones_runs() {
    let f = Fleet::nodes(&["n01"]);
    f.run("n01", &[], "echo one").expect(0);
    f.run("n01", &[], "echo two").expect(0);
    let runs = f.history(&[]);
    let (newer, older) = (s(&runs[0], "id"), s(&runs[1], "id"));
    // Ids begin with the start time: runs close together share a prefix.
    let common = newer
        .chars()
        .zip(older.chars())
        .take_while(|(a, b)| a == b)
        .count();
    assert!(common >= 1, "{newer} {older}");
    let out = f.drover(&["history", "show", &older[..common]]);
    out.expect(2);
    let err = out.err();
    assert!(err.contains("ambiguous"), "{err}");
    for (id, command) in [(older, "echo one"), (newer, "echo two")] {
        let line = err
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("{err}"));
        assert!(
            line.contains(command) && line.contains("success") && line.contains(" UTC "),
            "{line}"
        );
    }
    let unique = &older[..common + 1];
    let shown = f.drover(&["history", "show", unique]);
    assert!(shown.expect(0).out().contains(older), "{shown:?}");
}

// ------------------------------------- -o grouped compared with `clush -b` ---

/// The node sets of a gathered listing (`----` rule, header, rule), each
/// expanded: the header is `SET (N)` or `SET`, drover adding an outcome.
fn gathered_groups(text: &str) -> BTreeSet<BTreeSet<String>> {
    let rule = |l: &str| l.len() >= 15 && l.chars().all(|c| c == '-');
    let lines: Vec<&str> = text.lines().collect();
    let mut groups = BTreeSet::new();
    let mut i = 0;
    while i + 2 < lines.len() {
        if !(rule(lines[i]) && rule(lines[i + 2])) {
            i += 1;
            continue;
        }
        let set = lines[i + 1].split(" (").next().unwrap();
        let nodes = drover::engine::inventory::nodeset::expand(set)
            .unwrap_or_else(|e| panic!("{set:?}: {e}"));
        groups.insert(nodes.into_iter().collect());
        // The body follows; it never holds a rule line.
        i += 3;
    }
    groups
}

/// A shell `case` giving each node its output line and exit code.
fn per_node_script(var: &str, ends: &[(u8, u8)]) -> String {
    let mut script = format!("case {var} in ");
    for (i, (out, code)) in ends.iter().enumerate() {
        script.push_str(&format!("n{:02}) echo out{out}; exit {code};; ", i + 1));
    }
    script.push_str("esac");
    script
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 16, ..Default::default() })]

    /// Which nodes share a group, for outputs and exit codes drawn at random:
    /// drover's `-o grouped` and ClusterShell's `clush -b` agree.
    #[test]
    fn grouped_output_gathers_nodes_as_clush_b_does(
        ends in proptest::collection::vec((0u8..3, proptest::sample::select(vec![0u8, 1, 3])), 6)
    ) {
        if std::process::Command::new("clush").arg("--version").output().is_err() {
            prereq::missing("clush (ClusterShell) is not installed: -o grouped not compared");
            return Ok(());
        }
        let f = Fleet::nodes(&["n01", "n02", "n03", "n04", "n05", "n06"]);
        let ours = f.run("n[01-06]", &["-o", "grouped"], &per_node_script("$DROVER_NODE", &ends));
        let clush = std::process::Command::new("clush")
            .args(["-R", "exec", "-w", "n[01-06]", "-b", &per_node_script("%h", &ends)])
            .output()
            .unwrap();
        let theirs = String::from_utf8_lossy(&clush.stdout);
        proptest::prop_assert_eq!(
            gathered_groups(&ours.out()),
            gathered_groups(&theirs),
            "drover:\n{}\nclush -b:\n{}",
            ours.out(),
            theirs
        );
    }
}
