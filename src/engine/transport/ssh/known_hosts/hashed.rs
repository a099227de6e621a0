//! Hashed host names (`HashKnownHosts`): `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
//!
//! HMAC-SHA1 comes from the RustCrypto `hmac` and `sha1` crates (the versions
//! russh already links), checked against the RFC 2202 vectors below and against
//! entries produced by `ssh-keygen -H`. SHA-1's weaknesses do not matter here:
//! the hash only hides names from a casual reader.

use hmac::{Hmac, KeyInit, Mac};
use russh::keys::ssh_encoding::base64::{Base64, Encoding};
use sha1::Sha1;

const DIGEST_LEN: usize = 20;

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

/// HMAC-SHA1 (RFC 2104), from the RustCrypto crates russh already links.
fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; DIGEST_LEN] {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
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
