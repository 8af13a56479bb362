//! Schedule arithmetic: checking a schedule and finding its fire times. Pure functions, no clock
//! and no database, so the scheduler and the API agree and tests need no waiting.
//!
//! # Cron and daylight saving time
//!
//! A cron expression (5 fields, or 6 with seconds first; `@daily` and the other nicknames) is
//! read on the wall clock of its time zone (UTC by default) by croner, which follows the Open
//! Cron Pattern Specification and Vixie cron. What happens at a daylight-saving change depends
//! on whether the pattern is *fixed-time* (seconds, minute and hour each one plain value, such as
//! `30 2 * * *`) or *interval/wildcard* (any of them `*`, a step `*/n`, a range or a list, such as
//! `0 * * * *`, `*/15 * * * *` or `0 1,2 * * *`). Checked by the tests below for Europe/Berlin,
//! where 2026-03-29 02:00 jumps to 03:00 and 2026-10-25 03:00 falls back to 02:00:
//!
//! | pattern | spring forward (02:00-02:59 does not exist) | fall back (02:00-02:59 happens twice) |
//! |---|---|---|
//! | `30 2 * * *` (fixed-time) | fires once, at 03:00 CEST, the first instant after the gap (01:00 UTC) | fires once, at the first 02:30 (CEST, 00:30 UTC) |
//! | `0 * * * *` (wildcard) | 02:00 does not exist and is skipped: 01:00 CET, then 03:00 CEST | fires at 02:00 CEST *and* 02:00 CET |
//! | `*/15 * * * *` (wildcard) | 01:45 CET, then 03:00 CEST | every quarter of both 02:xx hours |
//!
//! So a fixed-time job runs exactly once on each day, whatever the clocks do; a wildcard job
//! keeps its pace in absolute time (hourly stays every 60 minutes, `*/15` every 15), running 23
//! times on the short day and 25 on the long one. A wildcard job that names hours (`0 2 * * *` is
//! fixed, but `0 1-3 * * *` is not) loses its 02:00 run on the spring day and runs it twice on
//! the autumn day. Users who want "once a day, no surprise" should pick a time outside 02:00-03:00
//! or use UTC.
//!
//! # Intervals
//!
//! An interval fires every `interval_secs` in absolute time, so daylight saving does not touch
//! it. Its phase counts from `start_at` when given, else from an anchor the caller chooses: the
//! API uses the time of the change, the scheduler the fire time stored last (so a phase set once
//! is kept from then on).
//!
//! # Window
//!
//! No fire time is before `start_at` or after `end_at`; past `end_at` a schedule has no next fire.

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
    #[error("a schedule needs exactly one of `cron` and `interval_secs` (and `timezone` only with `cron`)")]
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
    /// from `start_at` when given, else from `anchor` (see the module documentation).
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
                    let step = every.num_milliseconds().max(1);
                    let elapsed = (floor - origin).num_milliseconds();
                    origin + Duration::milliseconds((elapsed / step + 1) * step)
                }
            }
        };
        match self.end_at {
            Some(end) if next > end => None,
            _ => Some(next),
        }
    }

    /// The last fire time at or before `at`, within the schedule's window: the one a run after
    /// downtime stands for. Intervals count as in [`Compiled::next_after`].
    pub fn last_at_or_before(&self, at: DateTime<Utc>, anchor: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let ceiling = self.end_at.map_or(at, |end| at.min(end));
        let last = match &self.kind {
            Kind::Cron(cron, tz) => {
                let local = ceiling.with_timezone(tz);
                cron.find_previous_occurrence(&local, true).ok()?.with_timezone(&Utc)
            }
            Kind::Interval(every) => {
                let origin = self.start_at.unwrap_or(anchor);
                let step = every.num_milliseconds().max(1);
                let elapsed = (ceiling - origin).num_milliseconds();
                // Euclidean division, so an anchor in the future still gives a fire time on
                // the same phase.
                origin + Duration::milliseconds(elapsed.div_euclid(step) * step)
            }
        };
        match self.start_at {
            Some(start) if last < start => None,
            _ => Some(last),
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

    fn interval(secs: u64) -> Schedule {
        Schedule { cron: None, interval_secs: Some(secs), ..cron("", None) }
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// Every fire time in `(from, to]`, in UTC.
    fn fires(expr: &str, tz: &str, from: &str, to: &str) -> Vec<DateTime<Utc>> {
        let c = compile(&cron(expr, Some(tz))).unwrap();
        let (mut at, to) = (t(from), t(to));
        let mut out = Vec::new();
        while let Some(next) = c.next_after(at, at).filter(|n| *n <= to) {
            out.push(next);
            at = next;
        }
        out
    }

    fn utc(list: &[&str]) -> Vec<DateTime<Utc>> {
        list.iter().map(|s| t(s)).collect()
    }

    #[test]
    fn bad_schedules_name_the_problem() {
        assert_eq!(compile(&cron("61 * * * *", None)).unwrap_err().code(), "invalid_cron");
        assert_eq!(compile(&cron("* * * * *", Some("Mars/Base"))).unwrap_err().code(), "invalid_timezone");
        let mut both = cron("* * * * *", None);
        both.interval_secs = Some(5);
        assert_eq!(compile(&both).unwrap_err(), ScheduleError::Kind);
        assert_eq!(compile(&interval(0)).unwrap_err(), ScheduleError::Interval);
        let mut window = cron("* * * * *", None);
        window.start_at = Some(t("2026-01-02T00:00:00Z"));
        window.end_at = Some(t("2026-01-01T00:00:00Z"));
        assert_eq!(compile(&window).unwrap_err().code(), "invalid_schedule");
    }

    #[test]
    fn five_fields_six_with_seconds_and_nicknames() {
        let anchor = t("2026-01-01T00:00:00Z");
        let at = t("2026-01-10T10:00:00.250Z");
        let five = compile(&cron("*/5 * * * *", None)).unwrap();
        assert_eq!(five.next_after(at, anchor), Some(t("2026-01-10T10:05:00Z")));
        let six = compile(&cron("*/10 * * * * *", None)).unwrap();
        assert_eq!(six.next_after(at, anchor), Some(t("2026-01-10T10:00:10Z")));
        let daily = compile(&cron("@daily", None)).unwrap();
        assert_eq!(daily.next_after(at, anchor), Some(t("2026-01-11T00:00:00Z")));
        // Strictly after: a fire time is never returned again for itself.
        assert_eq!(five.next_after(t("2026-01-10T10:05:00Z"), anchor), Some(t("2026-01-10T10:10:00Z")));
        assert_eq!(
            five.last_at_or_before(t("2026-01-10T10:05:00Z"), anchor),
            Some(t("2026-01-10T10:05:00Z"))
        );
        assert_eq!(
            five.last_at_or_before(t("2026-01-10T10:04:59.999Z"), anchor),
            Some(t("2026-01-10T10:00:00Z"))
        );
    }

    #[test]
    fn cron_fires_in_its_time_zone() {
        let s = compile(&cron("0 3 * * *", Some("Europe/Berlin"))).unwrap();
        let anchor = t("2026-01-01T00:00:00Z");
        assert_eq!(s.next_after(t("2026-01-10T00:00:00Z"), anchor), Some(t("2026-01-10T02:00:00Z")));
        assert_eq!(s.next_after(t("2026-07-10T00:00:00Z"), anchor), Some(t("2026-07-10T01:00:00Z")));
        assert_eq!(s.last_at_or_before(t("2026-07-10T00:59:00Z"), anchor), Some(t("2026-07-09T01:00:00Z")));
    }

    #[test]
    fn spring_forward_in_berlin() {
        // 2026-03-29: 02:00 CET (01:00 UTC) becomes 03:00 CEST.
        let (from, to) = ("2026-03-28T23:00:00Z", "2026-03-29T03:00:00Z");
        // The fixed-time 02:30 does not exist that day: it runs at 03:00 CEST, once.
        assert_eq!(fires("30 2 * * *", "Europe/Berlin", from, to), utc(&["2026-03-29T01:00:00Z"]));
        // Hourly: 01:00 CET, then 03:00 CEST; every 60 minutes in absolute time.
        assert_eq!(
            fires("0 * * * *", "Europe/Berlin", from, to),
            utc(&[
                "2026-03-29T00:00:00Z",
                "2026-03-29T01:00:00Z",
                "2026-03-29T02:00:00Z",
                "2026-03-29T03:00:00Z"
            ])
        );
        // Every 15 minutes: 01:45 CET is followed by 03:00 CEST, 15 minutes later.
        let quarter = fires("*/15 * * * *", "Europe/Berlin", "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z");
        assert_eq!(
            quarter,
            utc(&[
                "2026-03-29T00:45:00Z",
                "2026-03-29T01:00:00Z",
                "2026-03-29T01:15:00Z",
                "2026-03-29T01:30:00Z"
            ])
        );
        // A wildcard pattern naming the missing hour loses that run.
        assert_eq!(
            fires("0 1-3 * * *", "Europe/Berlin", from, to),
            utc(&["2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z"])
        );
    }

    #[test]
    fn fall_back_in_berlin() {
        // 2026-10-25: 03:00 CEST (01:00 UTC) becomes 02:00 CET; 02:00-02:59 happens twice.
        let (from, to) = ("2026-10-24T21:00:00Z", "2026-10-25T03:00:00Z");
        // The fixed-time 02:30 runs once, at the first 02:30 (CEST).
        assert_eq!(fires("30 2 * * *", "Europe/Berlin", from, to), utc(&["2026-10-25T00:30:00Z"]));
        // Hourly: 02:00 CEST and 02:00 CET both run; every 60 minutes in absolute time.
        assert_eq!(
            fires("0 * * * *", "Europe/Berlin", "2026-10-24T22:30:00Z", to),
            utc(&[
                "2026-10-24T23:00:00Z",
                "2026-10-25T00:00:00Z",
                "2026-10-25T01:00:00Z",
                "2026-10-25T02:00:00Z",
                "2026-10-25T03:00:00Z"
            ])
        );
        // Every 15 minutes, through both passes of the repeated hour.
        let quarter = fires("*/15 * * * *", "Europe/Berlin", "2026-10-24T23:50:00Z", "2026-10-25T02:00:00Z");
        let expected: Vec<_> =
            (0..9).map(|k| t("2026-10-25T00:00:00Z") + Duration::minutes(15 * k)).collect();
        assert_eq!(quarter, expected);
        // A wildcard pattern naming the repeated hour runs in both passes.
        assert_eq!(
            fires("0 1-3 * * *", "Europe/Berlin", from, to),
            utc(&[
                "2026-10-24T23:00:00Z",
                "2026-10-25T00:00:00Z",
                "2026-10-25T01:00:00Z",
                "2026-10-25T02:00:00Z"
            ])
        );
        // Looking back from after the change finds the last run, as the scheduler does.
        let hourly = compile(&cron("0 * * * *", Some("Europe/Berlin"))).unwrap();
        assert_eq!(
            hourly.last_at_or_before(t("2026-10-25T01:30:00Z"), t(from)),
            Some(t("2026-10-25T01:00:00Z"))
        );
    }

    #[test]
    fn intervals_keep_their_phase_and_window() {
        let mut s = interval(10);
        s.end_at = Some(t("2026-01-01T00:00:30Z"));
        let c = compile(&s).unwrap();
        let anchor = t("2026-01-01T00:00:00Z");
        assert_eq!(c.next_after(t("2026-01-01T00:00:00Z"), anchor), Some(t("2026-01-01T00:00:10Z")));
        assert_eq!(c.next_after(t("2026-01-01T00:00:15Z"), anchor), Some(t("2026-01-01T00:00:20Z")));
        assert_eq!(c.next_after(t("2026-01-01T00:00:30Z"), anchor), None);
        assert_eq!(c.last_at_or_before(t("2026-01-01T00:00:15Z"), anchor), Some(t("2026-01-01T00:00:10Z")));
        assert_eq!(c.last_at_or_before(t("2026-01-01T00:05:00Z"), anchor), Some(t("2026-01-01T00:00:30Z")));
        // An anchor later than the time asked about keeps the same phase.
        let later = t("2026-01-01T00:01:00.500Z");
        assert_eq!(
            c.last_at_or_before(t("2026-01-01T00:00:15Z"), later),
            Some(t("2026-01-01T00:00:10.500Z"))
        );
    }

    #[test]
    fn start_at_is_the_first_possible_fire() {
        let mut s = cron("0 * * * *", None);
        s.start_at = Some(t("2026-01-01T05:00:00Z"));
        let c = compile(&s).unwrap();
        let anchor = t("2026-01-01T00:00:00Z");
        assert_eq!(c.next_after(t("2026-01-01T01:30:00Z"), anchor), Some(t("2026-01-01T05:00:00Z")));
        assert_eq!(c.last_at_or_before(t("2026-01-01T04:59:00Z"), anchor), None);
        let mut i = interval(60);
        i.start_at = Some(t("2026-01-01T05:00:00Z"));
        let c = compile(&i).unwrap();
        assert_eq!(c.next_after(t("2026-01-01T01:30:00Z"), anchor), Some(t("2026-01-01T05:00:00Z")));
        assert_eq!(c.next_after(t("2026-01-01T05:00:00Z"), anchor), Some(t("2026-01-01T05:01:00Z")));
    }
}
