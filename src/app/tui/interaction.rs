//! The console's answer to the engine's questions: each question travels to the
//! UI loop with a reply slot and becomes a prompt overlay.

use crate::engine::transport::BoxFuture;
use crate::engine::transport::interaction::{Answer, Interaction, Question};
use tokio::sync::{mpsc, oneshot};

pub type Asked = (Question, oneshot::Sender<Option<Answer>>);

pub struct ConsoleInteraction {
    tx: mpsc::UnboundedSender<Asked>,
}

impl ConsoleInteraction {
    pub fn new() -> (ConsoleInteraction, mpsc::UnboundedReceiver<Asked>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (ConsoleInteraction { tx }, rx)
    }
}

impl Interaction for ConsoleInteraction {
    fn ask(&self, question: Question) -> BoxFuture<'_, Option<Answer>> {
        Box::pin(async move {
            let (reply, answer) = oneshot::channel();
            // No console any more (it quit): nobody can answer.
            self.tx.send((question, reply)).ok()?;
            answer.await.ok().flatten()
        })
    }

    fn interactive(&self) -> bool {
        true
    }
}
