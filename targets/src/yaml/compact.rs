//! The compact layout of [`super::into_compact_yaml`]: flow style (`[a, b]`, `{k: v}`) for a
//! mapping or sequence whose flow text fits on its line of [`WIDTH`] columns, block style
//! otherwise, and strings plain only where every YAML reader, YAML 1.1 included, reads them as
//! the same string ([`plain_ok`]), double-quoted otherwise.
//!
//! Argo workflows of a thousand steps are megabytes of YAML, most of it indentation, line
//! breaks and quotes around names; this layout says the same values in about two thirds of the
//! bytes. This module only decides, node by node, flow or block and plain or quoted;
//! serde-saphyr writes the text, as it writes all of flowc's YAML (its `FlowSeq`, `FlowMap` and
//! `DoubleQuoted` wrappers carry the decisions).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use serde_saphyr::{DoubleQuoted, FlowMap, FlowSeq};

/// The widest line a collection is folded onto, in columns from the start of the line.
pub(super) const WIDTH: usize = 160;

/// A value in the compact layout. `start` is the column its text starts at when it is written
/// on the line of its key or dash; `indent` the column of its own keys or dashes when it is
/// written in block style.
pub(super) struct Compact<'a> {
    value: &'a Value,
    start: usize,
    indent: usize,
    /// A document's top level, always in block style.
    top: bool,
}

impl<'a> Compact<'a> {
    /// A whole document.
    pub(super) fn document(value: &'a Value) -> Compact<'a> {
        Compact {
            value,
            start: 0,
            indent: 0,
            top: true,
        }
    }

    /// The value of `key:` written at column `at`: a block mapping is indented under the key,
    /// a block sequence is not (as kubectl writes them).
    fn under_key(key: &str, value: &'a Value, at: usize) -> Compact<'a> {
        Compact {
            value,
            start: at + text_width(key) + 2,
            indent: if value.is_object() { at + 2 } else { at },
            top: false,
        }
    }

    /// An item of a block sequence whose dashes are at column `at`.
    fn item(value: &'a Value, at: usize) -> Compact<'a> {
        Compact {
            value,
            start: at + 2,
            indent: at + 2,
            top: false,
        }
    }

    fn fits(&self) -> bool {
        !self.top && flow_width(self.value, WIDTH.saturating_sub(self.start)).is_some()
    }
}

impl Serialize for Compact<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Object(map) if !map.is_empty() && !self.fits() => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    m.serialize_entry(&Text(k), &Compact::under_key(k, v, self.indent))?;
                }
                m.end()
            }
            Value::Array(items) if !items.is_empty() && !self.fits() => {
                let mut q = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    q.serialize_element(&Compact::item(v, self.indent))?;
                }
                q.end()
            }
            Value::Object(_) => FlowMap(Flow(self.value)).serialize(s),
            Value::Array(_) => FlowSeq(Flow(self.value)).serialize(s),
            other => Flow(other).serialize(s),
        }
    }
}

/// One top-level entry `key: value` of a document written in pieces.
pub(super) struct Entry<'a>(pub &'a str, pub &'a Value);

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(&Text(self.0), &Compact::under_key(self.0, self.1, 0))?;
        m.end()
    }
}

/// A value inside a flow collection (or a scalar): its strings by [`Text`]'s rule.
struct Flow<'a>(&'a Value);

impl Serialize for Flow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    m.serialize_entry(&Text(k), &Flow(v))?;
                }
                m.end()
            }
            Value::Array(items) => {
                let mut q = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    q.serialize_element(&Flow(v))?;
                }
                q.end()
            }
            Value::String(t) => Text(t).serialize(s),
            other => other.serialize(s),
        }
    }
}

/// A string, key or value: plain when [`plain_ok`], double-quoted otherwise.
struct Text<'a>(&'a str);

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if plain_ok(self.0) {
            s.serialize_str(self.0)
        } else {
            DoubleQuoted(self.0).serialize(s)
        }
    }
}

/// The width of `value` written in flow style if it is at most `limit`; `None` as soon as it
/// is known to be wider, so that a large node costs no more than a line's worth of counting.
fn flow_width(value: &Value, limit: usize) -> Option<usize> {
    let mut width = 0usize;
    let mut add = |w: usize| {
        width += w;
        (width <= limit).then_some(())
    };
    match value {
        Value::Object(map) => {
            add(2)?;
            for (i, (k, v)) in map.iter().enumerate() {
                add(if i > 0 { 2 } else { 0 } + text_width(k) + 2)?;
                add(flow_width(v, limit)?)?;
            }
        }
        Value::Array(items) => {
            add(2)?;
            for (i, v) in items.iter().enumerate() {
                add(if i > 0 { 2 } else { 0 })?;
                add(flow_width(v, limit)?)?;
            }
        }
        Value::String(t) => add(text_width(t))?,
        other => add(other.to_string().len())?,
    }
    Some(width)
}

/// A string's width as [`Text`] writes it: plain, or quoted with its escapes (counted as two
/// characters; the rarer `\uXXXX` forms are longer, which only matters at the line's edge).
fn text_width(s: &str) -> usize {
    if plain_ok(s) {
        return s.len();
    }
    let escaped = s
        .chars()
        .filter(|c| matches!(c, '"' | '\\') || c.is_control())
        .count();
    s.chars().count() + escaped + 2
}

/// Whether every YAML reader, 1.1 or 1.2, reads `s` written plain as the string `s`, in block
/// and in flow context.
pub(super) fn plain_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let dashes = b.iter().take_while(|&&c| c == b'-').count();
    let starts_well = match dashes {
        0 => b
            .first()
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'/'),
        1 | 2 => b.get(dashes).is_some_and(u8::is_ascii_alphabetic),
        _ => false,
    };
    starts_well
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-'))
        && !is_yaml11_word(s)
}

/// YAML 1.1's booleans and nulls (go-yaml v2 reads all of them, in any of their cases).
fn is_yaml11_word(s: &str) -> bool {
    const WORDS: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    s.len() <= 5 && WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::super::into_compact_yaml;
    use super::plain_ok;
    use serde_json::json;

    #[test]
    fn strings_are_plain_only_where_every_reader_agrees() {
        for s in [
            "main",
            "flowc-key",
            "/tmp/flowc/outputs/out",
            "-m",
            "--out",
            "steps.s5",
        ] {
            assert!(plain_ok(s), "{s}");
        }
        for s in [
            "",
            "on",
            "No",
            "y",
            "N",
            "OFF",
            "null",
            "True",
            "1_000",
            "12:30",
            "2024-01-01",
            "0o12",
            "~",
            "0755",
            "1e3",
            "-1",
            "-.5",
            "---x",
            "-",
            "a b",
            "x:y",
            "a,b",
            "{{x}}",
            "250m",
            ".inf",
            "_x",
            "é",
        ] {
            assert!(!plain_ok(s), "{s:?} must be quoted");
        }
    }

    #[test]
    fn small_nodes_are_flow_and_large_ones_block() {
        let long: Vec<String> = (0..30).map(|i| format!("argument-{i}")).collect();
        let doc = json!({
            "kind": "WorkflowTemplate",
            "spec": {
                "args": ["-m", "on", "2024-01-01", 3, 0.5, true, null],
                "empty": {}, "none": [],
                "long": long,
                "items": [{"name": "a", "value": "{{x}}"}, {"name": "b", "nested": {"k": long}}],
            },
        });
        let y = into_compact_yaml(vec![doc, json!({"b": 1})]);
        let expected = format!(
            "kind: WorkflowTemplate\nspec:\n  args: [-m, \"on\", \"2024-01-01\", 3, 0.5, true, null]\n  \
             empty: {{}}\n  none: []\n  long:\n{}  items:\n  - {{name: a, value: \"{{{{x}}}}\"}}\n  \
             - name: b\n    nested:\n      k:\n{}---\nb: 1\n",
            (0..30).map(|i| format!("  - argument-{i}\n")).collect::<String>(),
            (0..30).map(|i| format!("      - argument-{i}\n")).collect::<String>(),
        );
        assert_eq!(y, expected);
        assert!(y.lines().all(|l| l.len() <= super::WIDTH), "{y}");
    }

    #[test]
    fn quoted_strings_escape_what_yaml_reads_otherwise() {
        let y = into_compact_yaml(vec![json!({
            "a": "say \"hi\"\\", "b": "tab\tline\nend", "c": "\u{85}\u{2028}\u{2029}\u{feff}\u{7f}\u{1}",
            "d": "ünïcode", "e": 0.000001, "f": 1.0e20, "on": "x",
        })]);
        assert_eq!(
            y,
            "a: \"say \\\"hi\\\"\\\\\"\nb: \"tab\\tline\\nend\"\n\
             c: \"\\N\\L\\P\\uFEFF\\x7F\\x01\"\nd: \"ünïcode\"\ne: 0.000001\n\
             f: 100000000000000000000\n\"on\": x\n"
        );
    }
}
