//! The whole HTTP surface, assembled here: the `/v1` routes (one module per resource), the
//! OpenAPI document and its Swagger UI, health and metrics. Handlers are thin: they extract the
//! caller and the input, check the caller's role, call a service, and map its result to JSON
//! and its [`crate::error::Error`] to a status ([`error`]).

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

pub mod agent;
pub mod agents;
pub mod auth;
pub mod bundles;
mod caller;
pub mod deliveries;
pub mod error;
pub mod events;
pub mod executions;
pub mod extract;
pub mod health;
pub(crate) mod pipeline_events;
pub mod pipelines;
pub mod projects;
pub mod runtimes;
pub mod secrets;
pub mod users;
pub mod workflows;

/// Every documented `/v1` route.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::routes())
        .merge(users::routes())
        .merge(projects::routes())
        .merge(bundles::routes())
        .merge(workflows::routes())
        .merge(pipelines::routes())
        .merge(pipeline_events::routes())
        .merge(executions::routes())
        .merge(secrets::routes())
        .merge(runtimes::routes())
        .merge(agent::routes())
        .merge(agents::routes())
        .merge(events::routes())
        .merge(deliveries::routes())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "nbw", description = "NB Workflows: parameterized notebooks as production workflows."),
    modifiers(&BearerAuth),
    components(schemas(nbw_core::api::ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
            ),
        );
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let (api_router, openapi) =
        OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(routes()).split_for_parts();
    Router::new()
        .merge(api_router)
        .merge(SwaggerUi::new("/v1/docs").url("/v1/openapi.json", openapi))
        .merge(health::routes())
        .with_state(state)
        .layer(axum::middleware::from_fn(close_after_refused_body))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Says `Connection: close` on an error answered to an HTTP/1 request with a body. A handler
/// may refuse a request before reading all of its body (too large, not allowed); hyper then
/// closes the connection, not always telling the client first, whose next request on it fails
/// with "connection closed before message completed" instead of reaching the server (seen in
/// the tests after a 413). With the header, clients open a new connection.
async fn close_after_refused_body(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    let sized =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() != "0");
    let http1 = request.version() <= Version::HTTP_11;
    let mut response = next.run(request).await;
    let refused = response.status().is_client_error() || response.status().is_server_error();
    if http1 && (chunked || sized) && refused {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
