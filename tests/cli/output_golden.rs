//! Golden files for the text a script reads: `drover run -o lines|grouped|json`
//! and `drover history show ID -o lines|grouped|json` of one small fixed run on
//! local nodes (sequential, so the order is fixed), compared byte for byte
//! after run ids, users and durations are normalised. `DROVER_BLESS=1`
//! rewrites the files under tests/cli/golden/ instead of comparing.

use crate::cli_support;

use cli_support::{Fleet, Out, s};
use std::path::PathBuf;

const SCRIPT: &str = "echo hello; printf 'tab\\there\\n'; \
    [ $DROVER_NODE = n02 ] && { echo bad >&2; exit 3; }; \
    [ $DROVER_NODE = n04 ] && { echo other; }; true";
const NODES: &str = "n[01-04]";
const FORMATS: [&str; 3] = ["lines", "grouped", "json"];

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli/golden")
        .join(format!("{name}.txt"))
}

/// Run ids are 16 hex digits; durations and users vary by run and machine;
/// and the order between one node's stdout and stderr lines is not defined
/// (two pipes), so a node's consecutive output lines are put stdout first.
fn normalise(text: &str, ids: &[String]) -> String {
    let mut text = text.to_string();
    for id in ids {
        text = text.replace(id.as_str(), "<ID>");
    }
    // (the node whose output this line is, stderr?, the line)
    let mut lines: Vec<(Option<String>, bool, String)> = Vec::new();
    for line in text.lines() {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(mut v) if v.is_object() => {
                for key in ["duration_ms", "user", "correlation_id"] {
                    if let Some(field) = v.get_mut(key) {
                        *field = serde_json::json!(format!("<{}>", key.to_uppercase()));
                    }
                }
                let node = (v["event"] == "output").then(|| v["node"].to_string());
                lines.push((node, v["stream"] == "stderr", v.to_string()));
            }
            _ => lines.push((None, false, line.to_string())),
        }
    }
    let mut i = 0;
    while i < lines.len() {
        let mut j = i + 1;
        while lines[i].0.is_some() && j < lines.len() && lines[j].0 == lines[i].0 {
            j += 1;
        }
        lines[i..j].sort_by_key(|(_, stderr, _)| *stderr);
        i = j;
    }
    lines.into_iter().map(|(_, _, l)| l + "\n").collect()
}

fn transcript(out: &Out, ids: &[String]) -> String {
    format!(
        "--- exit {}\n--- stdout\n{}--- stderr\n{}",
        out.code(),
        normalise(&out.out(), ids),
        normalise(&out.err(), ids)
    )
}

fn check(name: &str, actual: &str) -> Option<String> {
    let path = golden_path(name);
    if std::env::var_os("DROVER_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (DROVER_BLESS=1 writes it)", path.display()));
    (expected != actual).then(|| {
        format!(
            "{} differs (DROVER_BLESS=1 rewrites it):\n--- expected\n{expected}--- actual\n{actual}",
            path.display()
        )
    })
}

#[test]
fn run_and_history_show_print_the_golden_text() {
    let f = Fleet::nodes(&["n01", "n02", "n03", "n04"]);
    let mut failures = Vec::new();
    let mut runs = Vec::new();
    for format in FORMATS {
        let out = f.run(NODES, &["--sequential", "-o", format], SCRIPT);
        let id = s(&f.latest(), "id").to_string();
        runs.push((format, id.clone()));
        failures.extend(check(&format!("run-{format}"), &transcript(&out, &[id])));
    }
    let ids: Vec<String> = runs.iter().map(|(_, id)| id.clone()).collect();
    let (_, id) = &runs[0];
    for format in FORMATS {
        let out = f.drover(&["history", "show", id, "--output", "-o", format]);
        failures.extend(check(
            &format!("history-show-{format}"),
            &transcript(&out, &ids),
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
