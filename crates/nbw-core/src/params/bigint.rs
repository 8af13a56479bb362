//! Unbounded integers, with just the arithmetic PyYAML's integers need (base 60, radix
//! prefixes, exact digits).

use std::fmt;

use super::infer::python_int;

/// A signed integer of any size, with just the arithmetic PyYAML's integers need.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct BigInt {
    /// Never set for zero.
    negative: bool,
    /// The magnitude in base 10^9, least significant first, without zero limbs at the end.
    limbs: Vec<u32>,
}

const LIMB: u64 = 1_000_000_000;

impl BigInt {
    /// One: the place value of the last base-60 part.
    pub(super) fn one() -> BigInt {
        BigInt { negative: false, limbs: vec![1] }
    }

    /// Non-empty ASCII digits of `radix`.
    pub(super) fn from_digits(digits: &str, radix: u32) -> Option<BigInt> {
        if digits.is_empty() {
            return None;
        }
        let mut value = BigInt::default();
        for c in digits.chars() {
            value.multiply_add(radix, c.to_digit(radix)?);
        }
        Some(value)
    }

    /// Python's `int(s)`.
    pub(super) fn from_python_int(s: &str) -> Option<BigInt> {
        let digits = python_int(s)?;
        let (negative, magnitude) = match digits.strip_prefix('-') {
            Some(magnitude) => (true, magnitude),
            None => (false, digits.as_str()),
        };
        let value = BigInt::from_digits(magnitude, 10)?;
        Some(if negative { value.negated() } else { value })
    }

    fn multiply_add(&mut self, factor: u32, addend: u32) {
        let mut carry = u64::from(addend);
        for limb in &mut self.limbs {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = (product % LIMB) as u32;
            carry = product / LIMB;
        }
        while carry > 0 {
            self.limbs.push((carry % LIMB) as u32);
            carry /= LIMB;
        }
    }

    pub(super) fn times(mut self, factor: u32) -> BigInt {
        self.multiply_add(factor, 0);
        self
    }

    pub(super) fn negated(mut self) -> BigInt {
        self.negative = !self.negative && !self.limbs.is_empty();
        self
    }

    pub(super) fn plus(self, other: BigInt) -> BigInt {
        if self.negative == other.negative {
            let mut limbs = Vec::with_capacity(self.limbs.len().max(other.limbs.len()) + 1);
            let mut carry = 0;
            for i in 0..self.limbs.len().max(other.limbs.len()) {
                let sum = u64::from(self.limbs.get(i).copied().unwrap_or(0))
                    + u64::from(other.limbs.get(i).copied().unwrap_or(0))
                    + carry;
                limbs.push((sum % LIMB) as u32);
                carry = sum / LIMB;
            }
            if carry > 0 {
                limbs.push(carry as u32);
            }
            return BigInt { negative: self.negative, limbs };
        }
        let by_magnitude = self
            .limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()));
        let (larger, smaller) = match by_magnitude {
            std::cmp::Ordering::Equal => return BigInt::default(),
            std::cmp::Ordering::Greater => (self, other),
            std::cmp::Ordering::Less => (other, self),
        };
        let mut limbs = Vec::with_capacity(larger.limbs.len());
        let mut borrow = 0;
        for (i, &limb) in larger.limbs.iter().enumerate() {
            let subtrahend = u64::from(smaller.limbs.get(i).copied().unwrap_or(0)) + borrow;
            let (difference, next_borrow) = match u64::from(limb).checked_sub(subtrahend) {
                Some(difference) => (difference, 0),
                None => (u64::from(limb) + LIMB - subtrahend, 1),
            };
            limbs.push(difference as u32);
            borrow = next_borrow;
        }
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
        BigInt { negative: larger.negative, limbs }
    }

    /// Python's `float(int)`: correctly rounded, `None` past the largest float.
    pub(super) fn to_f64(&self) -> Option<f64> {
        self.to_string().parse::<f64>().ok().filter(|value| value.is_finite())
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let Some((most, rest)) = self.limbs.split_last() else {
            return f.write_str("0");
        };
        if self.negative {
            f.write_str("-")?;
        }
        write!(f, "{most}")?;
        for limb in rest.iter().rev() {
            write!(f, "{limb:09}")?;
        }
        Ok(())
    }
}
