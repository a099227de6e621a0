//! `drover serve`: the engine as a long-lived per-user service on a Unix socket,
//! so runs outlive the terminal that started them.
//!
//! One engine (the same one `--batch` embeds) sits behind an HTTP server (axum) on
//! the socket. A console that attaches gets a console session hosted here: the
//! console's whole state machine runs in the service against the engine's one door,
//! the client only carries keys in and screen bytes out ([`crate::app::wire`]). Losing the
//! terminal therefore loses nothing: the session goes on consuming the engine's
//! events, and the next `drover` re-attaches to it and repaints. Tools speak
//! HTTP/JSON to the same socket.
//!
//! Who asks is the socket's peer (`SO_PEERCRED`, [`peer`]); what they may do is the
//! service's own config: a client sends no config at all.

mod api_error;
pub mod console_host;
mod events_api;
pub mod peer;
mod routes;
mod run_access;
pub mod run_stream;
mod runs_api;
mod screen;
pub mod server;
pub mod socket;
mod state;
mod tcp;
