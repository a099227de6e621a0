//! The destination as ssh takes it on its command line: `host`, `user@host` (the
//! last `@` splits) or `ssh://[user@]host[:port]`. The user and port it names act
//! as `-l` and `-p` would (so `Match user` sees the user, and a config `User` or
//! `Port` does not replace them), except that an explicit `-l` or `-p` wins.

use super::jump::parse_uri;
use super::{Overrides, SshConfigError, address};

/// The host to resolve and the command-line values, `-l`/`-p` first.
pub(super) fn split(
    destination: &str,
    overrides: &Overrides,
) -> Result<(String, Overrides), SshConfigError> {
    let invalid = || SshConfigError::InvalidDestination(destination.to_owned());
    let (host, user, port) = match destination.strip_prefix("ssh://") {
        Some(rest) => {
            let hop = parse_uri(rest).ok_or_else(invalid)?;
            (hop.host, hop.user, hop.port)
        }
        None => match destination.rsplit_once('@') {
            Some(("", _)) => return Err(invalid()),
            Some((user, host)) => (host.to_owned(), Some(user.to_owned()), None),
            None => (destination.to_owned(), None, None),
        },
    };
    if overrides.user.is_none()
        && let Some(u) = &user
        && !address::valid_user(u)
    {
        return Err(SshConfigError::InvalidUser(u.clone()));
    }
    Ok((
        host,
        Overrides {
            user: overrides.user.clone().or(user),
            port: overrides.port.or(port),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(d: &str) -> Option<(String, Option<String>, Option<u16>)> {
        split(d, &Overrides::default())
            .ok()
            .map(|(h, o)| (h, o.user, o.port))
    }

    #[test]
    fn as_ssh_reads_its_destination() {
        let s = |x: &str| Some(x.to_owned());
        assert_eq!(parts("h"), Some(("h".into(), None, None)));
        assert_eq!(parts("bob@h"), Some(("h".into(), s("bob"), None)));
        assert_eq!(parts("a@b@c"), Some(("c".into(), s("a@b"), None)));
        assert_eq!(
            parts("ssh://bob@h:23"),
            Some(("h".into(), s("bob"), Some(23)))
        );
        assert_eq!(
            parts("ssh://bob;x=1@X."),
            Some(("X".into(), s("bob"), None))
        );
        for bad in ["@h", "ssh://@h", "ssh://h:0", "ssh://h/p", "a;b@h", "-a@h"] {
            assert_eq!(parts(bad), None, "{bad}");
        }
        let explicit = Overrides {
            user: Some("zed".into()),
            port: Some(2),
        };
        let (_, o) = split("ssh://bob@h:23", &explicit).unwrap();
        assert_eq!(o, explicit, "-l and -p win");
    }
}
