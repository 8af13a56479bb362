//! ANSI SGR colour codes (IPython tracebacks, coloured logs) turned into escaped HTML spans.
//!
//! Hand-written rather than a crate: the 16 colours and bold cover what kernels print, and every
//! text run goes through [`escape_into`] so an escape sequence can never smuggle markup.

use crate::escape::escape_into;

#[derive(Clone, Copy, Default, PartialEq)]
struct Style {
    fg: Option<u8>,
    bg: Option<u8>,
    bold: bool,
}

impl Style {
    fn apply(&mut self, params: &str) {
        let mut codes = params.split(';').map(|p| p.parse::<u16>().unwrap_or(0));
        while let Some(code) = codes.next() {
            match code {
                0 => *self = Style::default(),
                1 => self.bold = true,
                22 => self.bold = false,
                30..=37 => self.fg = Some((code - 30) as u8),
                39 => self.fg = None,
                40..=47 => self.bg = Some((code - 40) as u8),
                49 => self.bg = None,
                90..=97 => self.fg = Some((code - 90 + 8) as u8),
                100..=107 => self.bg = Some((code - 100 + 8) as u8),
                // 256-colour and true-colour forms: their arguments are skipped, the colour dropped,
                // so the remaining codes are not misread as styles.
                38 | 48 => match codes.next() {
                    Some(5) => {
                        codes.next();
                    }
                    Some(2) => {
                        codes.nth(2);
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }

    fn open_tag(&self, out: &mut String) {
        out.push_str("<span class=\"");
        let mut classes = Vec::with_capacity(3);
        if let Some(fg) = self.fg {
            classes.push(format!("ansi-fg{fg}"));
        }
        if let Some(bg) = self.bg {
            classes.push(format!("ansi-bg{bg}"));
        }
        if self.bold {
            classes.push("ansi-bold".to_owned());
        }
        out.push_str(&classes.join(" "));
        out.push_str("\">");
    }
}

/// `text` escaped, with SGR sequences as `<span class="ansi-fgN ansi-bgN ansi-bold">`; other
/// escape sequences (cursor moves, titles) are dropped.
pub(crate) fn ansi_to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut style = Style::default();
    let mut rest = text;
    while let Some(esc) = rest.find('\x1b') {
        push_run(&rest[..esc], style, &mut out);
        let (params, final_byte, after) = parse_escape(&rest[esc + 1..]);
        if final_byte == Some('m') {
            style.apply(params);
        }
        rest = after;
    }
    push_run(rest, style, &mut out);
    out
}

fn push_run(run: &str, style: Style, out: &mut String) {
    if run.is_empty() {
        return;
    }
    if style == Style::default() {
        escape_into(run, out);
        return;
    }
    style.open_tag(out);
    escape_into(run, out);
    out.push_str("</span>");
}

/// Splits a CSI sequence (after the ESC) into its parameters, final byte and the text after it.
fn parse_escape(s: &str) -> (&str, Option<char>, &str) {
    let Some(body) = s.strip_prefix('[') else {
        // A lone ESC or a non-CSI sequence: drop the ESC and its next character.
        let skip = s.chars().next().map_or(0, char::len_utf8);
        return ("", None, &s[skip..]);
    };
    match body.find(|c: char| ('@'..='~').contains(&c)) {
        Some(end) => {
            let final_byte = body[end..].chars().next();
            (&body[..end], final_byte, &body[end + 1..])
        }
        None => ("", None, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_become_spans_and_text_is_escaped() {
        let html = ansi_to_html("\x1b[0;31mZeroDivisionError\x1b[0m: <b>\x1b[1;32mok");
        assert_eq!(
            html,
            "<span class=\"ansi-fg1\">ZeroDivisionError</span>: &lt;b&gt;<span class=\"ansi-fg2 ansi-bold\">ok</span>"
        );
    }

    #[test]
    fn extended_colours_and_other_sequences_are_dropped() {
        assert_eq!(ansi_to_html("\x1b[38;5;208ma\x1b[2Kb\x1b]"), "ab");
        assert_eq!(ansi_to_html("\x1b[31"), "");
    }
}
