//! The local facts resolution depends on, injected so tests can fake them.

use super::SshConfigError;
use std::path::PathBuf;

/// Who and where we are: `~`, `%d`, `%u`, `%l`, `%i`, the default remote user and
/// `Match localuser` come from here, never from the process directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Home directory: `~`, `%d`, and the base of relative `Include` paths
    /// (`~/.ssh/`).
    pub home: PathBuf,
    /// Local user name: `%u`, `Match localuser`, and the remote user by default.
    pub local_user: String,
    /// Local host name (`%l`; `%L` is its first label).
    pub local_host: String,
    /// Local numeric user id (`%i`).
    pub uid: u32,
    /// Whether `Match exec` may run commands; when false it is an error.
    pub allow_exec: bool,
}

impl Environment {
    /// The given home and user; host name and uid from this process; exec allowed.
    pub fn new(home: impl Into<PathBuf>, local_user: impl Into<String>) -> Environment {
        Environment {
            home: home.into(),
            local_user: local_user.into(),
            local_host: local_host_name(),
            uid: nix::unistd::getuid().as_raw(),
            allow_exec: true,
        }
    }

    /// `$HOME` and `$USER`, each falling back to this process's passwd entry.
    pub fn from_process() -> Result<Environment, SshConfigError> {
        let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let passwd = || {
            nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
        };
        let home = match nonempty("HOME") {
            Some(h) => PathBuf::from(h),
            None => passwd()
                .map(|p| p.dir)
                .ok_or(SshConfigError::Environment("home directory"))?,
        };
        let user = match nonempty("USER").and_then(|u| u.into_string().ok()) {
            Some(u) => u,
            None => passwd()
                .map(|p| p.name)
                .ok_or(SshConfigError::Environment("user name"))?,
        };
        Ok(Environment::new(home, user))
    }
}

fn local_host_name() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.nodename().to_string_lossy().into_owned())
        .unwrap_or_else(|_| "localhost".to_owned())
}
