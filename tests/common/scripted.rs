//! A real `Transport` whose behaviour per node is scripted, and which records what
//! the executor asked of it: start/stop/finish order, how many runs were in flight
//! at once, and whether `stop` was already cancelled when a run began.

use drover::engine::ErrorCategory;
use drover::engine::inventory::Node;
use drover::engine::report::output::OutputSink;
use drover::engine::transport::{
    BoxFuture, Capabilities, ExitInfo, Health, NodeJob, Transport, TransportError,
};
use drover::store::Stream;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Barrier, Semaphore, watch};
use tokio_util::sync::CancellationToken;

/// The name nodes use to pick this transport.
pub const SCRIPTED: &str = "scripted";

/// How long the executor waits for a stopped run (a [`Step::Deaf`] one never ends).
pub const STOP_BOUND: Duration = Duration::from_secs(1);

/// What one attempt on one node does.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Writes the output through the sink, works for `work`, then exits with `code`.
    Exit {
        code: i32,
        stdout: String,
        stderr: String,
        work: Duration,
    },
    /// Cannot run the command at all.
    Fail {
        category: ErrorCategory,
        reason: String,
    },
    /// A bug in the plug-in.
    Panic,
    /// Runs until `stop` is cancelled, then ends as if killed by SIGTERM.
    Hang,
    /// Never ends, `stop` or not (a node that stopped answering).
    Deaf,
    /// Waits for a permit from [`ScriptedTransport::release`] (or `stop`), then exits.
    Gated { code: i32 },
}

impl Step {
    pub fn exit(code: i32) -> Step {
        Step::Exit {
            code,
            stdout: String::new(),
            stderr: String::new(),
            work: Duration::ZERO,
        }
    }

    pub fn exit_after(code: i32, work: Duration) -> Step {
        Step::Exit {
            code,
            stdout: String::new(),
            stderr: String::new(),
            work,
        }
    }

    pub fn unreachable() -> Step {
        Step::Fail {
            category: ErrorCategory::Connection,
            reason: "connection refused (scripted)".into(),
        }
    }
}

/// One thing the transport saw, in global order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Start {
        node: String,
        /// `stop` was already cancelled when `execute` was called.
        stop_already_cancelled: bool,
    },
    /// The run noticed `stop` and ended because of it.
    Stopped {
        node: String,
    },
    Finish {
        node: String,
    },
    /// Written by a test, to order its own actions among the transport's.
    Mark(String),
}

/// First `parties` starts wait for each other before doing their step.
struct Hold {
    parties: usize,
    taken: AtomicUsize,
    barrier: Barrier,
}

pub struct ScriptedTransport {
    scripts: HashMap<String, Vec<Step>>,
    attempts: Mutex<HashMap<String, usize>>,
    log: Mutex<Vec<Entry>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    calls: AtomicUsize,
    hold: Option<Hold>,
    gate: Semaphore,
    started: watch::Sender<usize>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ScriptedTransport {
    /// Each node runs its steps attempt by attempt (the last one repeats); nodes
    /// without a script exit 0 at once.
    pub fn new(scripts: HashMap<String, Vec<Step>>) -> ScriptedTransport {
        ScriptedTransport {
            scripts,
            attempts: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
            hold: None,
            gate: Semaphore::new(0),
            started: watch::Sender::new(0),
        }
    }

    /// One step per node, every attempt.
    pub fn uniform<'a>(steps: impl IntoIterator<Item = (&'a String, Step)>) -> ScriptedTransport {
        ScriptedTransport::new(
            steps
                .into_iter()
                .map(|(n, s)| (n.clone(), vec![s]))
                .collect(),
        )
    }

    /// Holds the first `parties` starts on a barrier: they proceed only once that
    /// many runs are in flight together.
    pub fn with_barrier(mut self, parties: usize) -> ScriptedTransport {
        self.hold = Some(Hold {
            parties,
            taken: AtomicUsize::new(0),
            barrier: Barrier::new(parties.max(1)),
        });
        self
    }

    /// Lets `n` gated runs finish.
    pub fn release(&self, n: usize) {
        self.gate.add_permits(n);
    }

    pub fn mark(&self, what: &str) {
        lock(&self.log).push(Entry::Mark(what.to_string()));
    }

    pub fn log(&self) -> Vec<Entry> {
        lock(&self.log).clone()
    }

    /// Node names in the order their runs started.
    pub fn starts(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter_map(|e| match e {
                Entry::Start { node, .. } => Some(node),
                _ => None,
            })
            .collect()
    }

    /// Resolves once `k` runs have started (as the transport saw them).
    pub async fn wait_starts(&self, k: usize) {
        let mut rx = self.started.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = rx.wait_for(|n| *n >= k).await;
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    fn step_for(&self, node: &str) -> Step {
        let mut attempts = lock(&self.attempts);
        let n = attempts.entry(node.to_string()).or_insert(0);
        let idx = *n;
        *n += 1;
        match self.scripts.get(node) {
            Some(steps) if !steps.is_empty() => steps[idx.min(steps.len() - 1)].clone(),
            _ => Step::exit(0),
        }
    }

    async fn run(
        &self,
        node: &str,
        sink: &OutputSink,
        stop: CancellationToken,
    ) -> Result<ExitInfo, TransportError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let step = self.step_for(node);
        let _guard = self.enter(node, stop.is_cancelled());
        let stopped = || {
            lock(&self.log).push(Entry::Stopped {
                node: node.to_string(),
            });
            Ok(ExitInfo {
                code: None,
                signal: Some(15),
            })
        };
        if let Some(hold) = &self.hold
            && hold.taken.fetch_add(1, Ordering::SeqCst) < hold.parties
        {
            tokio::select! {
                _ = hold.barrier.wait() => {}
                _ = stop.cancelled() => return stopped(),
            }
        }
        match step {
            Step::Exit {
                code,
                stdout,
                stderr,
                work,
            } => {
                sink.write(Stream::Stdout, stdout.as_bytes()).await;
                sink.write(Stream::Stderr, stderr.as_bytes()).await;
                if !work.is_zero() {
                    tokio::select! {
                        _ = tokio::time::sleep(work) => {}
                        _ = stop.cancelled() => return stopped(),
                    }
                }
                Ok(ExitInfo {
                    code: Some(code),
                    signal: None,
                })
            }
            Step::Fail { category, reason } => Err(TransportError::new(category, reason)),
            Step::Panic => panic!("scripted transport panics on {node}"),
            Step::Hang => {
                stop.cancelled().await;
                stopped()
            }
            Step::Deaf => std::future::pending().await,
            Step::Gated { code } => tokio::select! {
                p = self.gate.acquire() => {
                    p.expect("gate is never closed").forget();
                    Ok(ExitInfo { code: Some(code), signal: None })
                }
                _ = stop.cancelled() => stopped(),
            },
        }
    }

    /// Records the start; the guard records the end, even on panic or drop.
    fn enter(&self, node: &str, stop_already_cancelled: bool) -> RunGuard<'_> {
        lock(&self.log).push(Entry::Start {
            node: node.to_string(),
            stop_already_cancelled,
        });
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        self.started.send_modify(|n| *n += 1);
        RunGuard {
            transport: self,
            node: node.to_string(),
        }
    }
}

struct RunGuard<'a> {
    transport: &'a ScriptedTransport,
    node: String,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        let t = self.transport;
        // Logged before the count drops, so the log never shows less overlap than
        // the counter saw.
        lock(&t.log).push(Entry::Finish {
            node: std::mem::take(&mut self.node),
        });
        t.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Transport for ScriptedTransport {
    fn name(&self) -> &str {
        SCRIPTED
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            command: true,
            real_cancel: true,
            ..Capabilities::default()
        }
    }

    fn check_node(&self, _node: &Node) -> Result<(), TransportError> {
        Ok(())
    }

    fn execute<'a>(
        &'a self,
        job: NodeJob<'a>,
        sink: &'a OutputSink,
        stop: CancellationToken,
    ) -> BoxFuture<'a, Result<ExitInfo, TransportError>> {
        Box::pin(self.run(&job.node.name, sink, stop))
    }

    fn stop_bound(&self) -> Duration {
        STOP_BOUND
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        Box::pin(async {
            Health {
                healthy: true,
                detail: "scripted".into(),
            }
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Most runs in flight at once among nodes `keep` selects, replayed from the log.
pub fn max_overlap(log: &[Entry], keep: impl Fn(&str) -> bool) -> usize {
    let (mut now, mut max) = (0usize, 0usize);
    for e in log {
        match e {
            Entry::Start { node, .. } if keep(node) => {
                now += 1;
                max = max.max(now);
            }
            Entry::Finish { node } if keep(node) => now -= 1,
            _ => {}
        }
    }
    max
}
