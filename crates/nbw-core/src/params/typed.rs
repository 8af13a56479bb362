//! Typed parameters: the type a notebook's parameters cell gives each parameter, the
//! refinements `nbw.yaml` adds (`choices`, `min`/`max`, `required`, `pattern`), and the one
//! check of a run's values against them. The API, the CLI's run commands (through the API)
//! and the web form all refuse a value here, before anything is queued.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ParamValue, Parameters};

/// The type of a parameter, in Python's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    /// A whole number.
    Int,
    /// A number (a whole number is accepted too).
    Float,
    /// A string.
    Str,
    /// `True` or `False`.
    Bool,
    /// A list (a tuple or a set in the cell).
    List,
    /// A dict with string keys.
    Dict,
    /// Anything: the cell's default is `None` or an expression whose type cannot be read.
    Any,
}

impl ParamType {
    /// The type of a parameters cell's declared or inferred type name (see
    /// `nbw_engine::ParameterSpec::type_name`): Python's names, and R's, Julia's and bash's
    /// closest ones. `None` defaults (`NoneType`) and unknown types accept anything.
    pub fn from_declared(type_name: &str) -> ParamType {
        match type_name.trim() {
            "int" | "integer" | "Int64" | "Int" => ParamType::Int,
            "float" | "numeric" | "Float64" => ParamType::Float,
            "str" | "character" | "String" => ParamType::Str,
            "bool" | "logical" | "Bool" => ParamType::Bool,
            "list" | "tuple" | "set" | "frozenset" | "vector" | "Vector" | "array" | "Tuple" => {
                ParamType::List
            }
            "dict" | "Dict" => ParamType::Dict,
            _ => ParamType::Any,
        }
    }

    /// The type's name as messages and listings show it.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Str => "str",
            ParamType::Bool => "bool",
            ParamType::List => "list",
            ParamType::Dict => "dict",
            ParamType::Any => "any",
        }
    }

    /// Whether `value` is of this type.
    pub fn accepts(self, value: &ParamValue) -> bool {
        matches!(
            (self, value),
            (ParamType::Any, _)
                | (ParamType::Int, ParamValue::Int(_))
                | (ParamType::Float, ParamValue::Int(_) | ParamValue::Float(_))
                | (ParamType::Str, ParamValue::Str(_))
                | (ParamType::Bool, ParamValue::Bool(_))
                | (ParamType::List, ParamValue::List(_))
                | (ParamType::Dict, ParamValue::Dict(_))
        )
    }
}

/// The type of a value, as Python names it.
pub fn value_type(value: &ParamValue) -> &'static str {
    match value {
        ParamValue::None => "None",
        ParamValue::Bool(_) => "bool",
        ParamValue::Int(_) => "int",
        ParamValue::Float(_) => "float",
        ParamValue::Str(_) => "str",
        ParamValue::List(_) => "list",
        ParamValue::Dict(_) => "dict",
    }
}

/// A value as messages show it: JSON text, cut short.
fn shown(value: &ParamValue) -> String {
    let text = serde_json::to_string(value).unwrap_or_default();
    if text.chars().count() > 80 { format!("{}…", text.chars().take(80).collect::<String>()) } else { text }
}

/// What `nbw.yaml` adds to one parameter of a workflow, under `parameter_rules:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParameterRule {
    /// The type, when the cell's default does not say it (e.g. `x = None`), or to narrow it.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<ParamType>,
    /// The only values allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<serde_json::Value>")]
    #[schema(value_type = Vec<Object>)]
    pub choices: Vec<ParamValue>,
    /// The smallest number allowed (int and float parameters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The largest number allowed (int and float parameters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// A run must give a value (the workflow's own `parameters` count; the cell's default
    /// does not).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// What the parameter means, for people (shown by `nbw wf show` and the web form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A regular expression a string value must match as a whole (Rust's `regex` syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

/// The rules of a workflow's parameters, by name.
pub type ParameterRules = BTreeMap<String, ParameterRule>;

impl ParameterRule {
    /// Checks the rule on its own (a pattern that compiles, `min <= max`, bounds only on
    /// numbers, choices of the rule's type); the message says what to fix.
    pub fn validate(&self) -> Result<(), String> {
        if let (Some(min), Some(max)) = (self.min, self.max)
            && min > max
        {
            return Err(format!("min ({min}) is larger than max ({max})"));
        }
        let bounded = self.min.is_some() || self.max.is_some();
        if bounded && !matches!(self.type_, None | Some(ParamType::Int | ParamType::Float)) {
            return Err("min and max apply to int and float parameters only".into());
        }
        if let Some(pattern) = &self.pattern {
            regex::Regex::new(pattern)
                .map_err(|e| format!("pattern {pattern:?} is not a regular expression: {e}"))?;
        }
        if let Some(kind) = self.type_
            && let Some(choice) = self.choices.iter().find(|c| !kind.accepts(c))
        {
            return Err(format!("choice {} is not of type {}", shown(choice), kind.as_str()));
        }
        Ok(())
    }
}

/// One parameter of a workflow: what the notebook declares, refined by its rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TypedParameter {
    /// The variable name.
    pub name: String,
    /// The effective type: the rule's, else the cell's.
    #[serde(rename = "type")]
    pub type_: ParamType,
    /// The type the cell declares or implies, in the notebook language's words; absent when
    /// only `nbw.yaml` names the parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_type: Option<String>,
    /// The default's source text in the cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The comment after the default in the cell.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub help: String,
    /// The refinements of `nbw.yaml`.
    #[serde(default)]
    pub rule: ParameterRule,
}

impl TypedParameter {
    /// A parameter declared by the cell as `type_name` with the default `default`, refined by
    /// `rule`.
    pub fn declared(
        name: &str,
        type_name: &str,
        default: &str,
        help: &str,
        rule: Option<&ParameterRule>,
    ) -> Self {
        let rule = rule.cloned().unwrap_or_default();
        TypedParameter {
            name: name.to_owned(),
            type_: rule.type_.unwrap_or_else(|| ParamType::from_declared(type_name)),
            declared_type: Some(type_name.to_owned()),
            default: Some(default.to_owned()),
            help: help.to_owned(),
            rule,
        }
    }

    /// A parameter only `nbw.yaml` names (the cell does not declare it).
    pub fn ruled(name: &str, rule: &ParameterRule) -> Self {
        TypedParameter {
            name: name.to_owned(),
            type_: rule.type_.unwrap_or(ParamType::Any),
            declared_type: None,
            default: None,
            help: String::new(),
            rule: rule.clone(),
        }
    }

    /// Whether the cell's default is `None`: then `None` is a value the notebook expects.
    fn defaults_to_none(&self) -> bool {
        self.default.as_deref().is_some_and(|d| d.trim() == "None")
    }

    /// Checks one value of this parameter: its type, then the rule's choices, bounds and
    /// pattern. The one rule every door (API, CLI, web form) applies.
    pub fn check(&self, value: &ParamValue) -> Result<(), ParamCheckError> {
        let name = &self.name;
        if *value == ParamValue::None && (self.defaults_to_none() || self.type_ == ParamType::Any) {
            return Ok(());
        }
        if !self.type_.accepts(value) {
            return Err(ParamCheckError::Type {
                name: name.clone(),
                expected: self.type_.as_str().to_owned(),
                received: shown(value),
                received_type: value_type(value).to_owned(),
            });
        }
        if !self.rule.choices.is_empty() && !self.rule.choices.iter().any(|c| same(c, value)) {
            return Err(ParamCheckError::Choice {
                name: name.clone(),
                choices: self.rule.choices.iter().map(shown).collect::<Vec<_>>().join(", "),
                received: shown(value),
            });
        }
        self.check_bounds(value)?;
        if let (Some(pattern), ParamValue::Str(text)) = (&self.rule.pattern, value) {
            let whole = format!("^(?:{pattern})$");
            let matches = regex::Regex::new(&whole).map(|re| re.is_match(text)).unwrap_or(false);
            if !matches {
                return Err(ParamCheckError::Pattern {
                    name: name.clone(),
                    pattern: pattern.clone(),
                    received: shown(value),
                });
            }
        }
        Ok(())
    }

    fn check_bounds(&self, value: &ParamValue) -> Result<(), ParamCheckError> {
        if self.rule.min.is_none() && self.rule.max.is_none() {
            return Ok(());
        }
        let number = match value {
            ParamValue::Int(digits) => digits.parse::<f64>().ok(),
            ParamValue::Float(f) => Some(*f),
            _ => None,
        };
        let Some(number) = number else {
            return Err(ParamCheckError::Type {
                name: self.name.clone(),
                expected: "a number".into(),
                received: shown(value),
                received_type: value_type(value).to_owned(),
            });
        };
        let below =
            self.rule.min.filter(|min| number.is_nan() || number < *min).map(|min| format!(">= {min}"));
        let above =
            self.rule.max.filter(|max| number.is_nan() || number > *max).map(|max| format!("<= {max}"));
        match below.or(above) {
            Some(bound) => {
                Err(ParamCheckError::Range { name: self.name.clone(), bound, received: shown(value) })
            }
            None => Ok(()),
        }
    }
}

/// Equality of a choice and a value; a float choice matches an equal int value.
fn same(choice: &ParamValue, value: &ParamValue) -> bool {
    match (choice, value) {
        (ParamValue::Float(f), ParamValue::Int(digits)) | (ParamValue::Int(digits), ParamValue::Float(f)) => {
            digits.parse::<f64>().is_ok_and(|d| d == *f)
        }
        _ => choice == value,
    }
}

/// A run's parameters refused: which parameter, what was expected, what was received.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamCheckError {
    /// A name neither the cell nor `nbw.yaml` knows.
    #[error("unknown parameter {name:?}: the notebook's parameters are {known}")]
    Unknown {
        /// The name sent.
        name: String,
        /// The known names, comma-separated (or "none").
        known: String,
    },
    /// A required parameter without a value.
    #[error("parameter {name:?} is required: give it a value (e.g. `-p {name} VALUE`)")]
    Missing {
        /// The parameter.
        name: String,
    },
    /// A value of the wrong type.
    #[error("parameter {name:?} expects {expected}, received {received} ({received_type})")]
    Type {
        /// The parameter.
        name: String,
        /// The type expected.
        expected: String,
        /// The value received, as JSON.
        received: String,
        /// The received value's type.
        received_type: String,
    },
    /// A value outside `choices`.
    #[error("parameter {name:?} expects one of {choices}, received {received}")]
    Choice {
        /// The parameter.
        name: String,
        /// The choices, as JSON, comma-separated.
        choices: String,
        /// The value received.
        received: String,
    },
    /// A number outside `min`/`max`.
    #[error("parameter {name:?} expects a number {bound}, received {received}")]
    Range {
        /// The parameter.
        name: String,
        /// The bound broken, e.g. `>= 1`.
        bound: String,
        /// The value received.
        received: String,
    },
    /// A string not matching `pattern`.
    #[error("parameter {name:?} expects a string matching {pattern:?}, received {received}")]
    Pattern {
        /// The parameter.
        name: String,
        /// The pattern.
        pattern: String,
        /// The value received.
        received: String,
    },
}

impl ParamCheckError {
    /// The stable code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            ParamCheckError::Unknown { .. } => "unknown_parameter",
            ParamCheckError::Missing { .. } => "missing_parameter",
            ParamCheckError::Type { .. } => "parameter_type",
            ParamCheckError::Choice { .. } => "parameter_choice",
            ParamCheckError::Range { .. } => "parameter_range",
            ParamCheckError::Pattern { .. } => "parameter_pattern",
        }
    }

    /// The parameter it is about.
    pub fn parameter(&self) -> &str {
        match self {
            ParamCheckError::Unknown { name, .. }
            | ParamCheckError::Missing { name }
            | ParamCheckError::Type { name, .. }
            | ParamCheckError::Choice { name, .. }
            | ParamCheckError::Range { name, .. }
            | ParamCheckError::Pattern { name, .. } => name,
        }
    }
}

/// The typed parameters of a workflow: each one the cell declares, refined by its rule, then
/// the ones only `rules` names.
pub fn typed_parameters(
    declared: impl IntoIterator<Item = TypedParameter>,
    rules: &ParameterRules,
) -> Vec<TypedParameter> {
    let mut typed: Vec<TypedParameter> = declared.into_iter().collect();
    for (name, rule) in rules {
        if !typed.iter().any(|p| &p.name == name) {
            typed.push(TypedParameter::ruled(name, rule));
        }
    }
    typed
}

/// Checks a run's parameters before it is queued:
///
/// - every name of `sent` (what the caller asked for) must be a typed parameter or one of
///   `also_known` (the workflow's own values); when nothing is typed (no parameters cell, no
///   rules) any name goes, as papermill injects parameters into any notebook;
/// - every value of `merged` (the workflow's values with `sent` on top) must pass its
///   parameter's [`TypedParameter::check`];
/// - every required parameter must have a value in `merged`.
pub fn check_run(
    typed: &[TypedParameter],
    also_known: &[&str],
    sent: &Parameters,
    merged: &Parameters,
) -> Result<(), ParamCheckError> {
    if !typed.is_empty() {
        for (name, _) in sent.iter() {
            if !typed.iter().any(|p| p.name == name) && !also_known.contains(&name) {
                let mut known: Vec<&str> = typed.iter().map(|p| p.name.as_str()).collect();
                known.extend(also_known.iter().filter(|n| !typed.iter().any(|p| &p.name == *n)));
                return Err(ParamCheckError::Unknown { name: name.to_owned(), known: known.join(", ") });
            }
        }
    }
    for parameter in typed {
        match merged.get(&parameter.name) {
            Some(value) => parameter.check(value)?,
            None if parameter.rule.required => {
                return Err(ParamCheckError::Missing { name: parameter.name.clone() });
            }
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "typed_tests.rs"]
mod tests;
