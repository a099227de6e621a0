//! The JSON schema of `drover run -o json` and `--json` listings (documented in the
//! README). One object per line; every object has an `event` field.

use crate::engine::records::Stream;
use crate::engine::{EngineEvent, NodeError, Progress};
use serde_json::{Value, json};

/// An output line written straight to `out`, the same bytes as
/// [`output_line`]'s object: a live run prints millions of these, and building a
/// `Value` (a map and three strings) for each was most of `-o json`'s cost. A
/// line that is UTF-8 and holds nothing JSON escapes (what nodes print nearly
/// always) is copied as it is; any other goes through serde_json's escaping.
pub fn write_output_line(
    out: &mut impl std::io::Write,
    node: &str,
    stream: Stream,
    line: &[u8],
) -> std::io::Result<()> {
    if let Ok(text) = std::str::from_utf8(line)
        && needs_no_escaping(text.as_bytes())
    {
        out.write_all(b"{\"event\":\"output\",\"node\":")?;
        serde_json::to_writer(&mut *out, node)?;
        out.write_all(b",\"stream\":\"")?;
        out.write_all(stream.as_str().as_bytes())?;
        out.write_all(b"\",\"line\":\"")?;
        out.write_all(text.as_bytes())?;
        return out.write_all(b"\"}\n");
    }
    #[derive(serde::Serialize)]
    struct OutputLine<'a> {
        event: &'static str,
        node: &'a str,
        stream: &'static str,
        line: std::borrow::Cow<'a, str>,
    }
    let object = OutputLine {
        event: "output",
        node,
        stream: stream.as_str(),
        line: String::from_utf8_lossy(line),
    };
    serde_json::to_writer(&mut *out, &object)?;
    out.write_all(b"\n")
}

/// True when a JSON string of `bytes` is the bytes themselves: no quote, no
/// backslash, no control character (serde_json escapes exactly these). Checked
/// in blocks without early exit, which the compiler turns into vector compares;
/// serde_json's byte-by-byte table walk was a fifth of `-o json`'s CPU.
fn needs_no_escaping(bytes: &[u8]) -> bool {
    bytes.chunks(64).all(|block| {
        block.iter().fold(true, |plain, &b| {
            plain & (b >= 0x20 && b != b'"' && b != b'\\')
        })
    })
}

pub fn output_line(node: &str, stream: Stream, line: &[u8]) -> Value {
    json!({
        "event": "output",
        "node": node,
        "stream": stream.as_str(),
        "line": String::from_utf8_lossy(line),
    })
}

fn progress(p: &Progress) -> Value {
    json!({"total": p.total, "completed": p.completed, "failed": p.failed,
           "cancelled": p.cancelled, "running": p.running})
}

fn error(e: &Option<NodeError>) -> Value {
    match e {
        Some(e) => json!({"category": e.category.as_str(), "reason": e.reason}),
        None => Value::Null,
    }
}

/// The JSON form of an event; `None` for the coalesced output notification, which
/// the `output` lines replace.
pub fn event(ev: &EngineEvent) -> Option<Value> {
    Some(match ev {
        EngineEvent::ExecutionQueued {
            execution,
            action,
            nodes,
            user,
            correlation_id,
        } => json!({"event": "execution_queued", "execution": execution, "action": action,
                    "nodes": nodes, "user": user, "correlation_id": correlation_id}),
        EngineEvent::ExecutionStarted { execution, total } => {
            json!({"event": "execution_started", "execution": execution, "total": total})
        }
        EngineEvent::NodeStarted {
            execution,
            node,
            attempt,
        } => json!({"event": "node_started", "execution": execution, "node": node,
                    "attempt": attempt}),
        EngineEvent::NodeOutput { .. } => return None,
        EngineEvent::RetryAttempt {
            execution,
            node,
            attempt,
            max_attempts,
            delay,
            reason,
        } => json!({"event": "retry", "execution": execution, "node": node,
                    "attempt": attempt, "max_attempts": max_attempts,
                    "delay_ms": delay.as_millis() as u64,
                    "error": error(&Some(reason.clone()))}),
        EngineEvent::NodeFinished {
            execution,
            node,
            status,
            exit_code,
            duration,
            error: e,
            progress: p,
        } => json!({"event": "node_finished", "execution": execution, "node": node,
                    "status": status.as_str(), "exit_code": exit_code,
                    "duration_ms": duration.as_millis() as u64, "error": error(e),
                    "progress": progress(p)}),
        EngineEvent::ExecutionFinished {
            execution,
            status,
            duration,
            progress: p,
        } => json!({"event": "execution_finished", "execution": execution,
                    "status": status.as_str(), "duration_ms": duration.as_millis() as u64,
                    "progress": progress(p)}),
        EngineEvent::JournalAppended {
            node,
            entry_type,
            execution,
        } => json!({"event": "journal_appended", "node": node,
                    "entry_type": entry_type.as_str(), "execution": execution}),
        EngineEvent::BreakerChanged { scope, name, state } => json!({"event": "breaker_changed",
                    "scope": scope.as_str(), "name": name, "state": state.as_str()}),
        EngineEvent::PlanStepChanged {
            plan,
            step,
            state,
            execution,
            progress,
        } => json!({
                    "event": "plan_step", "plan": plan, "step": step, "state": state.as_str(),
                    "execution": execution, "progress": progress}),
        EngineEvent::PlanFinished {
            plan,
            name,
            state,
            progress,
        } => json!({
                    "event": "plan_finished", "plan": plan, "name": name,
                    "state": state.as_str(), "progress": progress}),
        EngineEvent::InventoryReloaded {
            nodes,
            failed_sources,
        } => json!({"event": "inventory_reloaded", "nodes": nodes,
                    "failed_sources": failed_sources}),
    })
}

/// Where history left bytes of a stream out (runs without `--debug`).
pub fn not_stored(node: &str, stream: Stream, bytes: u64) -> Value {
    json!({
        "event": "output_not_stored",
        "node": node,
        "stream": stream.as_str(),
        "bytes": bytes,
    })
}

/// How a node ended, as history recorded it.
pub fn stored_node(r: &crate::engine::records::NodeResultRecord) -> Value {
    let error = match (&r.error_category, &r.error) {
        (None, None) => Value::Null,
        (category, reason) => json!({"category": category, "reason": reason}),
    };
    json!({"event": "node_result", "node": r.node, "status": r.status,
           "exit_code": r.exit_code, "duration_ms": r.duration_ms, "error": error})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_bytes(node: &str, stream: Stream, line: &[u8]) {
        let mut written = Vec::new();
        write_output_line(&mut written, node, stream, line).unwrap();
        let object = serde_json::to_string(&output_line(node, stream, line)).unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), object + "\n");
    }

    #[test]
    fn a_written_output_line_is_the_objects_bytes() {
        for (stream, line) in [
            (Stream::Stdout, b"plain".as_slice()),
            (Stream::Stdout, b"".as_slice()),
            (Stream::Stdout, "caf\u{e9} \u{7f} / \u{2028}".as_bytes()),
            (Stream::Stderr, b"quote \" tab \t \xff end".as_slice()),
            (Stream::Stderr, b"back\\slash \x1b[31m".as_slice()),
        ] {
            same_bytes("web01", stream, line);
        }
        same_bytes("we\"ird", Stream::Stdout, b"x");
    }

    proptest::proptest! {
        #[test]
        fn any_line_is_written_as_serde_json_writes_it(
            line in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            ascii in "[ -~]{0,100}",
        ) {
            same_bytes("n1", Stream::Stdout, &line);
            same_bytes("n1", Stream::Stderr, ascii.as_bytes());
        }
    }
}
