//! The `/v1` routes, one module per resource. Handlers are thin: they authenticate, check the
//! caller's role, call the store, and map results to JSON.

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

pub mod health;
pub mod projects;

/// Every documented `/v1` route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(projects::routes())
}
