//! A run's output as history kept it, per node and stream: every byte for runs
//! started with `--debug`, else the head and tail around a count of what was
//! left out. `history show --output` and the console's replay both read it
//! through here, so both tell the same gap the same way.

use crate::engine::NodeStatus;
use crate::engine::OutputReader;
use crate::engine::records::{NodeResultRecord, OutputMode, StoreError, Stream};
use crate::engine::report::output::{StreamHash, split_summary};

/// One stream: what was stored, and where bytes were left out between the
/// head and the tail.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredStream {
    pub head: Vec<u8>,
    /// Bytes printed but not stored (`0`: the stream is whole).
    pub not_stored: u64,
    pub tail: Vec<u8>,
}

impl StoredStream {
    /// What grouping compares: every stored byte and the size of the gap.
    pub fn fingerprint(&self) -> (u64, u64, u64) {
        let hash = |bytes: &[u8]| {
            let mut h = StreamHash::default();
            h.update(bytes);
            h.value()
        };
        (hash(&self.head), self.not_stored, hash(&self.tail))
    }

    fn whole(bytes: Vec<u8>) -> StoredStream {
        StoredStream {
            head: bytes,
            ..StoredStream::default()
        }
    }

    /// A summary as the engine wrote it; text with no marker is whole.
    fn from_summary(text: &str, printed: i64) -> StoredStream {
        StoredStream::summary_if(text, |_, omitted, _| omitted <= printed.max(0) as u64)
    }

    /// A `--debug` record's own text, read when its chunks are missing (shed on a
    /// full disk): the whole stream when the ring held it all, else the engine's
    /// summary. A summary is taken only when its head, tail and count add up to
    /// exactly the bytes printed, so output that merely contains a marker line
    /// stays text.
    fn from_debug_text(text: &str, printed: i64) -> StoredStream {
        StoredStream::summary_if(text, |head, omitted, tail| {
            omitted > 0 && (head.len() + tail.len()) as u64 + omitted == printed.max(0) as u64
        })
    }

    /// `text` split at its summary marker when `accept` takes the parts (head, bytes
    /// left out, tail), else the whole text.
    fn summary_if(text: &str, accept: impl Fn(&str, u64, &str) -> bool) -> StoredStream {
        match split_summary(text) {
            Some((head, omitted, tail)) if accept(head, omitted, tail) => StoredStream {
                head: head.as_bytes().to_vec(),
                not_stored: omitted,
                tail: tail.as_bytes().to_vec(),
            },
            _ => StoredStream::whole(text.as_bytes().to_vec()),
        }
    }
}

/// One node's stored output; `streams[0]` is stdout, `streams[1]` stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNode {
    pub record: NodeResultRecord,
    pub streams: [StoredStream; 2],
}

impl StoredNode {
    pub fn stream(&self, stream: Stream) -> &StoredStream {
        &self.streams[usize::from(stream == Stream::Stderr)]
    }
}

/// A stored node status as the engine's: `interrupted` (its drover died) and
/// anything unknown read as failed, never as success.
pub fn node_status(name: &str) -> NodeStatus {
    match name {
        "success" => NodeStatus::Success,
        "timeout" => NodeStatus::Timeout,
        "cancelled" => NodeStatus::Cancelled,
        "pending" => NodeStatus::Pending,
        "running" => NodeStatus::Running,
        _ => NodeStatus::Failed,
    }
}

impl StoredNode {
    /// The record's own text (no debug chunks looked up).
    pub fn from_record(record: NodeResultRecord) -> StoredNode {
        let streams = streams_of(&record, Vec::new());
        StoredNode { record, streams }
    }
}

/// One node's stored output: its debug chunks when it has them, else the
/// record's text. Read one node at a time, so a big run is never held whole;
/// blocks (see [`OutputReader`]).
pub fn load(reader: &OutputReader, record: &NodeResultRecord) -> Result<StoredNode, StoreError> {
    let chunks = if record.output_mode == OutputMode::Full {
        reader.full_output(&record.node)?
    } else {
        Vec::new()
    };
    Ok(StoredNode {
        streams: streams_of(record, chunks),
        record: record.clone(),
    })
}

/// Debug-mode chunks hold every byte; without them the record's text is used.
fn streams_of(r: &NodeResultRecord, chunks: Vec<(Stream, Vec<u8>)>) -> [StoredStream; 2] {
    if !chunks.is_empty() {
        let mut streams = [Vec::new(), Vec::new()];
        for (stream, data) in chunks {
            streams[usize::from(stream == Stream::Stderr)].extend(data);
        }
        let [out, err] = streams;
        return [StoredStream::whole(out), StoredStream::whole(err)];
    }
    match r.output_mode {
        OutputMode::Full => [
            StoredStream::from_debug_text(&r.stdout, r.stdout_bytes),
            StoredStream::from_debug_text(&r.stderr, r.stderr_bytes),
        ],
        OutputMode::Summary => [
            StoredStream::from_summary(&r.stdout, r.stdout_bytes),
            StoredStream::from_summary(&r.stderr, r.stderr_bytes),
        ],
    }
}

/// What stands where bytes were left out: `… 1.2 MiB (1,234,567 bytes) not
/// stored; run with --debug to keep everything`.
pub fn not_stored_notice(bytes: u64) -> String {
    format!(
        "… {} ({} bytes) not stored; run with --debug to keep everything",
        human_size(bytes),
        thousands(bytes)
    )
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::report::output::omitted_marker;

    fn record(mode: OutputMode, stdout: &str, printed: i64) -> NodeResultRecord {
        NodeResultRecord {
            execution_id: "x".into(),
            node: "n01".into(),
            status: "success".into(),
            exit_code: Some(0),
            signal: None,
            started_at: 0,
            finished_at: 0,
            duration_ms: 0,
            attempts: 1,
            error_category: None,
            error: None,
            output_mode: mode,
            stdout: stdout.into(),
            stderr: String::new(),
            stdout_bytes: printed,
            stderr_bytes: 0,
            data: None,
        }
    }

    #[test]
    fn a_summary_splits_at_its_marker_and_counts_what_was_left_out() {
        let text = format!("a\nb\n{}y\nz\n", omitted_marker(1_234_567));
        let [out, err] = streams_of(&record(OutputMode::Summary, &text, 1_234_575), Vec::new());
        assert_eq!(out.head, b"a\nb\n");
        assert_eq!(out.not_stored, 1_234_567);
        assert_eq!(out.tail, b"y\nz\n");
        assert_eq!(err, StoredStream::default());
        assert_eq!(
            not_stored_notice(out.not_stored),
            "… 1.2 MiB (1,234,567 bytes) not stored; run with --debug to keep everything"
        );
    }

    #[test]
    fn a_marker_in_a_debug_run_or_beyond_the_count_is_just_text() {
        let text = format!("a\n{}b\n", omitted_marker(10));
        for r in [
            record(OutputMode::Full, &text, 40),
            record(OutputMode::Summary, &text, 5),
        ] {
            let [out, _] = streams_of(&r, Vec::new());
            assert_eq!((out.head, out.not_stored), (text.as_bytes().to_vec(), 0));
        }
    }

    #[test]
    fn a_debug_record_without_chunks_keeps_its_summary_gap() {
        // What the engine writes for a `--debug` node whose ring wrapped.
        let text = format!("first\n{}last\n", omitted_marker(1_000));
        let [out, _] = streams_of(&record(OutputMode::Full, &text, 1_011), Vec::new());
        assert_eq!(
            (out.head, out.not_stored, out.tail),
            (b"first\n".to_vec(), 1_000, b"last\n".to_vec())
        );
    }

    #[test]
    fn debug_chunks_win_over_the_record_text() {
        let chunks = vec![
            (Stream::Stdout, b"one\n".to_vec()),
            (Stream::Stderr, b"oops\n".to_vec()),
            (Stream::Stdout, b"two\n".to_vec()),
        ];
        let [out, err] = streams_of(&record(OutputMode::Full, "one\n", 8), chunks);
        assert_eq!(out.head, b"one\ntwo\n");
        assert_eq!(err.head, b"oops\n");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(thousands(12_345), "12,345");
        assert_eq!(thousands(999), "999");
    }
}
