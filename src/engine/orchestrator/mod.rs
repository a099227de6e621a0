//! Tasks, plans and their scheduling on top of the executor.

pub mod task;
pub mod task_run;
pub mod types;
