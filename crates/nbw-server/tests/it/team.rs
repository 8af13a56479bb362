//! Running a server for a team: administrators disable and enable accounts (a disabled account
//! can neither log in nor use the tokens it holds) and reset passwords (every login ends);
//! agents announce their version and are listed online or not. Both backends.

use nbw_core::api::CreateUser;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestServer, assert_error};

async fn user_with_password(server: &TestServer, username: &str, password: &str) {
    let input = CreateUser { username: username.into(), password: password.into(), is_admin: false };
    nbw_server::auth::accounts::create_user(&server.state.db, input).await.expect("create user");
}

async fn login(server: &TestServer, username: &str, password: &str) -> (StatusCode, Value) {
    let body = json!({"username": username, "password": password});
    server.call(Method::POST, "/v1/auth/login", None, Some(body)).await
}

async fn refresh(server: &TestServer, tokens: &Value) -> (StatusCode, Value) {
    let body = json!({"refresh_token": tokens["refresh_token"]});
    server.call(Method::POST, "/v1/auth/refresh", None, Some(body)).await
}

fn access(tokens: &Value) -> &str {
    tokens["access_token"].as_str().expect("an access token")
}

both_backends!(a_disabled_user_can_neither_log_in_nor_use_its_tokens, |backend| async move {
    let server = TestServer::start(backend).await;
    let admin = server.user("root", true).await;
    let plain = server.user("pat", false).await;
    user_with_password(&server, "alice", "correct horse").await;
    let (status, tokens) = login(&server, "alice", "correct horse").await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, me) = server.get("/v1/users/me", access(&tokens)).await;
    assert_eq!((status, &me["disabled"]), (StatusCode::OK, &json!(false)), "{me}");

    assert_error(
        server.post("/v1/users/alice/disable", &plain, json!(null)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        server.post("/v1/users/nobody/disable", &admin, json!(null)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (status, disabled) = server.call(Method::POST, "/v1/users/alice/disable", Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{disabled}");
    assert_eq!((disabled["username"].as_str(), &disabled["disabled"]), (Some("alice"), &json!(true)));

    // The access token issued before is refused at once, as are its refresh token and a login.
    assert_error(server.get("/v1/users/me", access(&tokens)).await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_error(server.get("/v1/projects", access(&tokens)).await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_error(refresh(&server, &tokens).await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_error(login(&server, "alice", "correct horse").await, StatusCode::UNAUTHORIZED, "unauthorized");
    let (_, users) = server.get("/v1/users", &admin).await;
    let alice = users.as_array().unwrap().iter().find(|u| u["username"] == "alice").unwrap();
    assert_eq!(alice["disabled"], true);
    // Others are untouched.
    assert_eq!(server.get("/v1/users/me", &plain).await.0, StatusCode::OK);

    // An administrator cannot lock themselves out.
    let (_, me) = server.get("/v1/users/me", &admin).await;
    assert_eq!(me["username"], "root");
    assert_error(
        server.post("/v1/users/root/disable", &admin, json!(null)).await,
        StatusCode::CONFLICT,
        "conflict",
    );

    // Enabled again, the account logs in with its password; old tokens stay revoked.
    let (status, enabled) = server.call(Method::POST, "/v1/users/alice/enable", Some(&admin), None).await;
    assert_eq!((status, &enabled["disabled"]), (StatusCode::OK, &json!(false)), "{enabled}");
    assert_error(refresh(&server, &tokens).await, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, again) = login(&server, "alice", "correct horse").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(server.get("/v1/users/me", access(&again)).await.0, StatusCode::OK);
});

both_backends!(a_password_reset_ends_every_login, |backend| async move {
    let server = TestServer::start(backend).await;
    let admin = server.user("root", true).await;
    let plain = server.user("pat", false).await;
    user_with_password(&server, "bob", "first password").await;
    let (_, tokens) = login(&server, "bob", "first password").await;

    let body = json!({"password": "second password"});
    assert_error(
        server.put("/v1/users/bob/password", &plain, body.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        server.put("/v1/users/nobody/password", &admin, body.clone()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let short = server.put("/v1/users/bob/password", &admin, json!({"password": "pw12"})).await;
    assert!(!short.1.to_string().contains("pw12"));
    assert_error(short, StatusCode::BAD_REQUEST, "weak_password");
    assert_error(
        server.put("/v1/users/bob/password", &admin, json!({"pass": "second password"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );

    let (status, user) = server.put("/v1/users/bob/password", &admin, body).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["username"], "bob");
    assert!(!user.to_string().contains("second password"));
    assert_error(refresh(&server, &tokens).await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_error(login(&server, "bob", "first password").await, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, fresh) = login(&server, "bob", "second password").await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
});

both_backends!(agents_are_listed_with_version_and_online, |backend| async move {
    let server = TestServer::start(backend).await;
    let admin = server.user("root", true).await;
    let (status, created) =
        server.post("/v1/agents", &admin, json!({"name": "gpu-1", "labels": {"gpu": "yes"}})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!((&created["agent"]["online"], &created["agent"]["version"]), (&json!(false), &Value::Null));

    let (_, list) = server.get("/v1/agents", &admin).await;
    assert_eq!((&list[0]["online"], &list[0]["version"]), (&json!(false), &Value::Null), "{list}");

    // The agent starts: it says its version, then claims (which counts as being heard from).
    let hello = json!({"version": "9.8.7", "labels": {"gpu": "yes", "zone": "eu"}});
    let (status, me) = server.put("/v1/agent/self", &token, hello).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["version"], "9.8.7");
    assert_error(
        server.put("/v1/agent/self", &token, json!({"version": "bad\nversion"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    let (status, _) = server.post("/v1/agent/claim", &token, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = server.get("/v1/agents", &admin).await;
    assert_eq!(list[0]["version"], "9.8.7", "{list}");
    assert_eq!(list[0]["online"], true, "{list}");
    assert_eq!(list[0]["labels"], json!({"gpu": "yes", "zone": "eu"}));

    // Revoked: offline whatever its last heartbeat, and its token stops working.
    let id = list[0]["id"].as_str().unwrap();
    assert_eq!(server.delete(&format!("/v1/agents/{id}"), &admin).await.0, StatusCode::NO_CONTENT);
    assert_error(
        server.post("/v1/agent/claim", &token, json!({})).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let (_, list) = server.get("/v1/agents", &admin).await;
    assert_eq!((&list[0]["revoked"], &list[0]["online"]), (&json!(true), &json!(false)), "{list}");
});

#[tokio::test]
async fn the_account_routes_are_documented() {
    let server = TestServer::start(crate::support::Backend::Sqlite).await;
    let (_, doc) = server.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert!(doc["paths"]["/v1/users/{username}/disable"]["post"].is_object());
    assert!(doc["paths"]["/v1/users/{username}/enable"]["post"].is_object());
    assert!(doc["paths"]["/v1/users/{username}/password"]["put"].is_object());
    assert!(doc["components"]["schemas"]["ResetPassword"].is_object());
    let agent = &doc["components"]["schemas"]["Agent"]["properties"];
    assert!(agent["version"].is_object() && agent["online"].is_object(), "{agent}");
}
