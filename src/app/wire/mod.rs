//! What `drover serve` and its clients share: the protocol ([`protocol`]), the
//! bodies and messages of its routes, and where a service is and what it was
//! started with ([`place`]). Both sides use
//! this; neither uses the other.

pub mod place;
pub mod protocol;
pub mod run_messages;
pub mod run_request;
pub mod run_view;
