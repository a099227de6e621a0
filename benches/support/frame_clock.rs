//! A terminal backend that times whole frames: from a frame's first backend call
//! (ratatui's `Terminal::draw` asks `size()` first, to autoresize) to its flush,
//! so building the views, painting the buffer, diffing it and writing the escape
//! codes all count. Also pins the terminal's size, so a benchmark does not ask
//! the real terminal (without one, crossterm forks `tput` to find it).
#![allow(dead_code)] // each benchmark uses a different subset

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Every frame's duration so far, in order.
#[derive(Clone, Default)]
pub struct Frames(Arc<Mutex<Vec<Duration>>>);

impl Frames {
    /// How many frames have been drawn.
    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    /// The frames drawn from the `from`-th on.
    pub fn since(&self, from: usize) -> Vec<Duration> {
        self.0.lock().unwrap()[from..].to_vec()
    }
}

/// Wraps `inner`, a terminal of `size`, and notes each frame's duration in `frames`.
pub struct Timed<B> {
    inner: B,
    size: Size,
    began: std::cell::Cell<Option<Instant>>,
    frames: Frames,
}

impl<B: Backend> Timed<B> {
    pub fn new(inner: B, size: Size, frames: Frames) -> Timed<B> {
        Timed {
            inner,
            size,
            began: std::cell::Cell::new(None),
            frames,
        }
    }

    /// Notes the start of a frame unless one is under way.
    fn begin(&self) {
        if self.began.get().is_none() {
            self.began.set(Some(Instant::now()));
        }
    }
}

impl<B: Backend> Backend for Timed<B> {
    type Error = B::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.begin();
        self.inner.draw(content)
    }
    fn append_lines(&mut self, n: u16) -> Result<(), Self::Error> {
        self.begin();
        self.inner.append_lines(n)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.begin();
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.begin();
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.begin();
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.begin();
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.begin();
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.begin();
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.begin();
        Ok(self.size)
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.begin();
        Ok(WindowSize {
            columns_rows: self.size,
            pixels: Size::default(),
        })
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        let flushed = self.inner.flush();
        if let Some(began) = self.began.take() {
            self.frames.0.lock().unwrap().push(began.elapsed());
        }
        flushed
    }
}

/// `median 0.9 ms, p95 2.1 ms, max 3.0 ms over 600 frames`
pub fn summary(mut frames: Vec<Duration>) -> String {
    if frames.is_empty() {
        return "no frames".to_string();
    }
    frames.sort();
    let p = |q: f64| frames[((frames.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    format!(
        "median {:.2} ms, p95 {:.2} ms, max {:.2} ms over {} frames",
        p(0.5),
        p(0.95),
        p(1.0),
        frames.len()
    )
}
