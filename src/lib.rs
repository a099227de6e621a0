//! drover: a terminal operations console and headless fan-out runner.
//!
//! The crate is split the way data flows: `engine` runs work and emits events,
//! `store` persists history and journals, `app` holds the two front ends (TUI and
//! batch), and `ui` draws. Nothing in `engine` or `store` knows about `app` or `ui`.

pub mod app;
pub mod cli;
pub mod config;
pub mod engine;
pub mod store;
pub mod ui;
