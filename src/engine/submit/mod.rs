//! The way in: a submission with its run label and idempotency key, and the
//! access check every request passes before it may run.

pub(super) mod access;
pub(super) mod idempotency;
pub mod label;
pub mod submission;
