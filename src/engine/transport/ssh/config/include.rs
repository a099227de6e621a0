//! Reading config files and expanding `Include` globs as glob(3) does: `*`, `?`
//! and `[...]` within one path component, hidden names only for patterns that
//! start with a dot, results sorted.
//!
//! Kept by hand rather than taken from the `glob` crate, whose language differs
//! from glob(3) where `ssh -G` can tell: there `**` recurses into directories
//! and a backslash does not escape the next character.

use super::MAX_FILE_BYTES;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Why a file could not be read.
#[derive(Debug)]
pub(super) enum ReadFailure {
    Missing,
    TooLarge,
    /// Owned by someone else, or writable by group or others.
    BadPermissions,
    Io(std::io::Error),
}

/// The text of a config file (a directory reads as empty, as with ssh).
/// `check_permissions` applies ssh's rule for included files.
pub(super) fn read_config(path: &Path, check_permissions: bool) -> Result<String, ReadFailure> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ReadFailure::Missing,
        _ => ReadFailure::Io(e),
    })?;
    if check_permissions {
        let me = nix::unistd::getuid().as_raw();
        if (meta.uid() != 0 && meta.uid() != me) || meta.mode() & 0o022 != 0 {
            return Err(ReadFailure::BadPermissions);
        }
    }
    if meta.is_dir() {
        return Ok(String::new());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(ReadFailure::TooLarge);
    }
    let file = std::fs::File::open(path).map_err(ReadFailure::Io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadFailure::Io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadFailure::TooLarge);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn is_magic(component: &str) -> bool {
    component.contains(['*', '?', '['])
}

/// Existing paths matching `pattern` (absolute, `~` already expanded), sorted.
pub(super) fn glob(pattern: &str) -> Vec<PathBuf> {
    let mut current = vec![PathBuf::from(if pattern.starts_with('/') {
        "/"
    } else {
        ""
    })];
    let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    for component in components {
        let mut next = Vec::new();
        for dir in &current {
            if !is_magic(component) {
                next.push(dir.join(unescape(component)));
                continue;
            }
            let listing = if dir.as_os_str().is_empty() {
                std::fs::read_dir(".")
            } else {
                std::fs::read_dir(dir)
            };
            let Ok(entries) = listing else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if name.starts_with('.') && !component.starts_with('.') {
                    continue;
                }
                if fnmatch(component, name) {
                    next.push(dir.join(name));
                }
            }
        }
        current = next;
    }
    let mut found: Vec<PathBuf> = current
        .into_iter()
        .filter(|p| !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_ok())
        .collect();
    found.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    found
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or('\\')
        } else {
            c
        });
    }
    out
}

#[derive(Debug)]
enum Tok {
    Char(char),
    Any,
    Star,
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

fn tokenize(p: &str) -> Vec<Tok> {
    let c: Vec<char> = p.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '*' => out.push(Tok::Star),
            '?' => out.push(Tok::Any),
            '\\' if i + 1 < c.len() => {
                i += 1;
                out.push(Tok::Char(c[i]));
            }
            '[' => match class(&c, i + 1) {
                Some((tok, end)) => {
                    out.push(tok);
                    i = end;
                }
                None => out.push(Tok::Char('[')),
            },
            ch => out.push(Tok::Char(ch)),
        }
        i += 1;
    }
    out
}

/// A bracket expression starting after `[`: the token and the index of `]`.
fn class(c: &[char], mut i: usize) -> Option<(Tok, usize)> {
    let negated = matches!(c.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let lo = *c.get(i)?;
        if lo == ']' && !first {
            return Some((Tok::Class { negated, items }, i));
        }
        first = false;
        if c.get(i + 1) == Some(&'-') && c.get(i + 2).is_some_and(|h| *h != ']') {
            items.push((lo, c[i + 2]));
            i += 3;
        } else {
            items.push((lo, lo));
            i += 1;
        }
    }
}

fn tok_matches(t: &Tok, ch: char) -> bool {
    match t {
        Tok::Char(c) => *c == ch,
        Tok::Any => true,
        Tok::Star => false,
        Tok::Class { negated, items } => {
            items.iter().any(|(lo, hi)| (*lo..=*hi).contains(&ch)) != *negated
        }
    }
}

/// Matches one path component against one pattern component.
fn fnmatch(pattern: &str, name: &str) -> bool {
    let p = tokenize(pattern);
    let s: Vec<char> = name.chars().collect();
    let (mut si, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && !matches!(p[pi], Tok::Star) && tok_matches(&p[pi], s[si]) {
            si += 1;
            pi += 1;
        } else if pi < p.len() && matches!(p[pi], Tok::Star) {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|t| matches!(t, Tok::Star))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_matching() {
        assert!(fnmatch("*.conf", "a.conf"));
        assert!(!fnmatch("*.conf", "a.conf.bak"));
        assert!(fnmatch("[a-c]?", "b1"));
        assert!(!fnmatch("[!a-c]?", "b1"));
        assert!(fnmatch("[]x]", "]"));
        assert!(fnmatch("a[", "a["));
        assert!(fnmatch("\\*", "*"));
        assert!(!fnmatch("\\*", "x"));
    }

    #[test]
    fn globbing_sorts_and_hides_dot_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["b.conf", "a.conf", ".hidden.conf", "c.txt"] {
            std::fs::write(dir.path().join(name), "").expect("write");
        }
        let pattern = format!("{}/*.conf", dir.path().display());
        let names: Vec<_> = glob(&pattern)
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(names, ["a.conf", "b.conf"]);
        assert!(glob(&format!("{}/nope", dir.path().display())).is_empty());
    }
}
