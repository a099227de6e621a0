//! The PostgreSQL backend: where the database is and how to reach it, and its schema.

pub(crate) mod connect;
pub(crate) mod schema;
