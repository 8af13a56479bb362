//! The name of a runtime's image, `nbw/<project>/<runtime>:<version>`, made once here because a
//! server-side build and the CLI's local build must tag the same runtime version alike.
//!
//! Project and runtime names allow characters Docker refuses in a repository path (capitals,
//! a leading or doubled separator), and bundle versions allow `+`; the tag keeps the names
//! readable and bends only what Docker would refuse.

/// The tag of version `version` of runtime `runtime` in project `project`.
///
/// Each path component is lower-cased and reduced to Docker's
/// `[a-z0-9]+(?:[._-][a-z0-9]+)*`; the version becomes a valid tag
/// (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`) by replacing other characters with `-` (an empty
/// version, which no bundle has, gives `latest`).
///
/// ```
/// use nbw_core::image::runtime_image_tag;
/// assert_eq!(runtime_image_tag("sales", "GPU", "1.2+build.3"), "nbw/sales/gpu:1.2-build.3");
/// ```
pub fn runtime_image_tag(project: &str, runtime: &str, version: &str) -> String {
    format!("nbw/{}/{}:{}", path_component(project), path_component(runtime), tag(version))
}

/// `text` as a repository path component: lower case, runs of separators (and of anything
/// Docker does not allow) collapsed to their first separator, none at either end.
fn path_component(text: &str) -> String {
    let mut component = String::with_capacity(text.len());
    let mut separator: Option<char> = None;
    for c in text.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if let Some(sep) = separator.take().filter(|_| !component.is_empty()) {
                component.push(sep);
            }
            component.push(c);
        } else if separator.is_none() {
            separator = Some(if matches!(c, '.' | '_' | '-') { c } else { '-' });
        }
    }
    // A name of separators only (`_`, `-.-`) still needs a component.
    if component.is_empty() { "x".to_owned() } else { component }
}

/// `version` as a Docker tag: other characters become `-`, a leading `.` or `-` (not allowed
/// first) becomes `_`, at most 128 characters.
fn tag(version: &str) -> String {
    let mut tag: String = version
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '-' })
        .take(128)
        .collect();
    match tag.chars().next() {
        None => "latest".to_owned(),
        Some('.' | '-') => {
            tag.replace_range(..1, "_");
            tag
        }
        Some(_) => tag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_component(text: &str) -> bool {
        !text.is_empty()
            && text.split(['.', '_', '-']).all(|part| {
                !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
    }

    fn valid_tag(text: &str) -> bool {
        let mut bytes = text.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
            && bytes.all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            && text.len() <= 128
    }

    #[test]
    fn plain_names_are_kept() {
        assert_eq!(runtime_image_tag("sales", "default", "v3"), "nbw/sales/default:v3");
        assert_eq!(
            runtime_image_tag("ml-team", "py3.12", "2024.06.01-rc_1"),
            "nbw/ml-team/py3.12:2024.06.01-rc_1"
        );
    }

    #[test]
    fn names_docker_refuses_are_bent_into_valid_ones() {
        assert_eq!(path_component("GPU"), "gpu");
        assert_eq!(path_component("_private"), "private");
        assert_eq!(path_component("a..b__c-_d-"), "a.b_c-d");
        assert_eq!(path_component("__"), "x");
        for name in ["GPU", "_x_", "a..b", "-", "Ä-b", "x.-_y"] {
            assert!(valid_component(&path_component(name)), "{name} -> {}", path_component(name));
        }
    }

    #[test]
    fn versions_become_valid_tags() {
        assert_eq!(tag("1.0+git.abc"), "1.0-git.abc");
        assert_eq!(tag(".hidden"), "_hidden");
        assert_eq!(tag("-x"), "_x");
        assert_eq!(tag(""), "latest");
        assert_eq!(tag(&"v".repeat(300)).len(), 128);
        for version in ["1.0+git", ".x", "-", "a b/c", "é", &"9".repeat(200)] {
            assert!(valid_tag(&tag(version)), "{version} -> {}", tag(version));
        }
    }
}
