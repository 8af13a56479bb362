//! The engine's progress streams as log lines: build output arrives in chunks that cut lines
//! anywhere, so text is passed on a whole line at a time; the last lines are kept, because a
//! failed build's own error says only which command failed, not why.

use std::collections::VecDeque;

/// How many lines of output a failure message quotes.
const KEPT: usize = 20;

/// Lines passed to a log as they complete.
pub(crate) struct Lines<'a> {
    log: &'a mut (dyn FnMut(&str) + Send),
    partial: String,
    last: VecDeque<String>,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(log: &'a mut (dyn FnMut(&str) + Send)) -> Lines<'a> {
        Lines { log, partial: String::new(), last: VecDeque::with_capacity(KEPT) }
    }

    /// A chunk of output, which may end in the middle of a line.
    pub(crate) fn text(&mut self, chunk: &str) {
        self.partial.push_str(chunk);
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            self.line(&line);
        }
    }

    /// A whole line (a status message); a repeat of the line before is dropped, as progress
    /// messages repeat themselves.
    pub(crate) fn line(&mut self, line: &str) {
        let line = line.trim_end();
        if line.is_empty() || self.last.back().is_some_and(|last| last == line) {
            return;
        }
        (self.log)(line);
        if self.last.len() == KEPT {
            self.last.pop_front();
        }
        self.last.push_back(line.to_owned());
    }

    /// Passes on what is left of an unfinished line.
    pub(crate) fn finish(&mut self) {
        let rest = std::mem::take(&mut self.partial);
        self.line(&rest);
    }

    /// The engine's `error`, followed by the last lines of output.
    pub(crate) fn failure(mut self, error: &str) -> String {
        self.finish();
        let mut message = error.trim().to_owned();
        if !self.last.is_empty() {
            message.push_str("\nlast lines of output:");
            for line in &self.last {
                message.push_str("\n  ");
                message.push_str(line);
            }
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_become_lines_and_failures_quote_the_last_ones() {
        let mut seen = Vec::new();
        let mut log = |line: &str| seen.push(line.to_owned());
        let mut lines = Lines::new(&mut log);
        lines.text("Step 1/2 : RUN x\n ---> Run");
        lines.text("ning in abc\nout");
        lines.line("status");
        lines.line("status");
        for i in 0..30 {
            lines.text(&format!("line {i}\n"));
        }
        lines.text("partial");
        let message = lines.failure("the command returned 3\n");
        assert!(
            message.starts_with("the command returned 3\nlast lines of output:\n  line 11\n"),
            "{message}"
        );
        assert!(message.ends_with("line 29\n  partial"), "{message}");
        assert_eq!(&seen[..4], ["Step 1/2 : RUN x", " ---> Running in abc", "status", "outline 0"]);
    }
}
