//! The engine, the store and the orchestrator in process: properties over local and scripted nodes, the store on SQLite and on a real PostgreSQL server, facts, plans, the sanitiser and the module graph.
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
// Before the modules that use its macro.
#[macro_use]
mod store_backends;

mod engine_door;
mod engine_reads;
mod exec_transport;
mod facts;
mod module_cycles;
mod pg_server;
mod plans;
mod properties_engine;
mod properties_facts;
mod properties_failures;
mod properties_inventory;
mod properties_local;
mod properties_orchestrator;
mod properties_output;
mod properties_queue;
mod properties_rbac;
mod properties_scheduling;
mod properties_secrets;
mod properties_store;
mod sanitize;
mod store;
mod store_reconnect;
mod store_rerun_of;
mod transcripts;
