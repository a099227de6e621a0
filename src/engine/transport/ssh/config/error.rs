//! Why a config or a resolution was refused. Line-level problems name the file
//! and line, as ssh's messages do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SshConfigError {
    /// A problem with one line of a config file.
    #[error("{}:{line}: {kind}", file.display())]
    Config {
        file: PathBuf,
        line: usize,
        kind: ErrorKind,
    },
    /// A config file exists but cannot be read.
    #[error("cannot read ssh config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A config file is larger than drover reads.
    #[error("ssh config {} is larger than {limit} bytes", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    /// The host to resolve is not a valid destination (as in `ssh`).
    #[error(
        "invalid host name {0:?}: empty, starting with '-', or containing whitespace, control characters or any of '`\"$\\;&<>|(){{}},"
    )]
    InvalidHost(String),
    /// The `-l` user contains characters ssh refuses.
    #[error(
        "invalid user name {0:?}: starting with '-', or containing control characters or any of '`\";&<>|(){{}}"
    )]
    InvalidUser(String),
    /// Not a destination ssh accepts (`@host`, a bad `ssh://` URI).
    #[error("invalid destination {0:?}: expected host, user@host or ssh://[user@]host[:port]")]
    InvalidDestination(String),
    /// The last `ProxyJump` hop is the destination itself, as ssh refuses it.
    #[error(
        "jumphost loop via {via}: {host} jumps through itself (ProxyJump {shown} reaches {user}@{via} port {port})"
    )]
    JumpLoop {
        host: String,
        via: String,
        shown: String,
        user: String,
        port: u16,
    },
    /// `-p 0`.
    #[error("invalid port 0")]
    InvalidPort,
    /// The home directory or local user cannot be determined.
    #[error("cannot determine the local {0}: set $HOME and $USER")]
    Environment(&'static str),
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("bad configuration option: {0}")]
    UnknownKeyword(String),
    #[error("no argument after keyword {0:?}")]
    MissingArgument(String),
    #[error("invalid quotes")]
    InvalidQuotes,
    #[error("keyword {0} extra arguments at end of line")]
    ExtraArguments(String),
    #[error("keyword {0} empty argument")]
    EmptyArgument(String),
    #[error("keyword {0} \"none\" argument must appear alone")]
    NoneNotAlone(String),
    #[error("{keyword}: invalid value {value:?}: {expected}")]
    BadValue {
        keyword: String,
        value: String,
        expected: &'static str,
    },
    #[error("bad Match condition: {0}")]
    BadMatch(String),
    #[error("too many {0}")]
    TooMany(&'static str),
    #[error(
        "too many recursive configuration includes (deeper than {})",
        super::MAX_INCLUDE_DEPTH
    )]
    IncludeDepth,
    #[error("too many included files (more than {})", super::MAX_FILES)]
    TooManyFiles,
    #[error("include {}: {reason}", path.display())]
    Include { path: PathBuf, reason: String },
    #[error("{keyword} {value:?}: {reason}")]
    Expansion {
        keyword: &'static str,
        value: String,
        reason: String,
    },
    #[error("Match exec {command:?}: {reason}")]
    Exec { command: String, reason: String },
}
