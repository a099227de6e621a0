//! The SSH transport against real OpenSSH sshd processes on loopback and in network namespaces: sessions, faults, breakers, tasks, facts and big output.
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

mod big_output;
mod facts_ssh;
mod login_user;
mod proxy_bench;
mod proxy_command;
mod scale;
mod ssh_breakers;
mod ssh_faults;
mod ssh_host_certs;
mod ssh_session;
mod ssh_tasks;
mod ssh_team_breakers;
mod ssh_transcripts;
mod ssh_transport;
mod ssh_user_certs;
mod sshd_harness;
mod team_store;
