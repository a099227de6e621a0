//! `Match` lines: parsing the criteria and evaluating them for one host.
//!
//! Criteria are ANDed; `!` negates one. `all` must stand alone (or end the
//! line); `host` tests the host name as resolved so far (`HostName` with `%h`
//! expanded), `originalhost` the name as typed, both case-insensitively with
//! pattern lists; `user` the remote user so far and `localuser` the local one,
//! case-sensitively. `canonical` and `final` hold only in the second pass that
//! `Match final` or `CanonicalizeHostname` asks for. `exec` runs a command with
//! tokens expanded, through `$SHELL -c` (`/bin/sh` if unset), only while every
//! earlier criterion held; exit status 0 is a match.

use super::{EXEC_TIMEOUT, ErrorKind, lexer, tokens};
use crate::engine::transport::ssh::pattern::{match_list, split_list};
use std::process::{Command, Stdio};
use std::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Test {
    Canonical,
    Final,
    Host(String),
    OriginalHost(String),
    User(String),
    LocalUser(String),
    Exec(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Criterion {
    pub negate: bool,
    pub test: Test,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MatchSpec {
    pub criteria: Vec<Criterion>,
    /// `all` (negated or not) ended the line.
    pub all: Option<bool>,
}

impl MatchSpec {
    /// Whether evaluating this line asks for ssh's final pass.
    pub fn wants_final(&self) -> bool {
        self.criteria.iter().any(|c| c.test == Test::Final)
    }
}

/// Parses the rest of a `Match` line (split like keywords: whitespace, `=` and
/// double quotes). Returns the spec and whether text is left over (then the
/// line has extra arguments), or why the condition is bad.
pub(super) fn parse_match(rest: &str) -> Result<(MatchSpec, bool), String> {
    let mut cp: Option<&str> = Some(rest);
    let mut criteria = Vec::new();
    let mut all = None;
    let mut attributes = 0;
    while let Some(c) = cp {
        let Some((attrib, next)) = lexer::strdelim(c, true) else {
            cp = None;
            break;
        };
        cp = next;
        if attrib.is_empty() {
            break;
        }
        if attrib.starts_with('#') {
            cp = None;
            break;
        }
        let (negate, name) = match attrib.strip_prefix('!') {
            Some(n) => (true, n),
            None => (false, attrib.as_str()),
        };
        let name = name.to_ascii_lowercase();
        if name == "all" {
            let arg = match cp.and_then(|c| lexer::strdelim(c, true)) {
                Some((a, next)) => {
                    cp = next;
                    Some(a)
                }
                None => {
                    cp = None;
                    None
                }
            };
            let more = arg
                .as_deref()
                .is_some_and(|a| !a.is_empty() && !a.starts_with('#'));
            if attributes > 1 || more {
                return Err(format!(
                    "'{attrib}' cannot be combined with other Match attributes"
                ));
            }
            if arg.as_deref().is_some_and(|a| a.starts_with('#')) {
                cp = None;
            }
            all = Some(negate);
            break;
        }
        attributes += 1;
        if name == "canonical" || name == "final" {
            let test = if name == "final" {
                Test::Final
            } else {
                Test::Canonical
            };
            criteria.push(Criterion { negate, test });
            continue;
        }
        let arg = match cp.and_then(|c| lexer::strdelim(c, true)) {
            Some((a, next)) => {
                cp = next;
                a
            }
            None => {
                cp = None;
                String::new()
            }
        };
        if arg.is_empty() || arg.starts_with('#') {
            return Err(format!("missing Match criteria for {name}"));
        }
        let test = match name.as_str() {
            "host" => Test::Host(arg),
            "originalhost" => Test::OriginalHost(arg),
            "user" => Test::User(arg),
            "localuser" => Test::LocalUser(arg),
            "exec" => Test::Exec(arg),
            _ => return Err(format!("unsupported Match attribute {name}")),
        };
        criteria.push(Criterion { negate, test });
    }
    if all.is_none() && attributes == 0 {
        return Err("one or more attributes required for Match".into());
    }
    let leftover = cp.is_some_and(|c| !c.is_empty());
    Ok((MatchSpec { criteria, all }, leftover))
}

/// What the criteria are tested against.
pub(super) struct Facts<'a> {
    pub final_pass: bool,
    /// The host name so far (`HostName` with `%h` expanded, or as typed).
    pub host: &'a str,
    pub original_host: &'a str,
    pub user: &'a str,
    pub local_user: &'a str,
    /// Tokens for `exec`.
    pub exec_tokens: &'a tokens::Keys<'a>,
    pub allow_exec: bool,
}

/// Whether the line matches; an error only from `exec`.
pub(super) fn evaluate(spec: &MatchSpec, facts: &Facts<'_>) -> Result<bool, ErrorKind> {
    let mut result = true;
    for c in &spec.criteria {
        let hit = match &c.test {
            Test::Canonical | Test::Final => facts.final_pass,
            Test::Host(p) => match_list(facts.host, split_list(p), true).is_match(),
            Test::OriginalHost(p) => {
                match_list(facts.original_host, split_list(p), true).is_match()
            }
            Test::User(p) => match_list(facts.user, split_list(p), false).is_match(),
            Test::LocalUser(p) => match_list(facts.local_user, split_list(p), false).is_match(),
            Test::Exec(raw) => {
                let command = tokens::expand(raw, facts.exec_tokens, false).map_err(|reason| {
                    ErrorKind::Exec {
                        command: raw.clone(),
                        reason,
                    }
                })?;
                if !result {
                    continue;
                }
                run(&command, facts.allow_exec)?
            }
        };
        if hit == c.negate {
            result = false;
        }
    }
    if let Some(negated) = spec.all
        && result
    {
        result = !negated;
    }
    Ok(result)
}

/// Runs an `exec` command; true if it exits with status 0.
fn run(command: &str, allowed: bool) -> Result<bool, ErrorKind> {
    let fail = |reason: String| ErrorKind::Exec {
        command: command.to_owned(),
        reason,
    };
    if !allowed {
        return Err(fail("running commands is disabled here".into()));
    }
    let shell = std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let mut child = Command::new(&shell)
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| fail(format!("cannot run {}: {e}", shell.to_string_lossy())))?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return match status.code() {
                    Some(code) => Ok(code == 0),
                    None => Err(fail("exited abnormally".into())),
                };
            }
            Ok(None) if started.elapsed() > EXEC_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "still running after {}s",
                    EXEC_TIMEOUT.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(5)),
            Err(e) => return Err(fail(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_ssh() {
        let (spec, left) = parse_match("host a,b !user x").expect("valid");
        assert!(!left);
        assert_eq!(spec.criteria.len(), 2);
        assert!(spec.criteria[1].negate);
        let (spec, _) = parse_match("host=a").expect("valid");
        assert_eq!(spec.criteria[0].test, Test::Host("a".into()));
        assert_eq!(parse_match("all").map(|(s, _)| s.all), Ok(Some(false)));
        assert_eq!(
            parse_match("host x all").map(|(s, _)| s.all),
            Ok(Some(false))
        );
        assert!(parse_match("all host x").is_err());
        assert!(parse_match("canonical host x all").is_err());
        assert!(parse_match("host").is_err());
        assert!(parse_match("bogus x").is_err());
        assert!(parse_match("# only a comment").is_err());
        assert!(parse_match("final").is_ok_and(|(s, _)| s.wants_final()));
    }
}
