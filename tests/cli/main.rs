//! The batch command line end to end: runs, tasks, history, access control and crash recovery with the real binary.
//!
//! One test binary per suite (tests/<suite>/main.rs): each former test file is a
//! module here, so the suite links once. Support modules are shared by path.

#[path = "../cli_support/mod.rs"]
mod cli_support;
#[path = "../prereq/mod.rs"]
mod prereq;

mod batch_cli;
mod crash_recovery;
mod rbac_cli;
mod tasks;
