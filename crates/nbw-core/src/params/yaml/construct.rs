//! PyYAML's `SafeConstructor`: a node tree into parameter values, merge keys flattened.

use std::collections::HashSet;
use std::rc::Rc;

use super::compose::{Content, Node, Pair};
use super::resolve::Tag;
use super::scalar::{yaml_float, yaml_int};
use super::{MAX_DEPTH, child_path, show_key, shown_path, syntax_error};
use crate::params::value::insert_entry;
use crate::params::{ParamError, ParamValue};

/// PyYAML's `SafeConstructor`: a node tree into a value.
pub(super) struct Constructor {
    /// How many more values and merged pairs may be built.
    pub(super) budget: usize,
}

/// Which merged keys PyYAML's `flatten_mapping` takes for the same key and keeps only the first
/// of: those whose node text is the same object (`id(key_node.value)`). That is the same node (an
/// alias) or, through CPython's cache of empty and one-character Latin-1 strings, the same text
/// when it is that short. So `<<: [*a, *b]` keeps `a`'s value for a key `x` but `b`'s for a key
/// `xy`, which the mapping then takes last.
#[derive(PartialEq, Eq, Hash)]
enum MergeIdentity {
    Text(String),
    Node(*const Node),
}

fn merge_identity(key: &Rc<Node>) -> MergeIdentity {
    match &key.content {
        Content::Scalar(text) if text.chars().count() <= 1 && text.chars().all(|c| u32::from(c) < 256) => {
            MergeIdentity::Text(text.clone())
        }
        _ => MergeIdentity::Node(Rc::as_ptr(key)),
    }
}

impl Constructor {
    fn spend(&mut self, node: &Node) -> Result<(), ParamError> {
        self.budget = self.budget.checked_sub(1).ok_or_else(|| {
            syntax_error(
                "aliases and merge keys repeat so much that the parameters would be too large",
                node.mark,
            )
        })?;
        Ok(())
    }

    fn bad_value(node: &Node, path: &str, problem: String) -> ParamError {
        ParamError::BadValue {
            path: shown_path(path),
            line: node.mark.line,
            column: node.mark.column,
            problem,
        }
    }

    pub(super) fn construct(
        &mut self,
        node: &Rc<Node>,
        path: &str,
        depth: usize,
    ) -> Result<ParamValue, ParamError> {
        self.spend(node)?;
        if depth > MAX_DEPTH {
            return Err(syntax_error(
                format!("collections nest deeper than {MAX_DEPTH} levels through aliases"),
                node.mark,
            ));
        }
        match (&node.tag, &node.content) {
            (Tag::Other(tag), _) => {
                Err(ParamError::UnsupportedTag { tag: tag.clone(), path: shown_path(path) })
            }
            (Tag::Seq, Content::Seq(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.construct(item, &format!("{path}[{i}]"), depth + 1))
                .collect::<Result<_, _>>()
                .map(ParamValue::List),
            (Tag::Map, Content::Map(_)) => self.mapping(node, path, depth).map(ParamValue::Dict),
            (Tag::Seq | Tag::Map, _) | (_, Content::Seq(_) | Content::Map(_)) => Err(Self::bad_value(
                node,
                path,
                format!("is {}, which its tag {} does not fit", node.content.describe(), node.tag.shown()),
            )),
            (_, Content::Scalar(text)) => Self::scalar(node, text, path),
        }
    }

    /// PyYAML's scalar constructors.
    fn scalar(node: &Node, text: &str, path: &str) -> Result<ParamValue, ParamError> {
        let unreadable = |what: &str| {
            let hint = if node.implicit {
                format!("; YAML 1.1, which papermill reads, makes this plain scalar {what}, so quote it")
            } else {
                String::new()
            };
            Self::bad_value(node, path, format!("{text:?} cannot be read as {what}{hint}"))
        };
        match node.tag {
            Tag::Str => Ok(ParamValue::Str(text.to_owned())),
            Tag::Null => Ok(ParamValue::None),
            Tag::Bool => match text.to_lowercase().as_str() {
                "yes" | "true" | "on" => Ok(ParamValue::Bool(true)),
                "no" | "false" | "off" => Ok(ParamValue::Bool(false)),
                _ => Err(unreadable("a boolean (yes, no, true, false, on or off)")),
            },
            Tag::Int => yaml_int(text).map(ParamValue::Int).ok_or_else(|| unreadable("an integer")),
            Tag::Float => yaml_float(text).map(ParamValue::Float).ok_or_else(|| unreadable("a float")),
            Tag::Merge => Err(Self::bad_value(
                node,
                path,
                "is a plain \"<<\", which YAML 1.1 keeps for merge keys; quote it to mean the string"
                    .to_owned(),
            )),
            Tag::Value => Err(Self::bad_value(
                node,
                path,
                "is a plain \"=\", which YAML 1.1 keeps for its value key; quote it to mean the string"
                    .to_owned(),
            )),
            Tag::Yaml | Tag::Seq | Tag::Map | Tag::Other(_) => Err(Self::bad_value(
                node,
                path,
                format!("{text:?} has the tag {}, which has no value here", node.tag.shown()),
            )),
        }
    }

    fn mapping(
        &mut self,
        node: &Node,
        path: &str,
        depth: usize,
    ) -> Result<Vec<(String, ParamValue)>, ParamError> {
        let mut entries = Vec::new();
        for (key, value) in self.flatten(node, path, depth)? {
            let name = self.key(&key, path, depth)?;
            let value = self.construct(&value, &child_path(path, &name), depth + 1)?;
            insert_entry(&mut entries, name, value);
        }
        Ok(entries)
    }

    fn key(&mut self, key: &Rc<Node>, path: &str, depth: usize) -> Result<String, ParamError> {
        if let (Tag::Value, Content::Scalar(text)) = (&key.tag, &key.content) {
            // flatten_mapping makes a `=` key a string.
            return Ok(text.clone());
        }
        match self.construct(key, &format!("{} (a key)", shown_path(path)), depth + 1)? {
            ParamValue::Str(name) => Ok(name),
            other => {
                let shown = match &key.content {
                    Content::Scalar(text) if !text.is_empty() => text.clone(),
                    _ => show_key(&other),
                };
                Err(ParamError::NonStringKey { key: shown, path: shown_path(path) })
            }
        }
    }

    /// PyYAML's `flatten_mapping`: a mapping's pairs, with each merge key replaced by the pairs
    /// of the mapping (or mappings, in order) it names, which come first; of merged pairs with
    /// the same [`MergeIdentity`] only the first stays.
    fn flatten(&mut self, node: &Node, path: &str, depth: usize) -> Result<Vec<Pair>, ParamError> {
        let Content::Map(pairs) = &node.content else {
            return Ok(Vec::new());
        };
        if depth > MAX_DEPTH {
            return Err(syntax_error(format!("merge keys chain deeper than {MAX_DEPTH} levels"), node.mark));
        }
        let mut merged = Vec::new();
        let mut seen = HashSet::new();
        let mut own = Vec::new();
        for (key, value) in pairs {
            if key.tag != Tag::Merge {
                own.push((Rc::clone(key), Rc::clone(value)));
                continue;
            }
            let sources = match &value.content {
                Content::Map(_) => std::slice::from_ref(value),
                Content::Seq(items) if items.iter().all(|item| matches!(item.content, Content::Map(_))) => {
                    items.as_slice()
                }
                _ => return Err(ParamError::BadMerge { path: shown_path(path) }),
            };
            for source in sources {
                for pair in self.flatten(source, path, depth + 1)? {
                    self.spend(source)?;
                    if seen.insert(merge_identity(&pair.0)) {
                        merged.push(pair);
                    }
                }
            }
        }
        merged.extend(own);
        Ok(merged)
    }
}
