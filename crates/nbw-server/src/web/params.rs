//! The "Run now" form: one typed input per parameter the notebook's parameters cell declares
//! (a number, a checkbox, a text, or a JSON textarea for lists and dicts), prefilled with the
//! workflow's value or the notebook's default; and the server-side check of what comes back,
//! which names the field of each mistake so the form can be shown again with the user's values.

use nbw_core::params::{ParamValue, Parameters, TypedParameter, infer_cli_value};
use nbw_engine::ParameterSpec;

use super::session::Fields;

/// The input a parameter gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A whole number.
    Integer,
    /// A number.
    Float,
    /// True or false.
    Checkbox,
    /// A string, as typed.
    Text,
    /// A list, as JSON.
    List,
    /// A dict, as JSON.
    Dict,
    /// Any literal, read as `nbw run -p` reads it.
    Literal,
}

/// One parameter's field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Parameter name (the input's name is `p.<name>`).
    pub name: String,
    /// The type, as the notebook declares or implies it.
    pub type_name: String,
    /// The input.
    pub input: Input,
    /// The text shown in the input.
    pub value: String,
    /// For checkboxes.
    pub checked: bool,
    /// The comment after the default.
    pub help: String,
    /// What is wrong with the value sent.
    pub error: Option<String>,
}

impl Field {
    /// The HTML input name.
    pub fn input_name(&self) -> String {
        format!("p.{}", self.name)
    }

    /// `number`, `checkbox`, `text`, `json` or `literal` (a `data-input` marker).
    pub fn kind(&self) -> &'static str {
        match self.input {
            Input::Integer | Input::Float => "number",
            Input::Checkbox => "checkbox",
            Input::Text => "text",
            Input::List | Input::Dict => "json",
            Input::Literal => "literal",
        }
    }

    /// The `step` of a number input.
    pub fn step(&self) -> &'static str {
        if self.input == Input::Integer { "1" } else { "any" }
    }
}

fn input_for(type_name: &str) -> Input {
    match type_name {
        "int" => Input::Integer,
        "float" => Input::Float,
        "bool" => Input::Checkbox,
        "str" => Input::Text,
        "list" | "tuple" | "set" => Input::List,
        "dict" => Input::Dict,
        _ => Input::Literal,
    }
}

/// A Python literal default as the text of its input: strings unquoted, lists and dicts as
/// JSON when they convert.
fn default_text(input: Input, source: &str) -> String {
    let source = source.trim();
    match input {
        Input::Text => {
            let quoted = source.len() >= 2
                && ((source.starts_with('"') && source.ends_with('"'))
                    || (source.starts_with('\'') && source.ends_with('\'')));
            if quoted { source[1..source.len() - 1].to_owned() } else { source.to_owned() }
        }
        Input::List | Input::Dict => {
            let json = source
                .replace('\'', "\"")
                .replace("True", "true")
                .replace("False", "false")
                .replace("None", "null");
            let json = json.replace('(', "[").replace(')', "]");
            if serde_json::from_str::<serde_json::Value>(&json).is_ok() { json } else { source.to_owned() }
        }
        _ => source.to_owned(),
    }
}

/// A value as the text of its input.
fn value_text(value: &ParamValue) -> String {
    match value {
        ParamValue::None => String::new(),
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Int(digits) => digits.clone(),
        ParamValue::Float(f) => f.to_string(),
        ParamValue::Str(s) => s.clone(),
        list_or_dict => serde_json::to_string(list_or_dict).unwrap_or_default(),
    }
}

/// The fields of the form: the declared parameters (the workflow's own values win over the
/// notebook's defaults), then any the workflow sets that the notebook does not declare.
pub fn fields(declared: &[ParameterSpec], workflow: &Parameters) -> Vec<Field> {
    let mut fields: Vec<Field> = declared
        .iter()
        .map(|spec| {
            let input = input_for(&spec.type_name);
            let value =
                workflow.get(&spec.name).map_or_else(|| default_text(input, &spec.default), value_text);
            Field {
                name: spec.name.clone(),
                type_name: spec.type_name.clone(),
                input,
                checked: input == Input::Checkbox && matches!(value.as_str(), "True" | "true"),
                value,
                help: spec.help.clone(),
                error: None,
            }
        })
        .collect();
    for (name, value) in workflow.iter() {
        if !fields.iter().any(|f| f.name == name) {
            fields.push(Field {
                name: name.to_owned(),
                type_name: "set by the workflow".to_owned(),
                input: Input::Literal,
                checked: false,
                value: value_text(value),
                help: String::new(),
                error: None,
            });
        }
    }
    fields
}

/// Reads one field's text as its type; the error says what to type instead.
fn parse(input: Input, text: &str) -> Result<ParamValue, String> {
    let trimmed = text.trim();
    match input {
        Input::Integer => match infer_cli_value(trimmed) {
            value @ ParamValue::Int(_) => Ok(value),
            _ => Err(format!("{trimmed:?} is not a whole number (e.g. 42 or -7)")),
        },
        Input::Float => match infer_cli_value(trimmed) {
            ParamValue::Int(digits) => {
                digits.parse::<f64>().map(ParamValue::Float).map_err(|e| e.to_string())
            }
            value @ ParamValue::Float(_) => Ok(value),
            _ => Err(format!("{trimmed:?} is not a number (e.g. 0.5 or 3)")),
        },
        Input::Checkbox => Ok(ParamValue::Bool(matches!(trimmed, "true" | "on"))),
        Input::Text => Ok(ParamValue::Str(text.to_owned())),
        Input::List | Input::Dict => {
            let value: ParamValue =
                serde_json::from_str(trimmed).map_err(|e| format!("not valid JSON: {e}"))?;
            match (input, &value) {
                (Input::List, ParamValue::List(_)) | (Input::Dict, ParamValue::Dict(_)) => Ok(value),
                (Input::List, _) => Err("must be a JSON list, e.g. [1, 2, \"a\"]".to_owned()),
                _ => Err("must be a JSON object, e.g. {\"key\": 1}".to_owned()),
            }
        }
        Input::Literal => Ok(if trimmed.is_empty() { ParamValue::None } else { infer_cli_value(trimmed) }),
    }
}

/// Reads the submitted form into `fields` (keeping what the user typed) and returns the
/// parameters, or `None` when a field has an error (each erring field says why).
pub fn read(fields: &mut [Field], form: &Fields) -> Option<Parameters> {
    let mut parameters = Parameters::new();
    for field in fields.iter_mut() {
        let sent = form.get(&field.input_name());
        let text = match field.input {
            Input::Checkbox => sent.unwrap_or("false"),
            _ => sent.unwrap_or_default(),
        };
        field.value = text.to_owned();
        field.checked = field.input == Input::Checkbox && matches!(text, "true" | "on");
        field.error = None;
        // The input's own parse, then the rule every door applies (the API's check too).
        let typed = TypedParameter::declared(&field.name, &field.type_name, "", "", None);
        let checked = parse(field.input, text)
            .and_then(|value| typed.check(&value).map(|()| value).map_err(|e| e.to_string()));
        match checked {
            Ok(value) => {
                parameters.insert(field.name.clone(), value);
            }
            Err(message) => field.error = Some(message),
        }
    }
    fields.iter().all(|f| f.error.is_none()).then_some(parameters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, type_name: &str, default: &str) -> ParameterSpec {
        ParameterSpec {
            name: name.into(),
            type_name: type_name.into(),
            default: default.into(),
            help: String::new(),
        }
    }

    #[test]
    fn defaults_fill_typed_inputs() {
        let declared = [
            spec("n", "int", "3"),
            spec("name", "str", "'world'"),
            spec("on", "bool", "True"),
            spec("xs", "list", "['a', 1]"),
        ];
        let fields = fields(&declared, &Parameters::new());
        assert_eq!(fields[0].kind(), "number");
        assert_eq!(fields[1].value, "world");
        assert!(fields[2].checked);
        assert_eq!(fields[3].value, "[\"a\", 1]");
    }

    #[test]
    fn a_bad_value_names_its_field_and_keeps_the_input() {
        let declared = [spec("n", "int", "3"), spec("xs", "dict", "{}")];
        let mut fields = fields(&declared, &Parameters::new());
        let form = Fields(vec![("p.n".into(), "three".into()), ("p.xs".into(), "{\"a\": 1}".into())]);
        assert!(read(&mut fields, &form).is_none());
        assert_eq!(fields[0].value, "three");
        assert!(fields[0].error.as_deref().unwrap().contains("not a whole number"));
        assert!(fields[1].error.is_none());
        let form = Fields(vec![("p.n".into(), "4".into()), ("p.xs".into(), "{\"a\": 1}".into())]);
        let parameters = read(&mut fields, &form).unwrap();
        assert_eq!(parameters.get("n"), Some(&ParamValue::Int("4".into())));
    }
}
