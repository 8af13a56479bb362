//! Where each value of a YAML text sits, for the problems found after parsing.

use std::collections::HashMap;

/// The line and column of every key and value of a YAML text, by path (`workflows.x.notebook`,
/// list items by index), from yaml-rust2's parser events.
pub(super) struct Places {
    at: HashMap<Vec<String>, (usize, usize)>,
}

impl Places {
    pub(super) fn index(text: &str) -> Places {
        let mut builder = PlacesBuilder { at: HashMap::new(), stack: Vec::new() };
        // The text parsed with serde_yaml already; a failure here only means fewer places.
        let _ = yaml_rust2::parser::Parser::new_from_str(text).load(&mut builder, false);
        Places { at: builder.at }
    }

    /// The place of `path`, or of its nearest ancestor that has one.
    pub(super) fn find(&self, path: &[&str]) -> (Option<usize>, Option<usize>) {
        for len in (0..=path.len()).rev() {
            let key: Vec<String> = path[..len].iter().map(ToString::to_string).collect();
            if let Some((line, column)) = self.at.get(&key) {
                return (Some(*line), Some(*column));
            }
        }
        (None, None)
    }
}

enum Frame {
    /// In a mapping: the path to it, and the key waiting for its value (if any).
    Map(Vec<String>, Option<String>),
    /// In a sequence: the path to it and the next index.
    Seq(Vec<String>, usize),
}

struct PlacesBuilder {
    at: HashMap<Vec<String>, (usize, usize)>,
    stack: Vec<Frame>,
}

impl PlacesBuilder {
    /// The path of the node starting now, advancing the parent's state.
    fn next_path(&mut self, scalar: Option<&str>) -> Option<Vec<String>> {
        match self.stack.last_mut() {
            None => Some(Vec::new()),
            Some(Frame::Seq(path, index)) => {
                let mut child = path.clone();
                child.push(index.to_string());
                *index += 1;
                Some(child)
            }
            Some(Frame::Map(path, pending)) => match pending.take() {
                Some(key) => {
                    let mut child = path.clone();
                    child.push(key);
                    Some(child)
                }
                None => {
                    // A key: remembered, and its place kept for errors about the entry itself
                    // (until the value's place replaces it).
                    let key = scalar.unwrap_or("?").to_owned();
                    *pending = Some(key);
                    None
                }
            },
        }
    }
}

impl yaml_rust2::parser::MarkedEventReceiver for PlacesBuilder {
    fn on_event(&mut self, event: yaml_rust2::Event, mark: yaml_rust2::scanner::Marker) {
        use yaml_rust2::Event;
        let place = (mark.line(), mark.col() + 1);
        match event {
            Event::Scalar(value, ..) => {
                let is_key = matches!(self.stack.last(), Some(Frame::Map(_, None)));
                if is_key {
                    if let Some(Frame::Map(path, _)) = self.stack.last() {
                        let mut child = path.clone();
                        child.push(value.clone());
                        self.at.insert(child, place);
                    }
                    self.next_path(Some(&value));
                } else if let Some(path) = self.next_path(None) {
                    self.at.insert(path, place);
                }
            }
            Event::Alias(_) => {
                if let Some(path) = self.next_path(None) {
                    self.at.insert(path, place);
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let path = self.next_path(None).unwrap_or_default();
                // A collection's own place is where its key is, when it has one (a block
                // mapping starts on the next line); that place is already recorded.
                self.at.entry(path.clone()).or_insert(place);
                if matches!(event, Event::MappingStart(..)) {
                    self.stack.push(Frame::Map(path, None));
                } else {
                    self.stack.push(Frame::Seq(path, 0));
                }
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}
