//! The POSIX-sh script every command runs in on the node, and the scanner that
//! takes the script's process-group line back out of stderr.
//!
//! The script is what the node's login shell receives as `-c`; it does three
//! things before the user's command, none of which costs a round trip:
//! * It prints `\x1eDROVER-<nonce> <pid>` on stderr: the shell's PID, which sshd
//!   made a session and process-group leader. The nonce is random per command, so
//!   the line is found wherever start-up files (`.bashrc` banners) put output
//!   before it, and exactly that line is removed.
//! * With environment variables, it reads them from the channel's stdin (shell
//!   assignments, then a line holding only the nonce) and `eval`s them: secrets
//!   never appear in any process's argv on the node.
//! * It starts a watcher (a forked shell, no exec) that waits for EOF on the
//!   channel's stdin. drover never closes stdin while it wants the command to run,
//!   so EOF means drover stopped it or the connection is gone: the watcher then
//!   sends TERM to the process group and KILL after the grace. The shell's EXIT
//!   trap ends the watcher when the command ends by itself, so what the command
//!   left in the background keeps running then. The user's command reads
//!   `/dev/null` (as with `ssh -n`).

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Marker bytes before the nonce; the ASCII record separator keeps it off any
/// line a person would print.
const PREFIX: &[u8] = b"\x1eDROVER-";
/// Longest PID line tail (digits and newline) the scanner waits for.
const PID_TAIL_MAX: usize = 24;

/// A command ready for the channel: the `exec` string and what to write to stdin.
pub struct Wrapped {
    pub script: String,
    pub stdin: Vec<u8>,
    /// What the PID line starts with (`\x1eDROVER-<nonce> `).
    pub marker: Vec<u8>,
}

/// A fresh nonce: 16 hex digits, different for every command of this process.
pub fn nonce() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let n = RandomState::new().hash_one((std::process::id(), seq, Instant::now()));
    format!("{n:016x}")
}

/// Single-quotes a value for any POSIX shell.
pub fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// POSIX sh that reads `export K='V'` lines from stdin up to a line holding only
/// `nonce` and evaluates them, and the stdin bytes that carry `env`: values never
/// appear in any argv. `on_eof` runs when stdin ends before the terminator.
pub fn env_from_stdin(
    nonce: &str,
    env: &BTreeMap<String, String>,
    on_eof: &str,
) -> (String, Vec<u8>) {
    let script = format!(
        "__drover_env=\nwhile :; do IFS= read -r __drover_l || {{ {on_eof}; }}; \
         [ \"$__drover_l\" = {nonce} ] && break; \
         __drover_env=\"$__drover_env$__drover_l\n\"; done\n\
         eval \"$__drover_env\"\nunset __drover_env __drover_l\n"
    );
    let mut stdin = Vec::new();
    for (k, v) in env {
        stdin.extend_from_slice(format!("export {k}={}\n", shell_quote(v)).as_bytes());
    }
    stdin.extend_from_slice(format!("{nonce}\n").as_bytes());
    (script, stdin)
}

/// Wraps `command`; the watcher waits `grace` (whole seconds, at least one)
/// between its TERM and its KILL.
pub fn wrap(command: &str, env: &BTreeMap<String, String>, grace: Duration) -> Wrapped {
    let nonce = nonce();
    let grace_s = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
    let grace_s = grace_s.max(1);
    let mut script = format!("printf '\\036DROVER-{nonce} %s\\n' \"$$\" >&2\n");
    let mut stdin = Vec::new();
    if !env.is_empty() {
        // EOF before the terminator: drover is gone, run nothing.
        let (reader, values) = env_from_stdin(&nonce, env, "exit 125");
        script.push_str(&reader);
        stdin = values;
    }
    // `kill -0 $$`: the shell is still there (the watcher keeps the session, so
    // the PID cannot have been reused); after its own TERM the watcher lives on
    // to send the KILL.
    script.push_str(&format!(
        "exec 3<&0 </dev/null\n\
         {{ while read -r __drover_l <&3; do :; done; kill -0 $$ && {{ trap '' TERM; \
         kill -s TERM -- -$$; sleep {grace_s}; kill -s KILL -- -$$; }}; }} >/dev/null 2>&1 &\n\
         __drover_w=$!\nexec 3<&-\ntrap 'kill $__drover_w 2>/dev/null' EXIT\n"
    ));
    script.push_str(command);
    let mut marker = PREFIX.to_vec();
    marker.extend_from_slice(nonce.as_bytes());
    marker.push(b' ');
    Wrapped {
        script,
        stdin,
        marker,
    }
}

/// Finds the PID line in stderr, wherever it comes and however chunks split it,
/// and passes every other byte through in order.
pub struct MarkerScan {
    marker: Vec<u8>,
    held: Vec<u8>,
    done: bool,
    pub pgid: Option<u32>,
}

impl MarkerScan {
    pub fn new(marker: Vec<u8>) -> MarkerScan {
        MarkerScan {
            marker,
            held: Vec::new(),
            done: false,
            pgid: None,
        }
    }

    /// The bytes of `data` (and of earlier chunks held back) that belong to the
    /// user's stderr. Holds back at most the marker plus the PID tail.
    pub fn feed(&mut self, data: &[u8]) -> Vec<u8> {
        if self.done {
            return data.to_vec();
        }
        self.held.extend_from_slice(data);
        let m = self.marker.len();
        if let Some(at) = find(&self.held, &self.marker) {
            let tail = &self.held[at + m..];
            match tail.iter().position(|b| *b == b'\n') {
                Some(nl) => {
                    self.pgid = std::str::from_utf8(&tail[..nl])
                        .ok()
                        .and_then(|s| s.trim().parse().ok());
                    self.done = true;
                    let mut out = self.held[..at].to_vec();
                    out.extend_from_slice(&self.held[at + m + nl + 1..]);
                    self.held.clear();
                    return out;
                }
                // Not a PID line after all: give everything back.
                None if tail.len() > PID_TAIL_MAX => {
                    self.done = true;
                    return std::mem::take(&mut self.held);
                }
                None => {
                    let out = self.held[..at].to_vec();
                    self.held.drain(..at);
                    return out;
                }
            }
        }
        // Keep only a tail that may still grow into the marker.
        let keep = (1..m.min(self.held.len() + 1))
            .rev()
            .find(|k| self.marker.starts_with(&self.held[self.held.len() - k..]))
            .unwrap_or(0);
        let cut = self.held.len() - keep;
        self.held.drain(..cut).collect()
    }

    /// What is still held back when the stream ends.
    pub fn finish(&mut self) -> Vec<u8> {
        self.done = true;
        std::mem::take(&mut self.held)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(chunks: &[&[u8]], marker: &[u8]) -> (Vec<u8>, Option<u32>) {
        let mut s = MarkerScan::new(marker.to_vec());
        let mut out = Vec::new();
        for c in chunks {
            out.extend(s.feed(c));
        }
        out.extend(s.finish());
        (out, s.pgid)
    }

    #[test]
    fn pid_line_is_found_after_a_banner_and_across_chunks() {
        let m = b"\x1eDROVER-00ff ";
        let (out, pgid) = scan(
            &[
                b"welcome\npart",
                b"ial\x1eDROV",
                b"ER-00ff 42",
                b"42\nreal\n",
            ],
            m,
        );
        assert_eq!(out, b"welcome\npartialreal\n");
        assert_eq!(pgid, Some(4242));
    }

    #[test]
    fn every_split_of_the_stream_gives_the_same_bytes() {
        let m = b"\x1eDROVER-abcd ";
        let stream = b"a\x1eb\x1eDROVER-abc \x1eDROVER-abcd 77\nerr\x1eDROVER-abcd 1\n";
        for cut in 0..stream.len() {
            let (out, pgid) = scan(&[&stream[..cut], &stream[cut..]], m);
            assert_eq!(out, b"a\x1eb\x1eDROVER-abc err\x1eDROVER-abcd 1\n", "{cut}");
            assert_eq!(pgid, Some(77), "{cut}");
        }
    }

    #[test]
    fn stderr_without_the_line_passes_untouched() {
        let (out, pgid) = scan(&[b"fish: unknown\n", b"\x1eDROVER-"], b"\x1eDROVER-1 ");
        assert_eq!(out, b"fish: unknown\n\x1eDROVER-");
        assert_eq!(pgid, None);
    }

    #[test]
    fn secrets_go_to_stdin_not_to_the_script() {
        let env = BTreeMap::from([("SEC".to_string(), "it's s3cret".to_string())]);
        let w = wrap("echo $SEC", &env, Duration::from_millis(1500));
        assert!(!w.script.contains("s3cret"), "{}", w.script);
        let stdin = String::from_utf8(w.stdin).unwrap();
        assert!(
            stdin.starts_with("export SEC='it'\\''s s3cret'\n"),
            "{stdin}"
        );
        assert!(w.script.contains("sleep 2;"), "{}", w.script);
        let nonce = std::str::from_utf8(&w.marker[PREFIX.len()..w.marker.len() - 1]).unwrap();
        assert!(stdin.ends_with(&format!("\n{nonce}\n")), "{stdin}");
    }

    /// The script as bash and dash run it: the PID line, the environment from
    /// stdin (newlines and quotes intact), the command's exit code, and the
    /// command's stdin at EOF.
    #[test]
    fn script_runs_in_posix_shells() {
        let value = "two\nlines 'quoted' $HOME";
        let env = BTreeMap::from([("SEC".to_string(), value.to_string())]);
        let w = wrap(
            "printf '%s|' \"$SEC\"; cat; exit 3",
            &env,
            Duration::from_secs(1),
        );
        for shell in ["/bin/sh", "/bin/bash"] {
            let mut child = std::process::Command::new(shell)
                .arg("-c")
                .arg(&w.script)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(&w.stdin).unwrap();
            let out = child.wait_with_output().unwrap();
            drop(stdin);
            assert_eq!(out.status.code(), Some(3), "{shell}: {out:?}");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                format!("{value}|"),
                "{shell}"
            );
            let mut scan = MarkerScan::new(w.marker.clone());
            let mut err = scan.feed(&out.stderr);
            err.extend(scan.finish());
            assert_eq!(err, b"", "{shell}");
            assert!(scan.pgid.is_some_and(|p| p > 1), "{shell}");
        }
    }

    #[test]
    fn nonces_differ() {
        let env = BTreeMap::new();
        let a = wrap("true", &env, Duration::from_secs(1)).marker;
        assert_ne!(a, wrap("true", &env, Duration::from_secs(1)).marker);
    }

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
