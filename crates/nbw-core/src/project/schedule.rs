//! A workflow's schedule: a cron expression, or a map with a time zone or an interval, and
//! the checks of it that serde cannot make (as the server makes them).

use std::fmt;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::seconds::Seconds;

/// A schedule: a cron expression as a plain string, or a map with a time zone or an interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScheduleEntry {
    /// Cron: 5 fields (minute hour day month weekday), 6 with seconds first, or `@daily` and
    /// friends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// IANA time zone of the cron expression (default UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Run every this long instead (seconds, or `10m`, `1h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Seconds>,
    /// No run before this time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_at: Option<DateTime<Utc>>,
    /// No run after this time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_at: Option<DateTime<Utc>>,
    /// Fire times missed while no server ran: `skip` them (default) or `run_once`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub misfire: Option<MisfireEntry>,
}

/// What the schema says a schedule looks like.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ScheduleForm {
    /// A cron expression.
    Cron(String),
    /// The long form.
    Map(ScheduleMap),
}

/// The long form of a schedule (exactly one of `cron` and `interval`).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ScheduleMap {
    /// Cron: 5 fields (minute hour day month weekday), 6 with seconds first, or `@daily` and
    /// friends.
    #[serde(default)]
    cron: Option<String>,
    /// IANA time zone of the cron expression (default UTC), e.g. `Europe/Berlin`.
    #[serde(default)]
    timezone: Option<String>,
    /// Run every this long instead (seconds, or `10m`, `1h`).
    #[serde(default)]
    interval: Option<Seconds>,
    /// No run before this time (RFC 3339).
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    start_at: Option<DateTime<Utc>>,
    /// No run after this time (RFC 3339).
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    end_at: Option<DateTime<Utc>>,
    /// Fire times missed while no server ran: `skip` them (default) or `run_once`.
    #[serde(default)]
    misfire: Option<MisfireEntry>,
}

impl<'de> Deserialize<'de> for ScheduleEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScheduleVisitor;
        impl<'de> Visitor<'de> for ScheduleVisitor {
            type Value = ScheduleEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a cron expression such as \"0 3 * * *\", or a map with cron or interval")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScheduleEntry, E> {
                Ok(ScheduleEntry { cron: Some(v.to_owned()), ..ScheduleEntry::default() })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ScheduleEntry, A::Error> {
                let m = ScheduleMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ScheduleEntry {
                    cron: m.cron,
                    timezone: m.timezone,
                    interval: m.interval,
                    start_at: m.start_at,
                    end_at: m.end_at,
                    misfire: m.misfire,
                })
            }
        }
        deserializer.deserialize_any(ScheduleVisitor)
    }
}

/// What happens to fire times missed while no server ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MisfireEntry {
    /// Dropped; the next fire time in the future runs.
    Skip,
    /// Collapsed into one run at once.
    RunOnce,
}

schema_as!(ScheduleEntry, ScheduleForm, "Schedule");

pub(super) fn check_schedule(schedule: &ScheduleEntry, report: &mut dyn FnMut(Option<&'static str>, String)) {
    match (&schedule.cron, &schedule.interval) {
        (Some(_), Some(_)) | (None, None) => {
            report(None, "a schedule needs exactly one of `cron` and `interval`".into());
        }
        (None, Some(_)) if schedule.timezone.is_some() => {
            report(
                Some("timezone"),
                "a time zone goes with `cron` only; an interval runs in absolute time".into(),
            );
        }
        _ => {}
    }
    if let Some(expr) = &schedule.cron {
        let parsed = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .build()
            .parse(expr);
        if let Err(e) = parsed {
            report(
                Some("cron"),
                format!(
                    "invalid cron expression {expr:?}: {e}; use 5 fields (minute hour day month weekday), e.g. \"0 3 * * *\""
                ),
            );
        }
    }
    if let Some(zone) = &schedule.timezone
        && zone.parse::<chrono_tz::Tz>().is_err()
    {
        report(
            Some("timezone"),
            format!("unknown time zone {zone:?}; use an IANA name such as \"Europe/Berlin\" or \"UTC\""),
        );
    }
    if let (Some(start), Some(end)) = (schedule.start_at, schedule.end_at)
        && end <= start
    {
        report(Some("end_at"), "end_at must be after start_at".into());
    }
}
