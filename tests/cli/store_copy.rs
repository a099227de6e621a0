//! `drover store copy`: an operator's SQLite history and journals copied into a
//! team's PostgreSQL database (a real server the test starts), read back through
//! drover pointed at it, copied again without duplicates, and resumed with only
//! what is new.

use crate::cli_support::{Fleet, finish, s};
use crate::pg_support;
use serde_json::Value;

/// `drover ARGS...` on the fleet, reading and writing the store at `url`.
fn on_store(f: &Fleet, url: &str, args: &[&str]) -> crate::cli_support::Out {
    let mut cmd = f.cmd(args);
    cmd.env("DROVER_STORE_URL", url);
    finish(cmd)
}

fn json(f: &Fleet, url: Option<&str>, args: &[&str]) -> Value {
    let out = match url {
        Some(url) => on_store(f, url, args),
        None => f.drover(args),
    };
    out.expect(0);
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// What must read back the same from either store: every run as history lists
/// it, each node's journal (without the store-assigned ids), and the stored output.
fn record(f: &Fleet, url: Option<&str>, nodes: &[&str]) -> Vec<Value> {
    let mut all = vec![json(f, url, &["history", "--json"])];
    for node in nodes {
        let mut journal = json(f, url, &["journal", node, "--json"]);
        for entry in journal.as_array_mut().expect("journal array") {
            entry.as_object_mut().expect("entry").remove("id");
        }
        all.push(journal);
    }
    all
}

#[test]
fn copies_history_and_journals_once_then_only_what_is_new() {
    let Some(server) = pg_support::shared() else {
        return;
    };
    let url = server.fresh_database();
    let f = Fleet::nodes(&["n01", "n02", "n03"]);
    f.run("n[01-03]", &[], "echo one").expect(0);
    f.run("n[01-02]", &["--debug"], "echo two; echo oops >&2; exit 3")
        .expect(1);
    f.drover(&["journal", "add", "n01", "-m", "disk replaced at 03:10"])
        .expect(0);
    let nodes = ["n01", "n02", "n03"];

    let copied = f.drover(&["store", "copy", "--to", &url]);
    copied.expect(0);
    assert!(
        copied.out().starts_with("2 run(s) copied, 0 already in"),
        "{}",
        copied.out()
    );
    assert!(
        !copied.out().contains(server.password()) && !copied.err().contains(server.password()),
        "the password was printed: {} {}",
        copied.out(),
        copied.err()
    );
    assert_eq!(record(&f, Some(&url), &nodes), record(&f, None, &nodes));
    // The debug run's stored output travelled too, byte for byte.
    let debug_run = s(&f.latest(), "id").to_string();
    let show = |url: Option<&str>| {
        let args = ["history", "show", &debug_run, "--output", "-o", "lines"];
        match url {
            Some(url) => on_store(&f, url, &args),
            None => f.drover(&args),
        }
    };
    let (here, there) = (show(None), show(Some(&url)));
    assert_eq!((there.out(), there.err()), (here.out(), here.err()));
    assert!(here.out().contains("n01: two"), "{}", here.out());

    // Again: nothing is copied twice.
    let again = f.drover(&["store", "copy", "--to", &url]);
    again.expect(0);
    assert!(
        again.out().starts_with("0 run(s) copied, 2 already in")
            && again.out().ends_with(", 0 journal entr(ies) copied\n"),
        "{}",
        again.out()
    );
    assert_eq!(record(&f, Some(&url), &nodes), record(&f, None, &nodes));

    // New work on the operator's side: only it goes over.
    f.run("n03", &[], "echo three").expect(0);
    let more = f.drover(&["store", "copy", "--to", &url]);
    more.expect(0);
    assert!(
        more.out().starts_with("1 run(s) copied, 2 already in"),
        "{}",
        more.out()
    );
    assert_eq!(record(&f, Some(&url), &nodes), record(&f, None, &nodes));
}

#[test]
fn a_missing_source_or_target_is_named_and_nothing_is_created() {
    let f = Fleet::nodes(&["n01"]);
    let missing = f.path("nowhere.db");
    let out = f.drover(&[
        "store",
        "copy",
        "--from",
        &format!("sqlite:{}", missing.display()),
        "--to",
        "postgres://u:pw@127.0.0.1:1/x",
    ]);
    out.expect(2);
    assert!(out.err().contains("no such store file"), "{}", out.err());
    assert!(!missing.exists());
    let out = f.drover(&["store", "copy"]);
    out.expect(2);
    assert!(out.err().contains("no target"), "{}", out.err());
    let out = f.drover(&["store", "copy", "--to", "mysql://root:hunter2@db/x"]);
    out.expect(2);
    assert!(
        out.err().contains("mysql:") && !out.err().contains("hunter2"),
        "{}",
        out.err()
    );
}
