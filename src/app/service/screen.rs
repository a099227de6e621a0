//! The terminal a hosted console draws on: ratatui's crossterm backend writing
//! into a buffer that each flush hands, as one frame, to whichever terminal is
//! attached (or to nobody while the session is detached). Its size is the attached
//! terminal's, as it last said; nothing here touches the service's own tty.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use tokio::sync::mpsc;

use crate::app::wire::protocol::ServerFrame;

/// The attached terminal, if any, and its size: shared by the session's screen
/// and the connection that feeds it.
#[derive(Default)]
pub struct Link {
    inner: Mutex<LinkState>,
}

struct LinkState {
    client: Option<(u64, mpsc::UnboundedSender<ServerFrame>)>,
    size: Size,
}

impl Default for LinkState {
    fn default() -> Self {
        LinkState {
            client: None,
            size: Size::new(80, 24),
        }
    }
}

impl Link {
    fn lock(&self) -> std::sync::MutexGuard<'_, LinkState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends to the attached terminal; dropped while nobody is attached.
    pub fn send(&self, frame: ServerFrame) {
        if let Some((_, tx)) = &self.lock().client {
            let _ = tx.send(frame);
        }
    }

    /// `connection` becomes the attached terminal, of `size`; the one it replaces
    /// is told it was detached.
    pub fn attach(&self, connection: u64, tx: mpsc::UnboundedSender<ServerFrame>, size: Size) {
        let mut state = self.lock();
        if let Some((_, old)) = state.client.take() {
            let _ = old.send(ServerFrame::Detached(
                "another terminal attached to this console".into(),
            ));
        }
        state.client = Some((connection, tx));
        state.size = size;
    }

    /// `connection` went away; a newer attachment is left alone.
    pub fn detach(&self, connection: u64) {
        let mut state = self.lock();
        if state
            .client
            .as_ref()
            .is_some_and(|(id, _)| *id == connection)
        {
            state.client = None;
        }
    }

    /// Lets the attached terminal go (it is told why); the session stays.
    pub fn let_go(&self, why: &str) {
        if let Some((_, tx)) = self.lock().client.take() {
            let _ = tx.send(ServerFrame::Detached(why.to_string()));
        }
    }

    pub fn is_attached(&self) -> bool {
        self.lock().client.is_some()
    }

    pub fn set_size(&self, size: Size) {
        self.lock().size = size;
    }

    fn size(&self) -> Size {
        self.lock().size
    }
}

/// Collects what a frame writes; the flush sends it.
pub struct ScreenWriter {
    buffer: Vec<u8>,
    link: Arc<Link>,
}

impl Write for ScreenWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            self.link
                .send(ServerFrame::Screen(std::mem::take(&mut self.buffer)));
        }
        Ok(())
    }
}

/// ratatui's crossterm backend, sized by the attached terminal.
pub struct RemoteScreen {
    inner: CrosstermBackend<ScreenWriter>,
    link: Arc<Link>,
    cursor: Position,
}

impl RemoteScreen {
    pub fn new(link: Arc<Link>) -> RemoteScreen {
        RemoteScreen {
            inner: CrosstermBackend::new(ScreenWriter {
                buffer: Vec::new(),
                link: Arc::clone(&link),
            }),
            link,
            cursor: Position::ORIGIN,
        }
    }
}

impl Backend for RemoteScreen {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }
    /// Where drover last put it: asking the far terminal would need a reply.
    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor)
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let position = position.into();
        self.cursor = position;
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> io::Result<Size> {
        Ok(self.link.size())
    }
    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: self.link.size(),
            pixels: Size::default(),
        })
    }
    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}
