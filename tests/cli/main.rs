//! The batch command line end to end: runs, tasks, history, the event tail (also across two drovers on one PostgreSQL), access control and crash recovery with the real binary.
//!
//! One test binary per suite (tests/<suite>/main.rs): each former test file is a
//! module here, so the suite links once. Support modules are shared by path.

#[path = "../cli_support/mod.rs"]
mod cli_support;
#[path = "../pg_support/mod.rs"]
mod pg_support;
#[path = "../prereq/mod.rs"]
mod prereq;
#[path = "../ssh_support/mod.rs"]
mod ssh_support;
#[path = "../sshd/mod.rs"]
mod sshd;

mod batch_cli;
mod batch_rerun;
mod batch_task_rerun;
mod cli_habits;
mod crash_recovery;
mod events_live;
mod events_tail;
mod exec_nodes;
mod history_output;
mod output_golden;
mod rbac_cli;
mod service_api;
mod service_tcp;
mod store_copy;
mod tasks;
