//! What a PostgreSQL server needs from this machine: the binaries, the
//! unprivileged account it runs as, a free loopback port, randomness for its
//! password, and the removal of data dirs that killed runs left behind.

use nix::unistd::User;
use std::fs;
use std::hash::{BuildHasher, RandomState};
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The account the servers run as when the tests run as root (initdb and
/// postgres refuse root). A dedicated system user rather than `nobody`:
/// postgres insists that its data dir belongs to the user it runs as, and
/// `nobody` is the identity shared by every daemon that drops privileges (and
/// by NFS-squashed files), so a data dir owned by `nobody` would be theirs too.
/// `drover-pg` owns nothing but these throwaway servers, so `pgrep -u
/// drover-pg` after a run lists exactly the strays, if any.
pub const ACCOUNT: &str = "drover-pg";

/// Prefix of every server's temp dir: `drover-pg-<owner pid>-<random>`.
pub const DIR_PREFIX: &str = "drover-pg-";

/// The uid and gid the server processes run as; `None` in [`Account::ids`]
/// when the tests do not run as root (the server then runs as the caller).
#[derive(Clone, Copy, Debug)]
pub struct Account {
    pub uid: u32,
    pub gid: u32,
}

impl Account {
    /// Files the server writes to (its temp dir, the password file) must be
    /// its own.
    pub fn give(&self, path: &Path) -> Result<(), String> {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            .map_err(|e| format!("chown {}: {e}", path.display()))
    }
}

/// The directory holding `initdb` and `postgres`: the real location of the
/// `initdb` on `PATH`, else the newest `/usr/lib/postgresql/<version>/bin`
/// (where Debian's package puts them, off `PATH`). `Err` names what to install.
pub fn bin_dir() -> Result<PathBuf, String> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("initdb"))
        .filter(|f| f.is_file())
        // /usr/local/bin/initdb may be a link: postgres sits beside its target.
        .filter_map(|f| Some(fs::canonicalize(f).ok()?.parent()?.to_path_buf()));
    let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .collect();
    debian.sort();
    on_path
        .chain(debian.into_iter().rev().map(|(_, dir)| dir))
        .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
        .ok_or_else(|| {
            "PostgreSQL's initdb and postgres are not installed \
             (apt-get install postgresql; scripts/test.sh does)"
                .to_string()
        })
}

/// `Some(account)` to drop to when running as root, `None` otherwise. Creates
/// [`ACCOUNT`] when it is missing (scripts/test.sh creates it beforehand; this
/// covers a test run by hand). `Err` when it cannot be created.
pub fn account() -> Result<Option<Account>, String> {
    static DONE: OnceLock<Result<Option<Account>, String>> = OnceLock::new();
    DONE.get_or_init(|| {
        if !nix::unistd::geteuid().is_root() {
            return Ok(None);
        }
        let lookup = || User::from_name(ACCOUNT).ok().flatten();
        if lookup().is_none() {
            let made = Command::new("useradd")
                .args(["--system", "--user-group", "--no-create-home"])
                .args(["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin"])
                .arg(ACCOUNT)
                .output();
            // Another test binary may have created it at the same moment.
            if lookup().is_none() {
                return Err(format!("cannot create the user {ACCOUNT}: {made:?}"));
            }
        }
        let user = lookup().ok_or_else(|| format!("user {ACCOUNT} vanished"))?;
        Ok(Some(Account {
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
        }))
    })
    .clone()
}

/// A loopback port free right now, below the ephemeral range: outgoing
/// connections never take it by themselves, so it stays free while a server
/// is stopped and restarted on it.
pub fn pick_port() -> Result<u16, String> {
    let low = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    // Away from the sshd harness's 20000.. block when the range allows.
    let (from, to) = if low > 16000 {
        (12000, 16000)
    } else {
        (10000, low.max(10001))
    };
    for _ in 0..64 {
        let port = from + (random_u64() % u64::from(to - from)) as u16;
        if TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).is_ok() {
            return Ok(port);
        }
    }
    Err(format!("no free loopback port in {from}..{to}"))
}

/// 32 hex digits from the kernel's random source: the server's password
/// (hex, so it needs no escaping in a URL).
pub fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("/dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_u64() -> u64 {
    RandomState::new().hash_one((std::process::id(), std::time::Instant::now()))
}

/// Removes the temp dirs of servers whose test binary was killed outright
/// (its pid is gone; their postmasters died with it, see the parent-death
/// signal in `postmaster`). Once per process.
pub fn reap_stale_dirs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(owner) = name
                .to_str()
                .and_then(|n| n.strip_prefix(DIR_PREFIX))
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if !Path::new(&format!("/proc/{owner}")).exists() {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    });
}
