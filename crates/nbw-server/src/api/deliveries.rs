//! Notification deliveries: what the outbox did with each notification of a project's
//! executions (pending, delivered, failed, with the last error). Never the webhook URL.

use axum::extract::State;
use nbw_core::api::{Delivery, ErrorBody, Role};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::{Json, Path, Query};
use crate::auth::UserCaller;
use crate::auth::access::require_role;
use crate::state::AppState;
use crate::store::outbox;

/// Delivery routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_deliveries))
}

/// The most deliveries one answer lists.
const LIMIT: i64 = 500;

/// Which deliveries to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct DeliveryQuery {
    /// Only the deliveries of this execution; otherwise the project's latest 500.
    execution: Option<String>,
}

/// A project's notification deliveries, newest first.
#[utoipa::path(get, path = "/v1/projects/{project}/deliveries", tag = "notifications", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), DeliveryQuery),
    responses((status = 200, body = Vec<Delivery>), (status = 404, body = ErrorBody)))]
async fn list_deliveries(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
    Query(query): Query<DeliveryQuery>,
) -> ApiResult<Json<Vec<Delivery>>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    let rows = outbox::list(&state.db, &access.project_id, query.execution.as_deref(), LIMIT).await?;
    Ok(Json(rows.iter().map(outbox::OutboxRow::to_api).collect()))
}
