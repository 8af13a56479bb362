//! Values from `nbw.yaml` made safe to print in a Dockerfile: names are checked against the
//! alphabet of what they name (a Debian package, an image, a user, a path), so they need no
//! quoting at all; free text (environment values, `run` commands) is quoted so that the
//! Dockerfile parser and the shell both give back exactly what was written. A newline in a
//! value would start a new Dockerfile instruction: that is what every check here prevents.

/// Why a value was refused; the caller says which field it came from.
pub(crate) type Refusal = String;

/// A Debian package as `apt-get install` takes it: `name`, `name:arch`, `name=version` or
/// `name/release` (Debian policy: a name is lowercase letters, digits, `+`, `-`, `.`, at least
/// two characters, starting with a letter or digit).
pub(crate) fn apt_package(package: &str) -> Result<&str, Refusal> {
    let (name, suffix) = match package.find([':', '=', '/']) {
        Some(at) => package.split_at(at),
        None => (package, ""),
    };
    let name_ok = name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b));
    let suffix_ok = match suffix.chars().next() {
        None => true,
        Some(':') => {
            suffix.len() > 1
                && suffix[1..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        }
        Some('=') => {
            suffix.len() > 1
                && suffix[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b".+~:-".contains(&b))
        }
        Some(_) => {
            suffix.len() > 1 && suffix[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b".-".contains(&b))
        }
    };
    if name_ok && suffix_ok {
        Ok(package)
    } else {
        Err(format!(
            "{package:?} is not a Debian package name (lowercase letters, digits, '+', '-', '.'; \
             optionally :arch, =version or /release)"
        ))
    }
}

/// An image reference (`python:3.12-slim`, `registry:5000/team/base@sha256:...`).
pub(crate) fn image(reference: &str) -> Result<&str, Refusal> {
    let ok = !reference.is_empty()
        && !reference.starts_with('-')
        && reference.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-:/@".contains(&b));
    if ok {
        Ok(reference)
    } else {
        Err(format!("{reference:?} is not an image reference, e.g. python:3.12-slim"))
    }
}

/// A user name as `useradd` accepts it by default.
pub(crate) fn user_name(name: &str) -> Result<&str, Refusal> {
    let ok = (1..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(&b));
    if ok {
        Ok(name)
    } else {
        Err(format!("{name:?} is not a user name (1 to 32 of a-z, 0-9, '_', '-', starting with a letter)"))
    }
}

/// An absolute path in the image, in a plain alphabet.
pub(crate) fn absolute_path(path: &str) -> Result<&str, Refusal> {
    if path.starts_with('/') && plain_path(path) {
        Ok(path)
    } else {
        Err(format!("{path:?} must be an absolute path of letters, digits, '.', '_', '-', '/'"))
    }
}

/// A path inside the project folder, in a plain alphabet (`COPY` would read `*`, `?`, `[` and
/// `$` as patterns and variables).
pub(crate) fn project_path(path: &str) -> Result<&str, Refusal> {
    if !path.starts_with('/') && !path.split('/').any(|part| part == "..") && plain_path(path) {
        Ok(path)
    } else {
        Err(format!("{path:?} must be a path inside the project of letters, digits, '.', '_', '-', '/'"))
    }
}

fn plain_path(path: &str) -> bool {
    !path.is_empty() && path.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
}

/// A value in Dockerfile double quotes: the parser reads `\\`, `\"` and `\$` back as `\`, `"`
/// and `$` (so no variable is expanded). A Dockerfile has no way to write a line break inside
/// a value (a trailing `\` joins lines without one), so values with one are refused.
pub(crate) fn quoted(value: &str) -> Result<String, Refusal> {
    if value.contains(['\n', '\r']) {
        return Err(
            "a Dockerfile cannot hold a line break in a value; set multi-line values at run time (as a secret)".into(),
        );
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// A `RUN` instruction for a shell command. A one-line command is written as the shell form
/// people read easily; a command of several lines, one ending in `\` (which would swallow the
/// next instruction) or one starting with `[` (which the parser would take for JSON) goes in
/// the exec form, `/bin/sh -c` with the script as a JSON string, which keeps every byte.
pub(crate) fn run_instruction(command: &str) -> Result<String, Refusal> {
    let trimmed = command.trim();
    if trimmed.is_empty() {
        return Err("a run command is empty".into());
    }
    let plain = !trimmed.contains(['\n', '\r']) && !trimmed.ends_with('\\') && !trimmed.starts_with('[');
    if plain {
        return Ok(format!("RUN {trimmed}"));
    }
    let script = serde_json::to_string(command).expect("a string serializes");
    Ok(format!("RUN [\"/bin/sh\", \"-c\", {script}]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_package_names_pass_and_shell_words_do_not() {
        for ok in [
            "libpq5",
            "python3-yaml",
            "g++",
            "libc6:amd64",
            "curl=7.88.1-10+deb12u5",
            "git/bookworm-backports",
        ] {
            assert_eq!(apt_package(ok), Ok(ok));
        }
        for bad in ["x", "Libpq", "a;b", "$(id)", "a&&b", "-y", "curl=", "a\nRUN b", "a b", "pkg:AMD64"] {
            assert!(apt_package(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn images_users_and_paths_keep_to_their_alphabets() {
        assert!(image("registry:5000/team/base@sha256:abc").is_ok());
        assert!(image("python:3.12\nRUN id").is_err());
        assert!(image("-x").is_err());
        assert!(user_name("app").is_ok());
        assert!(user_name("root; id").is_err());
        assert!(absolute_path("/app").is_ok());
        assert!(absolute_path("app").is_err());
        assert!(absolute_path("/my app").is_err());
        assert!(project_path("deps/requirements.txt").is_ok());
        assert!(project_path("../secrets.txt").is_err());
        assert!(project_path("/etc/passwd").is_err());
        assert!(project_path("req*.txt").is_err());
    }

    #[test]
    fn quoted_values_escape_what_the_parser_reads() {
        assert_eq!(quoted(r#"a "b" $HOME \n"#).unwrap(), r#""a \"b\" \$HOME \\n""#);
        assert!(quoted("a\nRUN id").is_err());
        assert!(quoted("a\r").is_err());
    }

    #[test]
    fn run_commands_of_several_lines_go_in_the_exec_form() {
        assert_eq!(run_instruction(" pip check ").unwrap(), "RUN pip check");
        assert_eq!(run_instruction("echo a\nRUN id").unwrap(), r#"RUN ["/bin/sh", "-c", "echo a\nRUN id"]"#);
        assert_eq!(run_instruction("echo a \\").unwrap(), r#"RUN ["/bin/sh", "-c", "echo a \\"]"#);
        assert!(run_instruction("[ -f x ]").unwrap().starts_with("RUN [\"/bin/sh\""));
        assert!(run_instruction("  ").is_err());
    }
}
