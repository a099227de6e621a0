//! What the engine tells its front ends while and after it runs: events,
//! results, node output, plan progress and health.

pub mod event;
pub mod health;
pub mod output;
pub mod plan_state;
pub mod result;
pub mod task_value;
