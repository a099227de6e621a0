//! A session's output streams, recorded on their way to the terminal: each
//! write that reached the terminal is handed, as written, to the transcript.
//! Nothing typed is recorded here or anywhere: the input side of a session
//! has no recorder.

use crate::engine::records::Stream;
use crate::engine::transcript::TranscriptSink;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;

pub struct Recorded {
    inner: Box<dyn AsyncWrite + Send + Unpin>,
    sink: Arc<TranscriptSink>,
    stream: Stream,
}

impl Recorded {
    pub fn new(
        inner: Box<dyn AsyncWrite + Send + Unpin>,
        sink: Arc<TranscriptSink>,
        stream: Stream,
    ) -> Recorded {
        Recorded {
            inner,
            sink,
            stream,
        }
    }
}

impl AsyncWrite for Recorded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.sink.record(this.stream, &buf[..n]);
                Poll::Ready(Ok(n))
            }
            other => other,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
