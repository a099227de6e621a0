//! `%` tokens, `${VAR}` and `~`, as OpenSSH's `percent_expand`,
//! `dollar_expand` and `tilde_expand` treat them.
//!
//! Tokens: `%%` a percent sign, `%d` home, `%h` remote host name, `%i` local
//! uid, `%k` host key alias, `%L` short local host name, `%l` local host name,
//! `%n` host name as typed, `%p` port, `%r` remote user, `%u` local user. Which
//! ones a value accepts is up to the keyword (`HostName` takes only `%h`). An
//! unknown token, a trailing `%` or an unset variable is an error, as in ssh.
//! `%C` (a SHA-1 of the connection) is not supported.

use std::path::Path;

/// Token letters and their values.
pub(super) type Keys<'a> = [(char, &'a str)];

/// Expands `%x` tokens from `keys`, and `${VAR}` when `dollar` is set.
pub(super) fn expand(s: &str, keys: &Keys<'_>, dollar: bool) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if dollar && let Some(after) = rest.strip_prefix("${") {
            let end = after
                .find('}')
                .ok_or_else(|| format!("environment variable '{after}' missing closing '}}'"))?;
            let name = &after[..end];
            if name.is_empty() {
                return Err("zero-length environment variable".into());
            }
            let value =
                std::env::var(name).map_err(|_| format!("env var ${{{name}}} has no value"))?;
            out.push_str(&value);
            rest = &after[end + 1..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(key) = rest.chars().next() else {
            return Err("invalid format: '%' at the end".into());
        };
        rest = &rest[key.len_utf8()..];
        if key == '%' {
            out.push('%');
        } else if let Some((_, v)) = keys.iter().find(|(k, _)| *k == key) {
            out.push_str(v);
        } else if key == 'C' {
            return Err("token %C is not supported by drover".into());
        } else {
            return Err(format!("unknown token %{key}"));
        }
    }
    Ok(out)
}

/// Only `${VAR}` (for checking `ForwardAgent` paths when they are read).
pub(super) fn dollar_only(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find('}').map_or(tail.len(), |e| e + 1);
        out.push_str(&expand(&tail[..end], &[], true)?);
        rest = &tail[end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `~`, `~/path`, `~user` and `~user/path`; other strings unchanged. `~` alone
/// and `~/` give the home directory with a trailing slash, as ssh does.
pub(super) fn tilde(s: &str, home: &Path) -> Result<String, String> {
    let Some(after) = s.strip_prefix('~') else {
        return Ok(s.to_owned());
    };
    let (user, path) = match after.find('/') {
        Some(i) => (&after[..i], after[i..].trim_start_matches('/')),
        None => (after, ""),
    };
    let dir = if user.is_empty() {
        home.to_string_lossy().into_owned()
    } else {
        match nix::unistd::User::from_name(user) {
            Ok(Some(u)) => u.dir.to_string_lossy().into_owned(),
            _ => return Err(format!("no such user {user}")),
        }
    };
    let slash = if dir.ends_with('/') { "" } else { "/" };
    Ok(format!("{dir}{slash}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_tokens() {
        let keys = [('h', "web"), ('p', "22")];
        assert_eq!(
            expand("%h:%p %% x", &keys, false).as_deref(),
            Ok("web:22 % x")
        );
        assert!(expand("%z", &keys, false).is_err());
        assert!(expand("50%", &keys, false).is_err());
        assert!(expand("%C", &keys, false).is_err());
        assert_eq!(expand("${X}", &keys, false).as_deref(), Ok("${X}"));
        assert!(expand("${DROVER_SURELY_UNSET_VAR}", &keys, true).is_err());
        assert!(expand("${unclosed", &keys, true).is_err());
    }

    #[test]
    fn tildes() {
        let home = Path::new("/home/a");
        assert_eq!(tilde("~", home).as_deref(), Ok("/home/a/"));
        assert_eq!(tilde("~//x", home).as_deref(), Ok("/home/a/x"));
        assert_eq!(tilde("/abs/~", home).as_deref(), Ok("/abs/~"));
        assert_eq!(
            tilde("~root/k", home).as_deref().map(|p| p.ends_with("/k")),
            Ok(true)
        );
        assert!(tilde("~no-such-user-here/k", home).is_err());
    }
}
