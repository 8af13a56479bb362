//! `/healthz` (the process answers), `/readyz` (the database answers) and `/metrics`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::on_db;
use crate::state::AppState;

/// Health, readiness and metrics routes (not part of the OpenAPI document).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
}

async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let ping: Result<(i64,), _> =
        on_db!(&state.db, pool => sqlx::query_as("SELECT CAST(1 AS BIGINT)").fetch_one(pool).await);
    match ping {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "database not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let sql = "SELECT state, COUNT(*) FROM executions GROUP BY state";
    let depth: Vec<(String, i64)> =
        on_db!(&state.db, pool => sqlx::query_as(sql).fetch_all(pool).await).unwrap_or_default();
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.encode(&depth))
}
