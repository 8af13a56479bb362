//! Durations in whole seconds, written as a number or as `30s`, `10m`, `1h 30m`.

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A duration in whole seconds, written as a number of seconds or as `30s`, `10m`, `2h`,
/// `1h 30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seconds(pub u64);

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum SecondsForm {
    /// Seconds.
    Number(#[schemars(range(min = 1))] u64),
    /// A duration such as `90s`, `10m`, `2h` or `1h 30m`.
    Text(#[schemars(regex(pattern = r"^\s*[0-9]+\s*[a-zA-Z]+(\s*[0-9]+\s*[a-zA-Z]+)*\s*$"))] String),
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 < 60 {
            serializer.serialize_u64(self.0)
        } else {
            serializer.serialize_str(&humantime::format_duration(Duration::from_secs(self.0)).to_string())
        }
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecondsVisitor;
        impl Visitor<'_> for SecondsVisitor {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration: a number of seconds, or text like 30s, 10m, 2h, 1h 30m")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                if v == 0 {
                    return Err(E::custom("a duration must be at least 1 second"));
                }
                Ok(Seconds(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("{v} is negative; a duration is at least 1 second")))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Seconds, E> {
                if let Ok(secs) = v.trim().parse::<u64>() {
                    return self.visit_u64(secs);
                }
                let duration = humantime::parse_duration(v.trim()).map_err(|e| {
                    E::custom(format!("{v:?} is not a duration like 90, 30s, 10m or 1h 30m ({e})"))
                })?;
                if duration.subsec_nanos() != 0 {
                    return Err(E::custom(format!("{v:?}: durations are whole seconds")));
                }
                self.visit_u64(duration.as_secs())
            }
        }
        deserializer.deserialize_any(SecondsVisitor)
    }
}

schema_as!(Seconds, SecondsForm, "Duration");
