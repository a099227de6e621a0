//! Waiting on the writer from synchronous code.

use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Drives `fut` to completion on the current thread, parking it while it waits.
///
/// tokio's own `blocking_send`/`blocking_recv` panic on a runtime thread. Here the other
/// end of every wait is the writer's own OS thread, never a task, so blocking a runtime
/// thread only delays that thread and cannot deadlock; sync code (the UI, `Store::close`)
/// may therefore call these from anywhere. `unconstrained` keeps tokio's cooperative
/// budget, which only a task's executor resets, from turning a wait into a spin.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(tokio::task::unconstrained(fut));
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        // A stray unpark only causes one extra poll.
        std::thread::park();
    }
}
