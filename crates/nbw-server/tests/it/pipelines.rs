//! Pipelines on both backends: definitions checked on PUT, runs that start their steps as
//! executions and move on as agents end them (order, parallelism, failures and skips, values
//! passed downstream), and the project roles on every pipeline route.

use crate::pipeline_support::{claim_step, define, finish, get_run, put, run, step, step_states};
use crate::queue_support::Fixture;
use crate::support::assert_error;
use reqwest::StatusCode;
use serde_json::{Value, json};

both_backends!(definitions_are_checked_stored_listed_and_deleted, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    let spec =
        json!({"schedule": {"cron": "0 6 * * *", "timezone": "Europe/Madrid"}, "steps": [step("a", &[])]});
    define(&f, &p, "daily", spec).await;
    let (_, got) = f.server.get("/v1/projects/sales/pipelines/daily", &f.owner).await;
    assert_eq!(got["spec"]["steps"][0]["name"], "a");
    assert!(got["next_fire_at"].is_string(), "{got}");
    let (_, list) = f.server.get("/v1/projects/sales/pipelines", &f.owner).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    let bad = json!({"steps": [step("a", &[]), step("b", &["nope"])]});
    let (status, body) = put(&f, &p, "bad", bad).await;
    assert_error((status, body.clone()), StatusCode::UNPROCESSABLE_ENTITY, "invalid_pipeline");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("pipeline `bad`") && message.contains("step `b`") && message.contains("nope"),
        "{message}"
    );
    let missing = json!({"steps": [{"name": "x", "notebook": "other.ipynb"}]});
    let (status, body) = put(&f, &p, "bad", missing).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("step `x`: no notebook `other.ipynb`"),
        "{body}"
    );
    assert_error(
        f.server.get("/v1/projects/sales/pipelines/bad", &f.owner).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    assert_eq!(
        f.server.delete("/v1/projects/sales/pipelines/daily", &f.owner).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        f.server.get("/v1/projects/sales/pipelines/daily", &f.owner).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
});

both_backends!(a_viewer_reads_and_cannot_run_and_a_stranger_gets_404, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    define(&f, &p, "seq", json!({"steps": [step("a", &[])]})).await;
    let viewer = f.server.user("vic", false).await;
    let stranger = f.server.user("sam", false).await;
    f.server.put("/v1/projects/sales/members/vic", &f.owner, json!({"role": "viewer"})).await;
    assert_eq!(f.server.get("/v1/projects/sales/pipelines/seq", &viewer).await.0, StatusCode::OK);
    assert_error(
        f.server.post("/v1/projects/sales/pipelines/seq/runs", &viewer, json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        f.server
            .put("/v1/projects/sales/pipelines/seq", &viewer, json!({"spec": {"steps": [step("a", &[])]}}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        f.server.get("/v1/projects/sales/pipelines/seq", &stranger).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let run = run(&f, &p, "seq", json!({})).await;
    let id = run["id"].as_str().unwrap();
    assert!(id.starts_with("pip."), "{id}");
    let path = format!("/v1/projects/sales/pipeline-runs/{id}");
    assert_error(f.server.get(&path, &stranger).await, StatusCode::NOT_FOUND, "not_found");
    assert_error(
        f.server.post(&format!("{path}/cancel"), &viewer, json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (_, history) = f.server.get("/v1/projects/sales/pipelines/seq/runs", &viewer).await;
    assert_eq!(history["items"][0]["id"], id);
});

both_backends!(a_seqpipe_runs_its_steps_one_after_another, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    let agent = f.agent("a1", json!({})).await;
    define(&f, &p, "seq", json!({"steps": [step("one", &[]), step("two", &[]), step("three", &[])]})).await;
    let run = run(&f, &p, "seq", json!({})).await;
    let id = run["id"].as_str().unwrap();
    assert_eq!(run["state"], "queued");
    assert_eq!(run["steps"][1]["needs"], json!(["one"]));
    for name in ["one", "two", "three"] {
        let (execution, step) = claim_step(&f, &agent).await.expect("a step to claim");
        assert_eq!(step, name);
        assert!(claim_step(&f, &agent).await.is_none(), "only one step at a time in a SeqPipe");
        assert_eq!(get_run(&f, &p, id).await["state"], "running");
        finish(&f, &agent, &execution, "succeeded", Value::Null).await;
    }
    let done = get_run(&f, &p, id).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(step_states(&f, &p, id).await, ["one=succeeded", "two=succeeded", "three=succeeded"]);
});

/// Two branches and a join: `left` and `right` need nothing, `join` needs both.
fn fork(max_parallel: u32) -> Value {
    json!({"max_parallel": max_parallel, "steps": [step("left", &[]), step("right", &[]), step("join", &["left", "right"])]})
}

both_backends!(a_dag_runs_branches_at_once_up_to_max_parallel, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    let agent = f.agent("a1", json!({})).await;
    define(&f, &p, "wide", fork(2)).await;
    define(&f, &p, "narrow", fork(1)).await;

    let wide = run(&f, &p, "wide", json!({})).await;
    let first = claim_step(&f, &agent).await.unwrap();
    let second = claim_step(&f, &agent).await.unwrap();
    assert_eq!((first.1.as_str(), second.1.as_str()), ("left", "right"), "both branches at once");
    finish(&f, &agent, &first.0, "succeeded", Value::Null).await;
    assert!(claim_step(&f, &agent).await.is_none(), "join waits for both branches");
    finish(&f, &agent, &second.0, "succeeded", Value::Null).await;
    let join = claim_step(&f, &agent).await.unwrap();
    assert_eq!(join.1, "join");
    finish(&f, &agent, &join.0, "succeeded", Value::Null).await;
    assert_eq!(get_run(&f, &p, wide["id"].as_str().unwrap()).await["state"], "succeeded");

    run(&f, &p, "narrow", json!({})).await;
    let only = claim_step(&f, &agent).await.unwrap();
    assert_eq!(only.1, "left");
    assert!(claim_step(&f, &agent).await.is_none(), "max_parallel 1: one branch at a time");
    finish(&f, &agent, &only.0, "succeeded", Value::Null).await;
    assert_eq!(claim_step(&f, &agent).await.unwrap().1, "right");
});

both_backends!(
    a_failed_branch_skips_its_dependents_and_a_rerun_from_failed_runs_only_them,
    |backend| async move {
        let f = Fixture::new(backend).await;
        let p = f.project("sales").await;
        let agent = f.agent("a1", json!({})).await;
        let spec = json!({"max_parallel": 2, "steps": [step("left", &[]), step("after_left", &["left"]), step("right", &[])]});
        define(&f, &p, "branches", spec).await;
        let first = run(&f, &p, "branches", json!({"origin": "cli"})).await;
        let id = first["id"].as_str().unwrap();
        assert_eq!(first["origin"], "cli");
        let left = claim_step(&f, &agent).await.unwrap();
        let right = claim_step(&f, &agent).await.unwrap();
        assert_eq!((left.1.as_str(), right.1.as_str()), ("left", "right"));
        finish(&f, &agent, &left.0, "failed", Value::Null).await;
        assert_eq!(step_states(&f, &p, id).await, ["left=failed", "after_left=skipped", "right=running"]);
        assert_eq!(get_run(&f, &p, id).await["state"], "running", "the other branch goes on");
        finish(&f, &agent, &right.0, "succeeded", json!({"n": 1})).await;
        let ended = get_run(&f, &p, id).await;
        assert_eq!(ended["state"], "failed", "{ended}");
        assert!(ended["message"].as_str().unwrap().contains("step `left`"), "{ended}");

        let path = format!("/v1/projects/sales/pipeline-runs/{id}/rerun");
        let (status, again) = f.server.post(&path, &f.owner, json!({"from_failed": true})).await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        let again_id = again["id"].as_str().unwrap();
        assert_eq!(again["rerun_of"], id);
        assert_eq!(
            again["origin"], "web",
            "the re-run is the caller's (web by default), not the earlier run's"
        );
        assert_eq!(again["steps"][2]["state"], "reused");
        assert_eq!(again["steps"][2]["execution_id"], right.0.as_str());
        let rerun_left = claim_step(&f, &agent).await.unwrap();
        assert_eq!(rerun_left.1, "left");
        assert!(claim_step(&f, &agent).await.is_none(), "right is reused, not run");
        finish(&f, &agent, &rerun_left.0, "succeeded", Value::Null).await;
        let after = claim_step(&f, &agent).await.unwrap();
        assert_eq!(after.1, "after_left");
        finish(&f, &agent, &after.0, "succeeded", Value::Null).await;
        assert_eq!(get_run(&f, &p, again_id).await["state"], "succeeded");
        assert!(claim_step(&f, &agent).await.is_none());

        let path = format!("/v1/projects/sales/pipeline-runs/{again_id}/rerun");
        let (status, third) = f.server.post(&path, &f.owner, json!({"origin": "cli"})).await;
        assert_eq!(status, StatusCode::CREATED, "{third}");
        assert_eq!((third["origin"].as_str(), third["rerun_of"].as_str()), (Some("cli"), Some(again_id)));
        assert_error(
            f.server.post(&path, &f.owner, json!({"origin": "schedule"})).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
    }
);

both_backends!(values_of_an_upstream_step_reach_downstream_parameters_typed, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    let agent = f.agent("a1", json!({})).await;
    let mut report = step("report", &["extract"]);
    report["parameters"] = json!({"rows": "{{ steps.extract.result.rows }}", "title": "{{ pipeline }} of {{ steps.extract.result.rows }}"});
    define(&f, &p, "flow", json!({"steps": [step("extract", &[]), report]})).await;

    let ok = run(&f, &p, "flow", json!({})).await;
    let extract = claim_step(&f, &agent).await.unwrap();
    finish(&f, &agent, &extract.0, "succeeded", json!({"rows": 42})).await;
    let claim = f.claim(&agent, 0).await;
    assert_eq!(claim["execution"]["spec"]["parameters"]["rows"], 42, "a number stays a number");
    assert_eq!(claim["execution"]["spec"]["parameters"]["title"], "flow of 42");
    let steps = get_run(&f, &p, ok["id"].as_str().unwrap()).await["steps"].clone();
    assert_eq!(steps[0]["result"], json!({"rows": 42}));
    finish(&f, &agent, claim["execution"]["id"].as_str().unwrap(), "succeeded", Value::Null).await;

    let missing = run(&f, &p, "flow", json!({})).await;
    let extract = claim_step(&f, &agent).await.unwrap();
    finish(&f, &agent, &extract.0, "succeeded", Value::Null).await;
    assert!(claim_step(&f, &agent).await.is_none(), "no execution for a step that cannot start");
    let ended = get_run(&f, &p, missing["id"].as_str().unwrap()).await;
    assert_eq!(ended["state"], "failed");
    let report = &ended["steps"][1];
    assert_eq!(report["state"], "failed");
    assert_eq!(report["execution_id"], Value::Null);
    let message = report["message"].as_str().unwrap();
    assert!(
        message.contains("step `report`") && message.contains("`rows`") && message.contains("NBW_RESULT"),
        "{message}"
    );
});

both_backends!(run_overrides_name_known_steps, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    let agent = f.agent("a1", json!({})).await;
    define(&f, &p, "seq", json!({"steps": [step("a", &[])]})).await;
    let (status, body) = f
        .server
        .post("/v1/projects/sales/pipelines/seq/runs", &f.owner, json!({"parameters": {"zz": {"x": 1}}}))
        .await;
    assert_error((status, body.clone()), StatusCode::BAD_REQUEST, "unknown_step");
    assert!(body["error"]["message"].as_str().unwrap().contains("`zz`"), "{body}");
    run(&f, &p, "seq", json!({"parameters": {"a": {"x": 1}}})).await;
    assert_eq!(f.claim(&agent, 0).await["execution"]["spec"]["parameters"]["x"], 1);
});

both_backends!(a_failed_step_with_retries_follows_its_retry_and_the_run_goes_on, |backend| async move {
    let f = Fixture::new(backend).await;
    let p = f.project("sales").await;
    let agent = f.agent("a1", json!({})).await;
    let mut flaky = step("flaky", &[]);
    flaky["retries"] = json!({"max": 1, "backoff": 1});
    define(&f, &p, "seq", json!({"steps": [flaky, step("next", &[])]})).await;
    let id = run(&f, &p, "seq", json!({})).await["id"].as_str().unwrap().to_owned();
    let (first, _) = claim_step(&f, &agent).await.unwrap();
    finish(&f, &agent, &first, "failed", Value::Null).await;
    let steps = get_run(&f, &p, &id).await["steps"].clone();
    assert_eq!(steps[0]["state"], "queued", "waiting for its retry: {steps}");
    assert_eq!(get_run(&f, &p, &id).await["state"], "running");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // the backoff
    let (retry, name) = claim_step(&f, &agent).await.expect("the retry");
    assert_eq!(name, "flaky");
    assert!(retry.starts_with("rty."), "{retry}");
    assert_eq!(get_run(&f, &p, &id).await["steps"][0]["execution_id"], retry.as_str());
    finish(&f, &agent, &retry, "succeeded", Value::Null).await;
    let (next, name) = claim_step(&f, &agent).await.unwrap();
    assert_eq!(name, "next");
    finish(&f, &agent, &next, "succeeded", Value::Null).await;
    assert_eq!(get_run(&f, &p, &id).await["state"], "succeeded");
});
