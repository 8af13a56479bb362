//! Retries of failed or lost runs: a count, or a map with a backoff and a factor.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::seconds::Seconds;

/// Retries of failed or lost runs: a number (retries after the first attempt) or a map.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Retries {
    /// Attempts after the first.
    pub max: u32,
    /// Wait before the first retry (default 30 s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Seconds>,
    /// Each further retry waits this many times longer (default 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum RetriesForm {
    /// Retries after the first attempt.
    Count(u32),
    /// The long form.
    Map(RetriesMap),
}

/// The long form of retries.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RetriesMap {
    /// Attempts after the first.
    max: u32,
    /// Wait before the first retry (default 30 s).
    #[serde(default)]
    backoff: Option<Seconds>,
    /// Each further retry waits this many times longer (default 2).
    #[serde(default)]
    #[schemars(range(min = 1.0))]
    factor: Option<f64>,
}

impl<'de> Deserialize<'de> for Retries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RetriesVisitor;
        impl<'de> Visitor<'de> for RetriesVisitor {
            type Value = Retries;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of retries, or a map {max, backoff, factor}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Retries, E> {
                let max = u32::try_from(v).map_err(|_| E::custom("too many retries"))?;
                Ok(Retries { max, backoff: None, factor: None })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Retries, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom("retries cannot be negative"))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Retries, A::Error> {
                let m = RetriesMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                if m.factor.is_some_and(|f| !(1.0..=100.0).contains(&f)) {
                    return Err(de::Error::custom("retries.factor must be between 1 and 100"));
                }
                Ok(Retries { max: m.max, backoff: m.backoff, factor: m.factor })
            }
        }
        deserializer.deserialize_any(RetriesVisitor)
    }
}

schema_as!(Retries, RetriesForm, "Retries");
