//! End-to-end tests of RBAC, secrets, the config file and `drover status`
//! through the real `drover` binary: refusals exit 3 and leave audit entries,
//! secrets never reach the state dir or logs, config errors name file:line.

use crate::cli_support;

use cli_support::{Fleet, Out, files_containing, s};
use serde_json::Value;

/// The account RBAC identifies the caller by (not `$USER`).
fn me() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .expect("passwd")
        .expect("passwd entry")
        .name
}

fn fleet() -> Fleet {
    Fleet::new(
        "nodes:\n  web1: { groups: [web] }\n  web2: { groups: [web] }\n  db1: { groups: [db] }\n",
    )
}

/// Writes `config.toml` into the fleet dir and runs drover with it.
fn with_config(f: &Fleet, toml: &str, args: &[&str]) -> Out {
    let path = f.path("config.toml");
    std::fs::write(&path, toml).expect("write config");
    let mut all = vec!["--config", path.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    f.drover(&all)
}

fn oncall(user: &str) -> String {
    format!(
        r#"
[rbac.roles.web-oncall]
capabilities = ["command.run", "inventory.read"]
targets = "@web"
deny_commands = ["reboot"]

[rbac.roles.auditor]
capabilities = ["history.read", "journal.read"]

[rbac.users]
{user} = ["web-oncall"]
auditor-only = ["auditor"]
"#
    )
}

fn events(f: &Fleet, node: &str) -> Vec<Value> {
    // Without --config there is no [rbac]: the local user is admin and may read.
    f.json(&["journal", node, "--type", "event", "--json"])
        .as_array()
        .expect("array")
        .clone()
}

#[test]
fn run_outside_the_role_targets_exits_3_names_capability_and_node_and_is_audited() {
    let f = fleet();
    let marker = f.path_str("ran");
    let cfg = oncall(&me());
    let out = with_config(
        &f,
        &cfg,
        &["run", "-t", "web1,db1", "--", &format!("touch {marker}")],
    );
    out.expect(3).err_has("command.run").err_has("db1");
    assert!(!out.err().contains("web1"), "web1 is allowed: {out:?}");
    assert!(!f.path("ran").exists(), "ran despite the refusal");
    assert!(
        f.history(&[]).is_empty(),
        "a refused run is not an execution"
    );
    let audit = events(&f, "db1");
    assert_eq!(audit.len(), 1, "{audit:#?}");
    assert_eq!(s(&audit[0], "status"), "denied");
    assert_eq!(s(&audit[0], "user"), me());
    assert!(s(&audit[0], "action").contains("command.run"), "{audit:#?}");
    assert!(events(&f, "web1").is_empty());

    with_config(
        &f,
        &cfg,
        &["run", "-t", "@web", "--", &format!("touch {marker}")],
    )
    .expect(0);
    assert!(f.path("ran").exists());
}

#[test]
fn denied_command_pattern_and_missing_capability_exit_3() {
    let f = fleet();
    let cfg = oncall(&me());
    with_config(&f, &cfg, &["run", "-t", "web1", "--", "echo x;  reboot"])
        .expect(3)
        .err_has("reboot");
    with_config(&f, &cfg, &["history"])
        .expect(3)
        .err_has("history.read");
    with_config(&f, &cfg, &["events"])
        .expect(3)
        .err_has("history.read");
    with_config(&f, &cfg, &["journal", "web1"])
        .expect(3)
        .err_has("journal.read");
    with_config(&f, &cfg, &["journal", "add", "web1", "-m", "note"])
        .expect(3)
        .err_has("journal.write");
    // Refusals of actions on no node are journaled on the pseudo node `drover`.
    let audit = events(&f, "drover");
    assert_eq!(audit.len(), 2, "history and events: {audit:#?}");
    assert!(
        audit
            .iter()
            .all(|e| s(e, "action").contains("history.read"))
    );
    assert_eq!(
        events(&f, "web1").len(),
        3,
        "command, journal read, journal write"
    );
}

#[test]
fn user_without_role_is_refused_and_inventory_shows_only_role_targets() {
    let f = fleet();
    let nobody = oncall("someone-else");
    with_config(&f, &nobody, &["run", "-t", "web1", "--", "true"])
        .expect(3)
        .err_has("has no role");
    let out = with_config(&f, &oncall(&me()), &["inventory", "list"]);
    out.expect(0);
    assert_eq!(out.out_lines(), ["web1", "web2"]);
    with_config(&f, &oncall(&me()), &["inventory", "list", "-t", "db1"]).expect(3);
}

#[test]
fn acting_as_another_user_is_for_admins_only() {
    let f = fleet();
    with_config(&f, &oncall(&me()), &["--as", "auditor-only", "history"])
        .expect(3)
        .err_has("admin");
    let admin = format!(
        "{}\n[rbac.roles.root]\ncapabilities = [\"admin\"]\n",
        oncall(&me())
    )
    .replace("= [\"web-oncall\"]", "= [\"web-oncall\", \"root\"]");
    with_config(
        &f,
        &admin,
        &["--as", "auditor-only", "run", "-t", "web1", "--", "true"],
    )
    .expect(3)
    .err_has("auditor-only");
    with_config(&f, &admin, &["--as", "auditor-only", "history", "--json"]).expect(0);
    with_config(&f, &admin, &["run", "-t", "db1", "--", "true"]).expect(0);
    assert_eq!(s(&f.only_execution(), "user"), me());
}

#[test]
fn without_rbac_section_the_local_user_is_admin() {
    let f = fleet();
    with_config(
        &f,
        "[logging]\nlevel = \"debug\"\n",
        &["run", "-t", "all", "--", "true"],
    )
    .expect(0);
    with_config(
        &f,
        "",
        &["--as", "someone", "run", "-t", "db1", "--", "true"],
    )
    .expect(0);
    assert_eq!(s(&f.latest(), "user"), "someone");
}

#[test]
fn secrets_never_reach_the_state_dir_logs_or_json_output() {
    let f = fleet();
    let flagged = "Fl4gged-s3cret-VALUE";
    let by_name = "n4med-t0ken-VALUE";
    let by_config = "c0nfig-p4ttern-VALUE";
    let cfg = "[secrets]\npatterns = [\"*_TOKEN\", \"VAULT_*\"]\n";
    let cmd = format!(
        "echo \"$API\"; printf 'split-{}' ; printf '{}\\n'; echo \"$GH_TOKEN\" >&2; \
         echo {by_config}; curl -H 'X-Auth: {flagged}' 2>&1 | tail -0; exit 3",
        &flagged[..5],
        &flagged[5..]
    );
    let secret_env = format!("API={flagged}");
    let env_token = format!("GH_TOKEN={by_name}");
    let env_vault = format!("VAULT_PASS={by_config}");
    let path = f.path("config.toml");
    std::fs::write(&path, cfg).expect("write config");
    let mut run = f.cmd(&[
        "--config",
        path.to_str().expect("utf-8"),
        "run",
        "-t",
        "web1,db1",
        "--debug",
        "-o",
        "json",
        "--secret-env",
        &secret_env,
        "-e",
        &env_token,
        "-e",
        &env_vault,
        "--",
        &cmd,
    ]);
    run.env("DROVER_LOG", "trace");
    let out = cli_support::finish(run);
    out.expect(1);
    for secret in [flagged, by_name, by_config] {
        assert!(
            !out.out().contains(secret),
            "{secret} in JSON output: {out:?}"
        );
        assert!(!out.err().contains(secret), "{secret} on stderr: {out:?}");
    }
    let redacted = out.out().matches("[redacted]").count();
    assert!(
        redacted >= 8,
        "expected redacted lines and command: {out:?}"
    );
    // Drover itself showed the history and journal entries, and closed the store.
    let shown = f.show(s(&f.only_execution(), "id"));
    assert_eq!(shown["execution"]["options"]["env"]["API"], "[redacted]");
    assert_eq!(
        shown["execution"]["options"]["env"]["GH_TOKEN"],
        "[redacted]"
    );
    assert!(!f.journal("web1").is_empty());
    for secret in [flagged, by_name, by_config] {
        let hits = files_containing(&f.state, secret.as_bytes());
        assert!(hits.is_empty(), "{secret} found in {hits:?}");
    }
    println!(
        "FAULT-ROW secret-redaction: 3 secrets, {redacted} redactions in JSON, 0 files in the state dir (db, WAL, logs) hold one"
    );
}

#[test]
fn config_errors_name_file_line_and_key() {
    let f = fleet();
    let cases: &[(&str, usize, &str)] = &[
        (
            "[rbac.roles.ops]\ncapabilities = [\"command.run\"]\ncolour = 1\n",
            3,
            "colour",
        ),
        (
            "[rbac.roles.ops]\ncapabilities = [\"command.fly\"]\n",
            2,
            "capabilities",
        ),
        (
            "[rbac.roles.ops]\ncapabilities = []\ntargets = \"@web[\"\n",
            3,
            "targets",
        ),
        (
            "[rbac.roles.ops]\ncapabilities = []\n\n[rbac.users]\nbob = [\"nope\"]\n",
            5,
            "bob",
        ),
        (
            "[logging]\nlevel = \"info\"\n\n[journal]\nretention = \"5x\"\n",
            5,
            "retention",
        ),
        (
            "[journal]\ntypes = [\"execution\", \"gossip\"]\n",
            2,
            "types",
        ),
        ("[journal.transports.ssh]\nlevel = \"some\"\n", 2, "level"),
        ("[ui]\ntheme = \"neon\"\n", 2, "theme"),
        (
            "[ui]\nconfirm_above_nodes = \"many\"\n",
            2,
            "confirm_above_nodes",
        ),
        ("[secrets]\npatterns = [\"*\"]\n", 2, "patterns"),
        (
            "[execution]\nfanout = 8\n[logging]\nretention = \"1h\"\n",
            4,
            "retention",
        ),
    ];
    for (toml, line, key) in cases {
        let out = with_config(&f, toml, &["history"]);
        out.expect(2);
        let want = format!("config.toml:{line}:");
        assert!(out.err().contains(&want), "{toml:?}: lacks {want}: {out:?}");
        assert!(
            out.err().contains(key),
            "{toml:?}: lacks key {key}: {out:?}"
        );
    }
}

#[test]
fn journal_level_failures_skips_successful_nodes() {
    let f = fleet();
    let cfg = "[journal]\nlevel = \"failures\"\n";
    with_config(
        &f,
        cfg,
        &["run", "-t", "web1,db1", "--", "[ \"$DROVER_NODE\" = web1 ]"],
    )
    .expect(1);
    assert!(f.journal("web1").is_empty(), "web1 succeeded");
    assert_eq!(f.journal("db1").len(), 1);
}

#[test]
fn status_reports_engine_store_and_transports() {
    let f = fleet();
    f.drover(&["run", "-t", "web1", "--", "true"]).expect(0);
    let report = f.json(&["status", "--json"]);
    assert_eq!(report["healthy"], true, "{report:#}");
    assert_eq!(report["store"]["ok"]["intact"], true, "{report:#}");
    assert_eq!(report["store"]["ok"]["executions"], 1, "{report:#}");
    assert_eq!(report["engine"]["rbac_enforced"], false);
    assert_eq!(report["queue"]["depth"], 0, "{report:#}");
    assert_eq!(report["queue"]["max_depth"], 1000, "{report:#}");
    let names: Vec<&str> = report["transports"]
        .as_array()
        .expect("transports")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert!(names.contains(&"local"), "{report:#}");
    let text = f.drover(&["status"]);
    text.expect(0);
    assert!(text.out().contains("integrity ok"), "{text:?}");
    assert!(
        text.out()
            .contains("0 of at most 1000 runs waiting to start"),
        "{text:?}"
    );
}
