//! Logging in, refresh-token rotation with reuse detection, logout, the failed-login rate limit
//! and the administrators' user routes, on both backends.

use nbw_core::api::CreateUser;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support;
use crate::support::{TestServer, assert_error};

/// Creates a user with a real (argon2id) password.
async fn user_with_password(server: &TestServer, username: &str, password: &str, is_admin: bool) {
    let input = CreateUser { username: username.into(), password: password.into(), is_admin };
    nbw_server::auth::accounts::create_user(&server.state.db, input).await.expect("create user");
}

async fn login(server: &TestServer, username: &str, password: &str) -> (StatusCode, Value) {
    let body = json!({"username": username, "password": password});
    server.call(Method::POST, "/v1/auth/login", None, Some(body)).await
}

async fn refresh(server: &TestServer, refresh_token: &Value) -> (StatusCode, Value) {
    let body = json!({"refresh_token": refresh_token});
    server.call(Method::POST, "/v1/auth/refresh", None, Some(body)).await
}

both_backends!(login_refresh_rotation_and_logout, |backend| async move {
    let server = TestServer::start(backend).await;
    user_with_password(&server, "alice", "correct horse", false).await;

    let (status, tokens) = login(&server, "alice", "correct horse").await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert!(tokens["refresh_token"].as_str().unwrap().len() >= 43);
    let (status, me) = server.get("/v1/users/me", &access).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["username"], "alice");
    assert_eq!(me["is_admin"], false);
    assert!(me.get("password_hash").is_none());

    // A wrong password and an unknown user get the same answer, which never echoes the password.
    let wrong = login(&server, "alice", "wrong horse").await;
    let unknown = login(&server, "nobody", "wrong horse").await;
    assert_error(wrong.clone(), StatusCode::UNAUTHORIZED, "unauthorized");
    assert_error(unknown.clone(), StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(wrong.1, unknown.1);
    assert!(!wrong.1.to_string().contains("wrong horse"));

    // A refresh rotates: the new pair works, the old refresh token is spent.
    let (status, rotated) = refresh(&server, &tokens["refresh_token"]).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_ne!(rotated["refresh_token"], tokens["refresh_token"]);
    assert_eq!(server.get("/v1/users/me", rotated["access_token"].as_str().unwrap()).await.0, StatusCode::OK);
    // Presenting the spent token again revokes the whole family: its successor fails too.
    assert_error(refresh(&server, &tokens["refresh_token"]).await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_error(refresh(&server, &rotated["refresh_token"]).await, StatusCode::UNAUTHORIZED, "unauthorized");

    // Another login is another family, untouched by that revocation; logout ends it.
    let (_, second) = login(&server, "alice", "correct horse").await;
    let (status, third) = refresh(&server, &second["refresh_token"]).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    let logout = json!({"refresh_token": third["refresh_token"]});
    let (status, _) = server.call(Method::POST, "/v1/auth/logout", None, Some(logout.clone())).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_error(refresh(&server, &third["refresh_token"]).await, StatusCode::UNAUTHORIZED, "unauthorized");
    // Logging out twice is harmless; an unknown token is refused.
    assert_eq!(
        server.call(Method::POST, "/v1/auth/logout", None, Some(logout)).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        server.call(Method::POST, "/v1/auth/logout", None, Some(json!({"refresh_token": "nope"}))).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(refresh(&server, &json!("made-up")).await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_error(
        server.call(Method::POST, "/v1/auth/login", None, Some(json!({"username": "alice"}))).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );

    // Only hashes are stored.
    let raw = third["refresh_token"].as_str().unwrap();
    let hash = nbw_server::auth::caller::token_hash(raw);
    let stored = nbw_server::store::tokens::refresh_by_hash(&server.state.db, &hash).await.unwrap();
    assert!(stored.is_some_and(|row| row.token_hash == hash && row.revoked_at.is_some()));
    let plain = nbw_server::store::tokens::refresh_by_hash(&server.state.db, raw).await.unwrap();
    assert!(plain.is_none());
});

both_backends!(an_expired_refresh_token_is_refused, |backend| async move {
    let server = TestServer::start_with(backend, |c| c.refresh_token_ttl_secs = 1).await;
    user_with_password(&server, "alice", "correct horse", false).await;
    let (status, tokens) = login(&server, "alice", "correct horse").await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let answer = refresh(&server, &tokens["refresh_token"]).await;
    assert_error(answer.clone(), StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(answer.1["error"]["message"].as_str().unwrap().contains("expired"), "{}", answer.1);
});

both_backends!(failed_logins_are_rate_limited_per_username, |backend| async move {
    let server = TestServer::start_with(backend, |c| {
        c.login_max_failures = 3;
        c.login_window_secs = 60;
    })
    .await;
    user_with_password(&server, "alice", "correct horse", false).await;
    user_with_password(&server, "bob", "battery staple", false).await;

    for _ in 0..3 {
        assert_error(login(&server, "alice", "guess").await, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // Locked now, even with the right password; an unknown name locks the same way.
    assert_error(
        login(&server, "alice", "correct horse").await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
    for _ in 0..3 {
        login(&server, "ghost", "guess").await;
    }
    let known = login(&server, "alice", "guess").await;
    let unknown = login(&server, "ghost", "guess").await;
    assert_error(unknown.clone(), StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(
        known.1["error"]["message"].as_str().map(|m| m.split(" in ").next().map(str::to_owned)),
        unknown.1["error"]["message"].as_str().map(|m| m.split(" in ").next().map(str::to_owned)),
    );

    // Another username from the same address is not affected, and a success clears its counter.
    assert_error(login(&server, "bob", "guess").await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_error(login(&server, "bob", "guess").await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(login(&server, "bob", "battery staple").await.0, StatusCode::OK);
    assert_error(login(&server, "bob", "guess").await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_error(login(&server, "bob", "guess").await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(login(&server, "bob", "battery staple").await.0, StatusCode::OK);
});

both_backends!(failed_logins_are_rate_limited_per_address, |backend| async move {
    // One address may fail ten times as often as one username (people share addresses).
    let server = TestServer::start_with(backend, |c| c.login_max_failures = 1).await;
    user_with_password(&server, "carol", "correct horse", false).await;
    for i in 0..10 {
        let answer = login(&server, &format!("sprayed{i}"), "guess").await;
        assert_error(answer, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    assert_error(
        login(&server, "carol", "correct horse").await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
    // Counted against the real client address (the server runs with connection info).
    let sql = "SELECT failures FROM login_failures WHERE key = 'addr:127.0.0.1'";
    let (failures,): (i64,) =
        nbw_server::on_db!(&server.state.db, pool => sqlx::query_as(sql).fetch_one(pool).await).unwrap();
    assert_eq!(failures, 10);
});

both_backends!(user_administration_is_for_administrators, |backend| async move {
    let server = TestServer::start(backend).await;
    let admin = server.user("root", true).await;
    let plain = server.user("pat", false).await;

    assert_error(
        server.call(Method::GET, "/v1/users", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        server
            .call(Method::POST, "/v1/users", None, Some(json!({"username": "x", "password": "12345678"})))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        server.call(Method::GET, "/v1/users/me", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(server.get("/v1/users", &plain).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(
        server.post("/v1/users", &plain, json!({"username": "x", "password": "12345678"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let (status, created) = server
        .post(
            "/v1/users",
            &admin,
            json!({"username": "dana@example.org", "password": "long enough", "is_admin": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["username"], "dana@example.org");
    assert_eq!(created["is_admin"], true);
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());
    assert_error(
        server
            .post("/v1/users", &admin, json!({"username": "dana@example.org", "password": "other one"}))
            .await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert_error(
        server.post("/v1/users", &admin, json!({"username": "bad name", "password": "long enough"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_name",
    );
    let short = server.post("/v1/users", &admin, json!({"username": "eve", "password": "pw12"})).await;
    assert!(!short.1.to_string().contains("pw12"));
    assert_error(short, StatusCode::BAD_REQUEST, "weak_password");

    let (status, list) = server.get("/v1/users", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["dana@example.org", "pat", "root"]);

    // The new account logs in and is an administrator.
    let (status, tokens) = login(&server, "dana@example.org", "long enough").await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (_, me) = server.get("/v1/users/me", tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(me["is_admin"], true);
    assert_eq!(server.get("/v1/users", tokens["access_token"].as_str().unwrap()).await.0, StatusCode::OK);
});

#[tokio::test]
async fn the_auth_and_user_routes_are_documented() {
    let server = TestServer::start(support::Backend::Sqlite).await;
    let (status, doc) = server.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    for path in ["/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout", "/v1/users", "/v1/users/me"] {
        assert!(doc["paths"][path].is_object(), "{path} is not in the OpenAPI document");
    }
    assert!(doc["paths"]["/v1/users"]["post"].is_object());
}
