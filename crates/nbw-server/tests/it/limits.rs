//! Default timeouts and queue limits, on both backends: every execution records its effective
//! timeout (the run's or workflow's, else the server's default, capped by the server's
//! maximum), a request above the maximum is refused, and a run queued past its `max_queue` is
//! never claimed and ends `expired` at the scheduler's tick.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::assert_error;
use crate::web_support::Team;

const REPORT: &str = "/v1/projects/sales/workflows/report";

/// The recorded timeout column of execution `id`.
async fn recorded_timeout(team: &Team, id: &str) -> Option<i64> {
    nbw_server::store::executions::get(&team.server.state.db, id).await.unwrap().unwrap().timeout_secs
}

both_backends!(every_run_records_its_effective_timeout, |backend| async move {
    let team = Team::with(backend, |c| {
        c.default_timeout_secs = 5;
        c.max_timeout_secs = Some(60);
    })
    .await;
    let (_, workflow) = team.server.get(REPORT, &team.owner_token).await;
    assert_eq!(workflow["effective_timeout_secs"], 5, "{workflow}");
    let id = team.run_report().await;
    let (_, execution) = team.server.get(&format!("/v1/executions/{id}"), &team.owner_token).await;
    assert_eq!(execution["spec"]["timeout_secs"], 5, "{execution}");
    assert_eq!(recorded_timeout(&team, &id).await, Some(5));

    // The workflow's own wins; above the server's maximum it is refused.
    let own = json!({"name": "report", "notebook": "report.ipynb", "timeout_secs": 30});
    team.api("PUT", REPORT, own).await;
    let id = team.run_report().await;
    assert_eq!(recorded_timeout(&team, &id).await, Some(30));
    let above = json!({"name": "report", "notebook": "report.ipynb", "timeout_secs": 61});
    let refused = team.server.put(REPORT, &team.owner_token, above).await;
    assert_error(refused.clone(), StatusCode::UNPROCESSABLE_ENTITY, "timeout_above_maximum");
    assert!(
        refused.1["error"]["message"].as_str().unwrap().contains("61s is above this server's maximum of 60s")
    );
    let ad_hoc = json!({"notebook": "report.ipynb", "timeout_secs": 3600});
    let refused = team.server.post("/v1/projects/sales/executions", &team.owner_token, ad_hoc).await;
    assert_error(refused, StatusCode::UNPROCESSABLE_ENTITY, "timeout_above_maximum");
    assert_eq!(team.execution_count().await, 2);
});

both_backends!(a_run_queued_past_its_max_queue_is_never_claimed_and_expires, |backend| async move {
    let team = Team::with(backend, |c| c.max_queue_secs = Some(3600)).await;
    let quick = json!({"name": "report", "notebook": "report.ipynb", "max_queue_secs": 1});
    team.api("PUT", REPORT, quick).await;
    let (_, workflow) = team.server.get(REPORT, &team.owner_token).await;
    assert_eq!(workflow["effective_max_queue_secs"], 1, "{workflow}");
    let id = team.run_report().await;
    let (_, execution) = team.server.get(&format!("/v1/executions/{id}"), &team.owner_token).await;
    assert_eq!(execution["spec"]["max_queue_secs"], 1, "{execution}");
    assert!(execution["queue_deadline"].is_string(), "{execution}");

    // Past the deadline, before any tick: no agent can take it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (_, agent) =
        team.server.post("/v1/agents", &team.admin_token, json!({"name": "late", "labels": {}})).await;
    let token = agent["token"].as_str().unwrap();
    let (status, claim) = team.server.post("/v1/agent/claim", token, json!({"wait_secs": 0})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(claim["claim"].is_null(), "an expired run was claimed: {claim}");

    let report = nbw_server::scheduler::tick(&team.server.state, Utc::now()).await.unwrap();
    assert_eq!(report.expired, 1, "{report:?}");
    let (_, execution) = team.server.get(&format!("/v1/executions/{id}"), &team.owner_token).await;
    assert_eq!(execution["state"], "expired", "{execution}");
    let message = execution["result"]["message"].as_str().unwrap();
    assert!(message.contains("longer than its max_queue of 1s"), "{message}");
    assert!(execution["finished_at"].is_string());
    // Once is enough; the history filter knows the state.
    assert_eq!(nbw_server::scheduler::tick(&team.server.state, Utc::now()).await.unwrap().expired, 0);
    let (_, page) = team.server.get("/v1/projects/sales/executions?state=expired", &team.owner_token).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");

    // The server's default applies to a workflow that sets none, and a run in time is claimed.
    team.api("PUT", REPORT, json!({"name": "report", "notebook": "report.ipynb"})).await;
    let id = team.run_report().await;
    let (_, claim) = team.server.post("/v1/agent/claim", token, json!({"wait_secs": 0})).await;
    assert_eq!(claim["claim"]["execution"]["id"], id.as_str(), "{claim}");
    assert_eq!(claim["claim"]["execution"]["spec"]["max_queue_secs"], 3600);
});

both_backends!(a_retry_keeps_its_timeout_and_its_wait_in_the_queue, |backend| async move {
    let team = Team::with(backend, |c| c.default_timeout_secs = 40).await;
    let workflow = json!({"name": "report", "notebook": "report.ipynb", "max_queue_secs": 90,
        "retries": {"max_retries": 1, "backoff_secs": 5}});
    team.api("PUT", REPORT, workflow).await;
    let id = team.run_report().await;
    let (_, agent) =
        team.server.post("/v1/agents", &team.admin_token, json!({"name": "a", "labels": {}})).await;
    let token = agent["token"].as_str().unwrap();
    let (_, claim) = team.server.post("/v1/agent/claim", token, json!({"wait_secs": 0})).await;
    assert_eq!(claim["claim"]["execution"]["id"], id.as_str(), "{claim}");
    let path = format!("/v1/agent/executions/{id}/complete");
    let (status, body) = team.server.post(&path, token, json!({"result": {"state": "failed"}})).await;
    assert!(status.is_success(), "{status} {body}");
    let sql = "SELECT * FROM executions WHERE previous_attempt_id = $1";
    let retry: nbw_server::store::executions::ExecutionRow = nbw_server::on_db!(&team.server.state.db,
        pool => sqlx::query_as(sql).bind(&id).fetch_one(pool).await)
    .unwrap();
    assert_eq!(retry.timeout_secs, Some(40));
    // Its 90 s count from when its backoff ends, not from the first attempt's creation.
    assert_eq!(retry.queue_deadline, Some(retry.not_before + 90_000));
});
