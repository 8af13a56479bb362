//! (being written by a helper)

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

/// Routes (none yet).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
