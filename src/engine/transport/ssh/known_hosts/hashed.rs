//! Hashed host names (`HashKnownHosts`): `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
//!
//! SHA-1 and HMAC are written out here (FIPS 180-4, RFC 2104) rather than taken
//! from a crate: `ring` is in Cargo.lock only as russh's dependency, not ours, and
//! nothing russh re-exports offers SHA-1. Both are checked against the RFC 3174 /
//! RFC 2202 vectors below and against entries produced by `ssh-keygen -H`. SHA-1's
//! weaknesses do not matter here: the hash only hides names from a casual reader.

use russh::keys::ssh_encoding::base64::{Base64, Encoding};

const DIGEST_LEN: usize = 20;
const BLOCK_LEN: usize = 64;

/// The only hashing scheme OpenSSH defines.
const MAGIC: &str = "|1|";

/// A parsed `|1|salt|hash` host field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HashedHost {
    salt: Vec<u8>,
    hash: [u8; DIGEST_LEN],
}

impl HashedHost {
    /// Parses a whole host field that starts with `|`.
    pub(super) fn parse(field: &str) -> Result<Self, String> {
        let body = field
            .strip_prefix(MAGIC)
            .ok_or_else(|| format!("unsupported host hash {field:?} (only |1| is defined)"))?;
        let (salt, hash) = body
            .split_once('|')
            .ok_or_else(|| "hashed host lacks the salt|hash separator".to_string())?;
        let salt = Base64::decode_vec(salt).map_err(|_| "hashed host: bad base64 salt")?;
        // OpenSSH insists on a salt as long as the digest.
        if salt.len() != DIGEST_LEN {
            return Err(format!(
                "hashed host: salt is {} bytes, expected {DIGEST_LEN}",
                salt.len()
            ));
        }
        let hash = Base64::decode_vec(hash).map_err(|_| "hashed host: bad base64 hash")?;
        let hash: [u8; DIGEST_LEN] = hash
            .try_into()
            .map_err(|_| format!("hashed host: hash is not {DIGEST_LEN} bytes"))?;
        Ok(HashedHost { salt, hash })
    }

    /// Whether `name` (`host` or `[host]:port`, already lowercased) hashes to this entry.
    pub(super) fn matches(&self, name: &str) -> bool {
        hmac_sha1(&self.salt, name.as_bytes()) == self.hash
    }

    /// The host field for `name` with the given salt.
    pub(super) fn encode(name: &str, salt: &[u8; DIGEST_LEN]) -> String {
        let hash = hmac_sha1(salt, name.as_bytes());
        format!(
            "{MAGIC}{}|{}",
            Base64::encode_string(salt),
            Base64::encode_string(&hash)
        )
    }
}

/// SHA-1 (FIPS 180-4).
fn sha1(data: &[u8]) -> [u8; DIGEST_LEN] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut msg = Vec::with_capacity(data.len() + BLOCK_LEN + 8);
    msg.extend_from_slice(data);
    msg.push(0x80);
    while msg.len() % BLOCK_LEN != BLOCK_LEN - 8 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());

    for block in msg.chunks_exact(BLOCK_LEN) {
        let mut w = [0u32; 80];
        for (slot, word) in w.iter_mut().zip(block.chunks_exact(4)) {
            *slot = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (hv, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *hv = hv.wrapping_add(v);
        }
    }

    let mut out = [0u8; DIGEST_LEN];
    for (chunk, v) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&v.to_be_bytes());
    }
    out
}

/// HMAC-SHA1 (RFC 2104).
fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; DIGEST_LEN] {
    let mut k = [0u8; BLOCK_LEN];
    if key.len() > BLOCK_LEN {
        k[..DIGEST_LEN].copy_from_slice(&sha1(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Vec::with_capacity(BLOCK_LEN + msg.len());
    inner.extend(k.iter().map(|b| b ^ 0x36));
    inner.extend_from_slice(msg);
    let inner = sha1(&inner);
    let mut outer = Vec::with_capacity(BLOCK_LEN + DIGEST_LEN);
    outer.extend(k.iter().map(|b| b ^ 0x5c));
    outer.extend_from_slice(&inner);
    sha1(&outer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha1_matches_rfc3174_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        // Exactly one block of input: padding spills into a second block.
        assert_eq!(
            hex(&sha1(&[b'a'; 64])),
            "0098ba824b5c16427bd7a1122a5a442a25ec644d"
        );
    }

    #[test]
    fn hmac_sha1_matches_rfc2202_vectors() {
        assert_eq!(
            hex(&hmac_sha1(&[0x0b; 20], b"Hi There")),
            "b617318655057264e28bc0b6fb378c8ef146be00"
        );
        assert_eq!(
            hex(&hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        // A key longer than the block is hashed first.
        assert_eq!(
            hex(&hmac_sha1(
                &[0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112"
        );
    }

    #[test]
    fn encode_then_parse_round_trips() {
        let field = HashedHost::encode("[db.example.com]:2222", &[7u8; DIGEST_LEN]);
        let parsed = HashedHost::parse(&field).expect("own encoding parses");
        assert!(parsed.matches("[db.example.com]:2222"));
        assert!(!parsed.matches("db.example.com"));
    }

    #[test]
    fn malformed_hashes_are_errors() {
        assert!(HashedHost::parse("|2|abc|def").is_err());
        assert!(HashedHost::parse("|1|nosep").is_err());
        assert!(HashedHost::parse("|1|!!!|AAAA").is_err());
        // Salt of the wrong length.
        assert!(HashedHost::parse("|1|AAAA|AAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_err());
    }
}
