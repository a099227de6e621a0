//! The vocabulary every part of the engine speaks: errors, ids, durations,
//! priorities and the request itself. Nothing here depends on another engine
//! module, so everything else can build on it.

pub mod duration;
pub mod error;
pub mod ids;
pub mod priority;
pub mod request;
