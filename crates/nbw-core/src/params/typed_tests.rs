use super::*;

fn int(n: i64) -> ParamValue {
    ParamValue::from(n)
}

fn typed(name: &str, type_name: &str, default: &str, rule: ParameterRule) -> TypedParameter {
    TypedParameter::declared(name, type_name, default, "", Some(&rule))
}

fn params(entries: &[(&str, ParamValue)]) -> Parameters {
    entries.iter().map(|(k, v)| (*k, v.clone())).collect()
}

#[test]
fn a_value_of_the_wrong_type_names_parameter_expected_and_received() {
    let n = typed("n", "int", "3", ParameterRule::default());
    let error = n.check(&ParamValue::from("three")).unwrap_err();
    assert_eq!(error.code(), "parameter_type");
    assert_eq!(error.parameter(), "n");
    assert_eq!(error.to_string(), "parameter \"n\" expects int, received \"three\" (str)");
    assert!(n.check(&int(4)).is_ok());
    // A float parameter takes a whole number; an int parameter does not take a float.
    assert!(typed("x", "float", "0.5", ParameterRule::default()).check(&int(1)).is_ok());
    assert!(n.check(&ParamValue::Float(1.5)).is_err());
}

#[test]
fn a_none_default_accepts_anything_unless_the_rule_types_it() {
    let any = typed("x", "NoneType", "None", ParameterRule::default());
    assert!(any.check(&ParamValue::from("a")).is_ok());
    let rule = ParameterRule { type_: Some(ParamType::Int), ..Default::default() };
    let narrowed = typed("x", "NoneType", "None", rule);
    assert!(narrowed.check(&ParamValue::None).is_ok());
    assert_eq!(narrowed.check(&ParamValue::from("a")).unwrap_err().code(), "parameter_type");
}

#[test]
fn choices_bounds_and_patterns_refine_the_type() {
    let mode = typed(
        "mode",
        "str",
        "'fast'",
        ParameterRule { choices: vec!["fast".into(), "slow".into()], ..Default::default() },
    );
    assert!(mode.check(&"slow".into()).is_ok());
    let error = mode.check(&"medium".into()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "parameter \"mode\" expects one of \"fast\", \"slow\", received \"medium\""
    );
    let days =
        typed("days", "int", "7", ParameterRule { min: Some(1.0), max: Some(30.0), ..Default::default() });
    assert!(days.check(&int(30)).is_ok());
    assert_eq!(
        days.check(&int(0)).unwrap_err().to_string(),
        "parameter \"days\" expects a number >= 1, received 0"
    );
    assert_eq!(days.check(&int(31)).unwrap_err().code(), "parameter_range");
    let code = typed(
        "code",
        "str",
        "'AB'",
        ParameterRule { pattern: Some("[A-Z]{2}".into()), ..Default::default() },
    );
    assert!(code.check(&"FR".into()).is_ok());
    // The pattern matches the whole value, not a part of it.
    assert_eq!(code.check(&"FRA".into()).unwrap_err().code(), "parameter_pattern");
}

#[test]
fn unknown_names_are_refused_with_the_known_ones_and_required_ones_must_be_given() {
    let typed_list = typed_parameters(
        [typed("n", "int", "3", ParameterRule::default())],
        &[("region".to_owned(), ParameterRule { required: true, ..Default::default() })].into(),
    );
    let sent = params(&[("m", int(1))]);
    let error = check_run(&typed_list, &["extra"], &sent, &sent).unwrap_err();
    assert_eq!(error.code(), "unknown_parameter");
    assert_eq!(error.to_string(), "unknown parameter \"m\": the notebook's parameters are n, region, extra");
    let sent = params(&[("n", int(1))]);
    assert_eq!(check_run(&typed_list, &[], &sent, &sent).unwrap_err().code(), "missing_parameter");
    let merged = params(&[("n", int(1)), ("region", "eu".into())]);
    assert!(check_run(&typed_list, &[], &sent, &merged).is_ok());
    // Nothing typed: any name goes (papermill injects into any notebook).
    assert!(check_run(&[], &[], &params(&[("m", int(1))]), &params(&[("m", int(1))])).is_ok());
}

#[test]
fn a_rule_is_checked_on_its_own() {
    let swapped = ParameterRule { min: Some(5.0), max: Some(1.0), ..Default::default() };
    assert!(swapped.validate().unwrap_err().contains("larger than max"));
    let bad = ParameterRule { pattern: Some("(".into()), ..Default::default() };
    assert!(bad.validate().unwrap_err().contains("not a regular expression"));
    let mismatched =
        ParameterRule { type_: Some(ParamType::Int), choices: vec!["a".into()], ..Default::default() };
    assert_eq!(mismatched.validate().unwrap_err(), "choice \"a\" is not of type int");
    let bounded_text = ParameterRule { type_: Some(ParamType::Str), min: Some(1.0), ..Default::default() };
    assert!(bounded_text.validate().is_err());
    assert!(ParameterRule::default().validate().is_ok());
}

#[test]
fn declared_type_names_map_to_types() {
    assert_eq!(ParamType::from_declared("tuple"), ParamType::List);
    assert_eq!(ParamType::from_declared("NoneType"), ParamType::Any);
    assert_eq!(ParamType::from_declared("complex"), ParamType::Any);
    assert_eq!(ParamType::from_declared("dict"), ParamType::Dict);
}
