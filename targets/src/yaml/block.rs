//! The block layout of [`super::into_yaml`] written straight from the trees into one string,
//! without a serializer's state machine and without the passes over the text that follow
//! serde-saphyr (requoting, plain decimals): a KFP spec of a 1,000-step pipeline is 1.5 MB,
//! and writing it through serde-saphyr took more time than building it.
//!
//! The bytes are serde-saphyr's (indentation step 2, `quote_all`) after those passes, for
//! every value this writer takes: strings double-quoted with serde-saphyr's escapes, keys plain
//! when they are names that no YAML reader takes for anything else, integers, booleans, `null`
//! and floats written without an exponent. A key that needs serde-saphyr's own judgement is
//! asked of serde-saphyr, once per key; what this writer does not take (a plain key with a
//! quote in it, a float in exponent form) it reports as [`Unsupported`], and the caller writes
//! that part of the document the old way. The tests compare both on many trees.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::KeyOrder;

/// A value this writer leaves to serde-saphyr.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Unsupported;

/// The writer of one or more parts of a document.
pub(super) struct Block<'k> {
    order: KeyOrder,
    /// The written form of keys that are not plain names, as serde-saphyr writes them.
    keys: HashMap<&'k str, String>,
}

impl<'k> Block<'k> {
    pub(super) fn new(order: KeyOrder) -> Block<'k> {
        Block {
            order,
            keys: HashMap::new(),
        }
    }

    /// Appends the mapping of the one entry `key: value` to `out`.
    pub(super) fn entry(
        &mut self,
        key: &'k str,
        value: &'k Value,
        out: &mut String,
    ) -> Result<(), Unsupported> {
        self.entry_at(key, value, 0, true, out)
    }

    /// Appends `value` as a whole document to `out`.
    pub(super) fn document(
        &mut self,
        value: &'k Value,
        out: &mut String,
    ) -> Result<(), Unsupported> {
        match value {
            Value::Object(map) if !map.is_empty() => self.mapping(map, 0, false, out),
            Value::Array(items) if !items.is_empty() => self.sequence(items, 0, false, out),
            other => {
                scalar(other, out)?;
                out.push('\n');
                Ok(())
            }
        }
    }

    /// The entries of a non-empty mapping at `depth`; the first one on the current line when
    /// `inline` (after a sequence's dash).
    fn mapping(
        &mut self,
        map: &'k Map<String, Value>,
        depth: usize,
        inline: bool,
        out: &mut String,
    ) -> Result<(), Unsupported> {
        if self.order == KeyOrder::Sorted && map.len() > 1 {
            let mut entries: Vec<(&'k String, &'k Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (i, (k, v)) in entries.into_iter().enumerate() {
                self.entry_at(k, v, depth, i > 0 || !inline, out)?;
            }
        } else {
            for (i, (k, v)) in map.iter().enumerate() {
                self.entry_at(k, v, depth, i > 0 || !inline, out)?;
            }
        }
        Ok(())
    }

    /// One `key: value` line (and the lines of a nested value) at `depth`.
    pub(super) fn entry_at(
        &mut self,
        key: &'k str,
        value: &'k Value,
        depth: usize,
        indent: bool,
        out: &mut String,
    ) -> Result<(), Unsupported> {
        if indent {
            push_indent(out, depth);
        }
        self.key(key, out)?;
        out.push(':');
        match value {
            Value::Object(map) if map.is_empty() => out.push_str(" {}\n"),
            Value::Array(items) if items.is_empty() => out.push_str(" []\n"),
            Value::Object(map) => {
                out.push('\n');
                self.mapping(map, depth + 1, false, out)?;
            }
            Value::Array(items) => {
                out.push('\n');
                self.sequence(items, depth, false, out)?;
            }
            other => {
                out.push(' ');
                scalar(other, out)?;
                out.push('\n');
            }
        }
        Ok(())
    }

    /// The items of a non-empty sequence at `depth`; the first one on the current line when
    /// `inline` (a sequence in a sequence).
    fn sequence(
        &mut self,
        items: &'k [Value],
        depth: usize,
        inline: bool,
        out: &mut String,
    ) -> Result<(), Unsupported> {
        for (i, item) in items.iter().enumerate() {
            if i > 0 || !inline {
                push_indent(out, depth);
            }
            out.push_str("- ");
            match item {
                Value::Object(map) if map.is_empty() => out.push_str("{}\n"),
                Value::Array(inner) if inner.is_empty() => out.push_str("[]\n"),
                Value::Object(map) => self.mapping(map, depth + 1, true, out)?,
                Value::Array(inner) => self.sequence(inner, depth + 1, true, out)?,
                other => {
                    scalar(other, out)?;
                    out.push('\n');
                }
            }
        }
        Ok(())
    }

    /// A mapping key: plain when it is a name, otherwise as serde-saphyr writes it.
    fn key(&mut self, key: &'k str, out: &mut String) -> Result<(), Unsupported> {
        if is_plain_name(key) {
            out.push_str(key);
            return Ok(());
        }
        if let Some(text) = self.keys.get(key) {
            out.push_str(text);
            return Ok(());
        }
        let text = saphyr_key(key)?;
        out.push_str(&text);
        self.keys.insert(key, text);
        Ok(())
    }
}

/// `2 × depth` spaces.
pub(super) fn push_indent(out: &mut String, depth: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = 2 * depth;
    while n > 0 {
        let k = n.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        n -= k;
    }
}

/// A key that serde-saphyr writes as it is: a letter, then letters, digits, `_`, `-`, `.` or
/// `/`, and none of the words YAML 1.1 reads as a boolean, null or number.
pub(super) fn is_plain_name(key: &str) -> bool {
    const WORDS: [&str; 11] = [
        "null", "true", "false", "yes", "no", "y", "n", "on", "off", "nan", "inf",
    ];
    let b = key.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.len() <= 1024
        && b.iter().all(|c| NAME_BYTE[usize::from(*c)])
        && (b.len() > 5 || !WORDS.iter().any(|w| key.eq_ignore_ascii_case(w)))
}

/// The bytes a plain name may hold after its first (see [`is_plain_name`]): one look-up a
/// byte instead of five range and byte comparisons (the emitter asks of every key it writes).
static NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/');
        c += 1;
    }
    table
};

/// The key as serde-saphyr writes it in a block mapping. Only a key that is double-quoted
/// there, or plain without quotes, comes out of the requoting pass unchanged.
fn saphyr_key(key: &str) -> Result<String, Unsupported> {
    let mut one = Map::new();
    one.insert(key.to_string(), Value::Null);
    let text = serde_saphyr::to_string(&Value::Object(one)).map_err(|_| Unsupported)?;
    let written = text.strip_suffix(": null\n").ok_or(Unsupported)?;
    let quoted = written.len() >= 2 && written.starts_with('"') && written.ends_with('"');
    if written.is_empty()
        || written.contains('\n')
        || written.starts_with('?')
        || (!quoted && written.contains(['"', '\'']))
    {
        return Err(Unsupported);
    }
    Ok(written.to_string())
}

/// A scalar value.
fn scalar(v: &Value, out: &mut String) -> Result<(), Unsupported> {
    match v {
        Value::String(s) => {
            out.push('"');
            escape_double_quoted(s, out);
            out.push('"');
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Null => out.push_str("null"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                push_display(out, u);
            } else if let Some(i) = n.as_i64() {
                push_display(out, i);
            } else {
                let f = n.as_f64().ok_or(Unsupported)?;
                let text = serde_saphyr::to_string(&f).map_err(|_| Unsupported)?;
                let token = text.trim_end_matches('\n');
                if token.contains(['e', 'E']) || token.contains('\n') {
                    return Err(Unsupported);
                }
                out.push_str(token);
            }
        }
        Value::Object(_) | Value::Array(_) => return Err(Unsupported),
    }
    Ok(())
}

fn push_display(out: &mut String, n: impl std::fmt::Display) {
    use std::fmt::Write;
    let _ = write!(out, "{n}");
}

/// The content of a YAML double-quoted scalar, with serde-saphyr's escapes. Printable ASCII
/// without `"` and `\` is copied as it is.
pub(super) fn escape_double_quoted(s: &str, out: &mut String) {
    // Without an early exit, so that the compiler checks many bytes at a time.
    let odd = |c: u8| u8::from(!(b' '..=b'~').contains(&c) || c == b'"' || c == b'\\');
    if s.bytes().fold(0, |any, c| any | odd(c)) == 0 {
        out.push_str(s);
        return;
    }
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{FEFF}' => out.push_str("\\uFEFF"),
            '\u{0085}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (c as u32) <= 0xFF && (c.is_control() || (0x7F..=0x9F).contains(&(c as u32))) => {
                push_display(out, format_args!("\\x{:02X}", c as u32));
            }
            c if (c as u32) <= 0xFFFF && needs_escaping(c) => {
                push_display(out, format_args!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
}

/// The characters serde-saphyr escapes in a double-quoted scalar.
fn needs_escaping(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{FEFF}' | '\u{2028}' | '\u{2029}' | '\u{FFFE}' | '\u{FFFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::super::{write_block, write_parts, KeyOrder, Layout};
    use serde_json::{json, Map, Value};

    /// The byte table says of every byte what the comparisons it replaced said, and names
    /// with each kind of byte are judged as before.
    #[test]
    fn plain_name_bytes_are_the_comparisons() {
        for c in 0..=255u8 {
            let plain = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/');
            assert_eq!(super::NAME_BYTE[usize::from(c)], plain, "byte {c}");
        }
        for (name, plain) in [
            ("exec-step-0001", true),
            ("comp_a.b/c9", true),
            ("a b", false),
            ("a:b", false),
            ("é", false),
            ("9a", false),
            ("On", false),
            ("onion", true),
            ("", false),
        ] {
            assert_eq!(super::is_plain_name(name), plain, "{name:?}");
        }
    }

    /// A small deterministic generator (a linear congruential one), so that every run
    /// compares the same trees.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % n as u64) as usize
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.next(from.len())]
        }
    }

    /// Keys and strings that YAML readers take for something else, that need escapes, or
    /// that are plain names.
    const TEXTS: &[&str] = &[
        "a",
        "n",
        "N",
        "y",
        "yes",
        "on",
        "Off",
        "null",
        "~",
        "true",
        "nan",
        ".inf",
        "1",
        "-1",
        "1.5",
        "1e3",
        "0x1F",
        "0o17",
        "1_000",
        "12:30",
        "2024-01-01",
        "2024-1-1 10:00:00",
        "<<",
        "=",
        "",
        " ",
        " x",
        "x ",
        "-",
        "-x",
        "- x",
        "?x",
        "? x",
        "key:",
        "a: b",
        "a:b",
        "#c",
        "a #c",
        "a#c",
        "q\"x",
        "it's",
        "'q'",
        "a 'b' c",
        "\"",
        "\\",
        "a\\b",
        "tab\tx",
        "line\nx",
        "cr\rx",
        "nul\0x",
        "bell\u{7}",
        "del\u{7f}",
        "c1\u{85}",
        "c1\u{9b}",
        "bom\u{feff}",
        "ls\u{2028}",
        "ps\u{2029}",
        "ffff\u{ffff}",
        "ümlaut",
        "日本",
        "emoji 🦀",
        "[a]",
        "{a}",
        "a,b",
        "&a",
        "*a",
        "!t",
        "|",
        ">",
        "%x",
        "@x",
        "`x",
        "---",
        "--- x",
        "...",
        "comp-step-1",
        "exec-x_y.z",
        "pipelinechannel--n",
        "path/to/x",
        "{{$.inputs.artifacts['in'].path}}",
        "A",
        "Z9",
        "x.y-z_w/v",
    ];

    fn value(g: &mut Gen, depth: usize) -> Value {
        let kind = if depth >= 4 { g.next(6) } else { g.next(10) };
        match kind {
            0 | 1 => Value::String(g.pick(TEXTS).to_string()),
            2 => [
                json!(0),
                json!(-7),
                json!(42),
                json!(i64::MIN),
                json!(u64::MAX),
            ][g.next(5)]
            .clone(),
            3 => json!([0.5, -2.25, 1.0e20, 1.0e-7, 17.179869184, 3.0][g.next(6)]),
            4 => json!([true, false][g.next(2)]),
            5 => Value::Null,
            6 | 7 => {
                let mut map = Map::new();
                for _ in 0..g.next(4) {
                    map.insert(g.pick(TEXTS).to_string(), value(g, depth + 1));
                }
                Value::Object(map)
            }
            _ => Value::Array((0..g.next(4)).map(|_| value(g, depth + 1)).collect()),
        }
    }

    #[test]
    fn the_direct_writer_writes_serde_saphyrs_bytes() {
        let mut g = Gen(7);
        for round in 0..3000 {
            let docs: Vec<Value> = (0..1 + g.next(2)).map(|_| value(&mut g, 0)).collect();
            for order in [KeyOrder::Sorted, KeyOrder::AsBuilt] {
                let direct = write_block(String::new(), &docs, order);
                let reference = write_parts(&docs, Layout::Block(order));
                assert_eq!(direct, reference, "round {round}, {order:?}: {docs:?}");
            }
        }
    }

    /// A mapping written from trees and from entries written beforehand (as the KFP emitter
    /// writes its components and executors) has the bytes of the whole tree written at once.
    #[test]
    fn a_mapping_merged_from_written_entries_has_the_bytes_of_the_whole_tree() {
        use super::super::{push_sorted_mapping, WrittenEntries};
        let mut g = Gen(11);
        let mut merged = 0;
        for round in 0..3000 {
            let (mut full, mut trees) = (Map::new(), Map::new());
            let mut written = WrittenEntries::default();
            let mut taken = true;
            for _ in 0..g.next(6) {
                let (key, v) = (g.pick(TEXTS).to_string(), value(&mut g, 1));
                if full.contains_key(&key) {
                    continue;
                }
                full.insert(key.clone(), v.clone());
                if g.next(3) == 0 {
                    trees.insert(key, v);
                } else {
                    taken &= written.push(key, &v, 2);
                }
            }
            if !taken {
                continue;
            }
            let doc = json!({"deploymentSpec": {"executors": Value::Object(full)}});
            let reference = write_block(String::new(), &[doc], KeyOrder::Sorted);
            let mut out = String::from("deploymentSpec:\n");
            if push_sorted_mapping("executors", &trees, &written, 1, &mut out) {
                assert_eq!(out, reference, "round {round}: {trees:?} {written:?}");
                merged += 1;
            } else {
                assert_eq!(out, "deploymentSpec:\n", "round {round}: left as it was");
            }
        }
        assert!(merged > 1000, "only {merged} rounds merged");
        // A key both written and in the trees, or written twice, is refused.
        let mut written = WrittenEntries::default();
        assert!(written.push("a".to_string(), &json!(2), 1));
        let Value::Object(trees) = json!({"a": 1}) else {
            unreachable!()
        };
        let mut out = String::new();
        assert!(!push_sorted_mapping("m", &trees, &written, 0, &mut out));
        assert_eq!(out, "");
        assert!(written.push("a".to_string(), &json!(3), 1));
        assert!(!push_sorted_mapping(
            "m",
            &Map::new(),
            &written,
            0,
            &mut out
        ));
        assert_eq!(out, "");
    }

    #[test]
    fn names_are_written_directly_and_quoted_keys_as_serde_saphyr_writes_them() {
        let doc = json!({"comp-a": {"n": 1, "y": [{"x": {}, "z": []}, [1, [2, 3]]]}, "b": "it's"});
        let mut out = String::new();
        let mut writer = super::Block::new(KeyOrder::AsBuilt);
        assert_eq!(writer.document(&doc, &mut out), Ok(()));
        assert_eq!(
            out,
            "comp-a:\n  \"n\": 1\n  \"y\":\n  - x: {}\n    z: []\n  - - 1\n    - - 2\n      - 3\nb: \"it's\"\n"
        );
        let (quote, exponent) = (json!({"a 'b": 1}), json!([1.0e-7]));
        let mut out = String::new();
        let mut writer = super::Block::new(KeyOrder::AsBuilt);
        assert_eq!(writer.document(&quote, &mut out), Err(super::Unsupported));
        assert_eq!(
            writer.document(&exponent, &mut out),
            Err(super::Unsupported)
        );
    }
}
