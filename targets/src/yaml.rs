//! The one way flowc writes YAML.
//!
//! Kubernetes, kubectl and the Argo controller read YAML 1.1 (go-yaml v2 through
//! `sigs.k8s.io/yaml`), where plain `on`, `no`, `y`, `1_000`, `12:30` or `2024-01-01` are not
//! strings. serde_yaml (deprecated) writes such strings unquoted; serde-saphyr with `quote_all`
//! quotes every string, so every reader sees the same document. Documents are built as
//! `serde_json::Value` trees with ordered maps, so the key order is the emitter's, and the
//! output is byte-for-byte deterministic. Numbers must already be plain decimals; see
//! [`plain_number`]. The block layout (KFP) is written straight from the trees by [`block`],
//! with serde-saphyr's bytes; serde-saphyr writes what that writer does not take, and the
//! compact layout (Argo).

mod block;
mod compact;
pub mod typed;

use std::borrow::Cow;
use std::ops::Range;

use crate::text::{Mark, TextBuilder};

use serde_json::Value;

/// The order in which mapping keys are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrder {
    /// As the emitter inserted them (Argo: the order of the Argo documentation).
    AsBuilt,
    /// Sorted, at every level (KFP: as the kfp SDK writes them). Sorting while writing leaves
    /// the trees untouched, which is cheaper than sorting every map of them first.
    Sorted,
}

/// How documents are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// Block style throughout, every string quoted (serde-saphyr), keys in the given order.
    Block(KeyOrder),
    /// Flow style for what fits on a line, strings plain where no reader can misread them,
    /// keys as built (see [`compact`]).
    Compact,
}

/// Writes one or more YAML documents, separated by `---`, ending with a newline, and frees
/// them on another thread (see [`drop_elsewhere`]).
pub fn into_yaml(docs: Vec<Value>, order: KeyOrder) -> String {
    into_yaml_after(String::new(), docs, order)
}

/// Like [`into_yaml`], appending the documents to `text` (a comment header), which saves a
/// copy of a large output.
pub fn into_yaml_after(text: String, docs: Vec<Value>, order: KeyOrder) -> String {
    let text = write_block(text, &docs, order);
    drop_elsewhere(docs);
    text
}

/// Appends the one entry `key: value` of a mapping at `depth` to `out`, in the block layout
/// with sorted keys, as [`into_yaml`] with [`KeyOrder::Sorted`] writes it there: an emitter
/// can write the entries of a large mapping as it makes them and free each tree at once (see
/// [`push_sorted_mapping`]). False, with `out` unchanged, when the direct writer does not take
/// the value (see [`block`]); the caller then writes the whole document with [`into_yaml`].
pub fn push_sorted_entry(key: &str, value: &Value, depth: usize, out: &mut String) -> bool {
    let start = out.len();
    let written = block::Block::new(KeyOrder::Sorted)
        .entry_at(key, value, depth, true, out)
        .is_ok();
    if !written {
        out.truncate(start);
    }
    written
}

/// Entries of one mapping written one by one as they are made (see [`push_sorted_entry`]),
/// into one buffer, in any order.
#[derive(Debug, Default)]
pub struct WrittenEntries {
    /// The entries' text, one after the other.
    text: String,
    /// Each entry's key and the range of its text.
    index: Vec<(String, std::ops::Range<usize>)>,
}

impl WrittenEntries {
    /// Room for `entries` entries of about `bytes` bytes of text in all, reserved at once: a
    /// buffer grown by doubling touches twice its final size, and every fresh page costs a
    /// fault; reserved pages not written are never touched.
    pub fn with_capacity(entries: usize, bytes: usize) -> WrittenEntries {
        WrittenEntries {
            text: String::with_capacity(bytes),
            index: Vec::with_capacity(entries),
        }
    }

    /// Writes the entry `key: value` at `depth`; false, with nothing added, when the direct
    /// writer does not take it.
    pub fn push(&mut self, key: String, value: &Value, depth: usize) -> bool {
        let start = self.text.len();
        if !push_sorted_entry(&key, value, depth, &mut self.text) {
            return false;
        }
        self.index.push((key, start..self.text.len()));
        true
    }

    /// Adds the entry `key` written by `write`, which is given the key (the entry's whole
    /// text, the key's line included; see [`typed`]); when `write` refuses it, nothing is
    /// added and the key is handed back.
    pub fn push_with(
        &mut self,
        key: String,
        write: impl FnOnce(&str, &mut String) -> bool,
    ) -> Result<(), String> {
        let start = self.text.len();
        if !write(&key, &mut self.text) {
            self.text.truncate(start);
            return Err(key);
        }
        self.index.push((key, start..self.text.len()));
        Ok(())
    }

    /// Whether no entry was written.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The bytes written.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// The entries (key and range of their text) in sorted key order; `None` when a key was
    /// written twice.
    fn sorted(&self) -> Option<Vec<(&str, Range<usize>)>> {
        let mut entries: Vec<(&str, Range<usize>)> = (self.index.iter())
            .map(|(k, r)| (k.as_str(), r.clone()))
            .collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let twice = entries.windows(2).any(|w| w[0].0 == w[1].0);
        (!twice).then_some(entries)
    }

    /// The text of the entries, one after the other (for a [`TextBuilder`] to place).
    pub fn into_text(self) -> String {
        self.text
    }
}

/// Where [`push_sorted_mapping`] writes: a string, or a [`TextBuilder`] that places the
/// written entries as pieces of their buffer instead of copying them.
pub trait MergeOut {
    /// A point the output can be taken back to.
    type Mark: Copy;
    /// The text written in place.
    fn own(&mut self) -> &mut String;
    /// Adds `range` of the text of `written`.
    fn put(&mut self, written: &WrittenEntries, range: Range<usize>);
    /// The point the output is at.
    fn mark(&self) -> Self::Mark;
    /// Takes the output back to `mark`.
    fn truncate(&mut self, mark: Self::Mark);
}

impl MergeOut for String {
    type Mark = usize;
    fn own(&mut self) -> &mut String {
        self
    }
    fn put(&mut self, written: &WrittenEntries, range: Range<usize>) {
        self.push_str(written.text.get(range).unwrap_or_default());
    }
    fn mark(&self) -> usize {
        self.len()
    }
    fn truncate(&mut self, mark: usize) {
        String::truncate(self, mark);
    }
}

/// A [`TextBuilder`] placing the written entries of one mapping, whose text is its buffer
/// number `buffer` (see [`TextBuilder::place`]).
pub struct Placed<'a> {
    /// The text.
    pub text: &'a mut TextBuilder,
    /// The number of the entries' buffer.
    pub buffer: usize,
}

impl MergeOut for Placed<'_> {
    type Mark = Mark;
    fn own(&mut self) -> &mut String {
        &mut self.text.own
    }
    fn put(&mut self, _: &WrittenEntries, range: Range<usize>) {
        self.text.place(self.buffer, range);
    }
    fn mark(&self) -> Mark {
        self.text.mark()
    }
    fn truncate(&mut self, mark: Mark) {
        self.text.truncate(mark);
    }
}

/// Appends the entry `key:` at `depth` whose value is the mapping of the entries of `trees`
/// and of `written` (written at `depth + 1`), in sorted key order, as [`into_yaml`] with
/// [`KeyOrder::Sorted`] writes the mapping of both. False, with `out` unchanged, when a key
/// is written twice or in both, or a tree is not taken.
pub fn push_sorted_mapping(
    key: &str,
    trees: &serde_json::Map<String, Value>,
    written: &WrittenEntries,
    depth: usize,
    out: &mut impl MergeOut,
) -> bool {
    let Some(sorted) = written.sorted() else {
        return false;
    };
    let start = out.mark();
    let done = push_merged(key, trees, written, &sorted, depth, out);
    if !done {
        out.truncate(start);
    }
    done
}

/// Whether the block layout writes `key` as it is (see [`block`]).
pub fn is_plain_key(key: &str) -> bool {
    block::is_plain_name(key)
}

/// Appends `2 × depth` spaces, the indentation of the block layout.
pub fn push_indent(out: &mut String, depth: usize) {
    block::push_indent(out, depth);
}

/// [`push_sorted_mapping`], leaving what it wrote in `out` when it fails; `sorted` is
/// `written`'s entries in key order.
fn push_merged(
    key: &str,
    trees: &serde_json::Map<String, Value>,
    written: &WrittenEntries,
    sorted: &[(&str, Range<usize>)],
    depth: usize,
    out: &mut impl MergeOut,
) -> bool {
    if trees.is_empty() && sorted.is_empty() {
        let empty = Value::Object(serde_json::Map::new());
        return push_sorted_entry(key, &empty, depth, out.own());
    }
    if !block::is_plain_name(key) {
        return false;
    }
    let own = out.own();
    block::push_indent(own, depth);
    own.push_str(key);
    own.push_str(":\n");
    let mut trees_sorted: Vec<(&String, &Value)> = trees.iter().collect();
    trees_sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut trees = trees_sorted.into_iter().peekable();
    let mut texts = sorted.iter().peekable();
    loop {
        let tree_first = match (trees.peek(), texts.peek()) {
            (None, None) => return true,
            (Some((a, _)), Some((b, _))) if a.as_str() == *b => return false,
            (Some((a, _)), Some((b, _))) => a.as_str() < *b,
            (Some(_), None) => true,
            (None, Some(_)) => false,
        };
        if tree_first {
            let Some((k, v)) = trees.next() else {
                return false;
            };
            if !push_sorted_entry(k, v, depth + 1, out.own()) {
                return false;
            }
        } else {
            let Some((_, range)) = texts.next() else {
                return false;
            };
            out.put(written, range.clone());
        }
    }
}

/// Like [`into_yaml`] with the keys as built, in the compact layout: block style only where a
/// mapping or sequence does not fit on a line of 160 columns, flow style (`[a, b]`,
/// `{k: v}`) where it does, and strings written plain where YAML 1.1 and 1.2 readers both read
/// them as the same string (names, paths, flags), double-quoted otherwise. Argo workflows use
/// it: they are the largest documents flowc writes, and Kubernetes limits their size.
pub fn into_compact_yaml(docs: Vec<Value>) -> String {
    let text = write_all(&docs, Layout::Compact);
    drop_elsewhere(docs);
    text
}

/// Frees `value` on a thread of its own: the trees of a large pipeline are millions of small
/// nodes, and freeing them one by one would add milliseconds to a build that is done with
/// them. When the process ends first, the operating system reclaims the memory.
pub fn drop_elsewhere<T: Send + 'static>(value: T) {
    // When no thread can be started, the closure, and the value in it, is freed here.
    let _ = std::thread::Builder::new()
        .name("flowc-free".into())
        .spawn(move || drop(value));
}

/// Writes one or more YAML documents, separated by `---`, ending with a newline, keys in the
/// order they were inserted.
pub fn to_yaml(docs: &[Value]) -> String {
    write_all(docs, Layout::Block(KeyOrder::AsBuilt))
}

/// The documents in `layout`.
fn write_all(docs: &[Value], layout: Layout) -> String {
    match layout {
        Layout::Block(order) => write_block(String::new(), docs, order),
        Layout::Compact => write_parts(docs, layout),
    }
}

/// The block layout, on this thread, straight from the trees (see [`block`]); a top-level
/// entry the direct writer does not take is written through serde-saphyr instead.
fn write_block(mut out: String, docs: &[Value], order: KeyOrder) -> String {
    let mut writer = block::Block::new(order);
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let mut parts: Vec<Part<'_>> = Vec::new();
        push_parts(doc, Layout::Block(order), &mut parts);
        for part in parts {
            let start = out.len();
            let done = match part {
                Part::Entry(k, v) => writer.entry(k, v, &mut out),
                Part::Whole(v) => writer.document(v, &mut out),
                Part::Text(t) => {
                    out.push_str(t);
                    Ok(())
                }
            };
            if done.is_err() {
                out.truncate(start);
                out.push_str(&part.write(Layout::Block(order)));
            }
        }
    }
    out
}

/// The top-level entries of `doc` (sorted for [`KeyOrder::Sorted`]), or the whole of it.
fn push_parts<'a>(doc: &'a Value, layout: Layout, parts: &mut Vec<Part<'a>>) {
    match doc {
        Value::Object(map) if map.len() > 1 => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if layout == Layout::Block(KeyOrder::Sorted) {
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            }
            parts.extend(entries.into_iter().map(|(k, v)| Part::Entry(k, v)));
        }
        other => parts.push(Part::Whole(other)),
    }
}

/// The documents written through serde-saphyr: the top-level entries of each document on up
/// to four threads (a 1,000-step pipeline is over a megabyte of YAML), joined in order: a
/// block mapping is the concatenation of its entries, so the bytes are the same as written on
/// one thread.
fn write_parts(docs: &[Value], layout: Layout) -> String {
    let mut parts: Vec<Part<'_>> = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            parts.push(Part::Text("---\n"));
        }
        push_parts(doc, layout, &mut parts);
    }
    let write = |part: &Part<'_>| part.write(layout);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(parts.len().max(1));
    let written: Vec<String> = if workers > 1 {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let slots: Vec<std::sync::Mutex<String>> = parts
            .iter()
            .map(|_| std::sync::Mutex::new(String::new()))
            .collect();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(part) = parts.get(i) else { break };
                    let text = write(part);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = text;
                    }
                });
            }
        });
        slots
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            })
            .collect()
    } else {
        parts.iter().map(write).collect()
    };
    written.concat()
}

/// A piece of the output.
enum Part<'a> {
    /// Literal text (a document separator).
    Text(&'static str),
    /// One entry of a top-level mapping.
    Entry(&'a String, &'a Value),
    /// A whole document.
    Whole(&'a Value),
}

impl Part<'_> {
    fn write(&self, layout: Layout) -> String {
        match (self, layout) {
            (Part::Text(t), _) => (*t).to_string(),
            (Part::Entry(k, v), Layout::Block(order)) => {
                write_with(&OneEntry(k, Ordered(v, order)), Quoting::All)
            }
            (Part::Whole(v), Layout::Block(order)) => write_with(&Ordered(v, order), Quoting::All),
            (Part::Entry(k, v), Layout::Compact) => {
                write_with(&compact::Entry(k, v), Quoting::AsDecided)
            }
            (Part::Whole(v), Layout::Compact) => {
                write_with(&compact::Compact::document(v), Quoting::AsDecided)
            }
        }
    }
}

/// A mapping of one entry, written without copying the value.
struct OneEntry<'a>(&'a str, Ordered<'a>);

impl serde::Serialize for OneEntry<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.0, &self.1)?;
        m.end()
    }
}

/// A value written with its keys in the given order.
struct Ordered<'a>(&'a Value, KeyOrder);

impl serde::Serialize for Ordered<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match (self.0, self.1) {
            (Value::Object(map), KeyOrder::Sorted) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    m.serialize_entry(k, &Ordered(v, KeyOrder::Sorted))?;
                }
                m.end()
            }
            (Value::Array(items), KeyOrder::Sorted) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&Ordered(v, KeyOrder::Sorted))?;
                }
                seq.end()
            }
            (v, _) => v.serialize(s),
        }
    }
}

/// One value as YAML through serde-saphyr, every string quoted, then double-quoted and with
/// plain decimals.
fn write_with(doc: &impl serde::Serialize, quoting: Quoting) -> String {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.indent_step = 2;
    options.quote_all = quoting == Quoting::All;
    options.prefer_block_scalars = false;
    let mut out = match serde_saphyr::to_string_with_options(doc, options) {
        Ok(s) => s,
        // Serialising a JSON value cannot fail; keep the output well-formed if it ever does.
        Err(e) => format!("# flowc could not write this document: {e}\n"),
    };
    if !out.ends_with('\n') {
        out.push('\n');
    }
    double_quotes(&plain_exponents(&out))
}

/// How strings are quoted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quoting {
    /// Every string (the block layout).
    All,
    /// As the document's own wrappers say (the compact layout: `DoubleQuoted` where needed).
    AsDecided,
}

/// Rewrites single-quoted scalars as double-quoted ones, the JSON-like style that every
/// Kubernetes tool and reviewer reads the same way. serde-saphyr uses single quotes only for
/// strings without backslashes, single quotes or control characters, so the content only
/// needs `"` escaped.
fn double_quotes(yaml: &str) -> String {
    let b = yaml.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len() + b.len() / 16);
    let mut i = 0;
    // Work on bytes, copying the runs between quotes whole: this runs over every byte of a
    // build's output. Only ASCII is inserted, next to ASCII, so the result stays UTF-8.
    while let Some(k) = b[i..].iter().position(|&c| c == b'"' || c == b'\'') {
        let q = i + k;
        out.extend_from_slice(&b[i..q]);
        if b[q] == b'"' {
            // A double-quoted scalar: copied through its closing quote, escapes included.
            let mut j = q + 1;
            while j < b.len() && b[j] != b'"' && b[j] != b'\n' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            out.extend_from_slice(&b[q..end]);
            i = end;
        } else if q == 0 || matches!(b[q - 1], b' ' | b'[' | b'{' | b',' | b'\n') {
            // A single-quoted scalar (never multi-line, never with `''` inside): re-quoted.
            let close = b[q + 1..]
                .iter()
                .position(|&c| c == b'\'' || c == b'\n')
                .map_or(b.len(), |p| q + 1 + p);
            out.push(b'"');
            for &c in &b[q + 1..close] {
                if c == b'"' {
                    out.push(b'\\');
                }
                out.push(c);
            }
            out.push(b'"');
            i = if b.get(close) == Some(&b'\'') {
                close + 1
            } else {
                close
            };
        } else {
            out.push(b'\'');
            i = q + 1;
        }
    }
    out.extend_from_slice(&b[i..]);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Rewrites numbers written with an exponent (`1.0e-6`) as plain decimals (`0.000001`).
/// Every string is quoted, so an unquoted scalar in exponent form can only be a number. Most
/// documents have none, and are returned as they are, without a copy.
fn plain_exponents(yaml: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    // `yaml[..copied]` is in `out` already.
    let (mut copied, mut at) = (0, 0);
    for line in yaml.split_inclusive('\n') {
        let start = at;
        at += line.len();
        if let Some(plain) = plain_exponent_line(line) {
            let o = out.get_or_insert_with(|| String::with_capacity(yaml.len()));
            o.push_str(&yaml[copied..start]);
            o.push_str(&plain);
            copied = at;
        }
    }
    match out {
        None => Cow::Borrowed(yaml),
        Some(mut o) => {
            o.push_str(&yaml[copied..]);
            Cow::Owned(o)
        }
    }
}

/// `line` with its number in exponent form written as a plain decimal, if it ends in one.
fn plain_exponent_line(line: &str) -> Option<String> {
    let body = line.trim_end_matches('\n');
    // Only a line ending in a digit after an `e` can hold a number in exponent form.
    if !body.ends_with(|c: char| c.is_ascii_digit())
        || !body.bytes().any(|c| c == b'e' || c == b'E')
    {
        return None;
    }
    let at = body.rfind(": ").map(|i| i + 2).or_else(|| {
        let t = body.trim_start();
        t.starts_with("- ").then(|| body.len() - t.len() + 2)
    })?;
    let token = &body[at..];
    if !token.contains(['e', 'E']) || token.starts_with(['"', '\'']) {
        return None;
    }
    let f = token.parse::<f64>().ok()?;
    Some(format!("{}{f}{}", &body[..at], &line[body.len()..]))
}

/// A float as a YAML number: whole values as integers (`2`, not `2.0`), others as floats;
/// [`to_yaml`] writes them without exponents (KFP once broke on scientific notation).
pub fn plain_number(f: f64) -> Value {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Value::from(f as i64);
    }
    Value::from(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_11_traps_are_quoted() {
        let doc = json!({
            "a": "on", "b": "no", "c": "y", "d": "1_000", "e": "12:30", "f": "2024-01-01",
            "g": "0o12", "h": "~", "i": "plain", "j": true, "k": 3, "l": 0.5, "m": "",
            "n": "multi\nline", "o": "null", "p": "0755", "q": "1e3",
        });
        let y = to_yaml(&[doc, json!({"q\"x": "it's", "on": "say \"hi\""})]);
        assert!(y.contains("q\"x: \"it's\"\n"), "{y}");
        assert!(
            y.contains("\"n\": \"multi\\nline\"\n"),
            "keys that YAML 1.1 reads as booleans are quoted: {y}"
        );
        assert!(y.contains("\"on\": \"say \\\"hi\\\"\"\n"), "{y}");
        for key in [
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "m", "o", "p", "q",
        ] {
            let line = y
                .lines()
                .find(|l| l.starts_with(&format!("{key}:")))
                .unwrap_or_default();
            let value = line.split_once(": ").map(|(_, v)| v).unwrap_or_default();
            assert!(value.starts_with('"'), "{key} is not double-quoted: {line}");
        }
        assert!(y.contains("j: true\n"));
        assert!(y.contains("k: 3\n"));
        assert!(y.contains("l: 0.5\n"));
        assert!(!y.contains('\t'));
    }

    #[test]
    fn numbers_are_plain() {
        let y = to_yaml(&[
            json!({"a": plain_number(0.000001), "b": plain_number(2.0), "c": [1.0e20, 17.179869184], "d": "1.0e-6"}),
        ]);
        assert_eq!(
            y,
            "a: 0.000001\nb: 2\nc:\n- 100000000000000000000\n- 17.179869184\nd: \"1.0e-6\"\n"
        );
    }

    #[test]
    fn sorted_keys_at_every_level_and_built_order_otherwise() {
        let doc = json!({"b": {"z": 1, "a": [{"y": 1, "x": 2}]}, "a": "s"});
        assert_eq!(
            into_yaml(vec![doc.clone()], KeyOrder::Sorted),
            "a: \"s\"\nb:\n  a:\n  - x: 2\n    \"y\": 1\n  z: 1\n"
        );
        assert_eq!(
            into_yaml(vec![doc], KeyOrder::AsBuilt),
            "b:\n  z: 1\n  a:\n  - \"y\": 1\n    x: 2\na: \"s\"\n"
        );
    }

    #[test]
    fn documents_are_separated() {
        let y = to_yaml(&[json!({"a": 1}), json!({"b": 2})]);
        assert_eq!(y, "a: 1\n---\nb: 2\n");
    }
}
