//! Reassembles output chunks into lines per node and stream, so line-oriented
//! renderers never split a line or a UTF-8 sequence between two nodes' output.

use crate::engine::records::Stream;
use std::collections::HashMap;

/// A line longer than this is emitted in pieces: one node printing a gigabyte with
/// no newline must not hold a gigabyte here.
pub const MAX_LINE: usize = 64 * 1024;

#[derive(Default)]
pub struct LineAssembler {
    /// Per node, the unfinished line of stdout and of stderr.
    pending: HashMap<String, [Vec<u8>; 2]>,
}

fn index(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
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
        // Looked up by `&str`: a chunk arrives every few microseconds and
        // allocating its key each time showed in profiles.
        if !self.pending.contains_key(node) {
            self.pending.insert(node.to_string(), Default::default());
        }
        let buf = &mut self.pending.get_mut(node).expect("inserted above")[index(stream)];
        let mut rest = data;
        while let Some(pos) = memchr::memchr(b'\n', rest) {
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
        let Some(bufs) = self.pending.remove(node) else {
            return;
        };
        for stream in [Stream::Stdout, Stream::Stderr] {
            let buf = &bufs[index(stream)];
            if !buf.is_empty() {
                emit(node, stream, buf);
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
