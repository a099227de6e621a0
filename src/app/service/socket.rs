//! Where the service listens, and making that place safe: a directory only its
//! owner may enter (0700) holding a socket only its owner may connect to (0600),
//! unless the service's config opens both to a group for a team service.
//!
//! One service per socket: a lock file beside it is held for the service's life,
//! so a second `drover serve` says who holds it instead of stealing the path, and a
//! socket left by a killed service (nobody holds the lock) is replaced.

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

/// Why the service cannot listen.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("service socket {path}: {reason}")]
    Unsafe { path: PathBuf, reason: String },
    #[error(
        "service socket {path}: another drover service holds it (pid {pid}); `drover serve --stop` stops it"
    )]
    Taken { path: PathBuf, pid: String },
    #[error("service socket {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The service's hold on its socket: the lock, and the socket file removed when
/// dropped.
pub struct Bound {
    pub path: PathBuf,
    _lock: Flock<File>,
}

impl Drop for Bound {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_file(lock_path(&self.path));
    }
}

fn lock_path(socket: &Path) -> PathBuf {
    let mut name = socket.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    socket.with_file_name(name)
}

/// Binds `path` with `mode` (0600, or 0660 for a team), its directory made with
/// `mode`'s user and group bits plus search (0700 or 0750).
pub fn bind(path: &Path, mode: u32) -> Result<(tokio::net::UnixListener, Bound), SocketError> {
    let io = |source| SocketError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir_mode = 0o700 | if mode & 0o060 != 0 { 0o050 } else { 0 };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(dir_mode)
        .create(dir)
        .map_err(io)?;
    check_dir(path, dir)?;
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(lock_path(path))
        .map_err(io)?;
    let mut lock = match Flock::lock(lock_file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => lock,
        Err((file, _)) => {
            let pid = std::fs::read_to_string(lock_path(path)).unwrap_or_default();
            drop(file);
            return Err(SocketError::Taken {
                path: path.to_path_buf(),
                pid: pid.trim().to_string(),
            });
        }
    };
    {
        use std::io::{Seek, Write};
        let _ = lock.set_len(0);
        let _ = lock.seek(std::io::SeekFrom::Start(0));
        let _ = write!(lock, "{}", std::process::id());
    }
    // The lock is ours: whatever socket is there was left by a service that died.
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    // Made with the mode already narrowed: no moment where another user may connect.
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o777 & !mode));
    let listener = tokio::net::UnixListener::bind(path);
    nix::sys::stat::umask(old);
    let listener = listener.map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io)?;
    Ok((
        listener,
        Bound {
            path: path.to_path_buf(),
            _lock: lock,
        },
    ))
}

/// The directory must be ours and closed to others: a socket in a directory
/// someone else controls could be swapped under us.
fn check_dir(path: &Path, dir: &Path) -> Result<(), SocketError> {
    let meta = std::fs::metadata(dir).map_err(|source| SocketError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let unsafe_ = |reason: String| SocketError::Unsafe {
        path: path.to_path_buf(),
        reason,
    };
    if meta.uid() != nix::unistd::getuid().as_raw() {
        return Err(unsafe_(format!(
            "its directory {} belongs to uid {}, not to this user",
            dir.display(),
            meta.uid()
        )));
    }
    if meta.mode() & 0o002 != 0 {
        return Err(unsafe_(format!(
            "its directory {} is writable by everyone (mode {:o})",
            dir.display(),
            meta.mode() & 0o7777
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_socket_and_its_directory_are_the_owners_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("run/drover/drover.sock");
        let (_listener, bound) = bind(&path, 0o600).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        drop(bound);
        assert!(!path.exists(), "removed when the service ends");
    }

    #[tokio::test]
    async fn a_second_service_is_refused_and_a_dead_ones_socket_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("drover.sock");
        let (listener, first) = bind(&path, 0o600).unwrap();
        let second = bind(&path, 0o600).err().expect("refused while held");
        assert!(
            second.to_string().contains(&std::process::id().to_string()),
            "{second}"
        );
        drop((listener, first));
        // A service killed with -9 leaves its socket file, but no lock is held.
        let left = std::os::unix::net::UnixListener::bind(&path).unwrap();
        drop(left);
        assert!(path.exists());
        let again = bind(&path, 0o600).expect("a dead service's socket is replaced");
        drop(again);
    }

    #[tokio::test]
    async fn a_world_writable_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("open");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = bind(&dir.join("drover.sock"), 0o600)
            .err()
            .expect("refused");
        assert!(e.to_string().contains("writable by everyone"), "{e}");
    }
}
