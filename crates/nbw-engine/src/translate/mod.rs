//! Parameters written as source code in the kernel's language: the injected cell.
//!
//! This is papermill's `translators.py`. The Python translator reproduces papermill 2.7.0
//! byte for byte (without `black`, which papermill only applies when it is installed), since
//! conformance tests compare injected cells. The R, Julia and bash translators follow
//! papermill too, except where papermill writes code that does not mean the value it was
//! given; each such difference is noted on the translator.
//!
//! Every translator writes a `# Parameters` comment line, then one assignment per parameter,
//! each line ending in `\n`. A name that is not a valid variable name in the language is an
//! error rather than a cell that fails in the kernel.

mod bash;
mod julia;
mod python;
mod r;

use nbw_core::params::{ParamValue, Parameters};

/// Renders [`Parameters`] as source code for one kernel language.
pub trait Translator: Send + Sync {
    /// The kernel language this translator writes, lower case (`"python"`, `"r"`, `"julia"`,
    /// `"bash"`).
    fn language(&self) -> &'static str;

    /// Renders the injected cell's source: a comment line `# Parameters` then one assignment
    /// per line, each line ending in `\n`.
    fn codify(&self, params: &Parameters) -> Result<String, TranslateError>;
}

/// Why parameters cannot be written in a kernel's language.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TranslateError {
    /// The parameter's name cannot be a variable in the language.
    #[error(
        "parameter name {name:?} is not a valid {language} variable name: {reason}; \
         use the name the notebook's parameters cell declares"
    )]
    InvalidName {
        /// The translator's language.
        language: &'static str,
        /// The offending name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The parameter's value has no equivalent in the language.
    #[error("parameter {name:?} cannot be passed to a {language} kernel: {reason}")]
    UnsupportedValue {
        /// The translator's language.
        language: &'static str,
        /// The parameter's name.
        name: String,
        /// What has no equivalent, and what to do instead.
        reason: String,
    },
}

/// The translator for a kernel language (a kernelspec's `language`), case-insensitive:
/// `python`, `r`, `julia`, `bash` or `sh`.
pub fn translator_for(language: &str) -> Option<&'static dyn Translator> {
    match language.to_ascii_lowercase().as_str() {
        "python" => Some(&python::Python),
        "r" => Some(&r::R),
        "julia" => Some(&julia::Julia),
        "bash" | "sh" => Some(&bash::Bash),
        _ => None,
    }
}

/// How a language spells the values every translator writes alike.
struct Scalars {
    /// `None`.
    none: &'static str,
    /// `false`, then `true`.
    bools: [&'static str; 2],
    /// NaN.
    nan: &'static str,
    /// Positive infinity.
    infinity: &'static str,
    /// Negative infinity.
    neg_infinity: &'static str,
}

/// One kernel language's syntax: the four translators are one shape (papermill's
/// `Translator`: check the name, translate the value by its type, write an assignment), so the
/// shape is written once here, as default methods, and each language gives only its spellings.
/// Every `Syntax` is a [`Translator`].
trait Syntax: Send + Sync {
    /// The language, lower case, as [`Translator::language`] says it.
    const LANGUAGE: &'static str;
    /// How the language spells None, booleans and non-finite floats.
    const SCALARS: Scalars;

    /// The variable parameter `name` is assigned to, or why it cannot be one.
    fn variable<'n>(&self, name: &'n str) -> Result<&'n str, TranslateError>;

    /// A string literal, or why the string has none in the language.
    fn string(&self, s: &str) -> Result<String, String>;

    /// A list literal of `items`; `name` is the parameter's, for the reason of an error.
    fn list(&self, name: &str, items: &[ParamValue]) -> Result<String, String>;

    /// A dict literal of `entries`; `name` is the parameter's, for the reason of an error.
    fn dict(&self, name: &str, entries: &[(String, ParamValue)]) -> Result<String, String>;

    /// The assignment of `value` (already code) to `variable`.
    fn assignment(&self, variable: &str, value: &str) -> String {
        format!("{variable} = {value}")
    }

    /// papermill's `Translator.translate`: `value` as code, or why it has no spelling.
    fn value(&self, name: &str, value: &ParamValue) -> Result<String, String> {
        let scalars = &Self::SCALARS;
        Ok(match value {
            ParamValue::None => scalars.none.to_owned(),
            ParamValue::Bool(b) => scalars.bools[usize::from(*b)].to_owned(),
            ParamValue::Int(digits) => digits.clone(),
            ParamValue::Float(f) if f.is_nan() => scalars.nan.to_owned(),
            ParamValue::Float(f) if f.is_infinite() && *f < 0.0 => scalars.neg_infinity.to_owned(),
            ParamValue::Float(f) if f.is_infinite() => scalars.infinity.to_owned(),
            ParamValue::Float(f) => python_float_repr(*f),
            ParamValue::Str(s) => return self.string(s),
            ParamValue::List(items) => return self.list(name, items),
            ParamValue::Dict(entries) => return self.dict(name, entries),
        })
    }

    /// The list literal most languages share: `open`, the items separated by `, `, `close`.
    fn bracketed_list(
        &self,
        name: &str,
        items: &[ParamValue],
        open: &str,
        close: &str,
    ) -> Result<String, String> {
        let items = items.iter().map(|item| self.value(name, item)).collect::<Result<Vec<_>, _>>()?;
        Ok(format!("{open}{}{close}", items.join(", ")))
    }

    /// The dict literal most languages share: `open`, each entry as the key's string literal,
    /// `arrow` and the value, separated by `, `, then `close`.
    fn bracketed_dict(
        &self,
        name: &str,
        entries: &[(String, ParamValue)],
        [open, arrow, close]: [&str; 3],
    ) -> Result<String, String> {
        let entries = entries
            .iter()
            .map(|(key, value)| Ok(format!("{}{arrow}{}", self.string(key)?, self.value(name, value)?)))
            .collect::<Result<Vec<_>, String>>()?;
        Ok(format!("{open}{}{close}", entries.join(", ")))
    }
}

impl<T: Syntax> Translator for T {
    fn language(&self) -> &'static str {
        T::LANGUAGE
    }

    /// papermill's `Translator.codify`: the comment line, then one assignment per parameter.
    fn codify(&self, params: &Parameters) -> Result<String, TranslateError> {
        let mut cell = String::from("# Parameters\n");
        for (name, value) in params.iter() {
            let variable = self.variable(name)?;
            let value = self.value(name, value).map_err(|reason| TranslateError::UnsupportedValue {
                language: T::LANGUAGE,
                name: name.to_owned(),
                reason,
            })?;
            cell.push_str(&self.assignment(variable, &value));
            cell.push('\n');
        }
        Ok(cell)
    }
}

/// How a double-quoted string literal differs between languages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// papermill's `translate_escaped_str` exactly: Python's `unicode_escape` codec, then `"`
    /// escaped.
    Python,
    /// As Python, but U+0080..U+00FF as `\u00XX`: R and Julia read `\xXX` as a raw byte,
    /// so papermill's `"\xe9"` is not "é" there.
    Unicode,
    /// As `Unicode`, and `$` escaped, because Julia interpolates `$name` in strings.
    Julia,
}

/// A double-quoted string literal for `s`.
fn quoted(s: &str, quoting: Quoting) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        let code = u32::from(c);
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '$' if quoting == Quoting::Julia => out.push_str("\\$"),
            _ if code < 0x20 || code == 0x7f => {
                let _ = write!(out, "\\x{code:02x}");
            }
            _ if (0x80..0x100).contains(&code) => {
                if quoting == Quoting::Python {
                    let _ = write!(out, "\\x{code:02x}");
                } else {
                    let _ = write!(out, "\\u{code:04x}");
                }
            }
            _ if (0x100..0x10000).contains(&code) => {
                let _ = write!(out, "\\u{code:04x}");
            }
            _ if code >= 0x10000 => {
                let _ = write!(out, "\\U{code:08x}");
            }
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Python's `repr(float)` for a finite value: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in -4..16 (`0.0001`, `1.0`,
/// `1234567890123456.0`), in exponent notation otherwise (`1e-05`, `1e+16`, `1.5e+20`).
fn python_float_repr(value: f64) -> String {
    debug_assert!(value.is_finite());
    // Rust's `{:e}` gives the same shortest round-trip digits as Python's repr (both pick the
    // closest of the shortest candidates); only the layout differs.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("{:e} always writes an exponent");
    let exponent: i32 = exponent.parse().expect("{:e} writes a decimal exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits = even_on_tie(mantissa.chars().filter(|&c| c != '.').collect(), exponent, value);
    let count = digits.len() as i32;
    // CPython's format_float_short: the decimal point sits `point` digits into `digits`.
    let point = exponent + 1;
    if point <= -4 || point > 16 {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{first}{fraction}e{exp_sign}{:02}", exponent.unsigned_abs())
    } else if point <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point >= count {
        format!("{sign}{digits}{}.0", "0".repeat((point - count) as usize))
    } else {
        let (whole, fraction) = digits.split_at(point as usize);
        format!("{sign}{whole}.{fraction}")
    }
}

/// When the value lies exactly halfway between two shortest candidates, CPython's dtoa keeps
/// the one with the even last digit (`2109467640568116.25` is `...116.2`) while Rust's
/// formatting may keep the odd one: `digits` (at decimal `exponent`) bent to Python's choice.
fn even_on_tie(digits: String, exponent: i32, value: f64) -> String {
    let last = digits.bytes().last().map_or(0, |b| b - b'0');
    if last.is_multiple_of(2) {
        return digits;
    }
    let stem = &digits[..digits.len() - 1];
    // Halfway below (`stem (last-1) 5`) the even one is last-1; halfway above, last+1.
    for (halfway, even) in [(last - 1, last - 1), (last, last + 1)] {
        if even > 9 {
            continue;
        }
        let midpoint = format!("{stem}{halfway}5");
        let candidate = format!("{stem}{even}");
        if is_exactly(value, &midpoint, exponent) && parses_to(&candidate, exponent, value) {
            return candidate;
        }
    }
    digits
}

/// Whether |value| is exactly `0.digits... x 10^(exponent+1)`, i.e. `d.ddd e exponent`.
fn is_exactly(value: f64, digits: &str, exponent: i32) -> bool {
    // Rust's fixed-precision formatting is exact: 40 more digits than the midpoint show
    // whether anything follows it.
    let exact = format!("{:.*e}", digits.len() - 1 + 40, value.abs());
    let (mantissa, exp) = exact.split_once('e').expect("{:e} always writes an exponent");
    let exact_digits: String = mantissa.chars().filter(|&c| c != '.').collect();
    exp.parse::<i32>() == Ok(exponent) && exact_digits.trim_end_matches('0') == digits.trim_end_matches('0')
}

fn parses_to(digits: &str, exponent: i32, value: f64) -> bool {
    let (first, rest) = digits.split_at(1);
    format!("{first}.{rest}e{exponent}").parse::<f64>().is_ok_and(|parsed| parsed == value.abs())
}

/// Checks an identifier built from Unicode XID characters plus `extra_continue`, that is not
/// one of `keywords`. Python's and (near enough) Julia's rule.
fn check_xid_name(
    language: &'static str,
    name: &str,
    keywords: &[&str],
    extra_continue: &[char],
) -> Result<(), TranslateError> {
    let reason = if name.is_empty() {
        Some("it is empty".to_owned())
    } else if keywords.contains(&name) {
        Some("it is a reserved word".to_owned())
    } else {
        let mut chars = name.chars();
        let first = chars.next().unwrap_or('_');
        if first.is_ascii_digit() {
            Some("it starts with a digit".to_owned())
        } else if !(first == '_' || unicode_ident::is_xid_start(first)) {
            Some(format!("it starts with {first:?}"))
        } else {
            chars
                .find(|&c| !(unicode_ident::is_xid_continue(c) || extra_continue.contains(&c)))
                .map(|c| format!("it contains {c:?}"))
        }
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(TranslateError::InvalidName { language, name: name.to_owned(), reason }),
    }
}

/// Test helpers: the cell of `params` in `translator`'s language.
#[cfg(test)]
pub(crate) fn codify_pairs(
    translator: &dyn Translator,
    params: &[(&str, ParamValue)],
) -> Result<String, TranslateError> {
    let params: Parameters = params.iter().cloned().collect();
    translator.codify(&params)
}

/// Test helper: the code of one value, as `translator` writes it in the parameter `x`
/// (`assigned` is what precedes it, such as `"x = "`).
#[cfg(test)]
pub(crate) fn one_value(translator: &dyn Translator, assigned: &str, value: ParamValue) -> String {
    let cell = codify_pairs(translator, &[("x", value)]).unwrap();
    cell.strip_prefix("# Parameters\n")
        .and_then(|rest| rest.strip_prefix(assigned))
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("unexpected cell {cell:?}"))
        .to_owned()
}

/// Runs `script` with the project venv's Python, `input` on its standard input, and returns
/// its standard output; panics with its standard error if it fails.
#[cfg(test)]
pub(crate) fn run_python(script: &str, input: String) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let mut child = Command::new(nbw_testkit::python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the venv's python");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("wait for python");
    writer.join().expect("stdin writer").expect("write python's stdin");
    assert!(output.status.success(), "python failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("python prints UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translators_are_found_by_language_in_any_case() {
        for (asked, language) in [
            ("python", "python"),
            ("Python", "python"),
            ("R", "r"),
            ("r", "r"),
            ("julia", "julia"),
            ("Julia", "julia"),
            ("bash", "bash"),
            ("sh", "bash"),
        ] {
            assert_eq!(translator_for(asked).unwrap().language(), language);
        }
        assert!(translator_for("scala").is_none());
        assert!(translator_for("").is_none());
    }

    #[test]
    fn python_quoting_is_unicode_escape_then_quote() {
        assert_eq!(quoted("", Quoting::Python), r#""""#);
        assert_eq!(quoted("plain text", Quoting::Python), r#""plain text""#);
        assert_eq!(quoted(r#"say "hi""#, Quoting::Python), r#""say \"hi\"""#);
        assert_eq!(quoted("it's", Quoting::Python), r#""it's""#);
        assert_eq!(quoted(r"C:\dir\n", Quoting::Python), r#""C:\\dir\\n""#);
        assert_eq!(quoted("a\tb\nc\rd", Quoting::Python), r#""a\tb\nc\rd""#);
        assert_eq!(quoted("\0\x01\x1b\x1f \x7f", Quoting::Python), r#""\x00\x01\x1b\x1f \x7f""#);
        assert_eq!(quoted("café ÿ\u{80}", Quoting::Python), r#""caf\xe9 \xff\x80""#);
        assert_eq!(quoted("Ā€日本\u{ffff}", Quoting::Python), r#""\u0100\u20ac\u65e5\u672c\uffff""#);
        assert_eq!(quoted("😀\u{10ffff}", Quoting::Python), r#""\U0001f600\U0010ffff""#);
        assert_eq!(quoted("$x", Quoting::Python), r#""$x""#);
    }

    #[test]
    fn r_and_julia_quoting_spell_latin1_as_unicode_escapes() {
        assert_eq!(quoted("café\x7f", Quoting::Unicode), r#""caf\u00e9\x7f""#);
        assert_eq!(quoted("$x é", Quoting::Unicode), r#""$x \u00e9""#);
        assert_eq!(quoted("$x é", Quoting::Julia), r#""\$x \u00e9""#);
        assert_eq!(quoted("😀", Quoting::Julia), r#""\U0001f600""#);
    }

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-1.0, "-1.0"),
            (0.5, "0.5"),
            (123.5, "123.5"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (1e-5, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (-2.5e-7, "-2.5e-07"),
            (1e15, "1000000000000000.0"),
            (1234567890123456.0, "1234567890123456.0"),
            (9999999999999998.0, "9999999999999998.0"),
            (1e16, "1e+16"),
            // Exactly halfway between two shortest candidates: Python keeps the even digit.
            (2109467640568116.0 + 0.25, "2109467640568116.2"),
            (-2109467640568116.0 - 0.25, "-2109467640568116.2"),
            (2109467640568116.0 + 0.75, "2109467640568116.8"),
            (1.5e20, "1.5e+20"),
            (1e22, "1e+22"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (100.0, "100.0"),
            (12345.678, "12345.678"),
        ];
        for (value, expected) in cases {
            assert_eq!(python_float_repr(value), expected, "{value:e}");
        }
    }

    #[test]
    fn xid_names() {
        let check = |name| check_xid_name("python", name, &["for"], &[]);
        assert!(check("alpha").is_ok());
        assert!(check("_private").is_ok());
        assert!(check("x1").is_ok());
        assert!(check("café").is_ok());
        assert!(check("αβ").is_ok());
        let reason = |name| match check(name) {
            Err(TranslateError::InvalidName { reason, .. }) => reason,
            other => panic!("{name:?}: {other:?}"),
        };
        assert_eq!(reason(""), "it is empty");
        assert_eq!(reason("1x"), "it starts with a digit");
        assert_eq!(reason("a-b"), "it contains '-'");
        assert_eq!(reason("x y"), "it contains ' '");
        assert_eq!(reason("$x"), "it starts with '$'");
        assert_eq!(reason("for"), "it is a reserved word");
    }

    #[test]
    fn invalid_name_error_names_the_parameter() {
        let err = check_xid_name("python", "1x", &[], &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameter name \"1x\" is not a valid python variable name: it starts with a digit; \
             use the name the notebook's parameters cell declares"
        );
    }
}
