//! The SQL of each resource, one module per table family, each function one statement or one
//! transaction, the same text for SQLite and PostgreSQL where the dialects agree.

pub mod projects;
pub mod users;
