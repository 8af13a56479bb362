//! A pipeline run's notifications, on both backends, delivered to a real HTTP server on
//! loopback: one message when the run ends, on the outcomes the pipeline asks for, naming the
//! pipeline, the run, its state and duration and, for a failure, the failing step and cell.

use std::time::{Duration, Instant};

use nbw_server::notify;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::notify::{Receiver, fast};
use crate::pipeline_support::{claim_step, define, finish, get_run, run, step};
use crate::queue_support::{Fixture, TestAgent};

/// Waits until the receiver got `count` requests at `name`; their bodies.
async fn bodies(receiver: &Receiver, name: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let hits = receiver.hits(name);
        if hits.len() >= count {
            return hits.into_iter().map(|h| h.body).collect();
        }
        assert!(Instant::now() < deadline, "{name} got {} of {count} messages", hits.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Completes execution `id` as failed at cell 2 with a Python error, as an agent reports one.
async fn fail_at_cell(f: &Fixture, agent: &TestAgent, id: &str) {
    let result = json!({"state": "failed", "message": "ZeroDivisionError: division by zero",
        "failed_cell": 2, "failed_source": "x = 1 / 0"});
    let path = format!("/v1/agent/executions/{id}/complete");
    let (status, body) = f.server.post(&path, &agent.token, json!({"result": result})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

both_backends!(a_pipeline_run_sends_one_message_naming_its_failing_step_and_cell, |backend| async move {
    let f = Fixture::with(backend, |c| c.public_url = Some("https://nbw.example.org/".into())).await;
    let p = f.project("sales").await;
    let agent = f.agent("a1", json!({})).await;
    let receiver = Receiver::start().await;
    for (secret, hook) in [("HOOK", "ok-pipe-hook"), ("SLACK", "ok-pipe-slack")] {
        nbw_server::secrets::write_secret(&f.server.state, &p.id, secret, &receiver.url(hook)).await.unwrap();
    }
    let spec = json!({
        "notifications": [
            {"channel": "webhook", "url_secret": "HOOK", "on": "failure"},
            {"channel": "slack", "url_secret": "SLACK"},
        ],
        "steps": [step("load", &[]), step("clean", &[]), step("report", &[])],
    });
    define(&f, &p, "daily", spec).await;
    let shutdown = CancellationToken::new();
    let delivery = notify::spawn_with(f.server.state.clone(), shutdown.clone(), fast(3));

    let failed = run(&f, &p, "daily", json!({})).await;
    let id = failed["id"].as_str().unwrap();
    let (load, _) = claim_step(&f, &agent).await.unwrap();
    finish(&f, &agent, &load, "succeeded", Value::Null).await;
    let (clean, name) = claim_step(&f, &agent).await.unwrap();
    assert_eq!(name, "clean");
    fail_at_cell(&f, &agent, &clean).await;
    assert_eq!(get_run(&f, &p, id).await["state"], "failed");

    let hook = bodies(&receiver, "ok-pipe-hook", 1).await.remove(0);
    assert_eq!(hook["event"], "pipeline_run.finished");
    assert_eq!(
        (hook["pipeline_run_id"].as_str(), hook["pipeline"].as_str(), hook["state"].as_str()),
        (Some(id), Some("daily"), Some("failed")),
        "{hook}"
    );
    assert_eq!(
        (hook["failed_step"].as_str(), hook["failed_cell"].as_u64()),
        (Some("clean"), Some(2)),
        "{hook}"
    );
    assert_eq!(hook["error"], "ZeroDivisionError: division by zero");
    assert_eq!(hook["failed_source"], "x = 1 / 0");
    assert_eq!(hook["failed_execution_id"], clean.as_str());
    assert_eq!(hook["pipeline_run_url"], format!("https://nbw.example.org/pipeline-runs/{id}"));
    assert!(hook["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{hook}");
    let states: Vec<&str> =
        hook["steps"].as_array().unwrap().iter().map(|s| s["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["succeeded", "failed", "skipped"]);
    let slack = bodies(&receiver, "ok-pipe-slack", 1).await.remove(0);
    let text = slack["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("❌ sales/daily ({id}) failed after "))
            && text.ends_with("step `clean` failed at cell 2: ZeroDivisionError: division by zero"),
        "{text}"
    );
    assert!(
        slack
            .to_string()
            .contains(&format!("<https://nbw.example.org/pipeline-runs/{id}|Pipeline run {id}>")),
        "{slack}"
    );

    // A success: the failure-only webhook stays quiet, Slack (both outcomes) hears of it.
    let ok = run(&f, &p, "daily", json!({})).await;
    let ok_id = ok["id"].as_str().unwrap();
    for _ in 0..3 {
        let (execution, _) = claim_step(&f, &agent).await.unwrap();
        finish(&f, &agent, &execution, "succeeded", Value::Null).await;
    }
    let slack = bodies(&receiver, "ok-pipe-slack", 2).await.remove(1);
    let text = slack["text"].as_str().unwrap();
    assert!(text.starts_with(&format!("✅ sales/daily ({ok_id}) succeeded in ")), "{text}");
    // One message per run, whatever else the loop does meanwhile.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.hits("ok-pipe-hook").len(), 1, "no webhook message for a success");
    assert_eq!(receiver.hits("ok-pipe-slack").len(), 2, "one message per run");
    shutdown.cancel();
    delivery.await.unwrap();
});

both_backends!(a_pipelines_notification_must_name_a_secret, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    let spec = json!({"notifications": [{"channel": "slack", "url_secret": "not a name"}], "steps": [step("a", &[])]});
    let (status, body) = crate::pipeline_support::put(&f, &p, "daily", spec).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("url_secret \"not a name\""), "{body}");
});
