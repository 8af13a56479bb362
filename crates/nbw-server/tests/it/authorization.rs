//! The authorisation matrix over every documented route, taken from the OpenAPI document so a
//! new route cannot slip past it: anonymous callers get 401; agent tokens get 403 outside
//! `/v1/agent/*` and user tokens 403 inside it; a non-member gets 404 on every project route;
//! a viewer gets 403 on every project route that changes something. Both backends.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestServer;

/// Routes anyone may call.
const PUBLIC: &[&str] = &["/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout"];

/// Every (method, path) of the OpenAPI document, with path parameters filled in.
async fn routes(server: &TestServer, execution: &str) -> Vec<(Method, String, String)> {
    let (_, doc) = server.call(Method::GET, "/v1/openapi.json", None, None).await;
    let mut routes = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        let path = template
            .replace("{project}", "sales")
            .replace("{id}", execution)
            .replace("{name}", "nightly")
            .replace("{username}", "vic")
            .replace("{version}", "v1")
            .replace("{digest}", "sha256:0000000000000000000000000000000000000000000000000000000000000000");
        assert!(!path.contains('{'), "a path parameter this test does not know: {template}");
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            routes.push((method, path.clone(), template.clone()));
        }
    }
    assert!(routes.len() > 30, "the document lists the API: {}", routes.len());
    routes
}

async fn status(
    server: &TestServer,
    method: &Method,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let body = matches!(*method, Method::POST | Method::PUT).then(|| json!({}));
    server.call(method.clone(), path, token, body).await
}

fn changes(method: &Method) -> bool {
    *method != Method::GET
}

both_backends!(every_route_checks_the_callers_role, |backend| async move {
    let server = TestServer::start(backend).await;
    let owner = server.user("olga", false).await;
    let viewer = server.user("vic", false).await;
    let stranger = server.user("sam", false).await;
    let admin = server.user("root", true).await;
    server.post("/v1/projects", &owner, json!({"name": "sales"})).await;
    server.put("/v1/projects/sales/members/vic", &owner, json!({"role": "viewer"})).await;
    let (_, agent) = server.post("/v1/agents", &admin, json!({"name": "a"})).await;
    let agent = agent["token"].as_str().unwrap().to_owned();
    let execution = "web.doesnotexist00000000";

    for (method, path, template) in routes(&server, execution).await {
        let route = format!("{method} {template}");
        if !PUBLIC.contains(&template.as_str()) {
            let (code, body) = status(&server, &method, &path, None).await;
            assert_eq!(code, StatusCode::UNAUTHORIZED, "anonymous {route}: {body}");
            assert_eq!(body["error"]["code"], "unauthorized", "{route}");
        }
        let agent_route = template.starts_with("/v1/agent/");
        if agent_route {
            let (code, body) = status(&server, &method, &path, Some(&owner)).await;
            assert_eq!(code, StatusCode::FORBIDDEN, "a user token on {route}: {body}");
            continue;
        }
        if !PUBLIC.contains(&template.as_str()) {
            let (code, body) = status(&server, &method, &path, Some(&agent)).await;
            assert_eq!(code, StatusCode::FORBIDDEN, "an agent token on {route}: {body}");
        }
        // Requests with a body are sent `{}`, which most routes refuse as invalid (400) before
        // they look at the project; a refusal that tells nothing about the project is fine.
        let has_body = matches!(method, Method::POST | Method::PUT);
        let project_route =
            template.starts_with("/v1/projects/{project}") || template.starts_with("/v1/executions/");
        if project_route {
            let (code, body) = status(&server, &method, &path, Some(&stranger)).await;
            let refused_blind = has_body && code == StatusCode::BAD_REQUEST;
            assert!(code == StatusCode::NOT_FOUND || refused_blind, "a non-member on {route}: {code} {body}");
        }
        if template.starts_with("/v1/projects/{project}") && changes(&method) {
            let (code, body) = status(&server, &method, &path, Some(&viewer)).await;
            assert!(!code.is_success(), "a viewer changed something with {route}: {code} {body}");
            if !has_body {
                assert_eq!(code, StatusCode::FORBIDDEN, "a viewer on {route}: {body}");
            }
        }
        let admin_route = template == "/v1/agents"
            || template == "/v1/users"
            || template.starts_with("/v1/agents/")
            || (template.starts_with("/v1/users/") && template != "/v1/users/me");
        if admin_route {
            let (code, body) = status(&server, &method, &path, Some(&owner)).await;
            assert!(!code.is_success(), "a non-administrator used {route}: {code} {body}");
            if !has_body {
                assert_eq!(code, StatusCode::FORBIDDEN, "a non-administrator on {route}: {body}");
            }
        }
    }
});
