//! Keeping secrets out of everything the agent sends: every occurrence of a secret's value in
//! an event, a message or the output notebook becomes `***`.

use serde_json::Value;

/// Values shorter than this are not redacted: a one- or two-character "secret" would turn
/// every output into asterisks and protects nothing.
const MIN_SECRET_LEN: usize = 3;

/// Replaces secret values with `***`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret containing another is replaced whole.
    values: Vec<String>,
}

impl Redactor {
    /// A redactor for these secret values.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a String>) -> Redactor {
        let mut values: Vec<String> =
            values.into_iter().filter(|v| v.len() >= MIN_SECRET_LEN).cloned().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Redactor { values }
    }

    /// The text with every secret value replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), "***");
            }
        }
        out
    }

    /// Redacts every string in a JSON tree, keys included.
    pub fn json(&self, value: &mut Value) {
        if self.values.is_empty() {
            return;
        }
        match value {
            Value::String(s) => *s = self.text(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut v) in entries {
                    self.json(&mut v);
                    map.insert(self.text(&key), v);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_vanish_from_text_and_json() {
        let secrets = ["hunter2".to_owned(), "hunter2-long".to_owned(), "ab".to_owned()];
        let r = Redactor::new(&secrets);
        assert_eq!(r.text("pw=hunter2-long and hunter2, ab"), "pw=*** and ***, ab");
        let mut v = serde_json::json!({"text": ["line hunter2\n"], "hunter2": 1});
        r.json(&mut v);
        assert_eq!(v, serde_json::json!({"text": ["line ***\n"], "***": 1}));
    }
}
