//! PyYAML's scalar constructors for integers and floats: `!!int` and `!!float` text into
//! values, as Python computes them.

use crate::params::bigint::BigInt;
use crate::params::infer::{python_float, python_signed};

/// Splits Python's `value[0]` sign off; `None` where that index raises (an empty text).
fn split_sign(value: &str) -> Option<(bool, &str)> {
    match value.chars().next()? {
        '-' => Some((true, &value[1..])),
        '+' => Some((false, &value[1..])),
        _ => Some((false, value)),
    }
}

/// PyYAML's `construct_yaml_int`: the canonical digits, or `None` where Python raises.
pub(super) fn yaml_int(text: &str) -> Option<String> {
    let value = text.replace('_', "");
    let (negative, rest) = split_sign(&value)?;
    if rest.is_empty() {
        return None;
    }
    let magnitude = if rest == "0" {
        BigInt::default()
    } else if let Some(bits) = rest.strip_prefix("0b") {
        python_int_radix(bits, 2)?
    } else if let Some(hex) = rest.strip_prefix("0x") {
        python_int_radix(hex, 16)?
    } else if rest.starts_with('0') {
        python_int_radix(rest, 8)?
    } else if rest.contains(':') {
        // Base 60, most significant part first: the same integer as PyYAML's sum of
        // part * 60 ** place.
        let mut total = BigInt::default();
        for part in rest.split(':') {
            total = total.times(60).plus(BigInt::from_python_int(part)?);
        }
        total
    } else {
        BigInt::from_python_int(rest)?
    };
    Some(if negative { magnitude.negated() } else { magnitude }.to_string())
}

/// PyYAML's `construct_yaml_float`, or `None` where Python raises.
pub(super) fn yaml_float(text: &str) -> Option<f64> {
    let value = text.replace('_', "").to_lowercase();
    let (negative, rest) = split_sign(&value)?;
    let magnitude = match rest {
        ".inf" => f64::INFINITY,
        ".nan" => return Some(f64::NAN),
        _ if rest.contains(':') => {
            // Python's own steps: parts as floats, least significant first, each times its
            // place value, an int that becomes a float (or overflows) when multiplied.
            let parts = rest.split(':').map(python_float).collect::<Option<Vec<_>>>()?;
            let mut place = BigInt::one();
            let mut total = 0.0;
            for part in parts.into_iter().rev() {
                total += part * place.to_f64()?;
                place = place.times(60);
            }
            total
        }
        _ => python_float(rest)?,
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Python's `int(s, radix)` for a radix of 2, 8 or 16, or `None` where it raises.
fn python_int_radix(s: &str, radix: u32) -> Option<BigInt> {
    let (negative, body) = python_signed(s)?;
    let prefix = match radix {
        2 => ['b', 'B'],
        8 => ['o', 'O'],
        _ => ['x', 'X'],
    };
    // The radix's own prefix may come first, then one underscore.
    let digits = match body.strip_prefix('0').and_then(|rest| rest.strip_prefix(prefix)) {
        Some(rest) => rest.strip_prefix('_').unwrap_or(rest),
        None => body.as_str(),
    };
    if digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let magnitude = BigInt::from_digits(&digits.replace('_', ""), radix)?;
    Some(if negative { magnitude.negated() } else { magnitude })
}
