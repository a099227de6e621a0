//! Secret values and their redaction. Values of `--secret-env` variables, of env
//! vars whose name matches a secret pattern, and any value a caller marks secret
//! (a task's sensitive parameters) are replaced by [`REDACTED`] wherever drover
//! writes: output rings and streams, history, journals, logs and events. The
//! command itself still gets the real values.

use super::common::request::ExecutionOptions;
use super::inventory::glob_match;
use std::sync::Arc;

pub const REDACTED: &str = "[redacted]";

/// Env var name patterns that mark a value secret unless the config says otherwise.
pub const DEFAULT_PATTERNS: &[&str] = &[
    "*_TOKEN",
    "*PASSWORD*",
    "*PASSWD*",
    "*SECRET*",
    "*_KEY",
    "*CREDENTIAL*",
];

/// Whether an env var name matches one of the patterns (globs, case-insensitive).
pub fn is_secret_name(name: &str, patterns: &[String]) -> bool {
    let upper = name.to_ascii_uppercase();
    patterns
        .iter()
        .any(|p| glob_match(&p.to_ascii_uppercase(), &upper))
}

/// The secret values of one execution, longest first so that a secret containing
/// another is redacted whole. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Secrets {
    values: Arc<Vec<Vec<u8>>>,
    /// Bytes some secret starts with: every other byte is copied without a search.
    starts: Arc<[bool; 256]>,
}

impl Default for Secrets {
    fn default() -> Self {
        Secrets::new(std::iter::empty::<&[u8]>())
    }
}

impl Secrets {
    pub fn new<I, S>(values: I) -> Secrets
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut v: Vec<Vec<u8>> = values
            .into_iter()
            .map(|s| s.as_ref().to_vec())
            .filter(|s| !s.is_empty())
            .collect();
        v.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        v.dedup();
        let mut starts = [false; 256];
        for s in &v {
            starts[s[0] as usize] = true;
        }
        Secrets {
            values: Arc::new(v),
            starts: Arc::new(starts),
        }
    }

    /// The secrets of a request: `secret_env` and pattern-matched env values, and
    /// `secret_values`.
    pub fn of_options(options: &ExecutionOptions, patterns: &[String]) -> Secrets {
        let env = options
            .env
            .iter()
            .filter(|(k, _)| options.secret_env.contains(*k) || is_secret_name(k, patterns))
            .map(|(_, v)| v.as_str());
        Secrets::new(env.chain(options.secret_values.iter().map(String::as_str)))
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `data` with every secret replaced.
    pub fn redact_bytes(&self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len());
        let mut i = 0;
        while i < data.len() {
            if !self.starts[data[i] as usize] {
                out.push(data[i]);
                i += 1;
                continue;
            }
            match self.values.iter().find(|s| data[i..].starts_with(s)) {
                Some(s) => {
                    out.extend_from_slice(REDACTED.as_bytes());
                    i += s.len();
                }
                None => {
                    out.push(data[i]);
                    i += 1;
                }
            }
        }
        out
    }
}

/// `text` with every secret replaced; reusable wherever drover writes text.
pub fn redact(text: &str, secrets: &Secrets) -> String {
    if secrets.is_empty() {
        return text.to_string();
    }
    // A secret is valid UTF-8, so a match in valid UTF-8 starts and ends on
    // character boundaries and the result stays valid.
    String::from_utf8_lossy(&secrets.redact_bytes(text.as_bytes())).into_owned()
}

/// Redacts a stream that arrives in chunks: a secret split across two chunks is
/// still caught, because bytes that could begin a secret are held back until the
/// next chunk (or [`StreamRedactor::finish`]) shows whether they do.
#[derive(Debug, Default)]
pub struct StreamRedactor {
    carry: Vec<u8>,
}

impl StreamRedactor {
    pub fn push(&mut self, secrets: &Secrets, data: &[u8]) -> Vec<u8> {
        let mut buf = std::mem::take(&mut self.carry);
        buf.extend_from_slice(data);
        let mut out = Vec::with_capacity(buf.len());
        let mut i = 0;
        while i < buf.len() {
            if !secrets.starts[buf[i] as usize] {
                out.push(buf[i]);
                i += 1;
                continue;
            }
            let rest = &buf[i..];
            // Longest first: a longer secret that may still complete wins over a
            // shorter one that is already complete.
            let hit = secrets
                .values
                .iter()
                .find(|s| rest.starts_with(s) || (rest.len() < s.len() && s.starts_with(rest)));
            match hit {
                Some(s) if rest.starts_with(s) => {
                    out.extend_from_slice(REDACTED.as_bytes());
                    i += s.len();
                }
                Some(_) => {
                    self.carry = rest.to_vec();
                    return out;
                }
                None => {
                    out.push(buf[i]);
                    i += 1;
                }
            }
        }
        out
    }

    /// What was held back, redacted: the stream has ended.
    pub fn finish(&mut self, secrets: &Secrets) -> Vec<u8> {
        let carry = std::mem::take(&mut self.carry);
        secrets.redact_bytes(&carry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_whole_values_longest_first() {
        let s = Secrets::new(["abc", "abcdef"]);
        assert_eq!(redact("x abcdef abc y", &s), "x [redacted] [redacted] y");
        assert_eq!(redact("nothing", &Secrets::default()), "nothing");
    }

    #[test]
    fn stream_catches_secrets_split_across_chunks() {
        let s = Secrets::new(["s3cr3t-value", "s3c"]);
        let text = b"head s3cr3t-value mid s3cX tail s3cr3t-val";
        for cut in 0..text.len() {
            for cut2 in cut..text.len() {
                let mut r = StreamRedactor::default();
                let mut out = r.push(&s, &text[..cut]);
                out.extend(r.push(&s, &text[cut..cut2]));
                out.extend(r.push(&s, &text[cut2..]));
                out.extend(r.finish(&s));
                assert_eq!(out, s.redact_bytes(text), "cuts at {cut}, {cut2}");
            }
        }
    }

    #[test]
    fn names_match_patterns_case_insensitively() {
        let p: Vec<String> = DEFAULT_PATTERNS.iter().map(|s| s.to_string()).collect();
        assert!(is_secret_name("github_token", &p));
        assert!(is_secret_name("DB_PASSWORD_FILE", &p));
        assert!(!is_secret_name("PATH", &p));
    }
}
