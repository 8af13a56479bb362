//! A safe reader of libyaml's events. libyaml (here `unsafe-libyaml`, its translation to Rust,
//! which serde_yaml also uses) is the C twin of PyYAML's pure-Python parser: both accept the
//! same YAML and report the same events, with the scalar styles and tags that resolving scalars
//! as PyYAML does needs.

use std::ffi::CStr;
use std::fmt::Write as _;
use std::mem::MaybeUninit;

/// A 1-based place in the text.
#[derive(Debug, Clone, Copy)]
pub(super) struct Mark {
    pub(super) line: usize,
    pub(super) column: usize,
}

impl Mark {
    fn from_sys(mark: unsafe_libyaml::yaml_mark_t) -> Mark {
        Mark { line: mark.line as usize + 1, column: mark.column as usize + 1 }
    }
}

pub(super) enum Event {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias(String),
    Scalar {
        anchor: Option<String>,
        tag: Option<String>,
        value: String,
        /// A plain scalar without a tag, or any scalar with the bare `!` tag: resolved from
        /// its text.
        plain_implicit: bool,
    },
    SequenceStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    SequenceEnd,
    MappingStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    MappingEnd,
}

/// libyaml's error, worded as serde_yaml words it.
pub(super) struct Error {
    pub(super) message: String,
    pub(super) mark: Mark,
}

pub(super) struct Parser<'input> {
    /// libyaml reads this text through a raw pointer for as long as the parser lives.
    text: &'input str,
    sys: Box<MaybeUninit<unsafe_libyaml::yaml_parser_t>>,
}

impl<'input> Parser<'input> {
    pub(super) fn new(text: &'input str) -> Self {
        let mut sys = Box::new(MaybeUninit::<unsafe_libyaml::yaml_parser_t>::uninit());
        let parser = sys.as_mut_ptr();
        // SAFETY: `parser` is valid for writes of a yaml_parser_t, which
        // yaml_parser_initialize zeroes and sets up; unsafe-libyaml aborts rather than fail
        // to allocate, so it succeeds. The input is `text`, which outlives the parser.
        unsafe {
            assert!(unsafe_libyaml::yaml_parser_initialize(parser).ok, "libyaml could not set up a parser");
            unsafe_libyaml::yaml_parser_set_encoding(parser, unsafe_libyaml::YAML_UTF8_ENCODING);
            unsafe_libyaml::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as u64);
        }
        Parser { text, sys }
    }

    /// The next event and where it starts. After an error or the stream's end there is
    /// nothing more to read.
    pub(super) fn next_event(&mut self) -> Result<(Event, Mark), Error> {
        let parser = self.sys.as_mut_ptr();
        let mut event = MaybeUninit::<unsafe_libyaml::yaml_event_t>::uninit();
        // SAFETY: the parser was set up in `new` and its input is alive. When
        // yaml_parser_parse succeeds it has written an event, which is read by its type,
        // copied out and then freed exactly once.
        unsafe {
            if (&*parser).error != unsafe_libyaml::YAML_NO_ERROR
                || unsafe_libyaml::yaml_parser_parse(parser, event.as_mut_ptr()).fail
            {
                return Err(self.error());
            }
            let event = event.as_mut_ptr();
            let converted = convert(&*event);
            let mark = Mark::from_sys((*event).start_mark);
            unsafe_libyaml::yaml_event_delete(event);
            Ok((converted, mark))
        }
    }

    fn error(&self) -> Error {
        // SAFETY: the parser was set up in `new`, so it is initialised.
        let parser = unsafe { &*self.sys.as_ptr() };
        // SAFETY: `problem` is null or points to a static NUL-terminated message.
        let problem = unsafe { owned(parser.problem.cast()) }
            .unwrap_or_else(|| "the YAML parser failed without saying why".to_owned());
        // SAFETY: `context` is null or points to a static NUL-terminated message.
        let context = unsafe { owned(parser.context.cast()) };
        // A reader error (a character YAML does not allow) only knows its byte offset.
        let mark = if parser.error == unsafe_libyaml::YAML_READER_ERROR {
            self.mark_at(parser.problem_offset as usize)
        } else {
            Mark::from_sys(parser.problem_mark)
        };
        let mut message = format!("{problem} at line {} column {}", mark.line, mark.column);
        if let Some(context) = context {
            let _ = write!(message, ", {context}");
            let context_mark = Mark::from_sys(parser.context_mark);
            if (context_mark.line, context_mark.column) != (mark.line, mark.column) {
                let _ = write!(message, " at line {} column {}", context_mark.line, context_mark.column);
            }
        }
        Error { message, mark }
    }

    fn mark_at(&self, offset: usize) -> Mark {
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line_start = before.rfind('\n').map_or(0, |at| at + 1);
        Mark { line: before.matches('\n').count() + 1, column: before[line_start..].chars().count() + 1 }
    }
}

impl Drop for Parser<'_> {
    fn drop(&mut self) {
        // SAFETY: the parser was set up in `new` and is deleted only here.
        unsafe { unsafe_libyaml::yaml_parser_delete(self.sys.as_mut_ptr()) }
    }
}

/// # Safety
///
/// `text` is null or a NUL-terminated string.
unsafe fn owned(text: *const std::ffi::c_char) -> Option<String> {
    // SAFETY: as the caller promises.
    (!text.is_null()).then(|| unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned())
}

/// # Safety
///
/// `event` was written by a successful yaml_parser_parse.
unsafe fn convert(event: &unsafe_libyaml::yaml_event_t) -> Event {
    // SAFETY: the union field read is the one the event's type says is set, and its
    // pointers are null or valid as libyaml documents them.
    unsafe {
        match event.type_ {
            unsafe_libyaml::YAML_STREAM_START_EVENT => Event::StreamStart,
            unsafe_libyaml::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
            unsafe_libyaml::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
            unsafe_libyaml::YAML_ALIAS_EVENT => {
                Event::Alias(owned(event.data.alias.anchor.cast()).unwrap_or_default())
            }
            unsafe_libyaml::YAML_SCALAR_EVENT => {
                let scalar = event.data.scalar;
                let bytes = if scalar.value.is_null() || scalar.length == 0 {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(scalar.value, scalar.length as usize)
                };
                Event::Scalar {
                    anchor: owned(scalar.anchor.cast()),
                    tag: owned(scalar.tag.cast()),
                    value: String::from_utf8_lossy(bytes).into_owned(),
                    plain_implicit: scalar.plain_implicit,
                }
            }
            unsafe_libyaml::YAML_SEQUENCE_START_EVENT => Event::SequenceStart {
                anchor: owned(event.data.sequence_start.anchor.cast()),
                tag: owned(event.data.sequence_start.tag.cast()),
            },
            unsafe_libyaml::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
            unsafe_libyaml::YAML_MAPPING_START_EVENT => Event::MappingStart {
                anchor: owned(event.data.mapping_start.anchor.cast()),
                tag: owned(event.data.mapping_start.tag.cast()),
            },
            unsafe_libyaml::YAML_MAPPING_END_EVENT => Event::MappingEnd,
            // YAML_STREAM_END_EVENT, and YAML_NO_EVENT once the stream has ended.
            _ => Event::StreamEnd,
        }
    }
}
