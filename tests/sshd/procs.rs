//! The processes and namespaces this harness starts: reading /proc, ending whole
//! process trees (or everything inside a namespace) with SIGTERM and then SIGKILL,
//! and the process-global registry that an `atexit` hook cleans up from when a
//! fleet is never dropped (kept in a `static`, leaked). Leftovers of runs that were
//! killed outright are found by owner markers and removed by [`reap_stale`].

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

/// Prefix of every namespace this harness creates: `drv-<owner pid>-<owner start>-<n>`.
pub const NETNS_PREFIX: &str = "drv-";
/// Prefix of every temp dir: `drover-sshd-<owner pid>-<owner start>-<random>`.
pub const DIR_PREFIX: &str = "drover-sshd-";

/// One process, pinned by its start time so that a recycled pid is never mistaken
/// for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Proc {
    pub pid: i32,
    pub start: u64,
}

struct Stat {
    ppid: i32,
    start: u64,
    dead: bool,
}

fn read_stat(pid: i32) -> Option<Stat> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    let rest = s.get(s.rfind(')')? + 1..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state), f[1] field 4 (ppid), f[19] field 22 (starttime).
    let state = *f.first()?;
    Some(Stat {
        ppid: f.get(1)?.parse().ok()?,
        start: f.get(19)?.parse().ok()?,
        dead: state == "Z" || state == "X" || state == "x",
    })
}

/// The live (not zombie) process with this pid, if any.
pub fn proc_of(pid: i32) -> Option<Proc> {
    read_stat(pid).filter(|s| !s.dead).map(|s| Proc {
        pid,
        start: s.start,
    })
}

/// This test process, as an owner marker for names and dirs.
pub fn me() -> Proc {
    proc_of(std::process::id() as i32).expect("/proc/self/stat")
}

/// Still running (a zombie counts as gone).
pub fn alive(p: Proc) -> bool {
    matches!(read_stat(p.pid), Some(s) if s.start == p.start && !s.dead)
}

fn all_pids() -> Vec<i32> {
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// `roots` (those still alive) and every live descendant of them.
pub fn tree(roots: &[Proc]) -> Vec<Proc> {
    let mut children: HashMap<i32, Vec<Proc>> = HashMap::new();
    for pid in all_pids() {
        if let Some(s) = read_stat(pid).filter(|s| !s.dead) {
            children.entry(s.ppid).or_default().push(Proc {
                pid,
                start: s.start,
            });
        }
    }
    let mut out: Vec<Proc> = roots.iter().copied().filter(|p| alive(*p)).collect();
    let mut seen: HashSet<i32> = out.iter().map(|p| p.pid).collect();
    let mut i = 0;
    while i < out.len() {
        if let Some(kids) = children.get(&out[i].pid) {
            for k in kids {
                if seen.insert(k.pid) {
                    out.push(*k);
                }
            }
        }
        i += 1;
    }
    out
}

/// Every live process inside the network namespace bound at `ns_file`.
pub fn netns_members(ns_file: &Path) -> Vec<Proc> {
    let Ok(meta) = fs::metadata(ns_file) else {
        return Vec::new();
    };
    let want = format!("net:[{}]", meta.ino());
    all_pids()
        .into_iter()
        .filter(|pid| {
            fs::read_link(format!("/proc/{pid}/ns/net"))
                .is_ok_and(|l| l.as_os_str() == want.as_str())
        })
        .filter_map(proc_of)
        .collect()
}

fn signal(p: Proc, sig: Signal) {
    if alive(p) {
        let _ = kill(Pid::from_raw(p.pid), sig);
    }
}

fn wait_gone(procs: &[Proc], limit: Duration) -> Vec<Proc> {
    let deadline = Instant::now() + limit;
    loop {
        let left: Vec<Proc> = procs.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Ends a set of processes that may grow while we look (a listener accepting, a
/// shell forking). `look(known)` lists the set given what is already known: first
/// every member is frozen with SIGSTOP until a fresh look finds no new one (a
/// stopped process cannot fork), then all get SIGTERM and SIGCONT; whatever still
/// runs after `grace` gets SIGKILL, and we wait (bounded) until all are gone.
pub fn terminate(mut look: impl FnMut(&[Proc]) -> Vec<Proc>, grace: Duration) {
    let mut known: Vec<Proc> = Vec::new();
    let mut seen: HashSet<Proc> = HashSet::new();
    for _ in 0..50 {
        let new: Vec<Proc> = look(&known)
            .into_iter()
            .filter(|p| !seen.contains(p))
            .collect();
        if new.is_empty() {
            break;
        }
        for p in new {
            signal(p, Signal::SIGSTOP);
            seen.insert(p);
            known.push(p);
        }
    }
    for p in &known {
        signal(*p, Signal::SIGTERM);
    }
    for p in &known {
        signal(*p, Signal::SIGCONT);
    }
    let mut left = wait_gone(&known, grace);
    // Anything forked between the last look and SIGTERM, or left running.
    for p in look(&known) {
        if !seen.contains(&p) {
            left.push(p);
        }
    }
    for p in &left {
        signal(*p, Signal::SIGKILL);
    }
    wait_gone(&left, Duration::from_secs(2));
}

/// Ends `roots` and all their descendants.
pub fn terminate_trees(roots: &[Proc], grace: Duration) {
    let roots = roots.to_vec();
    terminate(
        |known| {
            let mut seeds = roots.clone();
            seeds.extend_from_slice(known);
            tree(&seeds)
        },
        grace,
    );
}

/// Ends everything inside a namespace (nothing can leave a network namespace by
/// forking, so this catches every session too).
pub fn terminate_netns(ns_file: &Path, grace: Duration) {
    let ns_file = ns_file.to_path_buf();
    terminate(|_| netns_members(&ns_file), grace);
}

/// `name` found under /sbin, /usr/sbin, ... (root's PATH may lack the sbin dirs).
pub fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    PathBuf::from(name)
}

/// Runs a helper program, returning its stderr as the error.
pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(tool(program))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{program} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Removes a namespace after ending everything in it.
pub fn delete_netns(name: &str) {
    let file = Path::new("/run/netns").join(name);
    terminate_netns(&file, Duration::from_millis(500));
    if run("ip", &["netns", "del", name]).is_err() && file.exists() {
        // `ip netns del` refuses while the bind mount is busy; retry once.
        std::thread::sleep(Duration::from_millis(20));
        let _ = run("ip", &["netns", "del", name]);
    }
}

// ---------------------------------------------------------------- registry

#[derive(Default)]
struct Registry {
    procs: Vec<Proc>,
    netns: Vec<String>,
    dirs: Vec<PathBuf>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    procs: Vec::new(),
    netns: Vec::new(),
    dirs: Vec::new(),
});

fn with_registry(f: impl FnOnce(&mut Registry)) {
    let mut r = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut r);
}

pub fn register_proc(p: Proc) {
    with_registry(|r| r.procs.push(p));
}
pub fn unregister_proc(p: Proc) {
    with_registry(|r| r.procs.retain(|q| *q != p));
}
pub fn register_netns(name: &str) {
    with_registry(|r| r.netns.push(name.to_string()));
}
pub fn unregister_netns(name: &str) {
    with_registry(|r| r.netns.retain(|n| n != name));
}
pub fn register_dir(dir: &Path) {
    with_registry(|r| r.dirs.push(dir.to_path_buf()));
}
pub fn unregister_dir(dir: &Path) {
    with_registry(|r| r.dirs.retain(|d| d != dir));
}

/// Runs at process exit: whatever was registered and never dropped.
extern "C" fn at_exit() {
    let _ = std::panic::catch_unwind(|| {
        // Another thread may hold the lock forever (exit while a test runs): skip.
        let Ok(mut r) = REGISTRY.try_lock() else {
            return;
        };
        let r = std::mem::take(&mut *r);
        terminate_trees(&r.procs, Duration::from_millis(500));
        for ns in &r.netns {
            delete_netns(ns);
        }
        for d in &r.dirs {
            let _ = fs::remove_dir_all(d);
        }
    });
}

/// Once per process: install the exit hook and remove what dead runs left.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a plain `extern "C" fn` that never unwinds.
        unsafe {
            nix::libc::atexit(at_exit);
        }
        reap_stale();
    });
}

/// `<pid>-<start>-...` -> whether that owner still runs.
fn owner_alive(tail: &str) -> bool {
    let mut it = tail.split('-');
    let (Some(pid), Some(start)) = (it.next(), it.next()) else {
        return false;
    };
    match (pid.parse::<i32>(), start.parse::<u64>()) {
        (Ok(pid), Ok(start)) => alive(Proc { pid, start }),
        _ => false,
    }
}

/// Removes `drv-*` namespaces, sshd processes and temp dirs whose owning test
/// process is gone (a run killed by SIGKILL / Ctrl-C never ran its cleanup).
pub fn reap_stale() {
    if let Ok(rd) = fs::read_dir("/run/netns") {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(tail) = name.strip_prefix(NETNS_PREFIX)
                && !owner_alive(tail)
            {
                delete_netns(&name);
            }
        }
    }
    let tmp = std::env::temp_dir();
    let mut stale_dirs: HashSet<PathBuf> = HashSet::new();
    if let Ok(rd) = fs::read_dir(&tmp) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(tail) = name.strip_prefix(DIR_PREFIX)
                && !owner_alive(tail)
            {
                stale_dirs.insert(e.path());
            }
        }
    }
    // sshd listeners started from a stale dir (their argv names its sshd_config).
    let mut roots = Vec::new();
    let marker = tmp.join(DIR_PREFIX);
    let marker = marker.to_string_lossy();
    for pid in all_pids() {
        let Ok(cmd) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        // A listener retitles itself: argv becomes one string,
        // "sshd: /usr/sbin/sshd -D -f <dir>/nodes/node001/sshd_config ... [listener] ...".
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        let program = cmd.split_whitespace().next().unwrap_or_default();
        if !program.trim_end_matches(':').ends_with("sshd") {
            continue;
        }
        if let Some(at) = cmd.find(marker.as_ref())
            && !owner_alive(&cmd[at + marker.len()..])
            && let Some(p) = proc_of(pid)
        {
            roots.push(p);
        }
    }
    terminate_trees(&roots, Duration::from_millis(500));
    for d in stale_dirs {
        let _ = fs::remove_dir_all(d);
    }
}
