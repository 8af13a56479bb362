//! Times, durations and schedules in the words a person reads: "every day at 06:00
//! Europe/Madrid", "every 5 minutes", "3 min 12 s", "2026-12-05 06:00 UTC".

use chrono::{DateTime, Utc};
use nbw_core::api::Schedule;

use crate::db::to_time;

/// A time as `2026-12-05 06:00:03 UTC`.
pub fn time(ms: i64) -> String {
    to_time(ms).format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An optional time, or a dash.
pub fn time_opt(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| time(t.timestamp_millis())).unwrap_or_else(|| "—".to_owned())
}

/// A duration: `850 ms`, `12.4 s`, `3 min 12 s`, `2 h 5 min`.
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
        _ => format!("{} h {} min", ms / 3_600_000, (ms % 3_600_000) / 60_000),
    }
}

/// A size: `512 B`, `3.4 KiB`, `12.0 MiB`, `1.2 GiB`.
pub fn bytes(size: i64) -> String {
    let size = size.max(0) as f64;
    match size {
        s if s < 1024.0 => format!("{s} B"),
        s if s < 1024.0 * 1024.0 => format!("{:.1} KiB", s / 1024.0),
        s if s < 1024.0 * 1024.0 * 1024.0 => format!("{:.1} MiB", s / (1024.0 * 1024.0)),
        s => format!("{:.1} GiB", s / (1024.0 * 1024.0 * 1024.0)),
    }
}

/// A schedule: interval or cron, in words, with its time zone; cron expressions that do not
/// read as a sentence are shown as they are.
pub fn schedule(schedule: &Schedule) -> String {
    let zone = schedule.timezone.as_deref().unwrap_or("UTC");
    match (&schedule.cron, schedule.interval_secs) {
        (Some(cron), _) => {
            cron_words(cron.trim()).map_or_else(|| format!("cron {cron} ({zone})"), |w| format!("{w} {zone}"))
        }
        (None, Some(secs)) => every(secs),
        (None, None) => "not scheduled".to_owned(),
    }
}

fn every(secs: u64) -> String {
    let unit = |n: u64, one: &str| if n == 1 { format!("every {one}") } else { format!("every {n} {one}s") };
    match secs {
        s if s % 86_400 == 0 => unit(s / 86_400, "day"),
        s if s % 3600 == 0 => unit(s / 3600, "hour"),
        s if s % 60 == 0 => unit(s / 60, "minute"),
        s => unit(s, "second"),
    }
}

const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// The common cron shapes in words, without the zone; `None` for the rest.
fn cron_words(cron: &str) -> Option<String> {
    let named = match cron {
        "@hourly" => Some("every hour at :00"),
        "@daily" | "@midnight" => Some("every day at 00:00"),
        "@weekly" => Some("every Sunday at 00:00"),
        "@monthly" => Some("on day 1 of every month at 00:00"),
        _ => None,
    };
    if let Some(words) = named {
        return Some(words.to_owned());
    }
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let [minute, hour, dom, month, dow] = fields.as_slice() else { return None };
    if *month != "*" {
        return None;
    }
    if let Some(step) = minute.strip_prefix("*/") {
        let minutes: u64 = step.parse().ok()?;
        return (*hour == "*" && *dom == "*" && *dow == "*").then(|| every(minutes * 60));
    }
    let minute: u32 = minute.parse().ok().filter(|m| *m < 60)?;
    if *hour == "*" {
        return (*dom == "*" && *dow == "*").then(|| format!("every hour at :{minute:02}"));
    }
    let hour: u32 = hour.parse().ok().filter(|h| *h < 24)?;
    let at = format!("at {hour:02}:{minute:02}");
    match (*dom, *dow) {
        ("*", "*") => Some(format!("every day {at}")),
        ("*", "1-5" | "MON-FRI" | "mon-fri") => Some(format!("every weekday {at}")),
        ("*", day) => {
            let day: usize = day.parse().ok().filter(|d| *d <= 7)?;
            Some(format!("every {} {at}", DAYS[day % 7]))
        }
        (dom, "*") => Some(format!("on day {} of every month {at}", dom.parse::<u32>().ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cron(expr: &str, zone: Option<&str>) -> String {
        schedule(&Schedule {
            cron: Some(expr.into()),
            timezone: zone.map(str::to_owned),
            interval_secs: None,
            start_at: None,
            end_at: None,
            misfire: Default::default(),
        })
    }

    #[test]
    fn schedules_read_as_sentences() {
        assert_eq!(cron("0 6 * * *", Some("Europe/Madrid")), "every day at 06:00 Europe/Madrid");
        assert_eq!(cron("*/5 * * * *", None), "every 5 minutes UTC");
        assert_eq!(cron("30 8 * * 1-5", None), "every weekday at 08:30 UTC");
        assert_eq!(cron("0 9 * * 1", None), "every Monday at 09:00 UTC");
        assert_eq!(cron("15 * * * *", None), "every hour at :15 UTC");
        assert_eq!(cron("0 2 1 * *", None), "on day 1 of every month at 02:00 UTC");
        assert_eq!(cron("0 6 * 1 *", None), "cron 0 6 * 1 * (UTC)");
        assert_eq!(every(300), "every 5 minutes");
        assert_eq!(every(86_400), "every day");
        assert_eq!(every(45), "every 45 seconds");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(12_400), "12.4 s");
        assert_eq!(duration(192_000), "3 min 12 s");
        assert_eq!(duration(7_500_000), "2 h 5 min");
    }

    #[test]
    fn sizes_pick_their_unit() {
        assert_eq!(bytes(300), "300 B");
        assert_eq!(bytes(3_500), "3.4 KiB");
        assert_eq!(bytes(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024 / 2), "1.5 GiB");
    }
}
