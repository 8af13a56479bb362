//! The `/v1` routes, one module per resource. Handlers are thin: they authenticate, check the
//! caller's role, call the store, and map results to JSON.

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

pub mod agent;
pub mod agents;
pub mod auth;
pub mod bundles;
pub mod deliveries;
pub mod events;
pub mod executions;
pub mod health;
pub mod projects;
pub mod runtimes;
pub mod secrets;
pub mod users;
pub mod workflows;

/// Every documented `/v1` route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::routes())
        .merge(users::routes())
        .merge(projects::routes())
        .merge(bundles::routes())
        .merge(workflows::routes())
        .merge(executions::routes())
        .merge(secrets::routes())
        .merge(runtimes::routes())
        .merge(agent::routes())
        .merge(agents::routes())
        .merge(events::routes())
        .merge(deliveries::routes())
}
