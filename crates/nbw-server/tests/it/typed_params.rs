//! Typed parameters through the API, on both backends: the notebook's parameters cell gives
//! the types, the workflow's `parameter_rules` refine them, `GET` lists them, and a run whose
//! values break them is refused with 422 before anything is queued.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::assert_error;
use crate::web_support::Team;

const REPORT: &str = "/v1/projects/sales/workflows/report";

/// The test workflow `report` with rules on the cell's `n` and `name`, and a `mode` only the
/// rules name.
fn ruled_report() -> Value {
    json!({"name": "report", "notebook": "report.ipynb", "parameter_rules": {
        "n": {"min": 1, "max": 10, "description": "rows to show"},
        "name": {"pattern": "[a-z]+"},
        "mode": {"type": "str", "choices": ["fast", "slow"], "required": true}
    }})
}

/// A run of `report` with `parameters`: its status and body.
async fn run(team: &Team, parameters: Value) -> (StatusCode, Value) {
    team.server.post(&format!("{REPORT}/run"), &team.owner_token, json!({"parameters": parameters})).await
}

both_backends!(the_workflow_lists_its_typed_parameters, |backend| async move {
    let team = Team::new(backend).await;
    team.api("PUT", REPORT, ruled_report()).await;
    let (status, workflow) = team.server.get(REPORT, &team.owner_token).await;
    assert_eq!(status, StatusCode::OK, "{workflow}");
    let listed: Vec<(&str, &str)> = workflow["typed_parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["type"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, [("n", "int"), ("name", "str"), ("flag", "bool"), ("xs", "list"), ("mode", "str")]);
    let n = &workflow["typed_parameters"][0];
    assert_eq!(n["default"], "3");
    assert_eq!(n["help"], "how many rows");
    assert_eq!(n["rule"], json!({"min": 1.0, "max": 10.0, "description": "rows to show"}));
    assert_eq!(workflow["typed_parameters"][4]["rule"]["choices"], json!(["fast", "slow"]));
    // Lists stay light: no bundle is read for them.
    let (_, list) = team.server.get("/v1/projects/sales/workflows", &team.owner_token).await;
    assert!(list[0].get("typed_parameters").is_none(), "{list}");
});

both_backends!(bad_values_are_refused_with_422_before_anything_is_queued, |backend| async move {
    let team = Team::new(backend).await;
    team.api("PUT", REPORT, ruled_report()).await;
    let refused = run(&team, json!({"n": "three", "mode": "fast"})).await;
    assert_error(refused.clone(), StatusCode::UNPROCESSABLE_ENTITY, "parameter_type");
    assert_eq!(refused.1["error"]["message"], "parameter \"n\" expects int, received \"three\" (str)");
    let unknown = run(&team, json!({"rows": 3, "mode": "fast"})).await;
    assert_error(unknown.clone(), StatusCode::UNPROCESSABLE_ENTITY, "unknown_parameter");
    assert_eq!(
        unknown.1["error"]["message"],
        "unknown parameter \"rows\": the notebook's parameters are n, name, flag, xs, mode"
    );
    assert_error(
        run(&team, json!({"n": 11, "mode": "fast"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "parameter_range",
    );
    assert_error(
        run(&team, json!({"name": "World", "mode": "fast"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "parameter_pattern",
    );
    assert_error(
        run(&team, json!({"mode": "medium"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "parameter_choice",
    );
    assert_error(run(&team, json!({"n": 2})).await, StatusCode::UNPROCESSABLE_ENTITY, "missing_parameter");
    // An ad-hoc run of the notebook: the cell's types hold (there are no rules).
    let ad_hoc = team
        .server
        .post(
            "/v1/projects/sales/executions",
            &team.owner_token,
            json!({"notebook": "report.ipynb", "parameters": {"flag": "yes"}}),
        )
        .await;
    assert_error(ad_hoc.clone(), StatusCode::UNPROCESSABLE_ENTITY, "parameter_type");
    assert!(ad_hoc.1["error"]["message"].as_str().unwrap().contains("\"flag\" expects bool"), "{}", ad_hoc.1);
    assert_eq!(team.execution_count().await, 0, "nothing was queued");

    // Right values go through; a float parameter would take an int, an int one takes an int.
    let (status, execution) = run(&team, json!({"n": 10, "name": "abc", "mode": "slow", "xs": []})).await;
    assert_eq!(status, StatusCode::CREATED, "{execution}");
    assert_eq!(execution["spec"]["parameters"], json!({"n": 10, "name": "abc", "mode": "slow", "xs": []}));
    assert_eq!(team.execution_count().await, 1);
});

both_backends!(a_bad_rule_is_refused_naming_workflow_and_parameter, |backend| async move {
    let team = Team::new(backend).await;
    let mut body = ruled_report();
    body["parameter_rules"]["n"] = json!({"min": 5, "max": 1});
    let refused = team.server.put(REPORT, &team.owner_token, body).await;
    assert_error(refused.clone(), StatusCode::UNPROCESSABLE_ENTITY, "invalid_parameter_rule");
    assert_eq!(
        refused.1["error"]["message"],
        "workflow \"report\", parameter \"n\": min (5) is larger than max (1)"
    );
    let unknown_field =
        json!({"name": "report", "notebook": "report.ipynb", "parameter_rules": {"n": {"minimum": 1}}});
    let (status, body) = team.server.put(REPORT, &team.owner_token, unknown_field).await;
    assert!(status.is_client_error(), "{status} {body}");
});
