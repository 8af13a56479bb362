//! Bundles, workflows, executions, secrets and runtimes through the HTTP API, with the
//! authorisation matrix and bad input, on both backends.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestServer, assert_error};

/// A tar archive holding `files`.
fn tar_bundle(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, content.as_bytes()).unwrap();
    }
    builder.into_inner().unwrap()
}

fn project_files() -> Vec<u8> {
    tar_bundle(&[
        ("nbw.yaml", "name: sales\n"),
        ("notebooks/report.ipynb", "{}"),
        ("notebooks/other.ipynb", "{}"),
    ])
}

async fn upload(
    server: &TestServer,
    token: &str,
    project: &str,
    version: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let response = server
        .http
        .post(format!("{}/v1/projects/{project}/bundles?version={version}", server.base))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A project `sales` with an owner, an editor, a viewer and a stranger; returns their tokens.
async fn team(server: &TestServer) -> [String; 4] {
    let owner = server.user("olga", false).await;
    let editor = server.user("ed", false).await;
    let viewer = server.user("vic", false).await;
    let stranger = server.user("sam", false).await;
    server.post("/v1/projects", &owner, json!({"name": "sales"})).await;
    server.put("/v1/projects/sales/members/ed", &owner, json!({"role": "editor"})).await;
    server.put("/v1/projects/sales/members/vic", &owner, json!({"role": "viewer"})).await;
    [owner, editor, viewer, stranger]
}

both_backends!(bundles_upload_list_download, |backend| async move {
    let server = TestServer::start_with(backend, |c| c.max_bundle_bytes = 64 * 1024).await;
    let [owner, editor, viewer, stranger] = team(&server).await;
    let (status, bundle) = upload(&server, &editor, "sales", "v1", project_files()).await;
    assert_eq!(status, StatusCode::CREATED, "{bundle}");
    assert_eq!(bundle["notebooks"], json!(["notebooks/other.ipynb", "notebooks/report.ipynb"]));
    assert_eq!(bundle["format"], "tar");
    // The same archive again is a no-op; other content under the same version is refused.
    assert_eq!(upload(&server, &editor, "sales", "v1", project_files()).await.0, StatusCode::OK);
    let other = tar_bundle(&[("a.ipynb", "{}")]);
    assert_error(
        upload(&server, &editor, "sales", "v1", other.clone()).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    // Role checks: viewers cannot upload, strangers see nothing.
    assert_error(
        upload(&server, &viewer, "sales", "v2", other.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        upload(&server, &stranger, "sales", "v2", other.clone()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // Bad input: garbage, a huge upload, a bad version label; nothing stored.
    assert_error(
        upload(&server, &owner, "sales", "v3", b"not an archive".to_vec()).await,
        StatusCode::BAD_REQUEST,
        "invalid_bundle",
    );
    let huge = tar_bundle(&[("big.bin", &"x".repeat(200 * 1024))]);
    assert_error(
        upload(&server, &owner, "sales", "v4", huge.clone()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
    // Refused before its body was all read: the client is told not to reuse the connection,
    // which the server closes (a next request on it would fail before reaching the server).
    let refused = server
        .http
        .post(format!("{}/v1/projects/sales/bundles?version=v4", server.base))
        .bearer_auth(&owner)
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        refused.headers().get("connection").map(reqwest::header::HeaderValue::as_bytes),
        Some(&b"close"[..])
    );
    assert_error(
        upload(&server, &owner, "sales", "bad%20version", other.clone()).await,
        StatusCode::BAD_REQUEST,
        "invalid_version",
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("../../escape.ipynb", zip::write::SimpleFileOptions::default()).unwrap();
    std::io::Write::write_all(&mut zip, b"{}").unwrap();
    let evil = zip.finish().unwrap().into_inner();
    assert_error(
        upload(&server, &owner, "sales", "v5", evil).await,
        StatusCode::BAD_REQUEST,
        "invalid_bundle",
    );
    let (_, list) = server.get("/v1/projects/sales/bundles", &viewer).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");

    let response = server
        .http
        .get(format!("{}/v1/projects/sales/bundles/v1/archive", server.base))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap().to_vec(), project_files());
    // A traversal in the download path finds nothing.
    assert_eq!(
        server.get("/v1/projects/sales/bundles/..%2F..%2Fetc%2Fpasswd/archive", &viewer).await.0,
        StatusCode::NOT_FOUND
    );
});

both_backends!(workflows_schedules_and_runs, |backend| async move {
    let server = TestServer::start(backend).await;
    let [_owner, editor, viewer, stranger] = team(&server).await;
    upload(&server, &editor, "sales", "v1", project_files()).await;
    let workflow = json!({
        "name": "nightly", "notebook": "notebooks/report.ipynb", "parameters": {"region": "emea", "n": 3},
        "schedule": {"cron": "0 3 * * *", "timezone": "Europe/Berlin"},
        "retries": {"max_retries": 2}, "labels": {"gpu": "no"}
    });
    let (status, created) = server.post("/v1/projects/sales/workflows", &editor, workflow.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created["next_fire_at"].is_string(), "{created}");
    assert_eq!(created["parameters"], json!({"region": "emea", "n": 3}));
    assert_error(
        server.post("/v1/projects/sales/workflows", &editor, workflow.clone()).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert_error(
        server.post("/v1/projects/sales/workflows", &viewer, workflow.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        server.get("/v1/projects/sales/workflows/nightly", &stranger).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let bad = |patch: Value| {
        let mut w = workflow.clone();
        w["name"] = json!("other");
        for (k, v) in patch.as_object().unwrap() {
            w[k] = v.clone();
        }
        w
    };
    let cases = [
        (json!({"schedule": {"cron": "61 * * * *"}}), "invalid_cron"),
        (json!({"schedule": {"cron": "* * * * *", "timezone": "Mars/Olympus"}}), "invalid_timezone"),
        (json!({"schedule": {"interval_secs": 0}}), "invalid_schedule"),
        (json!({"bogus": true}), "invalid_request"),
        (json!({"notebook": "script.py"}), "invalid_request"),
        (json!({"name": "bad name!"}), "invalid_name"),
    ];
    for (patch, code) in cases {
        assert_error(
            server.post("/v1/projects/sales/workflows", &editor, bad(patch)).await,
            StatusCode::BAD_REQUEST,
            code,
        );
    }

    // Disable clears the next fire; enable brings it back; an edit recomputes it.
    let (_, disabled) = server.post("/v1/projects/sales/workflows/nightly/disable", &editor, json!({})).await;
    assert_eq!(disabled["enabled"], false);
    assert!(disabled["next_fire_at"].is_null());
    let (_, enabled) = server.post("/v1/projects/sales/workflows/nightly/enable", &editor, json!({})).await;
    assert!(enabled["next_fire_at"].is_string());
    let mut edited = workflow.clone();
    edited["schedule"] = json!({"interval_secs": 60});
    let (status, after) = server.put("/v1/projects/sales/workflows/nightly", &editor, edited).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_ne!(after["next_fire_at"], enabled["next_fire_at"]);

    // Run now: the id comes back at once, namespaced; overrides merge over the workflow's.
    let (status, run) = server
        .post(
            "/v1/projects/sales/workflows/nightly/run",
            &editor,
            json!({"parameters": {"n": 5}, "origin": "cli"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert!(run["id"].as_str().unwrap().starts_with("cli."), "{run}");
    assert_eq!(run["state"], "queued");
    assert_eq!(run["spec"]["parameters"], json!({"region": "emea", "n": 5}));
    assert_eq!(run["spec"]["bundle_version"], "v1");
    assert_eq!(run["labels"], json!({"gpu": "no"}));
    let (status, run) =
        server.call(Method::POST, "/v1/projects/sales/workflows/nightly/run", Some(&editor), None).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert!(run["id"].as_str().unwrap().starts_with("web."));
    assert_error(
        server.post("/v1/projects/sales/workflows/nightly/run", &editor, json!({"origin": "schedule"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    let mut missing = workflow.clone();
    missing["name"] = json!("ghost");
    missing["notebook"] = json!("notebooks/ghost.ipynb");
    server.post("/v1/projects/sales/workflows", &editor, missing).await;
    assert_error(
        server.post("/v1/projects/sales/workflows/ghost/run", &editor, json!({})).await,
        StatusCode::BAD_REQUEST,
        "unknown_notebook",
    );

    let (_, listed) = server.get("/v1/projects/sales/workflows", &viewer).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(server.delete("/v1/projects/sales/workflows/ghost", &editor).await.0, StatusCode::NO_CONTENT);
});

both_backends!(executions_history_cancel_and_output, |backend| async move {
    let server = TestServer::start(backend).await;
    let [owner, editor, viewer, stranger] = team(&server).await;
    assert_error(
        server
            .post("/v1/projects/sales/executions", &editor, json!({"notebook": "notebooks/report.ipynb"}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    upload(&server, &editor, "sales", "v1", project_files()).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let (status, e) = server
            .post(
                "/v1/projects/sales/executions",
                &editor,
                json!({"notebook": "notebooks/report.ipynb", "parameters": {"n": n}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{e}");
        assert!(e["id"].as_str().unwrap().starts_with("web."));
        ids.push(e["id"].as_str().unwrap().to_owned());
    }
    assert_error(
        server.post("/v1/projects/sales/executions", &editor, json!({"notebook": "nope.ipynb"})).await,
        StatusCode::BAD_REQUEST,
        "unknown_notebook",
    );
    assert_error(
        server
            .post("/v1/projects/sales/executions", &viewer, json!({"notebook": "notebooks/report.ipynb"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    // Paging: newest first, two at a time, every execution exactly once.
    let mut seen = Vec::new();
    let mut path = "/v1/projects/sales/executions?limit=2".to_owned();
    loop {
        let (status, page) = server.get(&path, &viewer).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(page["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/projects/sales/executions?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    let (_, queued) = server.get("/v1/projects/sales/executions?state=queued", &viewer).await;
    assert_eq!(queued["items"].as_array().unwrap().len(), 5);
    assert_error(
        server.get("/v1/projects/sales/executions?state=bogus", &viewer).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    );
    assert_error(
        server.get("/v1/projects/sales/executions?cursor=zzz", &viewer).await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    );

    // One execution: visible to members only; cancel a queued one at once, then it is final.
    let id = &ids[0];
    assert_eq!(server.get(&format!("/v1/executions/{id}"), &viewer).await.0, StatusCode::OK);
    assert_error(
        server.get(&format!("/v1/executions/{id}"), &stranger).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        server.post(&format!("/v1/executions/{id}/cancel"), &viewer, json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, cancelled) = server.post(&format!("/v1/executions/{id}/cancel"), &editor, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["state"], "cancelled");
    assert_error(
        server.post(&format!("/v1/executions/{id}/cancel"), &owner, json!({})).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert_error(
        server.get(&format!("/v1/executions/{id}/output"), &viewer).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        server.get("/v1/executions/..%2F..%2Fetc/output", &viewer).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
});

both_backends!(secrets_are_write_only, |backend| async move {
    let server = TestServer::start(backend).await;
    let [owner, editor, viewer, stranger] = team(&server).await;
    assert_eq!(
        server.put("/v1/projects/sales/secrets/DB_PASSWORD", &owner, json!({"value": "hunter2"})).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        server.put("/v1/projects/sales/secrets/X", &editor, json!({"value": "v"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        server.put("/v1/projects/sales/secrets/1BAD", &owner, json!({"value": "v"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_name",
    );
    assert_error(
        server.get("/v1/projects/sales/secrets", &stranger).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (status, list) = server.get("/v1/projects/sales/secrets", &viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "DB_PASSWORD");
    assert!(!list.to_string().contains("hunter2"));
    // At rest, the value is encrypted.
    let stored: (String,) = nbw_server::on_db!(&server.state.db, pool => sqlx::query_as("SELECT ciphertext FROM secrets").fetch_one(pool).await).unwrap();
    assert!(!stored.0.contains("hunter2"));
    assert_eq!(
        server.delete("/v1/projects/sales/secrets/DB_PASSWORD", &owner).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        server.delete("/v1/projects/sales/secrets/DB_PASSWORD", &owner).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
});

both_backends!(runtimes_are_registered_per_version, |backend| async move {
    let server = TestServer::start(backend).await;
    let [_owner, editor, viewer, _stranger] = team(&server).await;
    let runtime = json!({"name": "default", "version": "v1", "image": "nbw/sales/default:v1", "dockerfile_hash": "sha256:ab"});
    assert_eq!(
        server.post("/v1/projects/sales/runtimes", &editor, runtime.clone()).await.0,
        StatusCode::CREATED
    );
    assert_error(
        server.post("/v1/projects/sales/runtimes", &editor, runtime.clone()).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert_error(
        server.post("/v1/projects/sales/runtimes", &viewer, runtime).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (_, list) = server.get("/v1/projects/sales/runtimes", &viewer).await;
    assert_eq!(list[0]["image"], "nbw/sales/default:v1");
});
