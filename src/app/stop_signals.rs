//! The signals that stop a run or the console: SIGINT (Ctrl-C), SIGTERM (`timeout(1)`,
//! systemd, cron wrappers) and SIGHUP (the terminal went away). All three cancel the
//! run the same way, so remote work is killed and history says `cancelled` however
//! drover was asked to stop; only the exit code (128 + the signal) tells them apart.

use crate::config::Config;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// Added to the transports' own stop bound before drover leaves regardless: time to
/// store the cancelled result and flush history.
const STORE_MARGIN: Duration = Duration::from_secs(3);

/// How long a batch run may take to end after the first stop signal: the SSH
/// transport's stop bound for the configured `kill_grace`, plus time to write
/// history. After that drover leaves and the next start records what was left.
pub fn grace(config: &Config) -> Duration {
    crate::engine::transport::ssh::stop_bound(config.kill_grace()) + STORE_MARGIN
}

/// Set when a run was abandoned (a second signal, or the grace ran out): the process
/// must then leave without the orderly shutdown, which would wait for that run.
static ABANDONED: AtomicBool = AtomicBool::new(false);

/// Marks the run abandoned; see [`abandoned`].
pub fn abandon() {
    ABANDONED.store(true, Ordering::SeqCst);
}

/// Whether drover must exit at once, leaving the run to the next start's recovery
/// (which records it `interrupted`).
pub fn abandoned() -> bool {
    ABANDONED.load(Ordering::SeqCst)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
    Hangup,
}

impl StopSignal {
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "Ctrl-C",
            StopSignal::Terminate => "SIGTERM",
            StopSignal::Hangup => "SIGHUP",
        }
    }

    /// 128 + the signal number, as a shell reports a process the signal ended.
    pub fn exit_code(self) -> u8 {
        match self {
            StopSignal::Interrupt => 130,
            StopSignal::Terminate => 143,
            StopSignal::Hangup => 129,
        }
    }
}

/// Listeners for the three signals, installed once for a whole run so a signal
/// that arrives while output is being printed waits for the next turn, never lost.
pub struct StopSignals {
    interrupt: Option<Signal>,
    terminate: Option<Signal>,
    hangup: Option<Signal>,
}

impl StopSignals {
    /// Listens for all three; one that cannot be listened for is named on stderr
    /// (that signal then ends drover at once, as it would without this).
    pub fn listen() -> StopSignals {
        let listen = |which: StopSignal, kind: SignalKind| match signal(kind) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("drover: cannot listen for {}: {e}", which.name());
                None
            }
        };
        StopSignals {
            interrupt: listen(StopSignal::Interrupt, SignalKind::interrupt()),
            terminate: listen(StopSignal::Terminate, SignalKind::terminate()),
            hangup: listen(StopSignal::Hangup, SignalKind::hangup()),
        }
    }

    /// The next stop signal; pends forever when none can be listened for.
    pub async fn recv(&mut self) -> StopSignal {
        async fn next(s: &mut Option<Signal>) {
            // A listener that ended (None) never fires again.
            let fired = match s {
                Some(s) => s.recv().await.is_some(),
                None => false,
            };
            if !fired {
                std::future::pending::<()>().await;
            }
        }
        tokio::select! {
            _ = next(&mut self.interrupt) => StopSignal::Interrupt,
            _ = next(&mut self.terminate) => StopSignal::Terminate,
            _ = next(&mut self.hangup) => StopSignal::Hangup,
        }
    }
}

/// What a stop signal asks of a batch run or plan in flight, from [`RunStop::next`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The first signal: cancel the work and give it [`RunStop::grace`] to end.
    Cancel(StopSignal),
    /// A second signal: leave at once (the run is marked abandoned).
    Second(StopSignal),
    /// The grace after the first signal ran out; the caller decides whether the
    /// run is abandoned (a result may have arrived at the same moment).
    GraceOver(StopSignal),
}

/// The stop rule every batch front end follows, in one place: the first signal
/// cancels, a second one or the end of the grace leaves without waiting.
pub struct RunStop {
    signals: StopSignals,
    grace: Duration,
    /// The first signal and when the grace after it ends.
    first: Option<(StopSignal, tokio::time::Instant)>,
}

impl RunStop {
    pub fn listen(config: &Config) -> RunStop {
        RunStop {
            signals: StopSignals::listen(),
            grace: grace(config),
            first: None,
        }
    }

    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// The first signal received, if any.
    pub fn first(&self) -> Option<StopSignal> {
        self.first.map(|(which, _)| which)
    }

    /// The next thing to do about stop signals; cancel-safe, for `select!`.
    pub async fn next(&mut self) -> Stop {
        let deadline = self.first.map(|(_, at)| at);
        tokio::select! {
            which = self.signals.recv() => match self.first {
                Some(_) => {
                    abandon();
                    Stop::Second(which)
                }
                None => {
                    self.first = Some((which, tokio::time::Instant::now() + self.grace));
                    Stop::Cancel(which)
                }
            },
            () = sleep_until(deadline) => Stop::GraceOver(self.first().unwrap_or(StopSignal::Interrupt)),
        }
    }

    /// Pends until the grace after the first signal ends (forever before one) and
    /// names that signal.
    pub async fn grace_over(&self) -> StopSignal {
        sleep_until(self.first.map(|(_, at)| at)).await;
        self.first().unwrap_or(StopSignal::Interrupt)
    }
}

/// Sleeps until `at`; pends forever without one (no signal yet, no deadline).
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
