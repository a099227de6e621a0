//! The console: widgets on a TestBackend, the headless driver (hearing other drovers on one PostgreSQL), and end to end in tmux against real sshd nodes.
//!
//! One test binary per suite (tests/<suite>/main.rs): each former test file is a
//! module here, so the suite links once. Support modules are shared by path.

#[path = "../cli_support/mod.rs"]
mod cli_support;
#[path = "../common/mod.rs"]
mod common;
#[path = "../pg_support/mod.rs"]
mod pg_support;
#[path = "../prereq/mod.rs"]
mod prereq;
#[path = "../ssh_support/mod.rs"]
mod ssh_support;
#[path = "../sshd/mod.rs"]
mod sshd;
#[path = "../tmux_support/mod.rs"]
mod tmux_support;

mod console_gauge_follow;
mod console_headless;
mod console_plans;
mod console_rerun;
mod console_rerun_keys;
mod console_shell;
mod console_store_news;
mod console_terminal_view;
mod console_tmux;
mod console_tmux_narrow;
mod console_transcripts;
mod console_widgets;
mod console_write;
mod console_write_view;
mod rbac_console;
mod service_console;
