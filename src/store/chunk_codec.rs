//! How debug-mode output chunks are kept: LZ4-compressed when that saves room,
//! else as they came. Output is mostly text (logs, listings, progress lines) and
//! compresses several times over; a `--debug` run over 50 nodes each printing
//! 27 MB wrote 2.7 GB (WAL, then the database) and was bound by that, not by the
//! network. LZ4 (lz4_flex) because it compresses at memory speed on the writer
//! thread; a better ratio (zstd) would make that thread the bottleneck.

/// A chunk as stored: the `encoding` column and the `data` blob.
pub(crate) struct Stored {
    pub encoding: &'static str,
    pub data: Vec<u8>,
}

pub(crate) const RAW: &str = "raw";
pub(crate) const LZ4: &str = "lz4";

/// LZ4 when the result is at most 7/8 of the input (less is not worth the
/// decompression on every read), else raw.
pub(crate) fn encode(raw: &[u8]) -> Stored {
    let packed = lz4_flex::block::compress_prepend_size(raw);
    if packed.len() <= raw.len() - raw.len() / 8 {
        Stored {
            encoding: LZ4,
            data: packed,
        }
    } else {
        Stored {
            encoding: RAW,
            data: raw.to_vec(),
        }
    }
}

/// The bytes a stored chunk holds; `Err` says what is wrong with it.
pub(crate) fn decode(encoding: &str, data: Vec<u8>) -> Result<Vec<u8>, String> {
    match encoding {
        RAW => Ok(data),
        LZ4 => lz4_flex::block::decompress_size_prepended(&data)
            .map_err(|e| format!("LZ4 data does not decompress: {e}")),
        other => Err(format!("unknown encoding {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_compressed_and_comes_back_whole() {
        let text = "line of a log that repeats itself\n".repeat(1000);
        let stored = encode(text.as_bytes());
        assert_eq!(stored.encoding, LZ4);
        assert!(stored.data.len() < text.len() / 4);
        assert_eq!(
            decode(stored.encoding, stored.data).unwrap(),
            text.as_bytes()
        );
    }

    #[test]
    fn bytes_that_do_not_compress_are_kept_raw() {
        // A xorshift stream: no repeats for LZ4 to find.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let stored = encode(&noise);
        assert_eq!(stored.encoding, RAW);
        assert_eq!(decode(stored.encoding, stored.data).unwrap(), noise);
        assert_eq!(encode(b"").encoding, RAW);
    }

    #[test]
    fn damaged_or_unknown_chunks_are_errors_not_panics() {
        assert!(decode(LZ4, vec![0xff, 0xff, 0xff, 0x7f, 1, 2]).is_err());
        assert!(decode(LZ4, vec![]).is_err());
        assert!(decode("zstd", vec![1]).unwrap_err().contains("zstd"));
    }
}
