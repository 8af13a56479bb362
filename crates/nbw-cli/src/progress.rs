//! What a person sees while `nbw run` works: a progress bar over the code cells on a terminal,
//! and with `--log-output` the cells' output on standard error as it comes.

use std::io::Write;

use indicatif::{ProgressBar, ProgressStyle};
use nbw_engine::{Event, EventRecord};
use serde_json::Value;

/// Turns a run's events into terminal output.
pub struct Reporter {
    bar: Option<ProgressBar>,
    log_output: bool,
}

impl Reporter {
    /// `progress` asks for a bar (shown only when standard error is a terminal).
    pub fn new(progress: bool, log_output: bool) -> Self {
        let bar = progress.then(|| {
            // indicatif draws nothing when standard error is not a terminal.
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("Executing {bar:30} {pos}/{len} cells [{elapsed}] {msg}")
                    .expect("a valid template"),
            );
            bar
        });
        Reporter { bar, log_output }
    }

    /// Shows one event.
    pub fn show(&mut self, record: &EventRecord) {
        match &record.event {
            Event::RunStart { code_cells, kernel, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(*code_cells as u64);
                    bar.set_message(kernel.clone());
                }
            }
            Event::CellStart { cell, ordinal } if self.log_output => {
                self.print(&format!("--- cell {cell} ({ordinal}) ---\n"));
            }
            Event::Output { output, .. } if self.log_output => {
                if let Some(text) = output_text(output) {
                    self.print(&text);
                }
            }
            Event::CellEnd { .. } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            _ => {}
        }
    }

    fn print(&self, text: &str) {
        let write = || {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes());
            let _ = err.flush();
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Removes the bar.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// The readable text of an output: stream text, `text/plain`, or the traceback.
fn output_text(output: &Value) -> Option<String> {
    let mut text = match output["output_type"].as_str()? {
        "stream" => output["text"].as_str()?.to_owned(),
        "error" => {
            output["traceback"].as_array()?.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n")
        }
        _ => output.pointer("/data/text~1plain")?.as_str()?.to_owned(),
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Some(text)
}
