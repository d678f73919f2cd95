//! The compact layout of [`super::into_compact_yaml`]: block style where a node would not fit
//! on one line, flow style (`[a, b]`, `{k: v}`) where it does, and strings plain where every
//! YAML reader, YAML 1.1 included, reads them as the same string, double-quoted otherwise.
//!
//! Argo workflows of a thousand steps are megabytes of YAML, most of it indentation, line
//! breaks and quotes around names; this layout says the same values in about two thirds of the
//! bytes. The rules are deliberately narrow, so that go-yaml v2 (kubectl, the Argo controller),
//! go-yaml v3, PyYAML and saphyr all read the same tree:
//!
//! - a string is plain only when it starts with a letter, `/`, or one or two `-` before a
//!   letter, has only ASCII letters, digits and `._/-` in it, and is not one of YAML 1.1's
//!   boolean or null words in any case (`y`, `no`, `on`, `null`, ...); everything else
//!   (numbers in text, dates, quantities like `250m`, `{{...}}`, the empty string) is quoted;
//! - quoted strings use JSON's escapes, plus `\u` escapes for the characters YAML does not
//!   allow raw (DEL, C1 controls, byte-order marks) or reads as line breaks (U+0085, U+2028,
//!   U+2029);
//! - numbers are plain decimals, never in exponent form.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// The widest line a collection is folded onto, in columns from the start of the line.
pub(super) const WIDTH: usize = 160;

/// Writes one document (a mapping's entries at the top level, anything else on its own).
pub(super) fn document(doc: &Value, out: &mut String) {
    match doc {
        Value::Object(map) if !map.is_empty() => entries(map, 0, out),
        other => {
            scalar_or_flow(other, out);
            out.push('\n');
        }
    }
}

/// One top-level entry `key: value`, as part of a document written in pieces.
pub(super) fn entry(key: &str, value: &Value, out: &mut String) {
    entry_at(key, value, 0, out);
}

/// The entries of a block mapping, each on its own line at `indent`.
fn entries(map: &Map<String, Value>, indent: usize, out: &mut String) {
    for (k, v) in map {
        entry_at(k, v, indent, out);
    }
}

fn entry_at(key: &str, value: &Value, indent: usize, out: &mut String) {
    pad(indent, out);
    let start = out.len();
    string(key, out);
    out.push(':');
    let column = indent + (out.len() - start);
    value_after(value, column, indent, out);
}

/// A value after `key:` or `- `, the line's text so far `column` wide: on the same line when it
/// is a scalar or fits, otherwise as a block below (mappings indented, sequences not, as
/// kubectl writes them).
fn value_after(value: &Value, column: usize, indent: usize, out: &mut String) {
    if try_flow(value, column + 1, out, " ") {
        out.push('\n');
        return;
    }
    out.push('\n');
    match value {
        Value::Object(map) => entries(map, indent + 2, out),
        Value::Array(items) => sequence(items, indent, out),
        // Scalars always fit (see `try_flow`).
        _ => {}
    }
}

/// The items of a block sequence, each `- ` at `indent`.
fn sequence(items: &[Value], indent: usize, out: &mut String) {
    for item in items {
        pad(indent, out);
        out.push_str("- ");
        if try_flow(item, indent + 2, out, "") {
            out.push('\n');
            continue;
        }
        match item {
            Value::Object(map) => {
                // The first entry on the dash's line, the others under it.
                let mut first = true;
                for (k, v) in map {
                    let at = indent + 2;
                    if !first {
                        pad(at, out);
                    }
                    first = false;
                    let start = out.len();
                    string(k, out);
                    out.push(':');
                    let column = at + (out.len() - start);
                    value_after(v, column, at, out);
                }
            }
            Value::Array(inner) => {
                out.pop();
                out.push('\n');
                sequence(inner, indent + 2, out);
            }
            _ => {}
        }
    }
}

/// Writes `value` in flow style after `sep` when it fits in [`WIDTH`] from `column` (a scalar
/// always does, however long); leaves `out` as it was and returns false otherwise.
fn try_flow(value: &Value, column: usize, out: &mut String, sep: &str) -> bool {
    let mark = out.len();
    out.push_str(sep);
    let body = out.len();
    let limit = WIDTH.saturating_sub(column);
    let fits = match value {
        Value::Object(m) if !m.is_empty() => flow(value, body + limit, out),
        Value::Array(a) if !a.is_empty() => flow(value, body + limit, out),
        _ => {
            scalar_or_flow(value, out);
            true
        }
    };
    if !fits {
        out.truncate(mark);
    }
    fits
}

/// Writes `value` in flow style, giving up (returning false) as soon as `out` is longer than
/// `end`, so that a large node costs no more than a line's worth of work.
fn flow(value: &Value, end: usize, out: &mut String) -> bool {
    match value {
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                string(k, out);
                out.push_str(": ");
                if out.len() > end || !flow(v, end, out) {
                    return false;
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if out.len() > end || !flow(v, end, out) {
                    return false;
                }
            }
            out.push(']');
        }
        other => scalar_or_flow(other, out),
    }
    out.len() <= end
}

/// A scalar, or an empty collection (`{}`, `[]`).
fn scalar_or_flow(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => number(n, out),
        Value::String(s) => string(s, out),
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        // Non-empty collections are written by `flow` or in block style.
        _ => {
            flow(value, usize::MAX, out);
        }
    }
}

/// A number as a plain decimal: integers as they are, floats without an exponent.
fn number(n: &serde_json::Number, out: &mut String) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        // Rust writes floats in full, never with an exponent.
        let _ = write!(out, "{f}");
    }
}

/// A string (a key or a value): plain when [`plain_ok`], double-quoted otherwise.
fn string(s: &str, out: &mut String) {
    if plain_ok(s) {
        out.push_str(s);
    } else {
        quoted(s, out);
    }
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

/// A double-quoted scalar with JSON's escapes, and `\u` escapes for what YAML does not take raw.
fn quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Characters a YAML double-quoted scalar cannot hold raw: controls, DEL, C1 controls (U+0085
/// is a line break in YAML 1.1), the line and paragraph separators, byte-order marks and the
/// two non-characters YAML excludes.
fn needs_escape(c: char) -> bool {
    matches!(c, '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

fn pad(n: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', n));
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
             c: \"\\u0085\\u2028\\u2029\\ufeff\\u007f\\u0001\"\nd: \"ünïcode\"\ne: 0.000001\n\
             f: 100000000000000000000\n\"on\": x\n"
        );
    }
}
