//! The parameter flags of `nbw run`, `nbw exec` and `nbw wf run`: `-p NAME VALUE`,
//! `-r NAME VALUE` and `-y YAML`, declared once and merged into [`Parameters`] in one place.

use clap::Args;
use nbw_core::params::{ParamError, ParamValue, Parameters, infer_cli_value, parse_yaml};

/// Parameters given on the command line; a command takes them with `#[command(flatten)]`.
#[derive(Args, Debug, Clone, Default)]
pub struct ParamArgs {
    /// A parameter, with papermill's type inference (int, float, True/False, None, else string).
    #[arg(short = 'p', long = "parameter", num_args = 2, value_names = ["NAME", "VALUE"], allow_hyphen_values = true)]
    parameters: Vec<String>,
    /// A parameter passed as a string, without type inference.
    #[arg(short = 'r', long = "raw", num_args = 2, value_names = ["NAME", "VALUE"], allow_hyphen_values = true)]
    raw: Vec<String>,
    /// Parameters as a YAML mapping.
    #[arg(short = 'y', long = "parameters-yaml", value_name = "YAML")]
    yaml: Vec<String>,
}

/// A parameter flag that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ParamFlagError {
    /// A `-y` is not a YAML mapping of parameters.
    #[error("in -y: {0}")]
    Yaml(ParamError),
    /// `-p` or `-r` with an empty name.
    #[error("a parameter name is empty; use -p NAME VALUE")]
    EmptyName,
}

impl ParamArgs {
    /// `base` (e.g. what `nbw run -f` read) with these flags merged over it in papermill's
    /// order: YAML strings, then `-p`, then `-r`; a later value wins.
    pub fn merge_onto(&self, mut base: Parameters) -> Result<Parameters, ParamFlagError> {
        for yaml in &self.yaml {
            base.extend(parse_yaml(yaml).map_err(ParamFlagError::Yaml)?);
        }
        for pair in self.parameters.chunks(2) {
            base.insert(checked_name(&pair[0])?, infer_cli_value(&pair[1]));
        }
        for pair in self.raw.chunks(2) {
            base.insert(checked_name(&pair[0])?, ParamValue::Str(pair[1].clone()));
        }
        Ok(base)
    }
}

fn checked_name(name: &str) -> Result<&str, ParamFlagError> {
    if name.is_empty() { Err(ParamFlagError::EmptyName) } else { Ok(name) }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        params: ParamArgs,
    }

    fn merged(argv: &[&str]) -> Result<Parameters, ParamFlagError> {
        let flags = Flags::try_parse_from(std::iter::once("nbw").chain(argv.iter().copied())).unwrap();
        flags.params.merge_onto(Parameters::default())
    }

    #[test]
    fn yaml_then_inferred_then_raw_later_wins() {
        let params = merged(&["-r", "a", "1", "-p", "a", "2", "-y", "a: 3\nb: 4", "-p", "c", "-5"]).unwrap();
        assert_eq!(params.get("a"), Some(&ParamValue::Str("1".into())));
        assert_eq!(params.get("b"), Some(&ParamValue::Int("4".into())));
        assert_eq!(params.get("c"), Some(&ParamValue::Int("-5".into())));
    }

    #[test]
    fn flags_override_the_base() {
        let mut base = Parameters::default();
        base.insert("a", ParamValue::Bool(true));
        base.insert("b", ParamValue::None);
        let flags = Flags::try_parse_from(["nbw", "-p", "a", "False"]).unwrap();
        let params = flags.params.merge_onto(base).unwrap();
        assert_eq!(params.get("a"), Some(&ParamValue::Bool(false)));
        assert_eq!(params.get("b"), Some(&ParamValue::None));
    }

    #[test]
    fn empty_names_and_bad_yaml_are_refused() {
        assert!(matches!(merged(&["-p", "", "1"]), Err(ParamFlagError::EmptyName)));
        assert!(matches!(merged(&["-r", "", "1"]), Err(ParamFlagError::EmptyName)));
        let error = merged(&["-y", "[1, 2]"]).unwrap_err();
        assert!(error.to_string().starts_with("in -y: parameters YAML must be a mapping"), "{error}");
    }
}
