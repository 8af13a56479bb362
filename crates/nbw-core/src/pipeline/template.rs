//! `{{ ... }}` references in a step's parameters: parsed for validation, rendered before the
//! step's kernel starts.
//!
//! A small parser rather than minijinja: a parameter whose whole value is one reference keeps the
//! referenced value's JSON type (a number stays a number), which a text template cannot do, and a
//! missing result must name the step and the key, not a template line.

use std::collections::BTreeMap;

use serde_json::Value;

/// The context variables a parameter may reference, besides `steps.NAME.result.KEY`.
pub const CONTEXT_VARIABLES: &[&str] = &["scheduled_date", "scheduled_time", "run_id", "pipeline"];

/// One `{{ ... }}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A context variable, one of [`CONTEXT_VARIABLES`].
    Context(String),
    /// `steps.STEP.result.KEY`: a key of an upstream step's result object.
    Result {
        /// The step.
        step: String,
        /// The key of its result.
        key: String,
    },
}

/// Why a parameter cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{` without `}}`, or an expression that is neither a context variable nor a result.
    #[error("`{text}` is not a reference: use `{{{{ steps.STEP.result.KEY }}}}` or one of {allowed}")]
    Syntax {
        /// The text inside the braces.
        text: String,
        /// The context variables allowed, for the message.
        allowed: String,
    },
    /// A context variable the run does not provide.
    #[error("the run has no value for `{0}`")]
    MissingContext(String),
    /// The step wrote no result, or its result is not a JSON object, or lacks the key.
    #[error(
        "step `{step}` has no result `{key}`: it must write a JSON object with `{key}` to the file named by NBW_RESULT"
    )]
    MissingResult {
        /// The upstream step.
        step: String,
        /// The key.
        key: String,
    },
}

/// The references of one string, in order.
pub fn references(text: &str) -> Result<Vec<Reference>, TemplateError> {
    pieces(text).map(|p| p.into_iter().filter_map(Result::err).collect())
}

/// A string cut into literal text (`Ok`) and references (`Err`, to keep one enum).
fn pieces(text: &str) -> Result<Vec<Result<String, Reference>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            out.push(Ok(rest[..open].to_owned()));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| syntax(after))?;
        out.push(Err(parse_reference(after[..close].trim())?));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        out.push(Ok(rest.to_owned()));
    }
    Ok(out)
}

fn parse_reference(expr: &str) -> Result<Reference, TemplateError> {
    if CONTEXT_VARIABLES.contains(&expr) {
        return Ok(Reference::Context(expr.to_owned()));
    }
    match expr.split('.').collect::<Vec<_>>().as_slice() {
        ["steps", step, "result", key] if !step.is_empty() && !key.is_empty() => {
            Ok(Reference::Result { step: (*step).to_owned(), key: (*key).to_owned() })
        }
        _ => Err(syntax(expr)),
    }
}

fn syntax(text: &str) -> TemplateError {
    TemplateError::Syntax { text: text.to_owned(), allowed: CONTEXT_VARIABLES.join(", ") }
}

/// Renders every parameter: strings are rendered, other values pass as they are.
pub fn render_parameters(
    parameters: &BTreeMap<String, Value>,
    context: &BTreeMap<String, Value>,
    results: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, Value>, TemplateError> {
    parameters
        .iter()
        .map(|(name, value)| {
            let rendered = match value {
                Value::String(text) => render(text, context, results)?,
                other => other.clone(),
            };
            Ok((name.clone(), rendered))
        })
        .collect()
}

/// Renders one string. A string that is exactly one reference takes the referenced value with
/// its type; otherwise the references are written into the text (strings without quotes).
pub fn render(
    text: &str,
    context: &BTreeMap<String, Value>,
    results: &BTreeMap<String, Value>,
) -> Result<Value, TemplateError> {
    let pieces = pieces(text)?;
    if let [Err(reference)] = pieces.as_slice() {
        return lookup(reference, context, results).cloned();
    }
    let mut out = String::new();
    for piece in &pieces {
        match piece {
            Ok(literal) => out.push_str(literal),
            Err(reference) => match lookup(reference, context, results)? {
                Value::String(s) => out.push_str(s),
                other => out.push_str(&other.to_string()),
            },
        }
    }
    Ok(Value::String(out))
}

fn lookup<'a>(
    reference: &Reference,
    context: &'a BTreeMap<String, Value>,
    results: &'a BTreeMap<String, Value>,
) -> Result<&'a Value, TemplateError> {
    match reference {
        Reference::Context(name) => {
            context.get(name).ok_or_else(|| TemplateError::MissingContext(name.clone()))
        }
        Reference::Result { step, key } => results
            .get(step)
            .and_then(|result| result.get(key))
            .ok_or_else(|| TemplateError::MissingResult { step: step.clone(), key: key.clone() }),
    }
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
