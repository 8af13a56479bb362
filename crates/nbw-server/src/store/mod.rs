//! The SQL of each resource, one module per table family, each function one statement or one
//! transaction, the same text for SQLite and PostgreSQL where the dialects agree.

pub mod agents;
pub mod bundles;
pub mod executions;
pub mod outbox;
pub mod pipelines;
pub mod projects;
pub mod queue;
pub mod runtimes;
pub mod tokens;
pub mod users;
pub mod workflows;
