//! Questions the engine must ask a person: an unknown host key, a key passphrase.
//! The engine exposes them as a request/response; the console answers with a
//! prompt, and the batch front end has no one to ask, so it always declines.

use futures_util::future::BoxFuture;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// The host's key is in no known_hosts file.
    UnknownHostKey {
        host: String,
        port: u16,
        key_type: String,
        /// `SHA256:…` as OpenSSH prints it.
        fingerprint: String,
    },
    /// A private key is encrypted.
    Passphrase { key_path: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    AcceptOnce,
    AcceptAndSave,
    Reject,
    Passphrase(String),
}

pub trait Interaction: Send + Sync + 'static {
    /// `None` when nobody can answer (batch mode).
    fn ask(&self, question: Question) -> BoxFuture<'_, Option<Answer>>;
    fn interactive(&self) -> bool;
}

/// `--batch`: never prompts, ever.
pub struct NoInteraction;

impl Interaction for NoInteraction {
    fn ask(&self, _question: Question) -> BoxFuture<'_, Option<Answer>> {
        Box::pin(async { None })
    }

    fn interactive(&self) -> bool {
        false
    }
}
