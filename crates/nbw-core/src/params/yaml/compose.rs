//! PyYAML's composer: libyaml's events into a tree of nodes, anchors and aliases resolved.

use std::collections::HashMap;
use std::rc::Rc;

use super::libyaml;
use super::resolve::{Tag, resolve_plain};
use super::{MAX_DEPTH, syntax_error};
use crate::params::ParamError;

/// One composed YAML node. Aliases share the node they name.
pub(super) struct Node {
    pub(super) tag: Tag,
    /// Whether the tag was resolved from a plain scalar's text (for error hints).
    pub(super) implicit: bool,
    pub(super) content: Content,
    pub(super) mark: libyaml::Mark,
}

pub(super) enum Content {
    Scalar(String),
    Seq(Vec<Rc<Node>>),
    Map(Vec<Pair>),
}

/// A mapping's key and value.
pub(super) type Pair = (Rc<Node>, Rc<Node>);

impl Content {
    pub(super) fn describe(&self) -> &'static str {
        match self {
            Content::Scalar(_) => "a scalar",
            Content::Seq(_) => "a list",
            Content::Map(_) => "a mapping",
        }
    }
}

/// PyYAML's composer: libyaml's events into a node tree for a single document.
pub(super) struct Composer<'a> {
    parser: libyaml::Parser<'a>,
    /// Every anchor so far: its node, or `None` while its collection is still open, and where
    /// it was set.
    anchors: HashMap<String, (Option<Rc<Node>>, libyaml::Mark)>,
    /// How many nodes the text holds.
    nodes: usize,
}

impl<'a> Composer<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Composer { parser: libyaml::Parser::new(text), anchors: HashMap::new(), nodes: 0 }
    }

    fn next(&mut self) -> Result<(libyaml::Event, libyaml::Mark), ParamError> {
        self.parser.next_event().map_err(|err| ParamError::YamlSyntax {
            message: err.message,
            line: Some(err.mark.line),
            column: Some(err.mark.column),
        })
    }

    /// The root node and the number of nodes, or `None` for a stream without a document.
    pub(super) fn single_document(mut self) -> Result<Option<(Rc<Node>, usize)>, ParamError> {
        self.next()?; // the stream start
        if let (libyaml::Event::StreamEnd, _) = self.next()? {
            return Ok(None);
        }
        let (event, mark) = self.next()?;
        let root = self.node(event, mark, 0)?;
        self.next()?; // the document end
        match self.next()? {
            (libyaml::Event::StreamEnd, _) => Ok(Some((root, self.nodes))),
            (_, mark) => Err(syntax_error(
                "expected a single document in the stream, but found another document",
                mark,
            )),
        }
    }

    fn node(
        &mut self,
        event: libyaml::Event,
        mark: libyaml::Mark,
        depth: usize,
    ) -> Result<Rc<Node>, ParamError> {
        use libyaml::Event;

        if depth > MAX_DEPTH {
            return Err(syntax_error(format!("collections nest deeper than {MAX_DEPTH} levels"), mark));
        }
        self.nodes += 1;
        match event {
            Event::Alias(name) => match self.anchors.get(&name) {
                Some((Some(node), _)) => Ok(Rc::clone(node)),
                Some((None, _)) => Err(syntax_error(
                    format!(
                        "the alias *{name} is inside the collection it names, which no parameter can hold"
                    ),
                    mark,
                )),
                None => Err(syntax_error(format!("found undefined alias {name:?}"), mark)),
            },
            Event::Scalar { anchor, tag, value, plain_implicit } => {
                self.open(anchor.as_deref(), mark)?;
                // PyYAML resolves a plain scalar, or any scalar tagged with the bare `!`, from its
                // text; other untagged scalars are strings.
                let (tag, implicit) = match tag.as_deref() {
                    None | Some("!") if plain_implicit => (resolve_plain(&value), true),
                    None | Some("!") => (Tag::Str, false),
                    Some(tag) => (Tag::from_explicit(tag), false),
                };
                Ok(self.close(anchor, Node { tag, implicit, content: Content::Scalar(value), mark }))
            }
            Event::SequenceStart { anchor, tag } => {
                self.open(anchor.as_deref(), mark)?;
                let mut items = Vec::new();
                loop {
                    let (event, item_mark) = self.next()?;
                    if let Event::SequenceEnd = event {
                        break;
                    }
                    items.push(self.node(event, item_mark, depth + 1)?);
                }
                let tag = collection_tag(tag.as_deref(), Tag::Seq);
                Ok(self.close(anchor, Node { tag, implicit: false, content: Content::Seq(items), mark }))
            }
            Event::MappingStart { anchor, tag } => {
                self.open(anchor.as_deref(), mark)?;
                let mut pairs = Vec::new();
                loop {
                    let (event, key_mark) = self.next()?;
                    if let Event::MappingEnd = event {
                        break;
                    }
                    let key = self.node(event, key_mark, depth + 1)?;
                    let (event, value_mark) = self.next()?;
                    let value = self.node(event, value_mark, depth + 1)?;
                    pairs.push((key, value));
                }
                let tag = collection_tag(tag.as_deref(), Tag::Map);
                Ok(self.close(anchor, Node { tag, implicit: false, content: Content::Map(pairs), mark }))
            }
            _ => Err(syntax_error("the YAML parser produced an event out of place", mark)),
        }
    }

    /// Claims an anchor for a node that starts here; PyYAML refuses to set one twice.
    fn open(&mut self, anchor: Option<&str>, mark: libyaml::Mark) -> Result<(), ParamError> {
        let Some(name) = anchor else {
            return Ok(());
        };
        if let Some((_, first)) = self.anchors.get(name) {
            return Err(syntax_error(
                format!(
                    "found duplicate anchor {name:?}; first occurrence at line {} column {}, second occurrence",
                    first.line, first.column
                ),
                mark,
            ));
        }
        self.anchors.insert(name.to_owned(), (None, mark));
        Ok(())
    }

    fn close(&mut self, anchor: Option<String>, node: Node) -> Rc<Node> {
        let node = Rc::new(node);
        if let Some(name) = anchor {
            let mark = node.mark;
            self.anchors.insert(name, (Some(Rc::clone(&node)), mark));
        }
        node
    }
}

fn collection_tag(tag: Option<&str>, default: Tag) -> Tag {
    match tag {
        None | Some("!") => default,
        Some(tag) => Tag::from_explicit(tag),
    }
}
