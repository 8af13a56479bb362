//! The queue and the agent protocol, on both backends: agents registry, claims (labels, one
//! winner, long poll), leases and heartbeats, events, output and completion, expiry, retries
//! with backoff, and a lost agent's lockout.

use std::time::{Duration, Instant};

use nbw_core::api::RetryPolicy;
use nbw_server::db::now_ms;
use nbw_server::store::executions::ExecutionRow;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::queue_support::Fixture;
use crate::support;
use crate::support::{Backend, assert_error};

fn retries(max_retries: u32, backoff_secs: u64, backoff_factor: f64) -> RetryPolicy {
    RetryPolicy { max_retries, backoff_secs, backoff_factor }
}

/// The execution whose previous attempt is `id`.
async fn retry_of(fixture: &Fixture, id: &str) -> Option<ExecutionRow> {
    let sql = "SELECT * FROM executions WHERE previous_attempt_id = $1";
    let rows: Vec<ExecutionRow> = nbw_server::on_db!(&fixture.server.state.db, pool => sqlx::query_as(sql).bind(id).fetch_all(pool).await)
        .unwrap();
    assert!(rows.len() <= 1, "one retry per attempt, got {}", rows.len());
    rows.into_iter().next()
}

both_backends!(agents_are_registered_listed_and_revoked, |backend| async move {
    let f = Fixture::new(backend).await;
    let server = &f.server;
    assert_error(
        server.post("/v1/agents", &f.owner, json!({"name": "a"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        server.post("/v1/agents", &f.admin, json!({"name": " "})).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    let agent = f.agent("builder-1", json!({"gpu": "yes"})).await;
    assert!(agent.token.starts_with("nbwa_"));

    // Agent tokens work on /v1/agent/* only; user tokens never do.
    assert_error(server.get("/v1/agents", &agent.token).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(server.get("/v1/projects", &agent.token).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(
        server.post("/v1/agent/claim", &f.admin, json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let (_, list) = server.get("/v1/agents", &f.admin).await;
    assert_eq!(list[0]["name"], "builder-1");
    assert_eq!(list[0]["labels"], json!({"gpu": "yes"}));
    assert_eq!(list[0]["last_heartbeat_at"], Value::Null);
    assert!(list[0].get("token").is_none());
    assert_eq!(f.claim(&agent, 0).await, Value::Null);
    let (_, list) = server.get("/v1/agents", &f.admin).await;
    assert!(list[0]["last_heartbeat_at"].is_string(), "{list}");
    assert_eq!(list[0]["revoked"], false);

    assert_error(server.delete("/v1/agents/nope", &f.admin).await, StatusCode::NOT_FOUND, "not_found");
    assert_error(
        server.delete(&format!("/v1/agents/{}", agent.id), &f.owner).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_eq!(server.delete(&format!("/v1/agents/{}", agent.id), &f.admin).await.0, StatusCode::NO_CONTENT);
    assert_error(
        server.post("/v1/agent/claim", &agent.token, json!({})).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let (_, list) = server.get("/v1/agents", &f.admin).await;
    assert_eq!(list[0]["revoked"], true);
});

both_backends!(claims_match_labels_and_carry_only_their_projects_secrets, |backend| async move {
    let f = Fixture::new(backend).await;
    let alpha = f.project("alpha").await;
    let beta = f.project("beta").await;
    nbw_server::secrets::write_secret(&f.server.state, &alpha.id, "ALPHA_TOKEN", "alpha-secret-value")
        .await
        .unwrap();
    nbw_server::secrets::write_secret(&f.server.state, &beta.id, "BETA_TOKEN", "beta-secret-value")
        .await
        .unwrap();
    let needs_gpu = f.enqueue(&alpha, &[("gpu", "yes")], RetryPolicy::default()).await;
    let plain = f.run(&beta).await;

    let cpu = f.agent("cpu", json!({})).await;
    let gpu = f.agent("gpu", json!({"gpu": "yes", "zone": "eu"})).await;
    let wrong = f.agent("wrong", json!({"gpu": "no"})).await;

    // The older execution needs a GPU: the CPU agent skips it and takes the next.
    let claim = f.claim(&cpu, 0).await;
    assert_eq!(claim["execution"]["id"], plain.id.as_str());
    assert_eq!(claim["execution"]["state"], "running");
    assert_eq!(claim["project"], "beta");
    assert_eq!(claim["workflow"], Value::Null);
    assert_eq!(claim["bundle_url"], format!("/v1/agent/bundles/{}", beta.bundle.digest));
    assert_eq!(claim["secrets"], json!({"BETA_TOKEN": "beta-secret-value"}));
    assert!(claim["lease_until"].is_string());
    assert!(!claim.to_string().contains("alpha-secret-value"));
    assert_eq!(f.claim(&cpu, 0).await, Value::Null);
    assert_eq!(f.claim(&wrong, 0).await, Value::Null, "a label with another value does not match");

    let claim = f.claim(&gpu, 0).await;
    assert_eq!(claim["execution"]["id"], needs_gpu.id.as_str());
    assert_eq!(claim["execution"]["agent_id"], gpu.id.as_str());
    assert_eq!(claim["secrets"], json!({"ALPHA_TOKEN": "alpha-secret-value"}));
    assert!(!claim.to_string().contains("beta-secret-value"));

    // Claim latency is measured.
    let (_, metrics) = f.server.call(Method::GET, "/metrics", None, None).await;
    assert!(metrics.as_str().unwrap().contains("nbw_claim_latency_seconds_count 2"), "{metrics}");
});

both_backends!(only_one_claimer_wins_each_execution, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("race").await;
    let mut queued = Vec::new();
    for _ in 0..10 {
        queued.push(f.run(&project).await.id);
    }
    let mut agents = Vec::new();
    for i in 0..4 {
        agents.push(f.agent(&format!("a{i}"), json!({})).await);
    }
    let claims = futures::future::join_all((0..20).map(|i| {
        let agent = &agents[i % agents.len()];
        let f = &f;
        async move { (agent.id.clone(), f.claim(agent, 0).await) }
    }))
    .await;
    let mut won: Vec<(String, String)> = claims
        .iter()
        .filter(|(_, claim)| !claim.is_null())
        .map(|(agent, claim)| (claim["execution"]["id"].as_str().unwrap().to_owned(), agent.clone()))
        .collect();
    assert_eq!(won.len(), 10, "20 claimers, 10 executions: {claims:?}");
    won.sort();
    won.dedup_by(|a, b| a.0 == b.0);
    assert_eq!(won.len(), 10, "an execution was claimed twice");
    for (id, agent) in &won {
        assert!(queued.contains(id));
        let execution = f.execution(id).await;
        assert_eq!(execution["state"], "running");
        assert_eq!(execution["agent_id"], agent.as_str(), "the database agrees on the winner");
    }
});

both_backends!(a_claim_reads_the_head_of_a_fresh_backlog, |backend| async move {
    // A queue fills in bursts, faster than the planner's statistics follow: here none were
    // taken yet and 5,000 executions wait. Claims must still take the oldest by reading the
    // head of the queue index, not read and sort the whole backlog (which the planner, left
    // alone, does here: 10 claims read about 800 index entries instead of 20).
    let f = Fixture::new(backend).await;
    let project = f.project("burst").await;
    let oldest = f.run(&project).await.id;
    let db = &f.server.state.db;
    let burst = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) \
                 INSERT INTO executions (id, project_id, origin, state, spec, labels, not_before, created_at) \
                 SELECT 'cli.burst' || n.i, e.project_id, e.origin, 'queued', e.spec, e.labels, \
                 e.not_before + n.i, e.created_at + n.i FROM executions e CROSS JOIN n WHERE e.id = $1";
    let inserted = nbw_server::on_db!(db, pool => sqlx::query(burst).bind(&oldest).execute(pool).await.map(|r| r.rows_affected()));
    assert_eq!(inserted.unwrap(), 5000);

    let agent = f.agent("burst-agent", json!({})).await;
    let claim = f.claim(&agent, 0).await;
    assert_eq!(claim["execution"]["id"], oldest.as_str(), "the oldest is claimed first");
    for i in 1..10 {
        let claim = f.claim(&agent, 0).await;
        assert_eq!(claim["execution"]["id"], format!("cli.burst{i}"), "claims follow the queue's order");
    }

    if backend == Backend::Postgres {
        // Closing the server's pools ends their sessions, which flushes their statistics.
        db.close().await;
        let reader = nbw_server::db::Db::connect(&f.server.database_url).await.unwrap();
        let sql = "SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'executions_queue'";
        let (read,): (i64,) =
            nbw_server::on_db!(&reader, pool => sqlx::query_as(sql).fetch_one(pool).await).unwrap();
        assert!(read < 100, "10 claims read {read} entries of the queue index: the backlog was scanned");
        reader.close().await;
    }
});

both_backends!(a_waiting_claim_wakes_when_work_is_queued, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("wake").await;
    let agent = f.agent("waiter", json!({})).await;

    let started = Instant::now();
    assert_eq!(f.claim(&agent, 1).await, Value::Null);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900), "an empty claim waits wait_secs, waited {waited:?}");

    let waiting = long_poll_claim(&f.server.base, &agent.token);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the claim waits for work");
    let queued_at = Instant::now();
    let execution = f.run(&project).await;
    let (claimed_at, body) = waiting.await.unwrap();
    assert_eq!(body["claim"]["execution"]["id"], execution.id.as_str());
    let latency = claimed_at - queued_at;
    // Well under the claim's 1 s recheck: the enqueue woke it (a generous bound for loaded CI).
    assert!(latency < Duration::from_millis(700), "woken {latency:?} after the enqueue");
});

both_backends!(heartbeats_renew_leases_and_carry_cancels, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("beat").await;
    let execution = f.enqueue(&project, &[], retries(3, 0, 1.0)).await;
    let agent = f.agent("runner", json!({})).await;
    let other = f.agent("other", json!({})).await;
    let claim = f.claim(&agent, 0).await;
    let first_lease = claim["lease_until"].as_str().unwrap().to_owned();
    let id = execution.id.as_str();

    tokio::time::sleep(Duration::from_millis(20)).await;
    let (status, beat) =
        f.server.post("/v1/agent/heartbeat", &agent.token, json!({"running": [id, "web.unknown"]})).await;
    assert_eq!(status, StatusCode::OK, "{beat}");
    assert_eq!(beat["cancel"], json!([]));
    assert_eq!(beat["abandon"], json!(["web.unknown"]));
    let renewed: chrono::DateTime<chrono::Utc> = beat["lease_until"].as_str().unwrap().parse().unwrap();
    let first: chrono::DateTime<chrono::Utc> = first_lease.parse().unwrap();
    assert!(renewed > first, "{renewed} > {first}");
    let row = nbw_server::store::executions::get(&f.server.state.db, id).await.unwrap().unwrap();
    assert_eq!(row.lease_until, Some(renewed.timestamp_millis()));

    // Another agent does not hold it: told to abandon, and its heartbeat renews nothing.
    let (_, beat) = f.server.post("/v1/agent/heartbeat", &other.token, json!({"running": [id]})).await;
    assert_eq!(beat["abandon"], json!([id]));

    // A user cancels: the holder learns it at its next heartbeat.
    let (status, _) = f.server.post(&format!("/v1/executions/{id}/cancel"), &f.owner, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, beat) = f.server.post("/v1/agent/heartbeat", &agent.token, json!({"running": [id]})).await;
    assert_eq!(beat["cancel"], json!([id]));
    assert_eq!(beat["abandon"], json!([]));

    // A cancelled run is not retried, whatever its policy; nor is a failure after a cancel.
    let (status, done) = f.complete(&agent, id, "cancelled").await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["state"], "cancelled");
    assert!(retry_of(&f, id).await.is_none());
    let (_, beat) = f.server.post("/v1/agent/heartbeat", &agent.token, json!({"running": [id]})).await;
    assert_eq!(beat["abandon"], json!([id]), "a finished execution is no longer held");
});

both_backends!(events_are_idempotent_and_only_from_the_holder, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("events").await;
    let execution = f.run(&project).await;
    let id = execution.id.as_str();
    let agent = f.agent("runner", json!({})).await;
    let other = f.agent("other", json!({})).await;
    assert_error(f.events(&agent, id, 1..=1).await, StatusCode::NOT_FOUND, "not_found");
    f.claim(&agent, 0).await;

    assert_eq!(f.events(&agent, id, 1..=3).await.0, StatusCode::NO_CONTENT);
    assert_eq!(f.events(&agent, id, 1..=3).await.0, StatusCode::NO_CONTENT, "a re-sent batch is harmless");
    assert_eq!(f.events(&agent, id, 2..=5).await.0, StatusCode::NO_CONTENT);
    let stored = nbw_server::store::queue::events_after(&f.server.state.db, id, 0, 100).await.unwrap();
    assert_eq!(stored.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    assert_eq!(stored[3].payload, json!({"text": "line 4"}));
    assert_eq!(stored[3].kind, "output");
    let row = nbw_server::store::executions::get(&f.server.state.db, id).await.unwrap().unwrap();
    assert_eq!(row.last_seq, 5);

    assert_error(f.events(&other, id, 6..=6).await, StatusCode::NOT_FOUND, "not_found");
    assert_error(f.events(&agent, id, 0..=0).await, StatusCode::BAD_REQUEST, "invalid_request");
    let path = format!("/v1/agent/executions/{id}/events");
    let bad_kind = json!({"events": [{"seq": 9, "kind": "end", "payload": {}, "time": chrono::Utc::now()}]});
    assert_error(
        f.server.post(&path, &agent.token, bad_kind).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );

    // A large batch goes in several statements.
    assert_eq!(f.events(&agent, id, 6..=705).await.0, StatusCode::NO_CONTENT);
    let stored = nbw_server::store::queue::events_after(&f.server.state.db, id, 0, 1000).await.unwrap();
    assert_eq!(stored.len(), 705);

    assert_eq!(f.complete(&agent, id, "succeeded").await.0, StatusCode::OK);
    assert_error(f.events(&agent, id, 706..=706).await, StatusCode::CONFLICT, "lease_lost");
});

both_backends!(complete_stores_the_result_and_the_output, |backend| async move {
    let f = Fixture::with(backend, |config| config.max_output_bytes = 1000).await;
    let project = f.project("done").await;
    let execution = f.enqueue(&project, &[], retries(2, 0, 1.0)).await;
    let id = execution.id.as_str();
    let agent = f.agent("runner", json!({})).await;
    let other = f.agent("other", json!({})).await;
    f.claim(&agent, 0).await;

    let output = format!("/v1/agent/executions/{id}/output");
    let notebook = json!({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5});
    assert_eq!(f.server.put(&output, &agent.token, notebook.clone()).await.0, StatusCode::NO_CONTENT);
    assert_error(
        f.server.put(&output, &other.token, notebook.clone()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let too_big = json!({"cells": [], "padding": "x".repeat(2000)});
    assert_error(
        f.server.put(&output, &agent.token, too_big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
    let response = f
        .server
        .http
        .put(format!("{}{output}", f.server.base))
        .bearer_auth(&agent.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    assert_error(f.complete(&agent, id, "running").await, StatusCode::BAD_REQUEST, "invalid_request");
    assert_error(f.complete(&agent, id, "lost").await, StatusCode::BAD_REQUEST, "invalid_request");
    assert_error(f.complete(&other, id, "succeeded").await, StatusCode::NOT_FOUND, "not_found");
    let (status, done) = f.complete(&agent, id, "succeeded").await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["state"], "succeeded");
    assert_eq!(done["has_output"], true);
    assert!(done["finished_at"].is_string());
    assert_eq!(done["result"]["state"], "succeeded");
    let (status, again) = f.complete(&agent, id, "succeeded").await;
    assert_eq!(status, StatusCode::OK, "completing twice with the same result is idempotent");
    assert_eq!(again["state"], "succeeded");
    assert_error(f.complete(&agent, id, "failed").await, StatusCode::CONFLICT, "conflict");
    assert!(retry_of(&f, id).await.is_none(), "a success is not retried");

    let stored = f
        .server
        .state
        .artifacts
        .get(&nbw_server::artifacts::ArtifactKey::Output(id.to_owned()))
        .await
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&stored.unwrap()).unwrap(), notebook);
    assert_error(f.server.put(&output, &agent.token, notebook).await, StatusCode::CONFLICT, "lease_lost");
    let (_, metrics) = f.server.call(Method::GET, "/metrics", None, None).await;
    assert!(
        metrics.as_str().unwrap().contains("nbw_run_duration_seconds_count{state=\"succeeded\"} 1"),
        "{metrics}"
    );
});

both_backends!(failures_are_retried_as_the_policy_allows, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("flaky").await;
    let first = f.enqueue(&project, &[("pool", "x")], retries(1, 0, 2.0)).await;
    let agent = f.agent("runner", json!({"pool": "x"})).await;
    f.claim(&agent, 0).await;
    assert_eq!(f.complete(&agent, &first.id, "failed").await.0, StatusCode::OK);

    let second = retry_of(&f, &first.id).await.expect("a failure with retries left is retried");
    assert!(second.id.starts_with("rty."), "{}", second.id);
    assert_eq!(second.attempt, 2);
    assert_eq!(second.first_attempt_id.as_deref(), Some(first.id.as_str()));
    assert_eq!(second.state, "queued");
    assert_eq!(second.labels, r#"{"pool":"x"}"#);
    let claim = f.claim(&agent, 0).await;
    assert_eq!(claim["execution"]["id"], second.id.as_str(), "no backoff: claimable at once");
    assert_eq!(claim["execution"]["origin"], "retry");
    assert_eq!(f.complete(&agent, &second.id, "timed_out").await.0, StatusCode::OK);
    assert!(retry_of(&f, &second.id).await.is_none(), "no attempts left");
});

both_backends!(expired_leases_are_lost_and_retried_with_backoff, |backend| async move {
    let f = Fixture::with(backend, |config| config.lease_secs = 1).await;
    let state = &f.server.state;
    let project = f.project("lossy").await;
    let first = f.enqueue(&project, &[], retries(2, 1, 2.0)).await;
    let agent = f.agent("flaky", json!({})).await;
    let rescuer = f.agent("rescuer", json!({})).await;
    f.claim(&agent, 0).await;

    // Within the lease nothing happens; after it, the reaper marks the run lost.
    assert_eq!(nbw_server::queue::reap(state, now_ms()).await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Several servers reaping at once: one wins, one retry.
    let reaped = futures::future::join_all((0..4).map(|_| nbw_server::queue::reap(state, now_ms()))).await;
    assert_eq!(reaped.into_iter().map(Result::unwrap).sum::<usize>(), 1);
    let lost = f.execution(&first.id).await;
    assert_eq!(lost["state"], "lost");
    assert_eq!(lost["result"]["message"], nbw_server::queue::LOST_MESSAGE);
    let lost_at: chrono::DateTime<chrono::Utc> = lost["finished_at"].as_str().unwrap().parse().unwrap();

    let second = retry_of(&f, &first.id).await.expect("retried");
    assert_eq!((second.attempt, second.state.as_str()), (2, "queued"));
    assert_eq!(second.first_attempt_id.as_deref(), Some(first.id.as_str()));
    assert_eq!(second.previous_attempt_id.as_deref(), Some(first.id.as_str()));
    assert_eq!(second.not_before, lost_at.timestamp_millis() + 1000, "backoff_secs before the first retry");

    // The lost agent can no longer act on the run: no run is counted twice.
    assert_error(f.complete(&agent, &first.id, "succeeded").await, StatusCode::CONFLICT, "lease_lost");
    assert_error(f.events(&agent, &first.id, 1..=1).await, StatusCode::CONFLICT, "lease_lost");
    let (_, beat) = f.server.post("/v1/agent/heartbeat", &agent.token, json!({"running": [first.id]})).await;
    assert_eq!(beat["abandon"], json!([first.id]));

    // The retry waits out its backoff, then goes to whoever asks.
    assert_eq!(f.claim(&rescuer, 0).await, Value::Null, "still backing off");
    let claim = f.claim(&rescuer, 5).await;
    assert_eq!(claim["execution"]["id"], second.id.as_str());
    assert!(now_ms() >= second.not_before);

    // The second attempt is lost too (reaped as if its lease had long expired): the next
    // retry waits backoff_secs * backoff_factor.
    let later = now_ms() + 10_000;
    assert_eq!(nbw_server::queue::reap(state, later).await.unwrap(), 1);
    let third = retry_of(&f, &second.id).await.expect("retried again");
    assert_eq!(third.attempt, 3);
    assert_eq!(third.first_attempt_id.as_deref(), Some(first.id.as_str()));
    assert_eq!(third.previous_attempt_id.as_deref(), Some(second.id.as_str()));
    assert_eq!(third.not_before, later + 2000);

    // The last attempt allowed: lost without a further retry.
    let sql = "UPDATE executions SET not_before = 0 WHERE id = $1";
    nbw_server::on_db!(&state.db, pool => sqlx::query(sql).bind(&third.id).execute(pool).await.map(|r| r.rows_affected()))
        .unwrap();
    assert_eq!(f.claim(&rescuer, 0).await["execution"]["id"], third.id.as_str());
    assert_eq!(nbw_server::queue::reap(state, now_ms() + 10_000).await.unwrap(), 1);
    assert!(retry_of(&f, &third.id).await.is_none(), "max_retries reached");
});

both_backends!(bundles_download_only_for_the_holder, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("bundled").await;
    let execution = f.run(&project).await;
    let agent = f.agent("runner", json!({})).await;
    let other = f.agent("other", json!({})).await;
    let url = format!("/v1/agent/bundles/{}", project.bundle.digest);
    assert_error(f.server.get(&url, &agent.token).await, StatusCode::NOT_FOUND, "not_found");
    let claim = f.claim(&agent, 0).await;
    assert_eq!(claim["bundle_url"], url.as_str());

    let response =
        f.server.http.get(format!("{}{url}", f.server.base)).bearer_auth(&agent.token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap(), project.archive);
    assert_error(f.server.get(&url, &other.token).await, StatusCode::NOT_FOUND, "not_found");
    assert_error(f.server.get(&url, &f.owner).await, StatusCode::FORBIDDEN, "forbidden");

    f.complete(&agent, &execution.id, "succeeded").await;
    assert_error(f.server.get(&url, &agent.token).await, StatusCode::NOT_FOUND, "not_found");
});

/// PostgreSQL only: work queued through one server wakes a claim waiting on another, through
/// `NOTIFY nbw_work` and the other server's listener (not its one-second recheck).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_queued_on_one_server_wakes_a_claim_waiting_on_another() {
    let f = Fixture::new(support::Backend::Postgres).await;
    let project = f.project("multi").await;
    let agent = f.agent("waiter", json!({})).await;

    let dir = nbw_testkit::tempdir();
    let other = support::TestServer::on_database(
        support::Backend::Postgres,
        f.server.database_url.clone(),
        dir,
        |_| {},
    )
    .await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let loops = nbw_server::queue::spawn_loops(&other.state, &shutdown);
    tokio::time::sleep(Duration::from_millis(500)).await; // the listener connects

    let waiting = long_poll_claim(&other.base, &agent.token);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let queued_at = Instant::now();
    let execution = f.run(&project).await;
    let (claimed_at, body) = waiting.await.unwrap();
    assert_eq!(body["claim"]["execution"]["id"], execution.id.as_str());
    let latency = claimed_at - queued_at;
    // Under the 1 s recheck: the NOTIFY from the other server woke it.
    assert!(latency < Duration::from_millis(900), "woken {latency:?} after the enqueue on the other server");
    shutdown.cancel();
    for handle in loops {
        handle.await.unwrap();
    }
}

/// A claim waiting up to 10 s on `base`, in the background; resolves to when it was answered
/// and the answer.
fn long_poll_claim(base: &str, token: &str) -> tokio::task::JoinHandle<(Instant, Value)> {
    let (url, token) = (format!("{base}/v1/agent/claim"), token.to_owned());
    tokio::spawn(async move {
        let response = reqwest::Client::new()
            .post(url)
            .bearer_auth(token)
            .json(&json!({"wait_secs": 10}))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        (Instant::now(), body)
    })
}
