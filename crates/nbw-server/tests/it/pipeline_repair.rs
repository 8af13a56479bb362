//! The repair of half-started pipeline runs, on both backends: a run saved with a step queued
//! under an execution id that was never created (its server stopped before queueing it), or a
//! run created and never planned, is moved on by the tick (once, with two servers ticking at
//! once) and by a server as it starts.

use std::time::{Duration, Instant};

use chrono::Utc;
use nbw_core::api::{Origin, StepRunState};
use nbw_server::Server;
use nbw_server::pipelines::tick::tick;
use nbw_server::store::executions;
use nbw_server::store::pipelines as store;
use serde_json::{Value, json};

use crate::pipeline_support::{claim_step, define, finish, get_run, run, step, step_states};
use crate::queue_support::{Fixture, Project};
use crate::support::{TestServer, test_config};

/// A run of `seq` (three steps) stored as a server that stopped half-way would leave it:
/// every step pending, then `edit` applied. Returns its id. (The run made to copy from is
/// cancelled first, so nothing of it is left to claim.)
async fn half_started(f: &Fixture, p: &Project, edit: impl FnOnce(&mut [nbw_core::api::StepRun])) -> String {
    let model = run(f, p, "seq", json!({})).await["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/projects/{}/pipeline-runs/{model}/cancel", p.name);
    assert!(f.server.post(&path, &f.owner, json!({})).await.0.is_success());
    let mut row = store::run(&f.server.state.db, &model).await.unwrap().unwrap();
    row.id = Origin::Pipeline.new_id();
    row.state = "queued".into();
    (row.message, row.finished_at, row.keep_until, row.started_at) = (None, None, None, None);
    (row.cancel_requested, row.version) = (false, 0);
    let mut steps = row.steps();
    for step in &mut steps {
        (step.state, step.execution_id, step.message, step.finished_at) =
            (StepRunState::Pending, None, None, None);
    }
    edit(&mut steps);
    row.steps = serde_json::to_string(&steps).unwrap();
    assert!(store::insert_run(&f.server.state.db, &row).await.unwrap());
    row.id
}

fn seq() -> Value {
    json!({"steps": [step("one", &[]), step("two", &[]), step("three", &[])]})
}

both_backends!(a_step_saved_but_never_queued_is_queued_once_by_two_ticking_servers, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    let agent = f.agent("a1", json!({})).await;
    define(&f, &p, "seq", seq()).await;
    let lost = Origin::Pipeline.new_id();
    let id = half_started(&f, &p, |steps| {
        (steps[0].state, steps[0].execution_id) = (StepRunState::Queued, Some(lost.clone()));
    })
    .await;
    assert!(claim_step(&f, &agent).await.is_none(), "nothing queued: the server stopped first");

    let other =
        TestServer::on_database(backend, f.server.database_url.clone(), nbw_testkit::tempdir(), |_| {}).await;
    let now = Utc::now();
    let (a, b) = tokio::join!(tick(&f.server.state, now), tick(&other.state, now));
    assert_eq!(a.unwrap().repaired + b.unwrap().repaired, 1, "one execution, whichever server made it");
    assert_eq!(f.execution(&lost).await["state"], "queued", "under the id the step names");
    assert_eq!(tick(&f.server.state, Utc::now()).await.unwrap().repaired, 0, "nothing left to repair");
    assert_eq!(tick(&other.state, Utc::now()).await.unwrap().repaired, 0);

    let (claimed, name) = claim_step(&f, &agent).await.expect("the repaired step");
    assert_eq!((claimed.as_str(), name.as_str()), (lost.as_str(), "one"));
    assert!(claim_step(&f, &agent).await.is_none(), "one execution for the step");
    finish(&f, &agent, &claimed, "succeeded", Value::Null).await;
    for name in ["two", "three"] {
        let (execution, step) = claim_step(&f, &agent).await.expect("the run goes on");
        assert_eq!(step, name);
        finish(&f, &agent, &execution, "succeeded", Value::Null).await;
    }
    assert_eq!(get_run(&f, &p, &id).await["state"], "succeeded");
    assert_eq!(step_states(&f, &p, &id).await, ["one=succeeded", "two=succeeded", "three=succeeded"]);
});

both_backends!(a_run_never_planned_is_started_by_a_server_as_it_starts, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    let agent = f.agent("a1", json!({})).await;
    define(&f, &p, "seq", seq()).await;
    let id = half_started(&f, &p, |_| {}).await;
    assert!(claim_step(&f, &agent).await.is_none());

    // A server with its background loops, as `nbw server` starts, on the same database.
    let dir = nbw_testkit::tempdir();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = Server::builder()
        .config(test_config(dir.path()))
        .database_url(f.server.database_url.clone())
        .secret_key([42; 32])
        .in_memory_artifacts()
        .start(shutdown.clone())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let queued = loop {
        let run = store::run(&f.server.state.db, &id).await.unwrap().unwrap();
        if let Some(execution) = run.steps()[0].execution_id.clone()
            && executions::get(&f.server.state.db, &execution).await.unwrap().is_some()
        {
            break execution;
        }
        assert!(Instant::now() < deadline, "the starting server did not repair the run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    server.stop().await.unwrap();
    assert_eq!(step_states(&f, &p, &id).await, ["one=queued", "two=pending", "three=pending"]);
    let (claimed, name) = claim_step(&f, &agent).await.expect("the first step");
    assert_eq!((claimed, name.as_str()), (queued, "one"));
    assert_eq!(tick(&f.server.state, Utc::now()).await.unwrap().repaired, 0, "a running step is left alone");
});
