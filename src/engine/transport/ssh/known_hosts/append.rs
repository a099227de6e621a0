//! Recording a newly accepted key (`accept-new`, or "yes" at the prompt).

use super::hashed::HashedHost;
use super::host_port_name;
use russh::keys::PublicKey;
use std::collections::HashMap;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Appends `host key` (port 22) or `[host]:port key` in plain text, as OpenSSH
/// does with its default `HashKnownHosts no`. The name is lowercased and the key
/// written without its comment. Creates the file (0600) and missing parent
/// directories (0700); never truncates; if the file lacks a final newline one is
/// added first, so the new line cannot merge into the last one. Appends to the
/// same path from one process are serialised; each line goes out in one
/// `O_APPEND` write, so appends from other processes do not interleave with it.
///
/// Rejects host names that would change the line's meaning (blanks, commas,
/// wildcards, negation, leading `@`, `|` or `#`).
pub fn append(path: &Path, host: &str, port: u16, key: &PublicKey) -> io::Result<()> {
    let name = checked_name(host, port)?;
    append_line(path, &name, key)
}

/// Like [`append`], with the name hashed (`HashKnownHosts yes`): a fresh random
/// salt from `/dev/urandom`, as `ssh-keygen -H` writes it.
pub fn append_hashed(path: &Path, host: &str, port: u16, key: &PublicKey) -> io::Result<()> {
    let name = checked_name(host, port)?;
    let mut salt = [0u8; 20];
    File::open("/dev/urandom")?.read_exact(&mut salt)?;
    append_line(path, &HashedHost::encode(&name, &salt), key)
}

fn checked_name(host: &str, port: u16) -> io::Result<String> {
    let bad = host.is_empty()
        || host.starts_with(['@', '|', '#'])
        || host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | '*' | '?' | '!'));
    if bad {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing to record host key for unusable host name {host:?}"),
        ));
    }
    Ok(host_port_name(host, port))
}

/// One lock per file for appends from this process.
fn lock_for(path: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    locks.entry(path).or_default().clone()
}

fn append_line(path: &Path, host_field: &str, key: &PublicKey) -> io::Result<()> {
    let key_text = PublicKey::new(key.key_data().clone(), "")
        .to_openssh()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let lock = lock_for(path);
    let _guard = lock.lock().unwrap_or_else(PoisonError::into_inner);

    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.exists()
    {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;

    let mut buf = Vec::with_capacity(host_field.len() + key_text.len() + 3);
    let len = file.metadata()?.len();
    if len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            buf.push(b'\n');
        }
    }
    buf.extend_from_slice(host_field.as_bytes());
    buf.push(b' ');
    buf.extend_from_slice(key_text.as_bytes());
    buf.push(b'\n');
    file.write_all(&buf)?;
    file.flush()
}
