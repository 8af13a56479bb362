//! One parameter value, and the ordered parameters of one run.

/// One parameter value, as papermill's translators understand it.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// Python `None`, JSON `null`.
    None,
    /// A boolean.
    Bool(bool),
    /// An integer of any size, as canonical decimal digits: an optional leading `-`, no
    /// leading zeros, no `+`, no `_` (`"0"`, `"-12"`, `"123456789012345678901234567890"`).
    Int(String),
    /// A double-precision float, possibly NaN or infinite.
    Float(f64),
    /// A string.
    Str(String),
    /// A list of values.
    List(Vec<ParamValue>),
    /// A dict with string keys, in insertion order, without duplicate keys.
    Dict(Vec<(String, ParamValue)>),
}

impl From<bool> for ParamValue {
    fn from(value: bool) -> Self {
        ParamValue::Bool(value)
    }
}

impl From<i64> for ParamValue {
    fn from(value: i64) -> Self {
        ParamValue::Int(value.to_string())
    }
}

impl From<f64> for ParamValue {
    fn from(value: f64) -> Self {
        ParamValue::Float(value)
    }
}

impl From<&str> for ParamValue {
    fn from(value: &str) -> Self {
        ParamValue::Str(value.to_owned())
    }
}

impl From<String> for ParamValue {
    fn from(value: String) -> Self {
        ParamValue::Str(value)
    }
}

impl From<Vec<ParamValue>> for ParamValue {
    fn from(value: Vec<ParamValue>) -> Self {
        ParamValue::List(value)
    }
}

/// Inserts with Python `dict` semantics: an existing key keeps its position and takes the
/// new value. Returns the value it replaced.
pub(super) fn insert_entry(
    entries: &mut Vec<(String, ParamValue)>,
    name: String,
    value: ParamValue,
) -> Option<ParamValue> {
    match entries.iter_mut().find(|(key, _)| *key == name) {
        Some((_, slot)) => Some(std::mem::replace(slot, value)),
        None => {
            entries.push((name, value));
            None
        }
    }
}

/// The parameters of one run: an ordered map from name to value.
///
/// Insertion follows Python `dict` semantics, which is what papermill builds from its
/// command line: `-p x 1 -p y 2 -p x 3` gives `x = 3` then `y = 2`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parameters {
    pub(super) entries: Vec<(String, ParamValue)>,
}

impl Parameters {
    /// An empty set of parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`. A name already present keeps its position and its old value
    /// is returned; a new name goes last.
    pub fn insert(&mut self, name: impl Into<String>, value: ParamValue) -> Option<ParamValue> {
        insert_entry(&mut self.entries, name.into(), value)
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.entries.iter().find(|(key, _)| key == name).map(|(_, value)| value)
    }

    /// The parameters in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &ParamValue)> {
        self.entries.iter().map(|(name, value)| (name.as_str(), value))
    }

    /// How many parameters are set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no parameter is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Inserts every parameter of `other` in its order, like Python's `dict.update`: this is
    /// how papermill layers `-f`, `-y`, `-p` and `-r`.
    pub fn extend(&mut self, other: Parameters) {
        for (name, value) in other.entries {
            self.insert(name, value);
        }
    }
}

impl IntoIterator for Parameters {
    type Item = (String, ParamValue);
    type IntoIter = std::vec::IntoIter<(String, ParamValue)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: Into<String>> FromIterator<(K, ParamValue)> for Parameters {
    fn from_iter<I: IntoIterator<Item = (K, ParamValue)>>(iter: I) -> Self {
        let mut params = Parameters::new();
        for (name, value) in iter {
            params.insert(name, value);
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::test_support::int;

    // --- Parameters -------------------------------------------------------------------------

    #[test]
    fn insert_replaces_in_place_like_a_python_dict() {
        let mut params = Parameters::new();
        assert_eq!(params.insert("x", int("1")), None);
        params.insert("y", int("2"));
        assert_eq!(params.insert("x", int("3")), Some(int("1")));
        let order: Vec<_> = params.iter().map(|(k, v)| (k, v.clone())).collect();
        assert_eq!(order, vec![("x", int("3")), ("y", int("2"))]);
        assert_eq!(params.len(), 2);
        assert!(!params.is_empty());
        assert!(Parameters::default().is_empty());
        assert_eq!(params.get("y"), Some(&int("2")));
        assert_eq!(params.get("z"), None);
    }

    #[test]
    fn extend_is_dict_update() {
        let mut base: Parameters = [("a", int("1")), ("b", int("2"))].into_iter().collect();
        let over: Parameters = [("c", int("3")), ("a", int("9"))].into_iter().collect();
        base.extend(over);
        let names: Vec<_> = base.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(base.get("a"), Some(&int("9")));
    }
}
