//! Notifications, on both backends, delivered to a real HTTP server on loopback that stands in
//! for Slack, Discord and a webhook receiver: payloads, the success/failure filter, retries with
//! backoff, final failures, and what the deliveries API shows (never a URL).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use nbw_core::api::{
    Execution, ExecutionResult, ExecutionSpec, ExecutionState, Notification, NotifyChannel, NotifyOn, Origin,
};
use nbw_server::notify::{self, NotifyOptions};
use nbw_server::store::executions::{self, NewExecution};
use nbw_server::store::outbox::{self, OutboxRow};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support;
use crate::support::{TestServer, assert_error};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub(crate) name: String,
    pub(crate) body: Value,
    at: Instant,
}

type Log = Arc<Mutex<Vec<Hit>>>;

/// The stand-in for Slack, Discord and webhook receivers: `POST /hook/{name}` answers by the
/// name's first word: `ok` 200; `flaky` 500 twice, then 200; `gone` 404; anything else 500.
/// Error bodies echo the full URL, as careless receivers do, to prove it never gets stored.
pub(crate) struct Receiver {
    base: String,
    log: Log,
}

impl Receiver {
    pub(crate) async fn start() -> Receiver {
        let log: Log = Arc::default();
        let app =
            axum::Router::new().route("/hook/{name}", axum::routing::post(hook)).with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { base, log }
    }

    /// A hook URL whose path carries a credential, like Slack's and Discord's.
    pub(crate) fn url(&self, name: &str) -> String {
        format!("{}/hook/{name}?token=CREDENTIAL-{name}", self.base)
    }

    pub(crate) fn hits(&self, name: &str) -> Vec<Hit> {
        self.log.lock().unwrap().iter().filter(|h| h.name == name).cloned().collect()
    }
}

async fn hook(
    State(log): State<Log>,
    Path(name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: String,
) -> (StatusCode, String) {
    let seen = {
        let mut log = log.lock().unwrap();
        let seen = log.iter().filter(|h| h.name == name).count();
        let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
        log.push(Hit { name: name.clone(), body, at: Instant::now() });
        seen
    };
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("");
    let echo = format!("http://{host}{uri}");
    match name.split('-').next().unwrap_or("") {
        "ok" => (StatusCode::OK, "ok".into()),
        "flaky" if seen >= 2 => (StatusCode::OK, "ok".into()),
        "gone" => (StatusCode::NOT_FOUND, format!("no webhook at {echo}")),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, format!("boom at {echo}")),
    }
}

/// Fast loop settings for tests.
pub(crate) fn fast(max_attempts: u32) -> NotifyOptions {
    NotifyOptions {
        tick: Duration::from_millis(20),
        backoff_base: Duration::from_millis(60),
        backoff_max: Duration::from_secs(1),
        max_attempts,
        timeout: Duration::from_secs(5),
        ..NotifyOptions::default()
    }
}

/// A server, an owner's token and a project `sales`.
async fn project(backend: support::Backend) -> (TestServer, String, String) {
    let server =
        TestServer::start_with(backend, |c| c.public_url = Some("https://nbw.example.org/".into())).await;
    let owner = server.user("olga", false).await;
    let (status, project) = server.post("/v1/projects", &owner, json!({"name": "sales"})).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{project}");
    let id = project["id"].as_str().unwrap().to_owned();
    (server, owner, id)
}

async fn secret(server: &TestServer, project_id: &str, name: &str, value: &str) {
    nbw_server::secrets::write_secret(&server.state, project_id, name, value).await.unwrap();
}

fn notification(channel: NotifyChannel, url_secret: &str, on: &[NotifyOn]) -> Notification {
    Notification { channel, url_secret: url_secret.into(), on: on.to_vec() }
}

const BOTH: &[NotifyOn] = &[NotifyOn::Success, NotifyOn::Failure];

/// A stored execution with these notifications, returned as finished in `state`.
async fn finished(
    server: &TestServer,
    project_id: &str,
    notifications: Vec<Notification>,
    state: ExecutionState,
) -> Execution {
    let id = Origin::Schedule.new_id();
    let spec = ExecutionSpec {
        notebook: "notebooks/report.ipynb".into(),
        parameters: Default::default(),
        bundle_id: "b1".into(),
        bundle_version: "v1".into(),
        bundle_digest: "sha256:00".into(),
        runtime: None,
        runtime_version: None,
        container: None,
        build: None,
        volumes: Vec::new(),
        timeout_secs: None,
        cell_timeout_secs: None,
        max_queue_secs: None,
        retries: Default::default(),
        notifications,
        step: None,
    };
    let new = NewExecution {
        id: id.clone(),
        project_id: project_id.into(),
        workflow_id: None,
        spec,
        labels: BTreeMap::new(),
        attempt: 1,
        first_attempt_id: None,
        previous_attempt_id: None,
        fire: None,
        not_before: 0,
        created_by: None,
    };
    assert!(executions::insert(&server.state.db, &new).await.unwrap());
    let mut execution = executions::get(&server.state.db, &id).await.unwrap().unwrap().to_api();
    let now = chrono::Utc::now();
    execution.state = state;
    execution.started_at = Some(now - chrono::Duration::milliseconds(4200));
    execution.finished_at = Some(now);
    execution.has_output = true;
    execution.result = Some(if state == ExecutionState::Succeeded {
        ExecutionResult {
            values: None,
            values_error: None,
            state,
            message: None,
            failed_cell: None,
            failed_source: None,
            duration_ms: Some(4200.0),
            image: None,
        }
    } else {
        ExecutionResult {
            values: None,
            values_error: None,
            state,
            message: Some("ZeroDivisionError: division by zero".into()),
            failed_cell: Some(2),
            failed_source: Some("total = 1 / 0".into()),
            duration_ms: Some(4200.0),
            image: None,
        }
    });
    execution
}

/// The outbox rows of an execution.
async fn deliveries(server: &TestServer, execution_id: &str) -> Vec<OutboxRow> {
    let db = &server.state.db;
    let project_id = executions::get(db, execution_id).await.unwrap().unwrap().project_id;
    outbox::list(db, &project_id, Some(execution_id), 100).await.unwrap()
}

/// Waits until every delivery of `execution_id` left `pending`.
async fn settled(server: &TestServer, execution_id: &str) -> Vec<OutboxRow> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = deliveries(server, execution_id).await;
        if !rows.is_empty() && rows.iter().all(|r| r.state != outbox::PENDING) {
            return rows;
        }
        assert!(Instant::now() < deadline, "deliveries still pending after 30 s: {rows:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn by_channel<'a>(rows: &'a [OutboxRow], channel: &str) -> &'a OutboxRow {
    rows.iter().find(|r| r.channel == channel).unwrap_or_else(|| panic!("no {channel} row in {rows:?}"))
}

both_backends!(each_channel_gets_its_payload_for_success_and_failure, |backend| async move {
    let (server, owner, project_id) = project(backend).await;
    let receiver = Receiver::start().await;
    secret(&server, &project_id, "SLACK_URL", &receiver.url("ok-slack")).await;
    secret(&server, &project_id, "DISCORD_URL", &receiver.url("ok-discord")).await;
    secret(&server, &project_id, "HOOK_URL", &receiver.url("ok-hook")).await;
    let notifications = || {
        vec![
            notification(NotifyChannel::Slack, "SLACK_URL", BOTH),
            notification(NotifyChannel::Discord, "DISCORD_URL", &[NotifyOn::Failure]),
            notification(NotifyChannel::Webhook, "HOOK_URL", &[NotifyOn::Success]),
        ]
    };
    let good = finished(&server, &project_id, notifications(), ExecutionState::Succeeded).await;
    let bad = finished(&server, &project_id, notifications(), ExecutionState::Failed).await;
    notify::enqueue(&server.state, &good, Some("nightly")).await.unwrap();
    notify::enqueue(&server.state, &bad, Some("nightly")).await.unwrap();
    // Enqueueing the same execution again adds nothing.
    notify::enqueue(&server.state, &good, Some("nightly")).await.unwrap();

    let shutdown = CancellationToken::new();
    let delivery = notify::spawn_with(server.state.clone(), shutdown.clone(), fast(8));
    let good_rows = settled(&server, &good.id).await;
    let bad_rows = settled(&server, &bad.id).await;

    // The `on` filter: success -> slack + webhook; failure -> slack + discord.
    assert_eq!(good_rows.len(), 2, "{good_rows:?}");
    assert_eq!(bad_rows.len(), 2, "{bad_rows:?}");
    for row in good_rows.iter().chain(&bad_rows) {
        assert_eq!((row.state.as_str(), row.attempts, row.last_error.as_deref()), ("delivered", 1, None));
    }
    assert_eq!(receiver.hits("ok-slack").len(), 2);
    assert_eq!(receiver.hits("ok-discord").len(), 1);
    assert_eq!(receiver.hits("ok-hook").len(), 1);

    // The generic webhook: every field, links to the web UI's pages on the public URL.
    let hook = &receiver.hits("ok-hook")[0].body;
    let base = "https://nbw.example.org/executions";
    assert_eq!(hook["execution_id"], good.id);
    assert_eq!(hook["project"], "sales");
    assert_eq!(hook["workflow"], "nightly");
    assert_eq!(hook["state"], "succeeded");
    assert_eq!(hook["duration_ms"], 4200.0);
    assert_eq!(hook["message"], Value::Null);
    assert_eq!(hook["failed_cell"], Value::Null);
    assert_eq!(hook["execution_url"], format!("{base}/{}", good.id));
    assert_eq!(hook["output_url"], format!("{base}/{}/download", good.id));
    assert_eq!(hook["api_url"], format!("https://nbw.example.org/v1/executions/{}", good.id));

    // Slack: text plus mrkdwn blocks; the failure names the cell, its source and the error.
    let slack: Vec<Value> = receiver.hits("ok-slack").into_iter().map(|h| h.body).collect();
    let slack_ok = slack.iter().find(|b| b["text"].as_str().unwrap().contains("succeeded")).unwrap();
    let slack_bad = slack.iter().find(|b| b["text"].as_str().unwrap().contains("failed")).unwrap();
    assert_eq!(slack_ok["text"], "✅ sales/nightly succeeded in 4.2 s");
    assert_eq!(slack_bad["text"], "❌ sales/nightly failed after 4.2 s");
    assert!(slack_bad["blocks"].as_array().unwrap().iter().all(|b| b["type"].is_string()));
    let text = slack_bad["blocks"].to_string();
    for expected in ["mrkdwn", "ZeroDivisionError: division by zero", "*Failing cell 2*", "total = 1 / 0"] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
    assert!(text.contains(&format!("<{base}/{}/download|Output notebook>", bad.id)), "{text}");
    assert!(text.contains(&format!("<{base}/{}|Execution {}>", bad.id, bad.id)), "{text}");

    // Discord: content plus an embed, mentions off.
    let discord = &receiver.hits("ok-discord")[0].body;
    assert_eq!(discord["content"], "❌ **sales/nightly** failed after 4.2 s");
    assert_eq!(discord["allowed_mentions"]["parse"], json!([]));
    let embed = &discord["embeds"][0];
    assert_eq!(embed["url"], format!("{base}/{}", bad.id));
    let fields = embed["fields"].to_string();
    for expected in ["ZeroDivisionError: division by zero", "Failing cell 2", "total = 1 / 0", "/download"] {
        assert!(fields.contains(expected), "{expected:?} missing from {fields}");
    }

    // The deliveries API shows the same, to any member.
    let (status, listed) =
        server.get(&format!("/v1/projects/sales/deliveries?execution={}", bad.id), &owner).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{listed}");
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    for delivery in listed {
        assert_eq!(delivery["state"], "delivered");
        assert_eq!(delivery["attempts"], 1);
        assert_eq!(delivery["execution_id"], bad.id);
        assert!(delivery["delivered_at"].is_string());
        assert!(!delivery.to_string().contains(&receiver.base), "{delivery}");
    }
    let (_, all) = server.get("/v1/projects/sales/deliveries", &owner).await;
    assert_eq!(all.as_array().unwrap().len(), 4);

    shutdown.cancel();
    delivery.await.unwrap();
});

both_backends!(a_failing_receiver_is_retried_with_backoff_until_it_accepts, |backend| async move {
    let (server, _, project_id) = project(backend).await;
    let receiver = Receiver::start().await;
    secret(&server, &project_id, "FLAKY", &receiver.url("flaky-hook")).await;
    secret(&server, &project_id, "DOWN", &receiver.url("down-hook")).await;
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    secret(&server, &project_id, "CLOSED", &format!("http://{closed}/hook/x?token=CREDENTIAL-closed")).await;
    let notifications = vec![
        notification(NotifyChannel::Webhook, "FLAKY", BOTH),
        notification(NotifyChannel::Slack, "DOWN", BOTH),
        notification(NotifyChannel::Discord, "CLOSED", BOTH),
    ];
    let execution = finished(&server, &project_id, notifications, ExecutionState::Failed).await;
    notify::enqueue(&server.state, &execution, None).await.unwrap();

    let shutdown = CancellationToken::new();
    let delivery = notify::spawn_with(server.state.clone(), shutdown.clone(), fast(3));
    let rows = settled(&server, &execution.id).await;

    // 500, 500, 200: delivered on the third attempt, after waiting 60 ms then 120 ms.
    let flaky = by_channel(&rows, "webhook");
    assert_eq!((flaky.state.as_str(), flaky.attempts, flaky.last_error.as_deref()), ("delivered", 3, None));
    let hits = receiver.hits("flaky-hook");
    assert_eq!(hits.len(), 3);
    assert!(hits[1].at - hits[0].at >= Duration::from_millis(55), "{:?}", hits[1].at - hits[0].at);
    assert!(hits[2].at - hits[1].at >= Duration::from_millis(115), "{:?}", hits[2].at - hits[1].at);
    // Without a workflow, the notebook names the run.
    assert_eq!(hits[0].body["workflow"], Value::Null);
    assert_eq!(hits[0].body["notebook"], "notebooks/report.ipynb");

    // Always 500: failed after max_attempts, the error has the status and body, not the URL.
    let down = by_channel(&rows, "slack");
    assert_eq!((down.state.as_str(), down.attempts), ("failed", 3));
    assert_eq!(receiver.hits("down-hook").len(), 3);
    let error = down.last_error.as_deref().unwrap();
    assert!(error.starts_with("HTTP 500 Internal Server Error: boom at <webhook URL>"), "{error}");
    assert!(!error.contains("CREDENTIAL") && !error.contains(&receiver.base), "{error}");

    // Nothing listening: retried, then failed, and the error does not name the URL either.
    let refused = by_channel(&rows, "discord");
    assert_eq!((refused.state.as_str(), refused.attempts), ("failed", 3));
    let error = refused.last_error.as_deref().unwrap();
    assert!(error.starts_with("could not connect"), "{error}");
    assert!(!error.contains("CREDENTIAL") && !error.contains(&closed.to_string()), "{error}");

    shutdown.cancel();
    delivery.await.unwrap();
});

both_backends!(a_client_error_is_final_and_a_missing_secret_is_named, |backend| async move {
    let (server, owner, project_id) = project(backend).await;
    let receiver = Receiver::start().await;
    secret(&server, &project_id, "GONE", &receiver.url("gone-hook")).await;
    secret(&server, &project_id, "NOT_A_URL", "hooks.example.org/no-scheme").await;
    let notifications = vec![
        notification(NotifyChannel::Webhook, "GONE", BOTH),
        notification(NotifyChannel::Slack, "NO_SUCH_SECRET", BOTH),
        notification(NotifyChannel::Discord, "NOT_A_URL", BOTH),
    ];
    let execution = finished(&server, &project_id, notifications, ExecutionState::TimedOut).await;
    notify::enqueue(&server.state, &execution, Some("nightly")).await.unwrap();

    // The missing secret and the unusable URL are failed before any attempt.
    let rows = deliveries(&server, &execution.id).await;
    let missing = by_channel(&rows, "slack");
    assert_eq!((missing.state.as_str(), missing.attempts), ("failed", 0));
    let error = missing.last_error.as_deref().unwrap();
    assert!(error.contains("\"NO_SUCH_SECRET\"") && error.contains("does not exist"), "{error}");
    let unusable = by_channel(&rows, "discord");
    assert_eq!((unusable.state.as_str(), unusable.attempts), ("failed", 0));
    let error = unusable.last_error.as_deref().unwrap();
    assert!(error.contains("\"NOT_A_URL\"") && !error.contains("hooks.example.org"), "{error}");

    let shutdown = CancellationToken::new();
    let delivery = notify::spawn_with(server.state.clone(), shutdown.clone(), fast(8));
    let rows = settled(&server, &execution.id).await;
    // A 404 will not get better: failed after one attempt.
    let gone = by_channel(&rows, "webhook");
    assert_eq!((gone.state.as_str(), gone.attempts), ("failed", 1));
    let error = gone.last_error.as_deref().unwrap();
    assert!(error.starts_with("HTTP 404 Not Found"), "{error}");
    assert!(!error.contains("CREDENTIAL") && !error.contains(&receiver.base), "{error}");
    assert_eq!(receiver.hits("gone-hook").len(), 1);
    assert_eq!(receiver.hits("gone-hook")[0].body["state"], "timed_out");

    // The API shows the failures; a non-member sees no project; anonymous callers are refused.
    let (_, listed) =
        server.get(&format!("/v1/projects/sales/deliveries?execution={}", execution.id), &owner).await;
    let listed = listed.to_string();
    assert!(listed.contains("NO_SUCH_SECRET") && listed.contains("HTTP 404"), "{listed}");
    assert!(!listed.contains("CREDENTIAL") && !listed.contains(&receiver.base), "{listed}");
    let stranger = server.user("sam", false).await;
    assert_error(
        server.get("/v1/projects/sales/deliveries", &stranger).await,
        reqwest::StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        server.call(Method::GET, "/v1/projects/sales/deliveries", None, None).await,
        reqwest::StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        server.get("/v1/projects/sales/deliveries?bogus=1", &owner).await,
        reqwest::StatusCode::BAD_REQUEST,
        "invalid_query",
    );

    shutdown.cancel();
    delivery.await.unwrap();
});

both_backends!(an_execution_without_matching_notifications_queues_nothing, |backend| async move {
    let (server, _, project_id) = project(backend).await;
    let only_failures = vec![notification(NotifyChannel::Webhook, "ANY", &[NotifyOn::Failure])];
    let good = finished(&server, &project_id, only_failures, ExecutionState::Succeeded).await;
    notify::enqueue(&server.state, &good, None).await.unwrap();
    let both = vec![notification(NotifyChannel::Webhook, "ANY", BOTH)];
    let mut running = finished(&server, &project_id, both, ExecutionState::Failed).await;
    running.state = ExecutionState::Running;
    notify::enqueue(&server.state, &running, None).await.unwrap();
    assert!(deliveries(&server, &good.id).await.is_empty());
    assert!(deliveries(&server, &running.id).await.is_empty());
});

both_backends!(two_delivery_loops_never_send_one_row_twice, |backend| async move {
    let (server, owner, project_id) = project(backend).await;
    let receiver = Receiver::start().await;
    let mut notifications = Vec::new();
    for i in 0..40 {
        let name = format!("HOOK_{i}");
        secret(&server, &project_id, &name, &receiver.url(&format!("ok-{i}"))).await;
        notifications.push(notification(NotifyChannel::Webhook, &name, BOTH));
    }
    let execution = finished(&server, &project_id, notifications, ExecutionState::Succeeded).await;
    notify::enqueue(&server.state, &execution, None).await.unwrap();

    // A second server: its own connection pool on the same database, the same key.
    let db = nbw_server::db::Db::connect(&server.database_url).await.unwrap();
    let other = nbw_server::state::AppState::new(
        db,
        (*server.state.config).clone(),
        nbw_server::auth::Keys::from_secret(&[42; 32]),
        nbw_server::artifacts::Artifacts::in_memory(),
    );
    let options = NotifyOptions { batch: 4, ..fast(8) };
    let shutdown = CancellationToken::new();
    let loops = [
        notify::spawn_with(server.state.clone(), shutdown.clone(), options.clone()),
        notify::spawn_with(other, shutdown.clone(), options),
    ];
    let rows = settled(&server, &execution.id).await;
    assert_eq!(rows.len(), 40);
    assert!(rows.iter().all(|r| r.state == "delivered" && r.attempts == 1), "{rows:?}");
    for i in 0..40 {
        assert_eq!(receiver.hits(&format!("ok-{i}")).len(), 1, "hook {i}");
    }
    let (_, listed) =
        server.get(&format!("/v1/projects/sales/deliveries?execution={}", execution.id), &owner).await;
    assert_eq!(listed.as_array().unwrap().len(), 40);
    shutdown.cancel();
    for handle in loops {
        handle.await.unwrap();
    }
});

#[tokio::test]
async fn the_deliveries_route_is_documented() {
    let server = TestServer::start(support::Backend::Sqlite).await;
    let (_, doc) = server.call(Method::GET, "/v1/openapi.json", None, None).await;
    let route = &doc["paths"]["/v1/projects/{project}/deliveries"]["get"];
    assert!(route.is_object(), "{doc}");
    assert!(route["parameters"].to_string().contains("execution"));
}

both_backends!(an_expired_run_sends_its_failure_notification, |backend| async move {
    let receiver = Receiver::start().await;
    let team = crate::web_support::Team::new(backend).await;
    let server = &team.server;
    let (_, project) = server.get("/v1/projects/sales", &team.owner_token).await;
    secret(server, project["id"].as_str().unwrap(), "HOOK", &receiver.url("ok-expired")).await;
    let workflow = json!({"name": "report", "notebook": "report.ipynb", "max_queue_secs": 1,
        "notifications": [{"channel": "webhook", "url_secret": "HOOK", "on": ["failure"]}]});
    team.api("PUT", "/v1/projects/sales/workflows/report", workflow).await;
    let id = team.run_report().await;
    let shutdown = CancellationToken::new();
    let delivery = notify::spawn_with(server.state.clone(), shutdown.clone(), fast(3));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let report = nbw_server::scheduler::tick(&server.state, chrono::Utc::now()).await.unwrap();
    assert_eq!(report.expired, 1, "{report:?}");
    let rows = settled(server, &id).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].state, outbox::DELIVERED, "{rows:?}");
    let hits = receiver.hits("ok-expired");
    assert_eq!(hits.len(), 1);
    let body = &hits[0].body;
    assert_eq!(body["execution_id"], id.as_str(), "{body}");
    assert_eq!(body["state"], "expired", "{body}");
    assert_eq!(body["succeeded"], false, "{body}");
    assert_eq!(body["workflow"], "report", "{body}");
    assert!(body["message"].as_str().unwrap().contains("max_queue of 1s"), "{body}");
    shutdown.cancel();
    delivery.await.unwrap();
});
