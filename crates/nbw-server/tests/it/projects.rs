//! Projects and members, with the authorisation matrix, on both backends.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support;
use crate::support::{TestServer, assert_error};

both_backends!(projects_and_roles, |backend| async move {
    let server = TestServer::start(backend).await;
    let owner = server.user("olga", false).await;
    let editor = server.user("ed", false).await;
    let viewer = server.user("vic", false).await;
    let stranger = server.user("sam", false).await;

    let (status, project) =
        server.post("/v1/projects", &owner, json!({"name": "sales", "description": "d"})).await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    assert_eq!(project["role"], "owner");
    assert_error(
        server.post("/v1/projects", &editor, json!({"name": "sales"})).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert_error(
        server.post("/v1/projects", &owner, json!({"name": "Bad Name"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_name",
    );
    assert_error(
        server.post("/v1/projects", &owner, json!({"name": "x", "bogus": 1})).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    let (status, _) = server.put("/v1/projects/sales/members/ed", &owner, json!({"role": "editor"})).await;
    assert_eq!(status, StatusCode::OK);
    server.put("/v1/projects/sales/members/vic", &owner, json!({"role": "viewer"})).await;

    // Every member sees the project; a stranger gets 404, as if it did not exist.
    for token in [&owner, &editor, &viewer] {
        assert_eq!(server.get("/v1/projects/sales", token).await.0, StatusCode::OK);
    }
    assert_error(server.get("/v1/projects/sales", &stranger).await, StatusCode::NOT_FOUND, "not_found");
    assert_error(server.get("/v1/projects/nope", &owner).await, StatusCode::NOT_FOUND, "not_found");
    let (_, mine) = server.get("/v1/projects", &stranger).await;
    assert_eq!(mine, json!([]));

    // Only owners manage members; the last owner stays.
    assert_error(
        server.put("/v1/projects/sales/members/sam", &editor, json!({"role": "viewer"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        server.delete("/v1/projects/sales/members/olga", &owner).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    let (_, members) = server.get("/v1/projects/sales/members", &viewer).await;
    assert_eq!(members.as_array().unwrap().len(), 3);

    // Anonymous callers and agents are refused.
    assert_error(
        server.call(Method::GET, "/v1/projects", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(server.get("/v1/projects", "nbwa_fake").await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(server.get("/v1/projects", "garbage").await, StatusCode::UNAUTHORIZED, "unauthorized");

    assert_error(server.delete("/v1/projects/sales", &editor).await, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(server.delete("/v1/projects/sales", &owner).await.0, StatusCode::NO_CONTENT);
    assert_error(server.get("/v1/projects/sales", &owner).await, StatusCode::NOT_FOUND, "not_found");
});

both_backends!(malformed_json_gets_a_json_error, |backend| async move {
    let server = TestServer::start(backend).await;
    let owner = server.user("olga", false).await;
    let response = server
        .http
        .post(format!("{}/v1/projects", server.base))
        .bearer_auth(&owner)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");
});

#[tokio::test]
async fn openapi_and_health_answer() {
    let server = TestServer::start(support::Backend::Sqlite).await;
    let (status, doc) = server.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/v1/projects"].is_object());
    assert_eq!(server.call(Method::GET, "/healthz", None, None).await.0, StatusCode::OK);
    assert_eq!(server.call(Method::GET, "/readyz", None, None).await.0, StatusCode::OK);
    let (status, metrics) = server.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(metrics.as_str().unwrap().contains("nbw_claim_latency_seconds"));
    assert_eq!(server.call(Method::GET, "/v1/docs/", None, None).await.0, StatusCode::OK);
}
