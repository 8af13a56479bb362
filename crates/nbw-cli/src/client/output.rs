//! How the client commands print: `-o table` (for people, the default), `-o json` and `-o yaml`
//! (for scripts: the API's own objects), colours only on a terminal and never with `NO_COLOR`
//! (the `console` crate checks both), and progress bars on standard error only when it is a
//! terminal.

use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::ValueEnum;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use console::{StyledObject, style};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nbw_core::api::ExecutionState;
use serde::Serialize;

/// `-o`: how data is printed.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// A table for people.
    #[default]
    Table,
    /// JSON: the API's objects.
    Json,
    /// YAML: the API's objects.
    Yaml,
}

/// Prints `value` as JSON or YAML, or calls `table` for the table form.
pub fn print<T: Serialize + ?Sized>(format: Format, value: &T, table: impl FnOnce() -> String) {
    match format {
        Format::Table => {
            let text = table();
            if !text.is_empty() {
                println!("{}", text.trim_end_matches('\n'));
            }
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(value).expect("values serialize")),
        Format::Yaml => print!("{}", serde_yaml::to_string(value).expect("values serialize")),
    }
}

/// A table with a header.
pub fn table<const N: usize>(header: [&str; N]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(header);
    table
}

/// A state, coloured by how it ended.
pub fn state(state: ExecutionState) -> StyledObject<&'static str> {
    let text = state.as_str();
    match state {
        ExecutionState::Succeeded => style(text).green(),
        ExecutionState::Failed | ExecutionState::Lost | ExecutionState::Expired => style(text).red(),
        ExecutionState::TimedOut | ExecutionState::Cancelled => style(text).yellow(),
        ExecutionState::Queued | ExecutionState::Running => style(text).cyan(),
    }
}

/// A table cell with a state, coloured like [`state`] (comfy-table measures plain text, so the
/// colour goes through the cell, not through escape codes in the text).
pub fn state_cell(state: ExecutionState) -> comfy_table::Cell {
    use comfy_table::Color;
    let cell = comfy_table::Cell::new(state.as_str());
    if !console::colors_enabled() {
        return cell;
    }
    match state {
        ExecutionState::Succeeded => cell.fg(Color::Green),
        ExecutionState::Failed | ExecutionState::Lost | ExecutionState::Expired => cell.fg(Color::Red),
        ExecutionState::TimedOut | ExecutionState::Cancelled => cell.fg(Color::Yellow),
        ExecutionState::Queued | ExecutionState::Running => cell.fg(Color::Cyan),
    }
}

/// "3 minutes ago", "in 2 hours".
pub fn ago(time: DateTime<Utc>) -> String {
    let delta = Utc::now().signed_duration_since(time);
    let (secs, future) =
        if delta.num_seconds() >= 0 { (delta.num_seconds(), false) } else { (-delta.num_seconds(), true) };
    let text = match secs {
        0..=4 => return if future { "now".into() } else { "just now".into() },
        5..=59 => format!("{secs} seconds"),
        60..=3599 => plural(secs / 60, "minute"),
        3600..=86_399 => plural(secs / 3600, "hour"),
        _ => plural(secs / 86_400, "day"),
    };
    if future { format!("in {text}") } else { format!("{text} ago") }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") }
}

/// "1.2s", "3m 4s".
pub fn duration_ms(ms: f64) -> String {
    if ms < 1000.0 {
        return format!("{ms:.0}ms");
    }
    if ms < 60_000.0 {
        return format!("{:.1}s", ms / 1000.0);
    }
    let secs = (ms / 1000.0).round() as u64;
    humantime::format_duration(Duration::from_secs(secs)).to_string()
}

/// "1.4 MB".
pub fn bytes(n: u64) -> String {
    indicatif::HumanBytes(n).to_string()
}

/// The first 12 hex digits of an image id (`sha256:...`) or a digest, as `docker images` shows
/// them.
pub fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.get(..12).unwrap_or(hex)
}

/// A short, one-line JSON of a value, cut at `max` characters.
pub fn short_json(value: &serde_json::Value, max: usize) -> String {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        other => other.to_string(),
    };
    if text.chars().count() > max {
        format!("{}…", text.chars().take(max.saturating_sub(1)).collect::<String>())
    } else {
        text
    }
}

/// A progress bar or spinner on standard error, cleared when dropped (also when the command
/// fails half-way), drawn only on a terminal.
pub struct Bar(pub ProgressBar);

impl Bar {
    /// A bar over `total` bytes.
    pub fn bytes(total: u64, message: &str) -> Bar {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
                .expect("a valid template"),
        );
        bar.set_message(message.to_owned());
        Bar(bar)
    }

    /// A spinner with a message and the time spent.
    pub fn spinner(message: &str) -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("a valid template"));
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Bar(bar)
    }

    /// A bar over `total` cells.
    pub fn cells(total: u64, message: &str) -> Bar {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} cells [{elapsed}]")
                .expect("a valid template"),
        );
        bar.set_message(message.to_owned());
        Bar(bar)
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// `✔`/`✘` marks, plain on a terminal without colours.
pub fn ok_mark() -> StyledObject<&'static str> {
    style("✔").green()
}

/// A failure mark.
pub fn fail_mark() -> StyledObject<&'static str> {
    style("✘").red()
}
