use serde_json::json;

use super::*;

fn maps() -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    let context = BTreeMap::from([("scheduled_date".to_owned(), json!("2026-12-04"))]);
    let results = BTreeMap::from([("clean".to_owned(), json!({"rows": 42, "path": "out.csv"}))]);
    (context, results)
}

#[test]
fn a_whole_value_reference_keeps_its_type() {
    let (context, results) = maps();
    assert_eq!(render("{{ steps.clean.result.rows }}", &context, &results), Ok(json!(42)));
    assert_eq!(render("{{scheduled_date}}", &context, &results), Ok(json!("2026-12-04")));
}

#[test]
fn references_inside_text_are_written_into_it() {
    let (context, results) = maps();
    let text =
        "day {{ scheduled_date }}: {{ steps.clean.result.rows }} rows in {{ steps.clean.result.path }}";
    assert_eq!(render(text, &context, &results), Ok(json!("day 2026-12-04: 42 rows in out.csv")));
}

#[test]
fn parameters_render_strings_and_pass_the_rest() {
    let (context, results) = maps();
    let params = BTreeMap::from([
        ("rows".to_owned(), json!("{{ steps.clean.result.rows }}")),
        ("region".to_owned(), json!("emea")),
        ("n".to_owned(), json!(3)),
    ]);
    let rendered = render_parameters(&params, &context, &results).unwrap();
    assert_eq!(rendered["rows"], json!(42));
    assert_eq!(rendered["region"], json!("emea"));
    assert_eq!(rendered["n"], json!(3));
}

#[test]
fn a_missing_result_names_the_step_and_key() {
    let (context, results) = maps();
    let err = render("{{ steps.clean.result.cols }}", &context, &results).unwrap_err();
    assert_eq!(err, TemplateError::MissingResult { step: "clean".into(), key: "cols".into() });
    assert!(err.to_string().contains("NBW_RESULT"));
    let err = render("{{ steps.extract.result.rows }}", &context, &results).unwrap_err();
    assert!(matches!(err, TemplateError::MissingResult { .. }));
}

#[test]
fn an_unknown_expression_lists_the_allowed_ones() {
    let err = references("{{ today }}").unwrap_err();
    assert!(err.to_string().contains("scheduled_date, scheduled_time, run_id, pipeline"), "{err}");
    assert!(references("{{ steps.clean.rows }}").is_err());
    assert!(references("{{ scheduled_date").is_err());
    assert_eq!(references("plain").unwrap(), vec![]);
}
