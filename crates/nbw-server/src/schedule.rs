//! Schedule arithmetic: checking a schedule and finding its next fire time. Pure functions,
//! no clock and no database, so the scheduler and the API agree and tests need no waiting.
//!
//! Cron expressions are evaluated in the schedule's time zone by croner, whose daylight-saving
//! rules are: a local time that does not exist (the spring-forward gap) fires at the first
//! instant after the gap, and a local time that happens twice (the fall-back overlap) fires
//! once, at its first occurrence; fixed-interval patterns such as `*/15 * * * *` keep their
//! pace in absolute time through both changes.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use nbw_core::api::Schedule;

/// A schedule that cannot be used; the message names the field and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The cron expression does not parse.
    #[error(
        "invalid cron expression {expr:?}: {reason}; use 5 fields (minute hour day month weekday), e.g. \"0 3 * * *\""
    )]
    Cron {
        /// The expression.
        expr: String,
        /// Why.
        reason: String,
    },
    /// The time zone is unknown.
    #[error("unknown time zone {0:?}; use an IANA name such as \"Europe/Berlin\" or \"UTC\"")]
    TimeZone(String),
    /// Neither or both of cron and interval.
    #[error("a schedule needs exactly one of `cron` and `interval_secs`")]
    Kind,
    /// The interval is zero.
    #[error("interval_secs must be at least 1")]
    Interval,
    /// end_at before start_at.
    #[error("end_at must be after start_at")]
    Window,
}

impl ScheduleError {
    /// The API error code.
    pub fn code(&self) -> &'static str {
        match self {
            ScheduleError::Cron { .. } => "invalid_cron",
            ScheduleError::TimeZone(_) => "invalid_timezone",
            _ => "invalid_schedule",
        }
    }
}

/// A schedule ready to compute fire times.
#[derive(Debug, Clone)]
pub struct Compiled {
    kind: Kind,
    start_at: Option<DateTime<Utc>>,
    end_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
enum Kind {
    Cron(Box<Cron>, Tz),
    Interval(Duration),
}

/// Checks a schedule and prepares it.
pub fn compile(schedule: &Schedule) -> Result<Compiled, ScheduleError> {
    let kind = match (&schedule.cron, schedule.interval_secs) {
        (Some(expr), None) => {
            let cron = CronParser::builder()
                .seconds(Seconds::Optional)
                .build()
                .parse(expr)
                .map_err(|e| ScheduleError::Cron { expr: expr.clone(), reason: e.to_string() })?;
            let tz_name = schedule.timezone.as_deref().unwrap_or("UTC");
            let tz: Tz = tz_name.parse().map_err(|_| ScheduleError::TimeZone(tz_name.to_owned()))?;
            Kind::Cron(Box::new(cron), tz)
        }
        (None, Some(0)) => return Err(ScheduleError::Interval),
        (None, Some(secs)) => {
            if schedule.timezone.is_some() {
                // A time zone means nothing to an interval; refusing it avoids a silent surprise.
                return Err(ScheduleError::Kind);
            }
            Kind::Interval(Duration::seconds(secs.min(i64::MAX as u64 / 1000) as i64))
        }
        _ => return Err(ScheduleError::Kind),
    };
    if let (Some(start), Some(end)) = (schedule.start_at, schedule.end_at)
        && end <= start
    {
        return Err(ScheduleError::Window);
    }
    Ok(Compiled { kind, start_at: schedule.start_at, end_at: schedule.end_at })
}

impl Compiled {
    /// The first fire time strictly after `after`, within the schedule's window. Intervals count
    /// from `start_at` when given, else from `anchor` (the workflow's creation or last change).
    pub fn next_after(&self, after: DateTime<Utc>, anchor: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let floor = self.start_at.map_or(after, |s| after.max(s - Duration::milliseconds(1)));
        let next = match &self.kind {
            Kind::Cron(cron, tz) => {
                let local = floor.with_timezone(tz);
                cron.find_next_occurrence(&local, false).ok()?.with_timezone(&Utc)
            }
            Kind::Interval(every) => {
                let origin = self.start_at.unwrap_or(anchor);
                if floor < origin {
                    origin
                } else {
                    let elapsed = (floor - origin).num_milliseconds();
                    let step = every.num_milliseconds().max(1);
                    origin + Duration::milliseconds((elapsed / step + 1) * step)
                }
            }
        };
        match self.end_at {
            Some(end) if next > end => None,
            _ => Some(next),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cron(expr: &str, tz: Option<&str>) -> Schedule {
        Schedule {
            cron: Some(expr.into()),
            timezone: tz.map(Into::into),
            interval_secs: None,
            start_at: None,
            end_at: None,
            misfire: Default::default(),
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn bad_schedules_name_the_problem() {
        assert_eq!(compile(&cron("61 * * * *", None)).unwrap_err().code(), "invalid_cron");
        assert_eq!(compile(&cron("* * * * *", Some("Mars/Base"))).unwrap_err().code(), "invalid_timezone");
        let mut both = cron("* * * * *", None);
        both.interval_secs = Some(5);
        assert_eq!(compile(&both).unwrap_err(), ScheduleError::Kind);
    }

    #[test]
    fn cron_fires_in_its_time_zone() {
        let s = compile(&cron("0 3 * * *", Some("Europe/Berlin"))).unwrap();
        let anchor = t("2026-01-01T00:00:00Z");
        assert_eq!(s.next_after(t("2026-01-10T00:00:00Z"), anchor), Some(t("2026-01-10T02:00:00Z")));
        assert_eq!(s.next_after(t("2026-07-10T00:00:00Z"), anchor), Some(t("2026-07-10T01:00:00Z")));
    }

    #[test]
    fn intervals_keep_their_phase_and_window() {
        let mut s = cron("", None);
        s.cron = None;
        s.interval_secs = Some(10);
        s.end_at = Some(t("2026-01-01T00:00:30Z"));
        let c = compile(&s).unwrap();
        let anchor = t("2026-01-01T00:00:00Z");
        assert_eq!(c.next_after(t("2026-01-01T00:00:00Z"), anchor), Some(t("2026-01-01T00:00:10Z")));
        assert_eq!(c.next_after(t("2026-01-01T00:00:15Z"), anchor), Some(t("2026-01-01T00:00:20Z")));
        assert_eq!(c.next_after(t("2026-01-01T00:00:30Z"), anchor), None);
    }
}
