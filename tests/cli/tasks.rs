//! Bolt tasks through the real binary on local nodes: discovery and help from the
//! metadata, one validation error listing every bad parameter, both input methods,
//! JSON results, redaction of sensitive parameters in history and journals,
//! journal types, noop, and removal of the uploaded script.

use crate::cli_support;

use cli_support::{Fleet, Out};
use std::path::Path;

/// A module `demo` with tasks written for these tests, and a config whose task
/// path holds it (before drover's own assets).
fn fleet_with_tasks() -> Fleet {
    let f = Fleet::nodes(&["n1", "n2"]);
    let tasks = f.path("modules/demo/tasks");
    std::fs::create_dir_all(&tasks).unwrap();
    std::fs::write(
        tasks.join("echo.json"),
        r#"{
  "description": "Echo parameters back as JSON.",
  "input_method": "environment",
  "journal_type": "provisioning",
  "parameters": {
    "message": {"type": "String[1]", "description": "What to say."},
    "count": {"type": "Integer[1, 10]", "default": 1},
    "mode": {"type": "Enum[fast, slow]", "default": "fast"},
    "token": {"type": "Optional[String]", "sensitive": true}
  }
}"#,
    )
    .unwrap();
    std::fs::write(
        tasks.join("echo.sh"),
        "#!/bin/sh\nprintf '{\"message\":\"%s\",\"count\":%s,\"mode\":\"%s\",\"token_len\":%s,\"path\":\"%s\",\"task\":\"%s\"}\\n' \
         \"$PT_message\" \"$PT_count\" \"$PT_mode\" \"${#PT_token}\" \"$0\" \"$PT__task\"\n",
    )
    .unwrap();
    std::fs::write(
        tasks.join("stdin.json"),
        r#"{"input_method": "stdin", "parameters": {"items": {"type": "Array[Integer]"}}}"#,
    )
    .unwrap();
    // Echoes its whole stdin back: the JSON document drover sent.
    std::fs::write(tasks.join("stdin.sh"), "#!/bin/sh\ncat\n").unwrap();
    let config = f.path("config/drover");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        format!(
            "[tasks]\npath = [{:?}, {:?}]\n",
            f.path_str("modules"),
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("assets/tasks")
                .display()
                .to_string()
        ),
    )
    .unwrap();
    f
}

#[test]
fn list_and_show_come_from_the_metadata() {
    let f = fleet_with_tasks();
    let out = f.drover(&["task", "list"]);
    out.expect(0);
    let names: Vec<String> = out
        .out_lines()
        .iter()
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect();
    for want in ["demo::echo", "demo::stdin", "drover::package"] {
        assert!(names.contains(&want.to_string()), "{want} missing: {out:?}");
    }
    let out = f.drover(&["task", "show", "demo::echo"]);
    out.expect(0);
    let text = out.out();
    for want in [
        "Echo parameters back as JSON.",
        "message  String[1]  (required)",
        "count  Integer[1, 10]  [default: 1]",
        "mode  Enum['fast', 'slow']",
        "token  Optional[String]  (sensitive)",
        "journal: provisioning",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    f.drover(&["task", "show", "demo::nope"])
        .expect(2)
        .err_has("no task \"demo::nope\"");
}

#[test]
fn one_error_lists_every_bad_parameter_and_nothing_runs() {
    let f = fleet_with_tasks();
    let out = f.drover(&[
        "task",
        "run",
        "demo::echo",
        "-t",
        "n1",
        "count=eleven",
        "mode=medium",
        "colour=red",
        "token=s3cret",
    ]);
    out.expect(2);
    let err = out.err();
    for want in [
        "message: is required (String[1]) and missing",
        "count: expects Integer[1, 10], got String \"eleven\"",
        "mode: \"medium\" is not one of fast, slow",
        "colour: not a parameter of demo::echo",
    ] {
        assert!(err.contains(want), "{want:?} not in {err:?}");
    }
    assert_eq!(err.lines().count(), 1, "one error line: {err:?}");
    assert!(!err.contains("s3cret"), "{err:?}");
    assert!(f.history(&[]).is_empty(), "nothing may run");
    f.drover(&[
        "task",
        "run",
        "demo::echo",
        "-t",
        "n1",
        "message=hi",
        "--noop",
    ])
    .expect(2)
    .err_has("does not support noop");
}

#[test]
fn runs_with_environment_input_parses_json_and_redacts_secrets() {
    let f = fleet_with_tasks();
    let tmp = f.path("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut cmd = f.cmd(&[
        "task",
        "run",
        "demo::echo",
        "-t",
        "n1,n2",
        "message=it's ok",
        "count=3",
        "token=s3cret-value",
        "-o",
        "json",
    ]);
    cmd.env("TMPDIR", &tmp);
    let out = cli_support::finish(cmd);
    out.expect(0);
    let results = out.events("task_result");
    assert_eq!(results.len(), 2, "{out:?}");
    for r in &results {
        let v = &r["value"];
        assert_eq!(v["message"], "it's ok", "{out:?}");
        assert_eq!(v["count"], 3);
        assert_eq!(v["mode"], "fast", "default applied");
        assert_eq!(v["token_len"], 12, "the task sees the secret");
        assert_eq!(v["task"], "demo::echo");
        let path = v["path"].as_str().unwrap();
        assert!(path.starts_with(tmp.to_str().unwrap()), "{path}");
        assert!(
            !Path::new(path).exists(),
            "uploaded script left behind: {path}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "temp dirs removed"
    );

    let row = f.only_execution();
    let action = row["action"].as_str().unwrap();
    assert!(action.starts_with("task demo::echo"), "{row}");
    assert!(action.contains("token=[redacted]"), "{row}");
    let everything = format!(
        "{row} {} {}",
        f.show(row["id"].as_str().unwrap()),
        out.out()
    );
    let journal = f.journal("n1");
    assert_eq!(journal.len(), 1, "{journal:?}");
    let entry = &journal[0];
    assert_eq!(entry["entry_type"], "provisioning", "{entry}");
    assert_eq!(entry["execution_id"], row["id"], "{entry}");
    assert_eq!(
        entry["details"]["parameters"]["token"], "[redacted]",
        "{entry}"
    );
    assert_eq!(entry["details"]["value"]["count"], 3, "{entry}");
    assert!(
        !format!("{everything} {journal:?}").contains("s3cret"),
        "secret leaked"
    );
}

#[test]
fn stdin_input_receives_the_parameters_as_one_json_document() {
    let f = fleet_with_tasks();
    let out = f.drover(&[
        "task",
        "run",
        "demo::stdin",
        "-t",
        "n1",
        "items=[1,2,3]",
        "-o",
        "json",
    ]);
    out.expect(0);
    let results = out.events("task_result");
    assert_eq!(
        results[0]["value"]["items"],
        serde_json::json!([1, 2, 3]),
        "{out:?}"
    );
    assert_eq!(results[0]["value"]["_task"], "demo::stdin", "{out:?}");
    f.drover(&["task", "run", "demo::stdin", "-t", "n1", "items=[1,\"x\"]"])
        .expect(2)
        .err_has("items: item 1: expects Integer");
}

#[test]
fn drover_package_task_reports_status_into_the_package_journal() {
    let f = fleet_with_tasks();
    let out = f.drover(&[
        "task",
        "run",
        "drover::package",
        "-t",
        "n1",
        "action=status",
        "name=sh-no-such-pkg",
        "-o",
        "json",
    ]);
    out.expect(0);
    let v = &out.events("task_result")[0]["value"];
    assert_eq!(v["status"], "absent", "{out:?}");
    assert_eq!(v["changed"], false);
    let out = f.drover(&[
        "task",
        "run",
        "drover::package",
        "-t",
        "n1",
        "action=install",
        "name=sh-no-such-pkg",
        "--noop",
        "-o",
        "json",
    ]);
    out.expect(0);
    assert_eq!(
        out.events("task_result")[0]["value"]["noop"],
        true,
        "{out:?}"
    );
    let journal = f.journal("n1");
    assert_eq!(journal.len(), 2, "{journal:?}");
    assert!(
        journal.iter().all(|e| e["entry_type"] == "package"),
        "{journal:?}"
    );
}

#[test]
fn a_sensitive_value_printed_by_the_task_is_redacted_in_its_output() {
    let f = fleet_with_tasks();
    let tasks = f.path("modules/demo/tasks");
    std::fs::write(
        tasks.join("leak.json"),
        r#"{"input_method": "environment",
            "parameters": {"password": {"type": "String[1]", "sensitive": true}}}"#,
    )
    .unwrap();
    std::fs::write(
        tasks.join("leak.sh"),
        "#!/bin/sh\necho \"using $PT_password\"\necho \"bad $PT_password\" >&2\nexit 3\n",
    )
    .unwrap();
    let cmd = f.cmd(&[
        "task",
        "run",
        "demo::leak",
        "-t",
        "n1",
        "password=hunter2-long",
    ]);
    let out = cli_support::finish(cmd);
    assert!(
        out.out().contains("using [redacted]"),
        "output shown redacted: {out:?}"
    );
    let row = f.only_execution();
    out.expect(1);
    let everything = format!(
        "{} {} {} {} {:?}",
        out.out(),
        out.err(),
        row,
        f.show(row["id"].as_str().unwrap()),
        f.journal("n1")
    );
    assert!(
        !everything.contains("hunter2"),
        "secret leaked: {everything}"
    );
}

#[test]
fn a_task_run_with_an_idempotency_key_runs_once() {
    let f = fleet_with_tasks();
    let args = [
        "task",
        "run",
        "demo::echo",
        "-t",
        "n1",
        "message=hi",
        "--idempotency-key",
        "deploy-7",
    ];
    f.drover(&args).expect(0);
    f.drover(&args)
        .expect(0)
        .err_has("succeeded; not run again");
    assert_eq!(f.history(&[]).len(), 1, "the task ran once");
}

/// Local nodes n1, n2 and a task path holding the puppetlabs-shaped modules.
fn fleet_with_bolt_modules() -> Fleet {
    let f = Fleet::nodes(&["n1", "n2"]);
    cli_support::bolt_modules::write_pkg(&f.path("modules"));
    cli_support::bolt_modules::task_config(&f.path("config"), &[&f.path("modules")]);
    f
}

fn names(out: &Out) -> Vec<String> {
    out.out_lines()
        .iter()
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn list_hides_private_tasks_and_names_a_broken_one_beside_the_others() {
    let f = fleet_with_bolt_modules();
    let out = f.drover(&["task", "list"]);
    out.expect(1);
    let names = names(&out);
    for want in ["pkg", "pkg::nometa", "pkg::psonly", "pkg::broken"] {
        assert!(names.contains(&want.to_string()), "{want} missing: {out:?}");
    }
    for private in ["pkg::linux", "pkg::windows"] {
        assert!(
            !names.contains(&private.to_string()),
            "{private} listed: {out:?}"
        );
    }
    assert!(!names.iter().any(|n| n.contains("README")), "{out:?}");
    let broken = out
        .out_lines()
        .into_iter()
        .find(|l| l.starts_with("pkg::broken"))
        .unwrap();
    assert!(
        broken.contains("BROKEN")
            && broken.contains("broken.json")
            && broken.contains("unknown type Strng"),
        "{broken}"
    );
    f.drover(&["task", "show", "pkg::broken"])
        .expect(2)
        .err_has("unknown type Strng");
    f.drover(&["task", "run", "pkg::broken", "-t", "n1"])
        .expect(2)
        .err_has("broken.json");
    // Private tasks are shown and run by name; the last of a repeated key wins.
    let show = f.drover(&["task", "show", "pkg::linux"]);
    show.expect(0);
    assert!(show.out().contains("(last key wins)"), "{show:?}");
    assert!(show.out().contains("private"), "{show:?}");
    let show = f.drover(&["task", "show", "pkg"]);
    show.expect(0);
    let text = show.out();
    for want in [
        "token  Optional[Sensitive[String[1]]]  (sensitive)",
        "init.rb (requires puppet-agent), windows.ps1 (requires powershell), linux.sh (requires shell)",
        "runs with puppet-agent:",
        "runs: ",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("runs: ") && l.ends_with("linux.sh")),
        "{text}"
    );
}

#[test]
fn the_shell_implementation_runs_with_its_files_and_installdir_and_nothing_else_runs() {
    let f = fleet_with_bolt_modules();
    let dest = f.path("dest");
    let tmp = f.path("tmp");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let mut cmd = f.cmd(&[
        "task",
        "run",
        "pkg",
        "-t",
        "n1,n2",
        "action=install",
        "name=htop",
        &format!("dest={}", dest.display()),
        "token=s3cret-token",
        "opts={\"mode\":\"safe\",\"retries\":2}",
        "-o",
        "json",
    ]);
    cmd.env("TMPDIR", &tmp);
    let out = cli_support::finish(cmd);
    out.expect(0);
    let results = out.events("task_result");
    assert_eq!(results.len(), 2, "{out:?}");
    for r in &results {
        assert_eq!(r["value"]["status"], "install:htop", "{out:?}");
    }
    // The real effect: one file per node, written with both shipped libraries.
    let mut written: Vec<String> = std::fs::read_dir(&dest)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written.len(), 2, "{written:?}");
    for w in &written {
        assert!(
            w.starts_with("out."),
            "only the shell implementation ran: {written:?}"
        );
        let text = std::fs::read_to_string(dest.join(w)).unwrap();
        assert_eq!(text, "install:htop token_len=12\n");
    }
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "install dirs removed"
    );
    let row = f.only_execution();
    let everything = format!(
        "{row} {} {}",
        f.show(row["id"].as_str().unwrap()),
        out.out()
    );
    assert!(
        !everything.contains("s3cret"),
        "Sensitive value leaked: {everything}"
    );
    f.drover(&[
        "task",
        "run",
        "pkg",
        "-t",
        "n1",
        "action=status",
        "name=x",
        &format!("dest={}", dest.display()),
        "opts={\"mode\":\"slow\"}",
    ])
    .expect(2)
    .err_has("opts: mode: \"slow\" is not one of fast, safe");
}

#[test]
fn a_task_with_only_a_powershell_implementation_fails_clearly_and_runs_nothing() {
    let f = fleet_with_bolt_modules();
    let out = f.drover(&["task", "run", "pkg::psonly", "-t", "n1"]);
    out.expect(2)
        .err_has("task pkg::psonly: no implementation drover can run on ssh or local nodes")
        .err_has("windows.ps1 (requires powershell)");
    assert!(f.history(&[]).is_empty(), "nothing may run");
}

#[test]
fn a_task_needing_puppet_agent_fails_on_a_node_without_it_and_runs_nothing() {
    let f = fleet_with_bolt_modules();
    let dest = f.path("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let out = f.drover(&[
        "task",
        "run",
        "pkg::agentonly",
        "-t",
        "n1",
        &format!("dest={}", dest.display()),
    ]);
    assert_ne!(out.code(), 0, "{out:?}");
    assert!(
        format!("{}{}", out.out(), out.err()).contains(
            "task pkg::agentonly needs puppet-agent on this node (/opt/puppetlabs/puppet/bin/puppet not found)"
        ),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        0,
        "the Ruby implementation ran"
    );
    assert_eq!(f.only_execution()["status"], "failed");
}

#[test]
fn a_task_without_metadata_runs_its_one_executable() {
    let f = fleet_with_bolt_modules();
    let out = f.drover(&[
        "task",
        "run",
        "pkg::nometa",
        "-t",
        "n1",
        "greeting=hello",
        "-o",
        "json",
    ]);
    out.expect(0);
    assert_eq!(
        out.events("task_result")[0]["value"]["greeting"],
        "hello",
        "{out:?}"
    );
}

#[test]
fn a_project_is_named_by_bolt_project_yaml() {
    let f = Fleet::nodes(&["n1"]);
    let project = f.path("some-dir");
    std::fs::create_dir_all(project.join("tasks")).unwrap();
    std::fs::write(project.join("bolt-project.yaml"), "---\nname: myproj\n").unwrap();
    std::fs::write(
        project.join("tasks/hello.sh"),
        "#!/bin/sh\necho '{\"hi\":1}'\n",
    )
    .unwrap();
    let other = f.path("unnamed");
    std::fs::create_dir_all(other.join("tasks")).unwrap();
    std::fs::write(other.join("bolt-project.yaml"), "modulepath: [modules]\n").unwrap();
    std::fs::write(other.join("tasks/x.sh"), "#!/bin/sh\n").unwrap();
    cli_support::bolt_modules::task_config(
        &f.path("config"),
        &[&project.join("tasks"), &other.join("tasks")],
    );
    let out = f.drover(&["task", "list"]);
    out.expect(1);
    let names = names(&out);
    assert!(names.contains(&"myproj::hello".to_string()), "{out:?}");
    assert!(!names.iter().any(|n| n.starts_with("some")), "{out:?}");
    assert!(
        out.out().contains("bolt-project.yaml: no `name`"),
        "{out:?}"
    );
    let run = f.drover(&["task", "run", "myproj::hello", "-t", "n1", "-o", "json"]);
    run.expect(0);
    assert_eq!(run.events("task_result")[0]["value"]["hi"], 1, "{run:?}");
}

/// A task's result as Bolt reads it: an `_error` it prints fails the node even
/// with exit 0, other output is `_output`, a non-zero exit adds an `_error`
/// naming what was printed, a malformed `_error` is replaced by one that says so.
#[test]
fn task_results_are_read_as_bolt_reads_them() {
    let f = Fleet::nodes(&["n1"]);
    let project = f.path("proj");
    std::fs::create_dir_all(project.join("tasks")).unwrap();
    std::fs::write(project.join("bolt-project.yaml"), "---\nname: res\n").unwrap();
    let tasks = [
        (
            "reports",
            "echo '{\"_error\": {\"msg\": \"no such package\"}}'",
        ),
        ("silent", "true"),
        ("texty", "echo hello"),
        ("malformed", "echo '{\"_error\": \"boom\"}'"),
        ("fails", "echo 'disk full' >&2; exit 3"),
    ];
    for (name, body) in tasks {
        std::fs::write(
            project.join(format!("tasks/{name}.sh")),
            format!("#!/bin/sh\n{body}\n"),
        )
        .unwrap();
    }
    cli_support::bolt_modules::task_config(&f.path("config"), &[&project.join("tasks")]);
    let result = |task: &str, code: i32| {
        let out = f.drover(&[
            "task",
            "run",
            &format!("res::{task}"),
            "-t",
            "n1",
            "-o",
            "json",
        ]);
        out.expect(code);
        out.events("task_result")[0].clone()
    };
    let r = result("reports", 1);
    assert_eq!(r["status"], "failed", "{r}");
    assert_eq!(r["value"]["_error"]["msg"], "no such package", "{r}");
    let r = result("silent", 0);
    assert_eq!(r["value"], serde_json::json!({"_output": ""}), "{r}");
    let r = result("texty", 0);
    assert_eq!(r["value"], serde_json::json!({"_output": "hello\n"}), "{r}");
    let r = result("malformed", 1);
    assert_eq!(
        r["value"]["_error"]["kind"], "bolt/invalid-task-error",
        "{r}"
    );
    let r = result("fails", 1);
    assert_eq!(
        r["value"]["_error"]["msg"],
        "The task failed with exit code 3 and no stdout, but stderr contained:\ndisk full\n",
        "{r}"
    );
    // History tells the same: the run that printed its own error failed.
    let failed = f
        .history(&[])
        .iter()
        .filter(|e| e["status"] == "failed")
        .count();
    assert_eq!(failed, 3, "{:?}", f.history(&[]));
}

/// A private task is hidden from `task list` but runs when named, as in Bolt.
#[test]
fn a_private_task_runs_when_named() {
    let f = fleet_with_bolt_modules();
    let dest = f.path("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let out = f.drover(&[
        "task",
        "run",
        "pkg::linux",
        "-t",
        "n1",
        "action=install",
        "name=htop",
        &format!("dest={}", dest.display()),
        "-o",
        "json",
    ]);
    out.expect(0);
    let written: Vec<_> = std::fs::read_dir(&dest).unwrap().flatten().collect();
    assert_eq!(written.len(), 1, "{out:?}");
    let text = std::fs::read_to_string(written[0].path()).unwrap();
    assert!(text.starts_with("install:htop"), "{text}");
}

/// SIGTERM (as `timeout(1)`, systemd and cron send it) and SIGHUP cancel a task
/// run as they cancel a command: exit 128 + the signal, history `cancelled`, and
/// the task's whole process tree on the node ended.
#[test]
fn sigterm_and_sighup_cancel_a_task_run_and_end_its_processes() {
    use cli_support::{KillOnDrop, Running, eventually, pid_gone, s};
    use nix::sys::signal::{Signal, kill};
    use std::time::Duration;
    for (signal, code) in [(Signal::SIGTERM, 143), (Signal::SIGHUP, 129)] {
        let f = Fleet::nodes(&["n1"]);
        let project = f.path("proj");
        std::fs::create_dir_all(project.join("tasks")).unwrap();
        std::fs::write(project.join("bolt-project.yaml"), "---\nname: slow\n").unwrap();
        let pids = f.path("pids");
        std::fs::write(
            project.join("tasks/wait.sh"),
            format!(
                "#!/bin/sh\nsleep 300 &\necho \"$$ $!\" > {0}.tmp && mv {0}.tmp {0}\nwait\n",
                pids.display()
            ),
        )
        .unwrap();
        cli_support::bolt_modules::task_config(&f.path("config"), &[&project.join("tasks")]);
        let mut guard = KillOnDrop::default();
        let run = Running::start(f.cmd(&["task", "run", "slow::wait", "-t", "n1"]));
        assert!(
            eventually(Duration::from_secs(30), || pids.exists()),
            "the task never started"
        );
        let text = std::fs::read_to_string(&pids).unwrap();
        let (shell, sleeper) = text.trim().split_once(' ').expect("two pids");
        guard.group(shell.parse().expect("task pid"));
        let sleeper: i32 = sleeper.parse().expect("sleep pid");
        let t = std::time::Instant::now();
        kill(run.pid(), signal).unwrap();
        let (status, _, err) = run.wait(Duration::from_secs(30));
        assert_eq!(status.code(), Some(code), "{signal}: {err}");
        assert_eq!(s(&f.only_execution(), "status"), "cancelled", "{signal}");
        assert!(
            eventually(Duration::from_secs(5), || pid_gone(sleeper)),
            "{signal}: the task's sleep {sleeper} survived"
        );
        println!(
            "FAULT-ROW {}-task: exit {code} in {:.2} s, history cancelled, 0 processes left",
            signal.as_str().to_lowercase(),
            t.elapsed().as_secs_f64()
        );
    }
}
