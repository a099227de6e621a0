//! Cutting a session's output into stored chunks as it comes, so that a long
//! session is never held whole: a chunk is closed once it holds
//! [`CHUNK_BYTES`], or when a frame comes a second or more after the chunk's
//! first one, or when a second has passed since then without one
//! ([`Chunker::close_if_older`]), so an idle session's last screen reaches the
//! store soon after it was printed. The session's byte limit is kept here too: the output past it
//! is dropped and the transcript is cut.

use super::frames;
use crate::store::Stream;

/// The most a chunk holds (a bigger write is split into frames of at most this).
pub const CHUNK_BYTES: usize = 64 * 1024;

/// A chunk is closed when a frame comes this long after its first one.
pub const CHUNK_SPAN_MS: u64 = 1000;

/// The frames not yet stored and the counts of what was recorded.
#[derive(Debug)]
pub struct Chunker {
    chunk: Vec<u8>,
    /// The offset of the open chunk's first frame.
    chunk_start: Option<u64>,
    /// Output bytes recorded so far (frame payloads, not their headers).
    recorded: u64,
    limit: u64,
    cut: bool,
}

impl Chunker {
    /// Records at most `limit` bytes of output.
    pub fn new(limit: u64) -> Chunker {
        Chunker {
            chunk: Vec::new(),
            chunk_start: None,
            recorded: 0,
            limit,
            cut: false,
        }
    }

    /// Adds what was printed `offset_ms` after the start; returns the chunks
    /// this closed, oldest first, to be stored.
    pub fn push(&mut self, offset_ms: u64, stream: Stream, data: &[u8]) -> Vec<Vec<u8>> {
        let mut closed = Vec::new();
        if self.cut || data.is_empty() {
            return closed;
        }
        let room = usize::try_from(self.limit - self.recorded).unwrap_or(usize::MAX);
        let data = if data.len() > room {
            self.cut = true;
            &data[..room]
        } else {
            data
        };
        if self
            .chunk_start
            .is_some_and(|start| offset_ms.saturating_sub(start) >= CHUNK_SPAN_MS)
        {
            closed.extend(self.close());
        }
        for piece in data.chunks(CHUNK_BYTES / 2) {
            if !self.chunk.is_empty()
                && self.chunk.len() + frames::encoded_len(offset_ms, piece.len()) > CHUNK_BYTES
            {
                closed.extend(self.close());
            }
            self.chunk_start.get_or_insert(offset_ms);
            frames::encode(offset_ms, stream, piece, &mut self.chunk);
            self.recorded += piece.len() as u64;
        }
        closed
    }

    /// The open chunk, once its first frame is a second or more old at
    /// `now_ms` (a session gone quiet: what it printed last is stored without
    /// waiting for more).
    pub fn close_if_older(&mut self, now_ms: u64) -> Option<Vec<u8>> {
        let start = self.chunk_start?;
        (now_ms.saturating_sub(start) >= CHUNK_SPAN_MS)
            .then(|| self.close())
            .flatten()
    }

    /// The open chunk, if it holds anything (at the session's end).
    pub fn close(&mut self) -> Option<Vec<u8>> {
        self.chunk_start = None;
        (!self.chunk.is_empty()).then(|| std::mem::take(&mut self.chunk))
    }

    /// Output bytes recorded.
    pub fn recorded(&self) -> u64 {
        self.recorded
    }

    /// Whether output was dropped at the limit.
    pub fn is_cut(&self) -> bool {
        self.cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::transcript::frames::{Frame, decode};

    fn all_frames(chunks: &[Vec<u8>]) -> Vec<Frame> {
        chunks.iter().flat_map(|c| decode(c).unwrap()).collect()
    }

    #[test]
    fn frames_close_in_one_chunk_per_second() {
        let mut c = Chunker::new(1 << 20);
        let mut stored = Vec::new();
        stored.extend(c.push(0, Stream::Stdout, b"a"));
        stored.extend(c.push(400, Stream::Stderr, b"b"));
        assert!(stored.is_empty(), "within a second nothing is closed");
        stored.extend(c.push(1000, Stream::Stdout, b"c"));
        assert_eq!(stored.len(), 1);
        assert_eq!(decode(&stored[0]).unwrap().len(), 2);
        stored.extend(c.close());
        assert_eq!(c.close(), None);
        let frames = all_frames(&stored);
        let offsets: Vec<u64> = frames.iter().map(|f| f.offset_ms).collect();
        assert_eq!(offsets, [0, 400, 1000]);
        assert_eq!(frames[1].stream, Stream::Stderr);
        assert_eq!(c.recorded(), 3);
        assert!(!c.is_cut());
    }

    #[test]
    fn a_quiet_session_closes_its_chunk_after_a_second() {
        let mut c = Chunker::new(1 << 20);
        assert!(c.push(100, Stream::Stdout, b"prompt$ ").is_empty());
        assert_eq!(c.close_if_older(1099), None);
        let chunk = c.close_if_older(1100).expect("a second old");
        assert_eq!(decode(&chunk).unwrap()[0].data, b"prompt$ ");
        assert_eq!(c.close_if_older(5000), None, "nothing left open");
        assert!(c.push(5000, Stream::Stdout, b"x").is_empty());
        assert_eq!(c.close().map(|ch| decode(&ch).unwrap().len()), Some(1));
    }

    #[test]
    fn big_output_is_split_into_bounded_chunks_and_kept_whole() {
        let mut c = Chunker::new(1 << 30);
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut stored = c.push(7, Stream::Stdout, &data);
        stored.extend(c.push(8, Stream::Stdout, b"tail"));
        stored.extend(c.close());
        assert!(stored.len() >= 5, "{} chunks", stored.len());
        assert!(stored.iter().all(|ch| ch.len() <= CHUNK_BYTES));
        let joined: Vec<u8> = all_frames(&stored)
            .into_iter()
            .flat_map(|f| f.data)
            .collect();
        assert_eq!(&joined[..data.len()], &data[..]);
        assert_eq!(&joined[data.len()..], b"tail");
    }

    #[test]
    fn output_past_the_limit_is_dropped_and_the_transcript_cut() {
        let mut c = Chunker::new(10);
        let mut stored = c.push(0, Stream::Stdout, b"123456");
        assert!(!c.is_cut());
        stored.extend(c.push(5, Stream::Stdout, b"789abc"));
        assert!(c.is_cut());
        stored.extend(c.push(9, Stream::Stdout, b"more"));
        stored.extend(c.close());
        let joined: Vec<u8> = all_frames(&stored)
            .into_iter()
            .flat_map(|f| f.data)
            .collect();
        assert_eq!(joined, b"123456789a");
        assert_eq!(c.recorded(), 10);
    }
}
