//! `drover status`: the engine's health report, as text or JSON. Exits 1 when a
//! component is unhealthy.

use crate::app::exit;
use crate::app::setup::Runtime;
use crate::cli::StatusArgs;
use crate::engine::common::duration::format_duration;
use crate::engine::report::health::Component;
use crate::engine::{ExecutionContext, HealthReport};
use std::io::{self, Write};
use std::time::Duration;

pub async fn status(args: &StatusArgs, rt: &Runtime) -> u8 {
    let report = rt.engine.health().await;
    let mut out = io::stdout().lock();
    let written = if args.json {
        serde_json::to_writer_pretty(&mut out, &report)
            .map_err(io::Error::other)
            .and_then(|_| writeln!(out))
    } else {
        out.write_all(render(&report, &rt.context).as_bytes())
    };
    if let Err(e) = written
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        eprintln!("drover: status: {e}");
    }
    if report.healthy {
        exit::SUCCESS
    } else {
        exit::FAILED
    }
}

fn mark(ok: bool) -> &'static str {
    if ok { "ok  " } else { "FAIL" }
}

/// The report as lines of text (also shown by the console's `:status`).
pub fn render(r: &HealthReport, who: &ExecutionContext) -> String {
    let e = &r.engine;
    let mut s = String::new();
    let rbac = if e.rbac_enforced {
        format!("RBAC on, acting as {} ({})", who.user, who.roles.join(", "))
    } else {
        format!("RBAC off: {} is admin", who.user)
    };
    s.push_str(&format!(
        "{} engine      up {}, {} running execution(s), {} running node(s), slots {}/{}; {}\n",
        mark(true),
        format_duration(Duration::from_millis(e.uptime_ms)),
        e.running_executions,
        e.running_nodes,
        e.node_slots_in_use,
        e.node_slots_total,
        rbac
    ));
    match &r.store {
        None => s.push_str("-    store       none\n"),
        Some(Component::Ok(h)) => s.push_str(&format!(
            "{} store       {} (schema {}), integrity {}, db {} B, wal {} B, {} execution(s), {} journal entr(ies)\n",
            mark(h.intact),
            h.path,
            h.schema_version,
            h.integrity,
            h.db_bytes,
            h.wal_bytes,
            h.executions,
            h.journal_entries
        )),
        Some(Component::Error(why)) => s.push_str(&format!("{} store       {why}\n", mark(false))),
    }
    for t in &r.transports {
        s.push_str(&format!(
            "{} transport   {}: {}\n",
            mark(t.healthy),
            t.name,
            t.detail
        ));
    }
    s.push_str(&format!(
        "{} queue       {}\n",
        mark(r.queue.depth < r.queue.max_depth),
        r.queue.detail
    ));
    if r.breakers.is_empty() {
        s.push_str("ok   breakers    none\n");
    }
    for b in &r.breakers {
        s.push_str(&format!(
            "{} breaker     {}: {}\n",
            mark(b.state == "closed"),
            b.name,
            b.state
        ));
    }
    s
}
