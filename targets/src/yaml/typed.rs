//! The block layout with sorted keys written straight from an emitter's typed records, without
//! a `serde_json::Value` tree in between: the bytes [`super::push_sorted_entry`] writes for the
//! tree the record stands for. The caller writes the keys of each mapping in sorted order (the
//! fixed keys of a record are known; names are sorted by the caller) and nests by depth. A key
//! the block writer would quote is refused (false, with part of the entry written): the
//! caller then truncates and writes the tree instead.

use serde_json::Value;

use super::block;

/// `key:` and a line break at `depth`: the start of a nested mapping or sequence. False when
/// the key is not written plain.
pub fn open(out: &mut String, depth: usize, key: &str) -> bool {
    if !key_at(out, depth, "", key) {
        return false;
    }
    out.push('\n');
    true
}

/// `key: "value"` at `depth`.
pub fn string(out: &mut String, depth: usize, key: &str, value: &str) -> bool {
    if !key_at(out, depth, "", key) {
        return false;
    }
    out.push(' ');
    quoted(out, value);
    out.push('\n');
    true
}

/// `key: TOKEN` at `depth`, the token written as it is (`true`, `{}`, a whole number).
pub fn raw(out: &mut String, depth: usize, key: &str, token: &str) -> bool {
    if !key_at(out, depth, "", key) {
        return false;
    }
    out.push(' ');
    out.push_str(token);
    out.push('\n');
    true
}

/// `- "value"` at `depth`: an item of a sequence of strings.
pub fn item(out: &mut String, depth: usize, value: &str) {
    block::push_indent(out, depth);
    out.push_str("- ");
    quoted(out, value);
    out.push('\n');
}

/// `- key: "value"` at `depth`: the first entry of a mapping that is an item of a sequence
/// (its other entries follow at `depth + 1`).
pub fn item_string(out: &mut String, depth: usize, key: &str, value: &str) -> bool {
    if !key_at(out, depth, "- ", key) {
        return false;
    }
    out.push(' ');
    quoted(out, value);
    out.push('\n');
    true
}

/// The indent for `depth`, then `lead` (`""` or `"- "`) and `key:`. False, with nothing
/// written, when the block writer would quote the key.
fn key_at(out: &mut String, depth: usize, lead: &str, key: &str) -> bool {
    if !block::is_plain_name(key) {
        return false;
    }
    put_key(out, depth, lead, key);
    true
}

/// [`key_at`] for a key of the emitter's own (`componentRef`, `name`): plain as written, which
/// debug builds and the tests check, so not asked again (the check is about 90 instructions,
/// and a 1,000-step build writes some 25,000 such keys).
fn fixed_key_at(out: &mut String, depth: usize, lead: &str, key: &'static str) -> bool {
    debug_assert!(block::is_plain_name(key), "{key:?} is not a plain key");
    put_key(out, depth, lead, key);
    true
}

/// The indent for `depth`, then `lead` and `key:`.
fn put_key(out: &mut String, depth: usize, lead: &str, key: &str) {
    block::push_indent(out, depth);
    out.push_str(lead);
    out.push_str(key);
    out.push(':');
}

/// [`open`] for a key of the emitter's own (see [`fixed_key_at`]); always true.
pub fn open_fixed(out: &mut String, depth: usize, key: &'static str) -> bool {
    fixed_key_at(out, depth, "", key);
    out.push('\n');
    true
}

/// [`string`] for a key of the emitter's own (see [`fixed_key_at`]); always true.
pub fn string_fixed(out: &mut String, depth: usize, key: &'static str, value: &str) -> bool {
    fixed_key_at(out, depth, "", key);
    out.push(' ');
    quoted(out, value);
    out.push('\n');
    true
}

/// [`raw`] for a key of the emitter's own (see [`fixed_key_at`]); always true.
pub fn raw_fixed(out: &mut String, depth: usize, key: &'static str, token: &str) -> bool {
    fixed_key_at(out, depth, "", key);
    out.push(' ');
    out.push_str(token);
    out.push('\n');
    true
}

/// [`item_string`] for a key of the emitter's own (see [`fixed_key_at`]); always true.
pub fn item_string_fixed(out: &mut String, depth: usize, key: &'static str, value: &str) -> bool {
    fixed_key_at(out, depth, "- ", key);
    out.push(' ');
    quoted(out, value);
    out.push('\n');
    true
}

/// `key: value` at `depth` for a value the record holds as a tree (a constant, a policy).
pub fn value(out: &mut String, depth: usize, key: &str, value: &Value) -> bool {
    super::push_sorted_entry(key, value, depth, out)
}

/// A string as a double-quoted scalar.
fn quoted(out: &mut String, s: &str) {
    out.push('"');
    block::escape_double_quoted(s, out);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Each helper writes what the tree writer writes for the tree it stands for.
    #[test]
    fn the_helpers_write_the_tree_writers_bytes() {
        let tree = json!({"m": {
            "a": "x \"q\" \u{7}",
            "b": true,
            "c": [{"name": "n", "value": "v"}, {"name": "m", "value": "w"}],
            "d": ["one", "t\\wo"],
            "e": {},
            "f": {"g": 1.5},
        }});
        let mut expected = String::new();
        let Value::Object(map) = &tree else {
            unreachable!()
        };
        assert!(super::super::push_sorted_entry(
            "k",
            &map["m"],
            1,
            &mut expected
        ));
        let mut out = String::new();
        assert!(open(&mut out, 1, "k"));
        assert!(string(&mut out, 2, "a", "x \"q\" \u{7}"));
        assert!(raw(&mut out, 2, "b", "true"));
        assert!(open(&mut out, 2, "c"));
        for (n, v) in [("n", "v"), ("m", "w")] {
            assert!(item_string(&mut out, 2, "name", n));
            assert!(string(&mut out, 3, "value", v));
        }
        assert!(open(&mut out, 2, "d"));
        item(&mut out, 2, "one");
        item(&mut out, 2, "t\\wo");
        assert!(raw(&mut out, 2, "e", "{}"));
        assert!(value(&mut out, 2, "f", &json!({"g": 1.5})));
        assert_eq!(out, expected);
        // The fixed keys' helpers write the same bytes.
        let mut fixed = String::new();
        assert!(open_fixed(&mut fixed, 1, "k"));
        assert!(string_fixed(&mut fixed, 2, "a", "x \"q\" \u{7}"));
        assert!(raw_fixed(&mut fixed, 2, "b", "true"));
        assert!(open_fixed(&mut fixed, 2, "c"));
        for (n, v) in [("n", "v"), ("m", "w")] {
            assert!(item_string_fixed(&mut fixed, 2, "name", n));
            assert!(string_fixed(&mut fixed, 3, "value", v));
        }
        assert_eq!(fixed, out[..fixed.len()]);
        // Keys the block writer quotes are refused.
        for key in ["y", "on", "a b", "1x", ""] {
            assert!(!open(&mut String::new(), 0, key), "{key}");
            assert!(!string(&mut String::new(), 0, key, "v"), "{key}");
            assert!(!raw(&mut String::new(), 0, key, "1"), "{key}");
            assert!(!item_string(&mut String::new(), 0, key, "v"), "{key}");
        }
    }
}
