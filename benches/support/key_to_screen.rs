//! The console loop on a byte-counting terminal, driven by synthetic keys, and
//! the key-to-screen measurement both console benchmarks make: `?` is sent and
//! the time to the first write of the help popup's title is taken. Frames are
//! timed by `frame_clock` (each benchmark includes it beside this module).
#![allow(dead_code)] // each benchmark uses a different subset

use crate::frame_clock::{Frames, Timed};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use drover::app::tui::console::Console;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::{Rect, Size};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counts bytes written to the "terminal" and notes when the help popup's
/// title is first written.
#[derive(Clone, Default)]
pub struct Counting {
    pub bytes: Arc<AtomicU64>,
    /// Frames drawn: ratatui flushes once per frame.
    pub frames: Arc<AtomicU64>,
    tail: Arc<Mutex<Vec<u8>>>,
    seen: Arc<Mutex<Option<Instant>>>,
}

const MARKER: &[u8] = "Help \u{b7} j/k".as_bytes();

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        let mut tail = self.tail.lock().unwrap();
        tail.extend_from_slice(buf);
        if tail.windows(MARKER.len()).any(|w| w == MARKER) {
            self.seen.lock().unwrap().get_or_insert_with(Instant::now);
            tail.clear();
        }
        let keep = tail.len().saturating_sub(MARKER.len());
        tail.drain(..keep);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.frames.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

pub type Input = tokio::sync::mpsc::UnboundedSender<std::io::Result<Event>>;

/// The real console loop (`tui::drive`) on a `size` terminal that counts what
/// it is sent; keys go in through `input`, `stop` ends it.
pub struct Looped {
    pub input: Input,
    pub out: Counting,
    /// How long each frame took.
    pub frames: Frames,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Looped {
    pub fn start(mut console: Console, size: Rect) -> Looped {
        let out = Counting::default();
        let frames = Frames::default();
        let backend = Timed::new(
            CrosstermBackend::new(out.clone()),
            Size::new(size.width, size.height),
            frames.clone(),
        );
        let mut terminal = Terminal::new(backend).unwrap();
        terminal.resize(size).unwrap();
        let (input, rx) = tokio::sync::mpsc::unbounded_channel();
        let events =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|ev| (ev, rx)) },
            );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let quit = async {
                let _ = stopped.await;
            };
            drover::app::tui::drive(
                &mut terminal,
                &mut console,
                Box::pin(events),
                quit,
                |_| Ok(()),
                async |_, _| Ok(Err("no shells in the benchmark".to_string())),
            )
            .await
        });
        Looped {
            input,
            out,
            frames,
            stop,
            task,
        }
    }

    pub fn key(&self, code: KeyCode, modifiers: KeyModifiers) {
        let _ = self
            .input
            .send(Ok(Event::Key(KeyEvent::new(code, modifiers))));
    }

    /// Each character as a key.
    pub fn text(&self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c), KeyModifiers::NONE);
        }
    }

    /// Presses `?` `count` times: from sending it to the first write of the
    /// help popup's title; then `esc`, and the popup is seen gone. Fails when a
    /// key is not shown within `limit`.
    pub async fn keys_to_screen(&self, count: usize, limit: Duration) -> Vec<Duration> {
        let (latencies, missed) = self.keys_shown(count, limit).await;
        if let Some(missed) = missed {
            panic!("{missed}");
        }
        latencies
    }

    /// As [`Looped::keys_to_screen`], but a key not shown within `limit` is
    /// counted (the popup is closed with `esc`) and the measurement goes on: the
    /// latencies of the keys shown, and what was missed.
    pub async fn keys_shown(
        &self,
        count: usize,
        limit: Duration,
    ) -> (Vec<Duration>, Option<String>) {
        let out = &self.out;
        let mut latencies = Vec::new();
        let mut missed: Option<String> = None;
        let mut misses = 0;
        'keys: for _ in 0..count {
            *out.seen.lock().unwrap() = None;
            let sent = Instant::now();
            let before = out.bytes.load(Ordering::Relaxed);
            self.key(KeyCode::Char('?'), KeyModifiers::NONE);
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                if let Some(t) = *out.seen.lock().unwrap() {
                    latencies.push(t - sent);
                    break;
                }
                if sent.elapsed() >= limit {
                    misses += 1;
                    missed = Some(format!(
                        "{misses} not shown within {limit:?} (the last: {} bytes written to the \
                         terminal meanwhile)",
                        out.bytes.load(Ordering::Relaxed) - before
                    ));
                    self.key(KeyCode::Esc, KeyModifiers::NONE);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue 'keys;
                }
            }
            // The popup must be off the screen before the next `?`, or that one
            // draws nothing new: the second frame after `esc` shows it closed
            // (the first may have begun before `esc` was read). Idle, only one
            // comes.
            let closing = out.frames.load(Ordering::Relaxed);
            self.key(KeyCode::Esc, KeyModifiers::NONE);
            let since = Instant::now();
            while out.frames.load(Ordering::Relaxed) < closing + 2
                && since.elapsed() < Duration::from_secs(1)
            {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (latencies, missed)
    }

    /// Ends the loop and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// `median 3.1 ms, p95 9.0 ms, max 12.4 ms over 50 keys`
pub fn summary(mut latencies: Vec<Duration>) -> String {
    if latencies.is_empty() {
        return "no keys measured".to_string();
    }
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    format!(
        "median {:.1} ms, p95 {:.1} ms, max {:.1} ms over {} keys",
        p(0.5),
        p(0.95),
        p(1.0),
        latencies.len()
    )
}
