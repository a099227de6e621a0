//! Network namespaces for the jump topology, and the bastion's accept loop.
//!
//! The namespace has only its own loopback (no veth, no routes, no addresses outside
//! 127.0.0.0/8): the internal sshds listen on 127.x addresses *inside* it, where
//! nothing in the root namespace can reach them. The bastion's listening socket is
//! in the root namespace (owned by a thread of the test process); every accepted
//! connection is handed to a fresh `sshd -i` (inetd mode) that runs *inside* the
//! namespace, so the bastion, and only the bastion, reaches the internal nodes.

use super::procs::{self, Proc};
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Netns {
    pub name: String,
    pub file: PathBuf,
    deleted: bool,
}

impl Netns {
    /// `ip netns add drv-<pid>-<start>-<n>` with its loopback up.
    pub fn create() -> Result<Netns, String> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let me = procs::me();
        let name = format!(
            "{}{}-{}-{}",
            procs::NETNS_PREFIX,
            me.pid,
            me.start,
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        procs::run("ip", &["netns", "add", &name])?;
        procs::register_netns(&name);
        let ns = Netns {
            file: Path::new("/run/netns").join(&name),
            name,
            deleted: false,
        };
        procs::run("ip", &["-n", &ns.name, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Ends everything inside, then removes the namespace.
    pub fn delete(&mut self) {
        if !self.deleted {
            self.deleted = true;
            procs::delete_netns(&self.name);
            procs::unregister_netns(&self.name);
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        self.delete();
    }
}

/// How a spawned sshd is set apart from the machine it runs on.
#[derive(Clone, Debug, Default)]
pub struct Sandbox {
    /// Join this network namespace (a file under /run/netns).
    pub netns: Option<PathBuf>,
    /// In a private mount + UTS namespace: set this host name ...
    pub hostname: Option<String>,
    /// ... and bind-mount each `(source, target)` dir over `target`.
    pub binds: Vec<(PathBuf, PathBuf)>,
}

fn cstring(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// Spawns `cmd` with its child moved into `sandbox` before it execs. When this
/// kernel refuses private mount/UTS namespaces, the child runs without them.
pub fn spawn_in(cmd: &mut Command, sandbox: &Sandbox) -> io::Result<Child> {
    let ns = sandbox.netns.as_deref().map(File::open).transpose()?;
    let ns_fd = ns.as_ref().map(|f| f.as_raw_fd());
    let hostname = sandbox
        .hostname
        .as_deref()
        .map(|h| CString::new(h).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e)))
        .transpose()?;
    let binds = sandbox
        .binds
        .iter()
        .map(|(s, t)| Ok((cstring(s)?, cstring(t)?)))
        .collect::<io::Result<Vec<_>>>()?;
    let isolate = hostname.is_some() || !binds.is_empty();
    // SAFETY: between fork and exec the closure makes only async-signal-safe system
    // calls on data prepared before the fork (no allocation); `ns` keeps the fd
    // open until `spawn` has returned.
    unsafe {
        cmd.pre_exec(move || {
            use nix::libc;
            if let Some(fd) = ns_fd
                && libc::setns(fd, libc::CLONE_NEWNET) != 0
            {
                return Err(io::Error::last_os_error());
            }
            if isolate && libc::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWUTS) == 0 {
                let none = std::ptr::null();
                if libc::mount(
                    none,
                    c"/".as_ptr(),
                    none,
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ) != 0
                {
                    return Err(io::Error::last_os_error());
                }
                for (src, dst) in &binds {
                    if libc::mount(
                        src.as_ptr(),
                        dst.as_ptr(),
                        none,
                        libc::MS_BIND,
                        std::ptr::null(),
                    ) != 0
                    {
                        return Err(io::Error::last_os_error());
                    }
                }
                if let Some(h) = &hostname
                    && libc::sethostname(h.as_ptr(), h.as_bytes().len()) != 0
                {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let child = cmd.spawn();
    drop(ns);
    child
}

/// Moves the calling thread (only it) into the namespace: sockets it creates from
/// now on live there. Use on a thread of its own that ends afterwards.
pub fn enter_this_thread(ns_file: &Path) -> io::Result<()> {
    let ns = File::open(ns_file)?;
    // SAFETY: plain system call on an fd we own; a network namespace switch only
    // affects this thread.
    if unsafe { nix::libc::setns(ns.as_raw_fd(), nix::libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The bastion's accept loop (root namespace) and the `sshd -i` it started.
pub struct Acceptor {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// The running `sshd -i`; each has a waiter thread that reaps it and takes it
    /// off this list.
    children: Arc<Mutex<Vec<Proc>>>,
}

impl Acceptor {
    /// Listens on `addr`; each connection becomes `sshd -i -f cfg -E log` in `sandbox`.
    pub fn start(
        addr: SocketAddr,
        sshd: &Path,
        cfg: &Path,
        log: &Path,
        sandbox: Sandbox,
    ) -> Result<Acceptor, String> {
        let listener = TcpListener::bind(addr).map_err(|e| format!("bastion bind {addr}: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let children: Arc<Mutex<Vec<Proc>>> = Arc::default();
        let (sshd, cfg, log) = (sshd.to_path_buf(), cfg.to_path_buf(), log.to_path_buf());
        let (stop2, children2) = (stop.clone(), children.clone());
        let thread = std::thread::Builder::new()
            .name(format!("bastion-{addr}"))
            .spawn(move || {
                for conn in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let stream = match conn {
                        Ok(s) => s,
                        Err(_) => {
                            // EMFILE and the like: back off instead of spinning.
                            std::thread::sleep(Duration::from_millis(10));
                            continue;
                        }
                    };
                    let Ok(mut child) = inetd_sshd(stream, &sshd, &cfg, &log, &sandbox) else {
                        continue;
                    };
                    let Some(p) = procs::proc_of(child.id() as i32) else {
                        let _ = child.wait();
                        continue;
                    };
                    children2.lock().unwrap_or_else(|e| e.into_inner()).push(p);
                    let list = children2.clone();
                    let waiter =
                        std::thread::Builder::new()
                            .stack_size(64 * 1024)
                            .spawn(move || {
                                let _ = child.wait();
                                list.lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .retain(|q| *q != p);
                            });
                    if waiter.is_err() {
                        // No thread to reap it: it stays a zombie until we exit.
                        children2
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .retain(|q| *q != p);
                    }
                }
            })
            .map_err(|e| format!("bastion thread: {e}"))?;
        Ok(Acceptor {
            addr,
            stop,
            thread: Some(thread),
            children,
        })
    }

    /// Closes the listening socket and ends every bastion connection.
    pub fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept(); the loop sees `stop` and drops the listener.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        let _ = thread.join();
        let roots = self
            .children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        procs::terminate_trees(&roots, Duration::from_secs(1));
        // Give the waiter threads a moment to reap them.
        let deadline = Instant::now() + Duration::from_secs(2);
        while !self
            .children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stop();
    }
}

fn inetd_sshd(
    stream: TcpStream,
    sshd: &Path,
    cfg: &Path,
    log: &Path,
    sandbox: &Sandbox,
) -> io::Result<Child> {
    let fd: OwnedFd = stream.into();
    let out = fd.try_clone()?;
    let mut cmd = Command::new(sshd);
    cmd.arg("-i")
        .arg("-f")
        .arg(cfg)
        .arg("-E")
        .arg(log)
        .stdin(Stdio::from(fd))
        .stdout(Stdio::from(out))
        .stderr(Stdio::null());
    // `cmd` (and with it our copies of the socket) is dropped on return, so the
    // connection closes as soon as this sshd exits.
    spawn_in(&mut cmd, sandbox)
}
