//! Pipeline runs under control, on both backends: cancel and timeout leave nothing queued or
//! running, a run with a shared volume is pinned to one agent, heartbeats list the volumes of
//! ended runs only, and a scheduled fire creates one run with two servers on one database.

mod pipeline_support;
mod queue_support;
mod support;

use chrono::{Duration, Utc};
use nbw_server::pipelines::tick::tick;
use pipeline_support::{claim_step, define, finish, get_run, run, step, step_states};
use queue_support::Fixture;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::TestServer;

/// Two steps at once: `left` and `right`, then `join`.
fn fork() -> Value {
    json!({"max_parallel": 2, "steps": [step("left", &[]), step("right", &[]), step("join", &["left", "right"])]})
}

both_backends!(cancel_cancels_every_queued_and_running_step, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    let agent = f.agent("a1", json!({})).await;
    define(&f, &p, "fork", fork()).await;
    let id = run(&f, &p, "fork", json!({})).await["id"].as_str().unwrap().to_owned();
    let (running, _) = claim_step(&f, &agent).await.unwrap();
    let path = format!("/v1/projects/sales/pipeline-runs/{id}/cancel");
    let (status, body) = f.server.post(&path, &f.owner, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "cancelled");
    assert_eq!(step_states(&f, &p, &id).await, ["left=cancelled", "right=cancelled", "join=cancelled"]);
    let queued = body["steps"][1]["execution_id"].as_str().unwrap();
    assert_eq!(f.execution(queued).await["state"], "cancelled", "the queued step's execution");
    assert_eq!(f.execution(&running).await["cancel_requested"], true, "the running step's execution");
    let (_, beat) = f.server.post("/v1/agent/heartbeat", &agent.token, json!({"running": [running]})).await;
    assert_eq!(beat["cancel"], json!([running]), "the agent is told to stop it");
    assert!(claim_step(&f, &agent).await.is_none(), "nothing left to claim");
    finish(&f, &agent, &running, "cancelled", Value::Null).await;
    assert_eq!(get_run(&f, &p, &id).await["state"], "cancelled");
    assert_eq!(
        f.server.post(&path, &f.owner, json!({})).await.0,
        StatusCode::OK,
        "a second cancel answers the same"
    );
});

both_backends!(a_run_past_its_timeout_is_timed_out, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    let agent = f.agent("a1", json!({})).await;
    define(&f, &p, "slow", json!({"timeout": 60, "steps": [step("a", &[]), step("b", &[])]})).await;
    let id = run(&f, &p, "slow", json!({})).await["id"].as_str().unwrap().to_owned();
    let (execution, _) = claim_step(&f, &agent).await.unwrap();
    let report = tick(&f.server.state, Utc::now()).await.unwrap();
    assert_eq!(report.timed_out, 0, "not yet");
    let report = tick(&f.server.state, Utc::now() + Duration::seconds(61)).await.unwrap();
    assert_eq!(report.timed_out, 1);
    let ended = get_run(&f, &p, &id).await;
    assert_eq!(ended["state"], "timed_out", "{ended}");
    assert_eq!(step_states(&f, &p, &id).await, ["a=cancelled", "b=cancelled"]);
    assert_eq!(f.execution(&execution).await["cancel_requested"], true);
});

both_backends!(a_shared_volume_pins_the_run_to_the_agent_of_its_first_step, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    let first = f.agent("a1", json!({})).await;
    let second = f.agent("a2", json!({})).await;
    let mut spec = fork();
    spec["shared_volume"] = json!(true);
    define(&f, &p, "shared", spec).await;
    let id = run(&f, &p, "shared", json!({})).await["id"].as_str().unwrap().to_owned();
    let claim = f.claim(&first, 0).await;
    let volume = claim["execution"]["spec"]["step"]["shared"]["name"].as_str().unwrap().to_owned();
    assert!(volume.starts_with("nbw-pipe-"), "{claim}");
    let left = claim["execution"]["id"].as_str().unwrap().to_owned();
    assert!(claim_step(&f, &second).await.is_none(), "another agent cannot claim a pinned run's step");
    let (right, name) = claim_step(&f, &first).await.expect("the pinned agent claims the next step");
    assert_eq!(name, "right");
    finish(&f, &first, &left, "succeeded", Value::Null).await;
    finish(&f, &first, &right, "succeeded", Value::Null).await;
    assert!(claim_step(&f, &second).await.is_none());
    let (join, _) = claim_step(&f, &first).await.unwrap();

    // Another run holds its own volume while it runs.
    let other = run(&f, &p, "shared", json!({})).await["id"].as_str().unwrap().to_owned();
    let other_volume = nbw_core::api::SharedVolume::name_for(&other);
    let beat = json!({"running": [join], "volumes": [volume, other_volume]});
    let (_, answer) = f.server.post("/v1/agent/heartbeat", &first.token, beat.clone()).await;
    assert_eq!(answer["remove_volumes"], json!([]), "both runs are going on");
    finish(&f, &first, &join, "succeeded", Value::Null).await;
    assert_eq!(get_run(&f, &p, &id).await["state"], "succeeded");
    let (_, answer) = f.server.post("/v1/agent/heartbeat", &first.token, beat).await;
    assert_eq!(answer["remove_volumes"], json!([volume]), "only the ended run's volume");
});

both_backends!(a_failed_runs_volume_is_kept_for_a_rerun_from_failed, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    let agent = f.agent("a1", json!({})).await;
    define(&f, &p, "seq", json!({"shared_volume": true, "steps": [step("a", &[]), step("b", &[])]})).await;
    let id = run(&f, &p, "seq", json!({})).await["id"].as_str().unwrap().to_owned();
    let claim = f.claim(&agent, 0).await;
    let volume = claim["execution"]["spec"]["step"]["shared"]["name"].clone();
    finish(&f, &agent, claim["execution"]["id"].as_str().unwrap(), "succeeded", Value::Null).await;
    let (b, _) = claim_step(&f, &agent).await.unwrap();
    finish(&f, &agent, &b, "failed", Value::Null).await;
    assert_eq!(get_run(&f, &p, &id).await["state"], "failed");
    let beat = json!({"running": [], "volumes": [volume]});
    let (_, answer) = f.server.post("/v1/agent/heartbeat", &agent.token, beat).await;
    assert_eq!(answer["remove_volumes"], json!([]), "kept an hour after a failure");
    let path = format!("/v1/projects/sales/pipeline-runs/{id}/rerun");
    f.server.post(&path, &f.owner, json!({"from_failed": true})).await;
    let claim = f.claim(&agent, 0).await;
    assert_eq!(claim["execution"]["spec"]["step"]["step"], "b");
    assert_eq!(claim["execution"]["spec"]["step"]["shared"]["name"], volume, "the rerun reuses the volume");
});

both_backends!(a_scheduled_fire_creates_one_run_with_two_servers, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    define(&f, &p, "hourly", json!({"schedule": {"interval": 3600}, "steps": [step("a", &[])]})).await;
    let due = Utc::now() - Duration::seconds(5);
    nbw_server::on_db!(&f.server.state.db, pool => sqlx::query("UPDATE pipelines SET next_fire_at = $1")
        .bind(due.timestamp_millis()).execute(pool).await.map(|r| r.rows_affected()))
    .unwrap();
    let other =
        TestServer::on_database(backend, f.server.database_url.clone(), nbw_testkit::tempdir(), |_| {}).await;
    let now = Utc::now();
    let (a, b) = tokio::join!(tick(&f.server.state, now), tick(&other.state, now));
    assert_eq!(a.unwrap().fired + b.unwrap().fired, 1, "one run per fire");
    let (_, history) = f.server.get("/v1/projects/sales/pipelines/hourly/runs", &f.owner).await;
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{history}");
    assert_eq!(items[0]["origin"], "schedule");
    let (_, pipeline) = f.server.get("/v1/projects/sales/pipelines/hourly", &f.owner).await;
    assert!(pipeline["next_fire_at"].as_str().unwrap() > now.to_rfc3339().as_str(), "{pipeline}");
    assert_eq!(tick(&f.server.state, now).await.unwrap().fired, 0, "the fire time moved on");
});
