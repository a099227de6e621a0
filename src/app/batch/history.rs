//! `drover history`, `drover history show`, `drover metrics`: reading the store.

use crate::app::exit;
use crate::cli::{HistoryArgs, HistoryCommand, MetricsArgs};
use crate::engine::ExecutionStatus;
use crate::engine::duration::format_duration;
use crate::store::{ExecutionRecord, HistoryFilter, Store, StoreError};
use crate::ui::time::{format_time, parse_time};
use std::io::{self, Write};
use std::time::Duration;

fn time_flag(flag: &str, value: &Option<String>) -> Result<Option<i64>, String> {
    value
        .as_deref()
        .map(|v| parse_time(v).map_err(|e| format!("{flag}: {e}")))
        .transpose()
}

pub fn history(args: &HistoryArgs, store: &Store) -> u8 {
    if let Some(HistoryCommand::Show { id, output, json }) = &args.show {
        return show(store, id, *output, *json);
    }
    let filter = match build_filter(args) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::USAGE;
        }
    };
    match store.history(&filter) {
        Ok(rows) if args.json => print_json(&rows),
        Ok(rows) => print_table(&rows),
        Err(e) => store_error(e),
    }
}

fn build_filter(args: &HistoryArgs) -> Result<HistoryFilter, String> {
    if let Some(s) = &args.status
        && ExecutionStatus::parse(s).is_none()
    {
        return Err(format!(
            "--status: {s:?} is not one of queued, running, success, failed, partial, timeout, cancelled, interrupted"
        ));
    }
    Ok(HistoryFilter {
        since: time_flag("--since", &args.since)?,
        until: time_flag("--until", &args.until)?,
        user: args.user.clone(),
        target: args.target.clone(),
        status: args.status.clone(),
        limit: Some(args.limit),
    })
}

fn print_json<T: serde::Serialize>(value: &T) -> u8 {
    let mut out = io::stdout().lock();
    if serde_json::to_writer_pretty(&mut out, value).is_ok() {
        let _ = writeln!(out);
    }
    exit::SUCCESS
}

fn print_table(rows: &[ExecutionRecord]) -> u8 {
    let mut out = io::stdout().lock();
    let _ = writeln!(
        out,
        "{:<16}  {:<19}  {:<11}  {:<10}  {:>5}  {:>8}  COMMAND",
        "ID", "STARTED (UTC)", "STATUS", "USER", "NODES", "TIME"
    );
    for r in rows {
        let took = r
            .duration_ms
            .map(|d| format_duration(Duration::from_millis(d.max(0) as u64)))
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<16}  {:<19}  {:<11}  {:<10}  {:>5}  {:>8}  {}",
            r.id,
            format_time(r.started_at),
            r.status,
            r.user,
            r.nodes.len(),
            took,
            one_line(&r.action, 80)
        );
    }
    exit::SUCCESS
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > max {
        flat.chars().take(max - 1).chain(['…']).collect()
    } else {
        flat
    }
}

fn show(store: &Store, id: &str, with_output: bool, json: bool) -> u8 {
    let (exec, nodes) = match store.execution(id) {
        Ok(Some(found)) => found,
        Ok(None) => {
            eprintln!("drover: no execution {id:?} in history");
            return exit::NO_MATCH;
        }
        Err(e) => return store_error(e),
    };
    if json {
        return print_json(&serde_json::json!({"execution": exec, "nodes": nodes}));
    }
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "execution {}  {}", exec.id, exec.status);
    let _ = writeln!(out, "command   {}", exec.action);
    let _ = writeln!(out, "targets   {}", exec.target_expr);
    let _ = writeln!(out, "user      {}", exec.user);
    let _ = writeln!(out, "started   {} UTC", format_time(exec.started_at));
    if let Some(of) = &exec.rerun_of {
        let _ = writeln!(out, "rerun of {of}");
    }
    for n in &nodes {
        let code = n
            .exit_code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into());
        let err = n
            .error
            .as_deref()
            .map(|e| format!("  {e}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<20} {:<10} exit {:<4} {:>8}{err}",
            n.node,
            n.status,
            code,
            format_duration(Duration::from_millis(n.duration_ms.max(0) as u64))
        );
        if with_output {
            let text = full_output(store, &exec.id, &n.node).unwrap_or_else(|| {
                let mut t = n.stdout.clone();
                if !n.stderr.is_empty() {
                    t.push_str("[stderr]\n");
                    t.push_str(&n.stderr);
                }
                t
            });
            for line in text.lines() {
                let _ = writeln!(
                    out,
                    "    {}",
                    crate::ui::sanitize::sanitize(line.as_bytes(), &Default::default())
                );
            }
        }
    }
    exit::SUCCESS
}

/// Debug-mode runs stored every byte: prefer that to the summary.
fn full_output(store: &Store, id: &str, node: &str) -> Option<String> {
    let chunks = store.full_output(id, node).ok()?;
    if chunks.is_empty() {
        return None;
    }
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    for (stream, data) in chunks {
        match stream {
            crate::store::Stream::Stdout => stdout.extend(data),
            crate::store::Stream::Stderr => stderr.extend(data),
        }
    }
    let mut text = String::from_utf8_lossy(&stdout).into_owned();
    if !stderr.is_empty() {
        text.push_str("[stderr]\n");
        text.push_str(&String::from_utf8_lossy(&stderr));
    }
    Some(text)
}

pub fn metrics(args: &MetricsArgs, store: &Store) -> u8 {
    let range =
        time_flag("--since", &args.since).and_then(|s| Ok((s, time_flag("--until", &args.until)?)));
    let (since, until) = match range {
        Ok(r) => r,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::USAGE;
        }
    };
    match store.metrics(since, until) {
        Ok(m) if args.json => print_json(&m),
        Ok(m) => {
            println!("executions       {}", m.total_executions);
            println!("success rate     {:.1}%", m.success_rate * 100.0);
            println!(
                "average duration {}",
                format_duration(Duration::from_millis(m.average_duration_ms.max(0.0) as u64))
            );
            println!("node runs        {}", m.target_count);
            println!("error rate       {:.1}%", m.error_rate * 100.0);
            exit::SUCCESS
        }
        Err(e) => store_error(e),
    }
}

pub fn store_error(e: StoreError) -> u8 {
    match crate::app::run_id::ambiguity_lines(&e) {
        Some(lines) => eprintln!("drover: {}", lines.join("\n")),
        None => eprintln!("drover: {e}"),
    }
    match e {
        StoreError::Ambiguous { .. } => exit::USAGE,
        _ => exit::FAILED,
    }
}
