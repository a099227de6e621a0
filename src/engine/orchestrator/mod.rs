//! Tasks, plans and their scheduling on top of the executor.

pub mod plan;
pub mod plan_run;
pub mod task;
mod task_command;
mod task_discovery;
mod task_files;
pub mod task_impl;
pub mod task_lookup;
mod task_meta;
pub mod task_run;
pub mod task_submit;
mod type_parse;
pub mod types;
