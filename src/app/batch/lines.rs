//! Reassembles output chunks into lines per node and stream, so line-oriented
//! renderers never split a line or a UTF-8 sequence between two nodes' output.

use crate::engine::records::Stream;
use std::collections::HashMap;

/// A line longer than this is emitted in pieces: one node printing a gigabyte with
/// no newline must not hold a gigabyte here.
pub const MAX_LINE: usize = 64 * 1024;

#[derive(Default)]
pub struct LineAssembler {
    pending: HashMap<(String, Stream), Vec<u8>>,
}

impl LineAssembler {
    /// Feeds a chunk; calls `emit` for every complete line (without its newline).
    pub fn push(
        &mut self,
        node: &str,
        stream: Stream,
        data: &[u8],
        mut emit: impl FnMut(&str, Stream, &[u8]),
    ) {
        let buf = self.pending.entry((node.to_string(), stream)).or_default();
        let mut rest = data;
        while let Some(pos) = rest.iter().position(|b| *b == b'\n') {
            if buf.is_empty() {
                emit(node, stream, &rest[..pos]);
            } else {
                buf.extend_from_slice(&rest[..pos]);
                emit(node, stream, buf);
                buf.clear();
            }
            rest = &rest[pos + 1..];
        }
        buf.extend_from_slice(rest);
        while buf.len() >= MAX_LINE {
            let cut = utf8_boundary(buf, MAX_LINE);
            emit(node, stream, &buf[..cut]);
            buf.drain(..cut);
        }
    }

    /// Emits what is left of a node's unterminated lines (at its end).
    pub fn finish_node(&mut self, node: &str, mut emit: impl FnMut(&str, Stream, &[u8])) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            if let Some(buf) = self.pending.remove(&(node.to_string(), stream))
                && !buf.is_empty()
            {
                emit(node, stream, &buf);
            }
        }
    }
}

/// The largest cut ≤ `at` that does not split a UTF-8 sequence (or `at` when the
/// bytes are not UTF-8 anyway).
fn utf8_boundary(buf: &[u8], at: usize) -> usize {
    let mut cut = at.min(buf.len());
    for _ in 0..3 {
        if cut == 0 || cut == buf.len() || (buf[cut] & 0xC0) != 0x80 {
            return cut;
        }
        cut -= 1;
    }
    if cut == 0 { at } else { cut }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(chunks: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
        let mut a = LineAssembler::default();
        let mut out = Vec::new();
        for (node, data) in chunks {
            a.push(node, Stream::Stdout, data, |n, _, l| {
                out.push((n.to_string(), l.to_vec()))
            });
        }
        for node in ["a", "b"] {
            a.finish_node(node, |n, _, l| out.push((n.to_string(), l.to_vec())));
        }
        out
    }

    #[test]
    fn lines_split_across_chunks_and_nodes_stay_whole() {
        let out = collect(&[
            ("a", b"hel"),
            ("b", b"x\ny"),
            ("a", b"lo\nwor"),
            ("a", b"ld"),
        ]);
        let text: Vec<(String, String)> = out
            .into_iter()
            .map(|(n, l)| (n, String::from_utf8(l).unwrap()))
            .collect();
        assert_eq!(
            text,
            vec![
                ("b".into(), "x".into()),
                ("a".into(), "hello".into()),
                ("a".into(), "world".into()),
                ("b".into(), "y".into()),
            ]
        );
    }

    #[test]
    fn a_huge_line_is_emitted_in_bounded_pieces() {
        let big = "é".repeat(MAX_LINE); // 2 bytes each
        let out = collect(&[("a", big.as_bytes())]);
        assert!(out.iter().all(|(_, l)| l.len() <= MAX_LINE));
        assert!(out.iter().all(|(_, l)| std::str::from_utf8(l).is_ok()));
        let total: usize = out.iter().map(|(_, l)| l.len()).sum();
        assert_eq!(total, big.len());
    }
}
