//! A YAML document as a small tree whose every node knows its line and column.
//!
//! Built from granit-parser's events (the parser under serde-saphyr), so that every problem
//! the importer reports points at its place in the file. Anchors are resolved by copying the
//! anchored node; tags are ignored (component files use none). Invariant: reading never
//! panics, whatever the bytes; a syntax error becomes [`SyntaxError`] with its position.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle};

/// Where a node starts: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// The 1-based line.
    pub line: usize,
    /// The 1-based column, in characters.
    pub col: usize,
}

/// One node of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the node starts.
    pub pos: Pos,
    /// What it holds.
    pub value: Value,
}

/// The value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar, with whether it was written plain (unquoted): a plain `3` is a number, a
    /// quoted `"3"` a string.
    Scalar(String, bool),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, its keys in file order.
    Map(Vec<(Node, Node)>),
}

/// A YAML syntax error.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub pos: Pos,
    /// The parser's description.
    pub message: String,
}

/// The deepest nesting accepted, so that walks of the tree stay shallow.
const MAX_DEPTH: usize = 256;

/// The most nodes aliases may copy into a document (an alias copies its anchor's nodes, so a small
/// file of nested aliases could otherwise grow without bound).
const MAX_NODES: usize = 500_000;

impl Node {
    /// The text of a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// The items of a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(v) => Some(v),
            _ => None,
        }
    }

    /// The entries of a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(v) => Some(v),
            _ => None,
        }
    }

    /// The value of key `k` of a mapping.
    pub fn get(&self, k: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(key, _)| key.as_str() == Some(k))
            .map(|(_, v)| v)
    }

    /// The value of key `k` as text.
    pub fn str_of(&self, k: &str) -> Option<&str> {
        self.get(k).and_then(Node::as_str)
    }

    /// A plain scalar that YAML reads as null (`~`, `null`, nothing).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s, true) if matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// What the node is, in words, for messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Scalar(..) => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The node as JSON (plain scalars read as YAML 1.2 core numbers, booleans and nulls).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Scalar(s, false) => J::String(s.clone()),
            Value::Scalar(s, true) => plain_json(s),
            Value::Seq(v) => J::Array(v.iter().map(Node::to_json).collect()),
            Value::Map(m) => J::Object(
                m.iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A plain scalar read with the YAML 1.2 core schema.
fn plain_json(s: &str) -> serde_json::Value {
    use serde_json::Value as J;
    match s {
        "" | "~" | "null" | "Null" | "NULL" => J::Null,
        "true" | "True" | "TRUE" => J::Bool(true),
        "false" | "False" | "FALSE" => J::Bool(false),
        _ => {
            if let Ok(i) = s.parse::<i64>() {
                J::from(i)
            } else if let Some(n) = s
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && s.chars().any(|c| c.is_ascii_digit()))
                .and_then(serde_json::Number::from_f64)
            {
                J::Number(n)
            } else {
                J::String(s.to_string())
            }
        }
    }
}

/// Reads every document of `text` (a compiled pipeline with a platform spec has two).
pub fn parse(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut b = Builder::default();
    for ev in Parser::new_from_str(text) {
        let (event, span) = ev.map_err(|e| SyntaxError {
            pos: Pos {
                line: e.marker().line().max(1),
                col: e.marker().col() + 1,
            },
            message: e.info(),
        })?;
        let pos = Pos {
            line: span.start.line().max(1),
            col: span.start.col() + 1,
        };
        b.event(event, pos)?;
    }
    Ok(b.docs)
}

/// A collection being read.
enum Open {
    Seq(Pos, usize, Vec<Node>),
    Map(Pos, usize, Vec<(Node, Node)>, Option<Node>),
}

/// Builds trees from events.
#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    /// Anchored nodes and how many nodes each holds.
    anchors: HashMap<usize, (Node, usize)>,
    docs: Vec<Node>,
    /// Nodes copied by aliases so far.
    nodes: usize,
}

/// How many nodes `n` holds, itself included.
fn size(n: &Node) -> usize {
    1 + match &n.value {
        Value::Scalar(..) => 0,
        Value::Seq(v) => v.iter().map(size).sum(),
        Value::Map(m) => m.iter().map(|(k, v)| size(k) + size(v)).sum(),
    }
}

impl Builder {
    fn event(&mut self, event: Event<'_>, pos: Pos) -> Result<(), SyntaxError> {
        match event {
            Event::Scalar(s, style, anchor, _) => {
                let node = Node {
                    pos,
                    value: Value::Scalar(s.into_owned(), style == ScalarStyle::Plain),
                };
                self.push(node, anchor);
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(SyntaxError {
                        pos,
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                    });
                }
                self.stack
                    .push(if matches!(event, Event::SequenceStart(..)) {
                        Open::Seq(pos, anchor, Vec::new())
                    } else {
                        Open::Map(pos, anchor, Vec::new(), None)
                    });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Open::Seq(p, a, items)) => (
                        Node {
                            pos: p,
                            value: Value::Seq(items),
                        },
                        a,
                    ),
                    Some(Open::Map(p, a, entries, _)) => (
                        Node {
                            pos: p,
                            value: Value::Map(entries),
                        },
                        a,
                    ),
                    None => return Ok(()),
                };
                self.push(node, anchor);
            }
            Event::Alias(id) => {
                let (node, n) = self.anchors.get(&id).cloned().unwrap_or((
                    Node {
                        pos,
                        value: Value::Scalar(String::new(), true),
                    },
                    1,
                ));
                self.nodes += n;
                if self.nodes > MAX_NODES {
                    return Err(SyntaxError {
                        pos,
                        message: format!("aliases expand the document past {MAX_NODES} nodes"),
                    });
                }
                self.push(node, 0);
            }
            _ => {}
        }
        Ok(())
    }

    /// Adds a finished node to the open collection, or as a document.
    fn push(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            let n = size(&node);
            self.anchors.insert(anchor, (node.clone(), n));
        }
        match self.stack.last_mut() {
            Some(Open::Seq(_, _, items)) => items.push(node),
            Some(Open::Map(_, _, entries, key)) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => *key = Some(node),
            },
            None => self.docs.push(node),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_know_their_lines() {
        let docs = parse("a: 1\nb:\n  - x\n  - {c: 'd'}\n---\ne: f\n").expect("valid YAML");
        assert_eq!(docs.len(), 2);
        let b = docs[0].get("b").expect("b");
        assert_eq!(b.as_seq().map(<[Node]>::len), Some(2));
        let c = b.as_seq().expect("seq")[1].get("c").expect("c");
        assert_eq!((c.pos.line, c.as_str()), (4, Some("d")));
        assert_eq!(docs[0].get("a").map(Node::to_json), Some(1.into()));
        assert_eq!(docs[1].str_of("e"), Some("f"));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse(&text).expect_err("a billion laughs");
        assert!(e.message.contains("aliases expand"), "{e:?}");
        assert_eq!(parse("a: &x [1]\nb: *x\n").map(|d| d.len()), Ok(1));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let e = parse("a: [1, 2\nb: c\n").expect_err("unclosed");
        assert!(e.pos.line >= 1, "{e:?}");
        assert!(!e.message.is_empty());
    }
}
