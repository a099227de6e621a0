//! `drover facts TARGETS`: each node's facts as a table (node, key, value,
//! source) or JSON. Exit 0 when every provider answered on every node, 1 when
//! some failed (their reasons go to stderr), 4 when nothing matched.

use super::run::exit_code_for;
use crate::app::exit;
use crate::app::setup::Runtime;
use crate::cli::FactsArgs;
use crate::engine::facts::FactSet;
use crate::ui::sanitize::{SanitizeOptions, sanitize};
use serde_json::{Value, json};
use std::io::{self, IsTerminal, Write};

pub async fn facts(args: &FactsArgs, rt: &Runtime) -> u8 {
    let nodes = match rt.engine.inventory().resolve(&args.targets) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit_code_for(&e);
        }
    };
    let names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
    let read = rt
        .engine
        .read_facts(&rt.context, &names, args.refresh, rt.config.facts.fanout);
    let results = match read.await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit_code_for(&e);
        }
    };
    let mut code = exit::SUCCESS;
    let mut sets = Vec::new();
    for r in results {
        match r {
            Ok(set) => {
                for f in &set.failures {
                    eprintln!(
                        "drover: {}: fact provider {} failed: {}",
                        set.node, f.provider, f.reason
                    );
                    code = exit::FAILED;
                }
                sets.push(set);
            }
            Err(e) => {
                eprintln!("drover: {e}");
                code = exit::FAILED;
            }
        }
    }
    let written = if args.json {
        write_json(&sets, &args.keys)
    } else {
        write_table(&sets, &args.keys)
    };
    match written {
        Ok(()) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            eprintln!("drover: cannot write the facts: {e}");
            exit::FAILED
        }
    }
}

fn wanted<'a>(
    set: &'a FactSet,
    keys: &'a [String],
) -> impl Iterator<Item = (&'a String, &'a crate::engine::facts::Fact)> {
    set.facts
        .iter()
        .filter(move |(k, _)| keys.is_empty() || keys.contains(k))
}

fn write_json(sets: &[FactSet], keys: &[String]) -> io::Result<()> {
    let mut all = serde_json::Map::new();
    for set in sets {
        let facts: serde_json::Map<String, Value> = wanted(set, keys)
            .map(|(k, f)| (k.clone(), json!({"value": f.value, "source": f.source})))
            .collect();
        all.insert(
            set.node.clone(),
            json!({"facts": facts, "failures": set.failures,
                   "collected_at": set.collected_at, "cached": set.cached}),
        );
    }
    let mut out = io::stdout().lock();
    writeln!(out, "{:#}", Value::Object(all))
}

/// Text for a terminal cell: strings as they are, other values as JSON;
/// sanitised when stdout is a terminal (remote text is hostile).
fn cell(value: &Value, tty: bool) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    };
    // One row per fact, even for a multi-line value.
    let text = text.replace('\n', "\\n");
    if tty {
        sanitize(text.as_bytes(), &SanitizeOptions::default())
    } else {
        text
    }
}

fn write_table(sets: &[FactSet], keys: &[String]) -> io::Result<()> {
    let tty = io::stdout().is_terminal();
    let mut rows: Vec<[String; 4]> = vec![["NODE", "KEY", "VALUE", "SOURCE"].map(String::from)];
    for set in sets {
        for (k, f) in wanted(set, keys) {
            rows.push([
                set.node.clone(),
                k.clone(),
                cell(&f.value, tty),
                f.source.clone(),
            ]);
        }
    }
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = io::BufWriter::new(io::stdout().lock());
    for r in &rows {
        writeln!(out, "{:w0$}  {:w1$}  {:w2$}  {}", r[0], r[1], r[2], r[3])?;
    }
    out.flush()
}
