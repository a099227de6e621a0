//! What the engine tells its front ends while and after it runs: events (and
//! their log, which every drover process on a store shares), results, node
//! output, plan progress and health.

pub mod event;
pub mod event_bus;
pub mod event_record;
pub mod health;
pub mod output;
pub mod plan_state;
pub mod result;
pub mod task_value;
