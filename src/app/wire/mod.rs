//! What `drover serve` and its clients share: the protocol ([`protocol`]) and
//! where a service is and what it was started with ([`place`]). Both sides use
//! this; neither uses the other.

pub mod place;
pub mod protocol;
