//! From text to directives: every line is checked the way ssh checks it,
//! whether or not its block will ever match, and `Include`s are read in place.

use super::args::{Args, LineError, bad};
use super::criteria::{self, MatchSpec};
use super::error::{ErrorKind, SshConfigError};
use super::include::{self, ReadFailure};
use super::jump::{self, JumpValue};
use super::keywords::{self, Keyword};
use super::lexer::{self, Lexed};
use super::{
    Environment, MAX_FILE_BYTES, MAX_FILES, MAX_INCLUDE_DEPTH, StrictHostKeyChecking, tokens,
    values,
};
use std::path::{Path, PathBuf};

/// One config file, parsed.
#[derive(Debug, Clone)]
pub(super) struct ParsedFile {
    pub path: PathBuf,
    pub directives: Vec<Directive>,
}

#[derive(Debug, Clone)]
pub(super) struct Directive {
    pub line: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub(super) enum Kind {
    /// The patterns, `!` included.
    Host(Vec<String>),
    Match(MatchSpec),
    /// The files the globs matched, in order.
    Include(Vec<ParsedFile>),
    IgnoreUnknown(String),
    /// An unknown keyword after an `IgnoreUnknown` line: an error unless the
    /// `IgnoreUnknown` in effect when resolving lists it.
    Unknown(String),
    /// A bad line after such an unknown keyword: an error in any case, but one
    /// that must come after the unknown keyword's (if that is one), as ssh reads
    /// lines in order and stops at the first bad one.
    Invalid(ErrorKind),
    Set(Setting),
}

/// A value for a keyword drover uses; the first one obtained wins.
#[derive(Debug, Clone)]
pub(super) enum Setting {
    HostName(String),
    User(String),
    Port(u16),
    IdentityFile(String),
    CertificateFile(String),
    IdentitiesOnly(bool),
    ProxyJump(JumpValue),
    /// The rest of the line, verbatim.
    ProxyCommand(String),
    /// Seconds; `None` for `none`, which sets nothing.
    ConnectTimeout(Option<u64>),
    ServerAliveInterval(Option<u64>),
    ServerAliveCountMax(u32),
    StrictHostKeyChecking(StrictHostKeyChecking),
    UserKnownHostsFile(Vec<String>),
    GlobalKnownHostsFile(Vec<String>),
    ForwardAgent(bool),
    /// `ForwardAgent` with a socket path: forwarding on, through that socket.
    ForwardAgentPath(String),
    CanonicalizeHostname(bool),
    HostKeyAlias(String),
}

/// Reads files and keeps the budgets and the `IgnoreUnknown` state across them.
pub(super) struct Loader<'e> {
    env: &'e Environment,
    files: usize,
    /// An `IgnoreUnknown` line has been read: later unknown keywords are
    /// decided per host.
    seen_ignore_unknown: bool,
    /// An unknown keyword was kept for resolution: later errors wait too.
    deferred_unknown: bool,
}

impl<'e> Loader<'e> {
    pub fn new(env: &'e Environment) -> Self {
        Loader {
            env,
            files: 0,
            seen_ignore_unknown: false,
            deferred_unknown: false,
        }
    }

    pub fn load_root(mut self, path: &Path) -> Result<ParsedFile, SshConfigError> {
        let text = match include::read_config(path, false) {
            Ok(t) => t,
            Err(ReadFailure::Missing) => String::new(),
            Err(ReadFailure::TooLarge) => {
                return Err(SshConfigError::TooLarge {
                    path: path.to_owned(),
                    limit: MAX_FILE_BYTES,
                });
            }
            Err(ReadFailure::BadPermissions) => {
                return Err(SshConfigError::Read {
                    path: path.to_owned(),
                    source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
                });
            }
            Err(ReadFailure::Io(source)) => {
                return Err(SshConfigError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        self.parse_file(&text, path, 0)
    }

    pub fn parse_root(mut self, text: &str, origin: &Path) -> Result<ParsedFile, SshConfigError> {
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(SshConfigError::TooLarge {
                path: origin.to_owned(),
                limit: MAX_FILE_BYTES,
            });
        }
        self.parse_file(text, origin, 0)
    }

    fn parse_file(
        &mut self,
        text: &str,
        path: &Path,
        depth: usize,
    ) -> Result<ParsedFile, SshConfigError> {
        self.files += 1;
        let mut directives = Vec::new();
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let at = |kind| SshConfigError::Config {
                file: path.to_owned(),
                line,
                kind,
            };
            let parsed = match self.parse_line(raw, depth) {
                Ok(kind) => kind,
                Err(LineError::Kind(k)) if self.deferred_unknown => Some(Kind::Invalid(k)),
                Err(LineError::Kind(k)) => return Err(at(k)),
                Err(LineError::Nested(e)) => return Err(e),
            };
            if let Some(kind) = parsed {
                directives.push(Directive { line, kind });
            }
        }
        Ok(ParsedFile {
            path: path.to_owned(),
            directives,
        })
    }

    fn parse_line(&mut self, raw: &str, depth: usize) -> Result<Option<Kind>, LineError> {
        let line = match lexer::split_line(raw) {
            Lexed::Skip => return Ok(None),
            Lexed::NoArgument(k) => return Err(ErrorKind::MissingArgument(k).into()),
            Lexed::Line(l) => l,
        };
        let kw = line.keyword.as_str();
        let Some(keyword) = keywords::lookup(kw) else {
            if !self.seen_ignore_unknown {
                return Err(ErrorKind::UnknownKeyword(kw.to_owned()).into());
            }
            lexer::argv_split(line.rest).ok_or(ErrorKind::InvalidQuotes)?;
            self.deferred_unknown = true;
            return Ok(Some(Kind::Unknown(kw.to_owned())));
        };
        let args = lexer::argv_split(line.rest).ok_or(ErrorKind::InvalidQuotes)?;
        let mut args = Args {
            kw,
            list: args,
            next: 0,
        };
        // Everything after the keyword, minus leading blanks and `=`s.
        let verbatim = line.rest.trim_start_matches([' ', '\t', '\r', '\n', '=']);
        let kind = match keyword {
            Keyword::Host => {
                if args.list.first().is_some_and(String::is_empty) {
                    return Err(ErrorKind::EmptyArgument(kw.to_owned()).into());
                }
                Kind::Host(args.rest())
            }
            Keyword::Match => {
                let (spec, leftover) =
                    criteria::parse_match(line.rest).map_err(ErrorKind::BadMatch)?;
                if !leftover {
                    args.rest();
                }
                Kind::Match(spec)
            }
            Keyword::Include => Kind::Include(self.include(&mut args, depth)?),
            Keyword::IgnoreUnknown => {
                self.seen_ignore_unknown = true;
                Kind::IgnoreUnknown(args.required()?)
            }
            _ => match self.setting(keyword, &mut args, verbatim)? {
                Some(setting) => Kind::Set(setting),
                None => {
                    args.rest();
                    return Ok(None);
                }
            },
        };
        if args.next < args.list.len() {
            return Err(ErrorKind::ExtraArguments(kw.to_owned()).into());
        }
        Ok(Some(kind))
    }

    /// The value of a keyword drover uses; `None` for the others (ignored).
    fn setting(
        &self,
        keyword: Keyword,
        args: &mut Args<'_>,
        verbatim: &str,
    ) -> Result<Option<Setting>, LineError> {
        let kw = args.kw;
        let time = |args: &mut Args<'_>| -> Result<Option<u64>, LineError> {
            let v = args
                .optional()
                .ok_or_else(|| bad(kw, "", "missing time value"))?;
            if v == "none" {
                return Ok(None);
            }
            let secs = values::convtime(&v).ok_or_else(|| bad(kw, &v, "invalid time value"))?;
            Ok(Some(secs))
        };
        Ok(Some(match keyword {
            Keyword::HostName => Setting::HostName(args.required()?),
            Keyword::User => Setting::User(args.required()?),
            Keyword::HostKeyAlias => Setting::HostKeyAlias(args.required()?),
            Keyword::IdentityFile => Setting::IdentityFile(args.required()?),
            Keyword::CertificateFile => Setting::CertificateFile(args.required()?),
            Keyword::Port => {
                let v = args.required()?;
                Setting::Port(values::port(&v).ok_or_else(|| bad(kw, &v, "bad port"))?)
            }
            Keyword::IdentitiesOnly => {
                Setting::IdentitiesOnly(args.word(values::flag, "yes or no")?)
            }
            Keyword::StrictHostKeyChecking => Setting::StrictHostKeyChecking(args.word(
                values::strict_host_key_checking,
                "yes, ask, accept-new or no",
            )?),
            Keyword::CanonicalizeHostname => {
                Setting::CanonicalizeHostname(args.word(values::canonicalize, "yes, no or always")?)
            }
            Keyword::ConnectTimeout => Setting::ConnectTimeout(time(args)?),
            Keyword::ServerAliveInterval => Setting::ServerAliveInterval(time(args)?),
            Keyword::ServerAliveCountMax => {
                let v = args.optional().unwrap_or_default();
                let n = values::strtonum(&v, 0, i64::from(i32::MAX)).map_err(|why| {
                    bad(
                        kw,
                        &v,
                        if v.is_empty() {
                            "integer value missing"
                        } else {
                            why
                        },
                    )
                })?;
                Setting::ServerAliveCountMax(u32::try_from(n).unwrap_or(u32::MAX))
            }
            Keyword::ForwardAgent => {
                let v = args.required()?;
                match values::flag(&v) {
                    Some(b) => Setting::ForwardAgent(b),
                    None => {
                        tokens::dollar_only(&v)
                            .map_err(|_| bad(kw, &v, "invalid environment expansion"))?;
                        if let Some(name) = v.strip_prefix('$')
                            && !name.starts_with('{')
                            && !values::valid_env_name(name)
                        {
                            return Err(bad(kw, &v, "invalid environment name").into());
                        }
                        Setting::ForwardAgentPath(v)
                    }
                }
            }
            Keyword::UserKnownHostsFile => Setting::UserKnownHostsFile(args.file_list()?),
            Keyword::GlobalKnownHostsFile => Setting::GlobalKnownHostsFile(args.file_list()?),
            Keyword::ProxyCommand => {
                args.rest();
                Setting::ProxyCommand(verbatim.to_owned())
            }
            Keyword::ProxyJump => {
                args.rest();
                let v = jump::parse_proxy_jump(verbatim)
                    .ok_or_else(|| bad(kw, verbatim, "invalid ProxyJump"))?;
                Setting::ProxyJump(v)
            }
            Keyword::Host
            | Keyword::Match
            | Keyword::Include
            | Keyword::IgnoreUnknown
            | Keyword::Ignored => return Ok(None),
        }))
    }

    /// `Include`: relative paths live in `~/.ssh`; each glob match is read
    /// (with ssh's permission check) and parsed in place.
    fn include(&mut self, args: &mut Args<'_>, depth: usize) -> Result<Vec<ParsedFile>, LineError> {
        let mut files = Vec::new();
        for arg in args.rest() {
            if arg.is_empty() {
                return Err(ErrorKind::EmptyArgument(args.kw.to_owned()).into());
            }
            let anchored = if arg.starts_with('/') || arg.starts_with('~') {
                arg.clone()
            } else {
                format!("~/.ssh/{arg}")
            };
            let Ok(pattern) = tokens::tilde(&anchored, &self.env.home) else {
                continue;
            };
            for path in include::glob(&pattern) {
                if depth + 1 > MAX_INCLUDE_DEPTH {
                    return Err(ErrorKind::IncludeDepth.into());
                }
                if self.files >= MAX_FILES {
                    return Err(ErrorKind::TooManyFiles.into());
                }
                let failed = |reason: &str| ErrorKind::Include {
                    path: path.clone(),
                    reason: reason.to_owned(),
                };
                let text = match include::read_config(&path, true) {
                    Ok(t) => t,
                    Err(ReadFailure::Missing) => continue,
                    Err(ReadFailure::BadPermissions) => {
                        return Err(failed("bad owner or permissions").into());
                    }
                    Err(ReadFailure::TooLarge) => return Err(failed("file too large").into()),
                    Err(ReadFailure::Io(e)) => return Err(failed(&e.to_string()).into()),
                };
                let parsed = self
                    .parse_file(&text, &path, depth + 1)
                    .map_err(LineError::Nested)?;
                files.push(parsed);
            }
        }
        Ok(files)
    }
}
