//! Tasks, plans and their scheduling on top of the executor.

pub mod plan;
pub mod plan_run;
pub mod task;
pub mod task_run;
pub mod types;
