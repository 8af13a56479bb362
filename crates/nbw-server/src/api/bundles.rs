//! Project bundles: upload (tar, tar.gz or zip; content-addressed; size-limited), list,
//! download.

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nbw_core::api::{Bundle, Role};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::{Json, Path, Query};
use crate::artifacts::ArtifactKey;
use crate::auth::UserCaller;
use crate::auth::access::require_role;
use crate::bundles;
use crate::error::Error;
use crate::state::AppState;
use crate::store::bundles as rows;

/// Bundle routes. The upload route reads its own body with the configured limit.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_bundle, list_bundles))
        .layer(DefaultBodyLimit::disable())
        .routes(routes!(get_bundle))
        .routes(routes!(download_bundle))
}

#[derive(Debug, Deserialize, IntoParams)]
struct UploadQuery {
    /// Version label, unique in the project.
    version: String,
}

/// Uploads a bundle: the archive is the request body. Re-uploading the same archive under the
/// same version is a no-op; another archive under an existing version is a conflict.
#[utoipa::path(post, path = "/v1/projects/{project}/bundles", tag = "bundles", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Bundle), (status = 200, body = Bundle), (status = 409, body = nbw_core::api::ErrorBody),
        (status = 413, body = nbw_core::api::ErrorBody)))]
async fn upload_bundle(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> ApiResult<(StatusCode, Json<Bundle>)> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    nbw_core::names::check_bundle_version(&query.version)?;
    let limit = state.config.max_bundle_bytes;
    let bytes = axum::body::to_bytes(body, limit as usize).await.map_err(|_| {
        Error::TooLarge(format!(
            "the bundle is larger than the server's limit of {limit} bytes (max_bundle_bytes)"
        ))
    })?;
    let stored = bundles::store(&state, &access.project_id, &query.version, bytes, &caller.user_id).await?;
    let status = if stored.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(stored.bundle)))
}

/// The project's bundles, newest first.
#[utoipa::path(get, path = "/v1/projects/{project}/bundles", tag = "bundles", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")), responses((status = 200, body = Vec<Bundle>)))]
async fn list_bundles(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
) -> ApiResult<Json<Vec<Bundle>>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    Ok(Json(rows::list(&state.db, &access.project_id).await?.iter().map(rows::BundleRow::to_api).collect()))
}

/// One bundle's record.
#[utoipa::path(get, path = "/v1/projects/{project}/bundles/{version}", tag = "bundles", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("version" = String, Path)),
    responses((status = 200, body = Bundle), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn get_bundle(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, version)): Path<(String, String)>,
) -> ApiResult<Json<Bundle>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    let row = rows::by_version(&state.db, &access.project_id, &version)
        .await?
        .ok_or_else(|| Error::not_found(format!("bundle {version:?}")))?;
    Ok(Json(row.to_api()))
}

/// Downloads a bundle's archive.
#[utoipa::path(get, path = "/v1/projects/{project}/bundles/{version}/archive", tag = "bundles", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("version" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn download_bundle(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, version)): Path<(String, String)>,
) -> ApiResult<Response> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    let row = rows::by_version(&state.db, &access.project_id, &version)
        .await?
        .ok_or_else(|| Error::not_found(format!("bundle {version:?}")))?;
    archive_response(&state, &row.digest, &row.format).await
}

/// An archive from the store as a download.
pub async fn archive_response(state: &AppState, digest: &str, format: &str) -> ApiResult<Response> {
    let bytes: Bytes =
        state.artifacts.get(&ArtifactKey::Bundle(digest.to_owned())).await?.ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "bundle {digest} is recorded but missing from the artifact store"
            ))
        })?;
    let name = format!("bundle.{format}");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::ETAG, format!("\"{digest}\"")),
        ],
        bytes,
    )
        .into_response())
}
