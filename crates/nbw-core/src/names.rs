//! The name rules: which names a project, a workflow, a runtime and a secret may have, and which
//! labels a bundle version may carry.
//!
//! Each rule has one function here, called by the project file's checks, the server's API and
//! the CLI alike, so a name one of them accepts is accepted by all. The error says what the
//! rule allows.
//!
//! ```
//! use nbw_core::names::{check_bundle_version, check_project_name};
//!
//! assert!(check_project_name("sales-2").is_ok());
//! assert!(check_project_name("Sales").is_err());
//! assert!(check_bundle_version("v1.2+build.3").is_ok());
//! ```

/// A name that breaks its rule; the message names it and says what the rule allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// A project name.
    #[error(
        "project name {0:?} is not valid: use 1 to 64 lower-case letters, digits, '_' or '-', starting with a letter or digit"
    )]
    Project(String),
    /// A workflow name.
    #[error("workflow name {0:?} is not valid: use 1 to 64 of letters, digits, '_', '.', '-'")]
    Workflow(String),
    /// A runtime name.
    #[error("runtime name {0:?} is not valid: use 1 to 64 of letters, digits, '_', '.', '-'")]
    Runtime(String),
    /// A secret (environment variable) name.
    #[error(
        "secret name {0:?} is not an environment variable name: use letters, digits and '_', not starting with a digit"
    )]
    Secret(String),
    /// A bundle version label.
    #[error("bundle version {0:?} is not valid: use 1 to 128 of letters, digits, '.', '_', '+', '-'")]
    BundleVersion(String),
}

/// Checks a project name: 1 to 64 of `a-z0-9_-`, starting with a letter or digit (it is a
/// path segment of every project route and of the runtime images' names).
pub fn check_project_name(name: &str) -> Result<(), NameError> {
    let ok = within(name, 64, |b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric();
    ok.then_some(()).ok_or_else(|| NameError::Project(name.to_owned()))
}

/// Checks a workflow name: 1 to 64 of `A-Za-z0-9_.-`.
pub fn check_workflow_name(name: &str) -> Result<(), NameError> {
    workflow_alphabet(name).then_some(()).ok_or_else(|| NameError::Workflow(name.to_owned()))
}

/// Checks a runtime name: the workflow names' rule (1 to 64 of `A-Za-z0-9_.-`), which
/// `nbw.yaml` gives the keys of `runtimes` as it does those of `workflows`.
pub fn check_runtime_name(name: &str) -> Result<(), NameError> {
    workflow_alphabet(name).then_some(()).ok_or_else(|| NameError::Runtime(name.to_owned()))
}

/// Checks a secret name, which is an environment variable name (secrets reach a run as its
/// environment): `[A-Za-z_][A-Za-z0-9_]{0,127}`.
pub fn check_secret_name(name: &str) -> Result<(), NameError> {
    let ok =
        within(name, 128, |b| b.is_ascii_alphanumeric() || b == b'_') && !name.as_bytes()[0].is_ascii_digit();
    ok.then_some(()).ok_or_else(|| NameError::Secret(name.to_owned()))
}

/// Checks a bundle version label: 1 to 128 of `A-Za-z0-9._+-` (what `git describe` prints).
pub fn check_bundle_version(version: &str) -> Result<(), NameError> {
    within(version, 128, |b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
        .then_some(())
        .ok_or_else(|| NameError::BundleVersion(version.to_owned()))
}

/// Makes a valid project name out of any text (a folder name, an old project name).
pub fn project_name_from(text: &str) -> String {
    let mut name: String = text
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' })
        .collect();
    name = name.trim_matches(|c| c == '-' || c == '_').to_owned();
    name.truncate(64);
    if name.is_empty() { "project".to_owned() } else { name }
}

/// Makes a valid workflow name out of any text.
pub fn workflow_name_from(text: &str) -> String {
    let mut name: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '-' }).collect();
    name.truncate(64);
    if name.is_empty() { "workflow".to_owned() } else { name }
}

/// The alphabet workflow and runtime names share.
fn workflow_alphabet(name: &str) -> bool {
    within(name, 64, |b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// 1 to `max` bytes, each `allowed`.
fn within(name: &str, max: usize, allowed: impl Fn(u8) -> bool) -> bool {
    !name.is_empty() && name.len() <= max && name.bytes().all(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_valid() {
        assert_eq!(project_name_from("My Project!"), "my-project");
        assert_eq!(project_name_from("__"), "project");
        assert_eq!(workflow_name_from("a b/c"), "a-b-c");
        assert!(check_project_name("sales-2").is_ok());
    }

    #[test]
    fn each_rule_says_what_it_allows() {
        assert!(check_project_name("-x").is_err());
        assert!(check_workflow_name("a.b_c-1").is_ok());
        assert!(check_runtime_name(&"x".repeat(65)).is_err());
        assert!(check_secret_name("_KEY1").is_ok());
        assert!(check_secret_name("1KEY").is_err());
        assert!(check_bundle_version("").is_err());
        assert_eq!(
            check_runtime_name("a b").unwrap_err().to_string(),
            "runtime name \"a b\" is not valid: use 1 to 64 of letters, digits, '_', '.', '-'"
        );
    }
}
