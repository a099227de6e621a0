//! The encoding of a transcript's frames: what a session printed, with the time
//! it printed it. A chunk is frames one after another, each
//! `offset_ms` (LEB128), the stream (one byte: 0 stdout, 1 stderr), the length
//! (LEB128) and the bytes. Offsets count from the session's start, so a chunk
//! can be read on its own and the frames of all chunks in order make the session.

use crate::store::Stream;

/// Some bytes a session printed, `offset_ms` after it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub offset_ms: u64,
    pub stream: Stream,
    pub data: Vec<u8>,
}

/// A chunk that does not decode: the store holds something this build did not
/// write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transcript chunk is damaged at byte {at}: {what}")]
pub struct FrameError {
    pub at: usize,
    pub what: &'static str,
}

/// Appends one frame to `out`.
pub fn encode(offset_ms: u64, stream: Stream, data: &[u8], out: &mut Vec<u8>) {
    put_varint(offset_ms, out);
    out.push(match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    });
    put_varint(data.len() as u64, out);
    out.extend_from_slice(data);
}

/// The bytes one frame of `len` bytes takes, header included.
pub fn encoded_len(offset_ms: u64, len: usize) -> usize {
    varint_len(offset_ms) + 1 + varint_len(len as u64) + len
}

/// Every frame of a chunk, in order.
pub fn decode(chunk: &[u8]) -> Result<Vec<Frame>, FrameError> {
    let mut frames = Vec::new();
    let mut at = 0;
    while at < chunk.len() {
        let offset_ms = get_varint(chunk, &mut at)?;
        let stream = match chunk.get(at) {
            Some(0) => Stream::Stdout,
            Some(1) => Stream::Stderr,
            Some(_) => {
                return Err(FrameError {
                    at,
                    what: "unknown stream",
                });
            }
            None => {
                return Err(FrameError {
                    at,
                    what: "frame ends before its stream",
                });
            }
        };
        at += 1;
        let len = usize::try_from(get_varint(chunk, &mut at)?).unwrap_or(usize::MAX);
        let end = at
            .checked_add(len)
            .filter(|end| *end <= chunk.len())
            .ok_or(FrameError {
                at,
                what: "frame longer than its chunk",
            })?;
        frames.push(Frame {
            offset_ms,
            stream,
            data: chunk[at..end].to_vec(),
        });
        at = end;
    }
    Ok(frames)
}

fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn varint_len(v: u64) -> usize {
    let bits = 64 - v.leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

fn get_varint(buf: &[u8], at: &mut usize) -> Result<u64, FrameError> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let Some(&byte) = buf.get(*at) else {
            return Err(FrameError {
                at: *at,
                what: "frame ends inside a number",
            });
        };
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(FrameError {
        at: *at,
        what: "number too long",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_with_their_times_and_streams() {
        let mut chunk = Vec::new();
        let frames = [
            (0, Stream::Stdout, b"hello\r\n".to_vec()),
            (127, Stream::Stderr, b"oops".to_vec()),
            (128, Stream::Stdout, Vec::new()),
            (u64::from(u32::MAX) * 3, Stream::Stdout, vec![0xff; 300]),
        ];
        for (ms, s, d) in &frames {
            let before = chunk.len();
            encode(*ms, *s, d, &mut chunk);
            assert_eq!(chunk.len() - before, encoded_len(*ms, d.len()));
        }
        let back = decode(&chunk).unwrap();
        let expect: Vec<Frame> = frames
            .iter()
            .map(|(ms, s, d)| Frame {
                offset_ms: *ms,
                stream: *s,
                data: d.clone(),
            })
            .collect();
        assert_eq!(back, expect);
    }

    #[test]
    fn damaged_chunks_are_refused_not_misread() {
        let mut chunk = Vec::new();
        encode(5, Stream::Stdout, b"abcdef", &mut chunk);
        assert!(decode(&chunk[..chunk.len() - 1]).is_err());
        let mut bad = chunk.clone();
        bad[1] = 7;
        assert_eq!(decode(&bad).unwrap_err().what, "unknown stream");
        assert!(decode(&[0x80]).is_err());
        assert_eq!(decode(&[]).unwrap(), Vec::new());
    }
}
