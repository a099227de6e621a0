//! What to do with a [`Verdict`] under `StrictHostKeyChecking`.

use super::Verdict;
use std::fmt;
use std::str::FromStr;

/// ssh_config's `StrictHostKeyChecking`. OpenSSH's default is `Ask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StrictHostKeyChecking {
    /// Never accept an unknown key.
    Yes,
    /// Ask the user about an unknown key; without a terminal, refuse it.
    #[default]
    Ask,
    /// Accept an unknown key and record it.
    AcceptNew,
    /// Accept an unknown key for this connection only, without recording it.
    No,
}

impl FromStr for StrictHostKeyChecking {
    type Err = String;

    /// The spellings ssh_config accepts (case-insensitive).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "yes" | "true" => Ok(Self::Yes),
            "ask" => Ok(Self::Ask),
            "accept-new" => Ok(Self::AcceptNew),
            "no" | "off" | "false" => Ok(Self::No),
            _ => Err(format!(
                "StrictHostKeyChecking: {s:?} is not one of yes, ask, accept-new, no"
            )),
        }
    }
}

impl fmt::Display for StrictHostKeyChecking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Yes => "yes",
            Self::Ask => "ask",
            Self::AcceptNew => "accept-new",
            Self::No => "no",
        })
    }
}

/// The outcome for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Connect; nothing to record.
    Accept,
    /// Connect and append the key to the user's known_hosts (see `append`).
    AcceptAndRecord,
    /// Ask the person at the terminal; on yes the caller connects and may record.
    Prompt { fingerprint_sha256: String },
    /// Do not connect; the message is meant for the user as is.
    Reject(String),
}

/// Maps a verdict to a decision. A revoked or changed key is always rejected,
/// whatever the policy; `interactive == false` (batch) never yields `Prompt`.
pub fn decide(verdict: &Verdict, policy: StrictHostKeyChecking, interactive: bool) -> Decision {
    use StrictHostKeyChecking as S;
    match verdict {
        Verdict::Trusted { .. } => Decision::Accept,
        Verdict::Revoked { file, line } => Decision::Reject(format!(
            "the host key is marked @revoked in {}:{line}; refusing to connect",
            file.display()
        )),
        Verdict::Changed {
            file,
            line,
            expected_fingerprint,
            presented_fingerprint,
        } => Decision::Reject(format!(
            "REMOTE HOST IDENTIFICATION HAS CHANGED: the host presented key \
             {presented_fingerprint}, but {}:{line} records {expected_fingerprint} for it. \
             Someone could be intercepting the connection (man-in-the-middle), or the \
             host key was replaced. If the new key is legitimate, remove the offending \
             line {}:{line} (`ssh-keygen -R`) and connect again",
            file.display(),
            file.display()
        )),
        Verdict::Unknown {
            presented_fingerprint,
        } => match (policy, interactive) {
            (S::Yes, _) => Decision::Reject(format!(
                "no known_hosts entry for this host key ({presented_fingerprint}) and \
                 StrictHostKeyChecking is yes; add the key to known_hosts"
            )),
            (S::Ask, true) => Decision::Prompt {
                fingerprint_sha256: presented_fingerprint.clone(),
            },
            (S::Ask, false) => Decision::Reject(format!(
                "host key {presented_fingerprint} is not known and there is no terminal \
                 to confirm it (batch mode); add the key to known_hosts or use \
                 StrictHostKeyChecking=accept-new"
            )),
            (S::AcceptNew, _) => Decision::AcceptAndRecord,
            (S::No, _) => Decision::Accept,
        },
    }
}
