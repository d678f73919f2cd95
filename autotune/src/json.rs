//! JSON values that remember their line, read with `serde_json`.
//!
//! The readers need the line of a value that parses but means nothing (a missing field, a string
//! where a number belongs), not only of a syntax error, so that every error names its file and
//! line. `serde_json` checks the syntax (and reports syntax errors with their line); the tree is
//! then built from its borrowed [`RawValue`]s, each a slice of the text, whose offset gives the
//! line. Each level re-reads its own slice, so building costs the text's size times its depth
//! (a few levels in the trace formats). Nesting is bounded by `serde_json`'s recursion limit
//! (128), and nothing here panics: malformed text is a [`JsonError`] with a line.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A parsed JSON value with the 1-based line where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Json {
    /// The value itself.
    pub kind: JsonKind,
    /// 1-based line of the value's first character.
    pub line: usize,
}

/// The shape of a [`Json`] value. Numbers keep their text so that large integers stay exact.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object; keys keep their order of appearance.
    Object(Vec<(String, Json)>),
}

/// A syntax error with its 1-based line.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonError {
    /// Line where the error was noticed.
    pub line: usize,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl Json {
    /// The name of this value's JSON type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "boolean",
            JsonKind::Number(_) => "number",
            JsonKind::String(_) => "string",
            JsonKind::Array(_) => "array",
            JsonKind::Object(_) => "object",
        }
    }

    /// The member `key` of an object (first occurrence), if this is an object and has it.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match &self.kind {
            JsonKind::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The members of an object, or `None`.
    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match &self.kind {
            JsonKind::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The elements of an array, or `None`.
    pub fn as_array(&self) -> Option<&[Json]> {
        match &self.kind {
            JsonKind::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The text of a string, or `None`.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            JsonKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.kind, JsonKind::Null)
    }

    /// A number as `f64` (finite), or `None`.
    pub fn as_f64(&self) -> Option<f64> {
        match &self.kind {
            JsonKind::Number(text) => text.parse::<f64>().ok().filter(|v| v.is_finite()),
            _ => None,
        }
    }

    /// A non-negative integer (written without fraction, or with a zero fraction), or `None`.
    pub fn as_u64(&self) -> Option<u64> {
        match &self.kind {
            JsonKind::Number(text) => text.parse::<u64>().ok().or_else(|| {
                let v = text.parse::<f64>().ok()?;
                (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1.8e19).then_some(v as u64)
            }),
            _ => None,
        }
    }

    /// A signed integer, or `None`.
    pub fn as_i64(&self) -> Option<i64> {
        match &self.kind {
            JsonKind::Number(text) => text.parse::<i64>().ok(),
            _ => None,
        }
    }

    /// A boolean, or `None`.
    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            JsonKind::Bool(b) => Some(b),
            _ => None,
        }
    }
}

/// Parses one JSON document (surrounding whitespace allowed). `first_line` is the line number of
/// the text's first character, so a JSON-lines reader can pass each line's number.
pub fn parse(text: &str, first_line: usize) -> Result<Json, JsonError> {
    let doc = Document {
        text,
        line_starts: std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
        first_line,
    };
    let root: &RawValue = serde_json::from_str(text).map_err(|e| doc.syntax_error(&e))?;
    doc.value(root)
}

/// The text being read, with what turns an offset into a line.
struct Document<'a> {
    text: &'a str,
    /// The offset where each line starts.
    line_starts: Vec<usize>,
    first_line: usize,
}

impl Document<'_> {
    /// The value `raw`, a slice of the document's text that `serde_json` has checked.
    fn value(&self, raw: &RawValue) -> Result<Json, JsonError> {
        let source = raw.get();
        let line = self.line_of(source);
        let parse_error = |e: serde_json::Error| self.syntax_error_at(line, &e);
        let kind = match source.as_bytes().first() {
            Some(b'{') => {
                let Members(members) = serde_json::from_str(source).map_err(parse_error)?;
                let members = members
                    .into_iter()
                    .map(|(key, v)| Ok((key, self.value(v)?)))
                    .collect::<Result<_, JsonError>>()?;
                JsonKind::Object(members)
            }
            Some(b'[') => {
                let items: Vec<&RawValue> = serde_json::from_str(source).map_err(parse_error)?;
                let items = items
                    .into_iter()
                    .map(|v| self.value(v))
                    .collect::<Result<_, JsonError>>()?;
                JsonKind::Array(items)
            }
            Some(b'"') => JsonKind::String(serde_json::from_str(source).map_err(parse_error)?),
            Some(b't') => JsonKind::Bool(true),
            Some(b'f') => JsonKind::Bool(false),
            Some(b'n') => JsonKind::Null,
            _ => JsonKind::Number(source.to_string()),
        };
        Ok(Json { kind, line })
    }

    /// The line of `slice`, which lies within the document's text.
    fn line_of(&self, slice: &str) -> usize {
        let offset = (slice.as_ptr() as usize)
            .saturating_sub(self.text.as_ptr() as usize)
            .min(self.text.len());
        let index = self.line_starts.partition_point(|&start| start <= offset);
        self.first_line + index.saturating_sub(1)
    }

    /// A syntax error at the line `serde_json` reports.
    fn syntax_error(&self, e: &serde_json::Error) -> JsonError {
        let line = self.first_line + e.line().max(1) - 1;
        self.syntax_error_at(line, e)
    }

    /// A syntax error at `line`, worded by `serde_json` without its position, and with a hint
    /// when the text ends too early.
    fn syntax_error_at(&self, line: usize, e: &serde_json::Error) -> JsonError {
        let full = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        let mut message = full.strip_suffix(&position).unwrap_or(&full).to_string();
        if e.is_eof() {
            message.push_str(" (truncated JSON?)");
        }
        JsonError { line, message }
    }
}

/// An object's members in order, duplicates kept, values as unparsed slices.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;

        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }

        deserializer.deserialize_map(MembersVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values_with_lines() {
        let text =
            "{\n  \"a\": 1,\n  \"b\": [true, null, \"x\\u00e9\"],\n  \"c\": {\"d\": -2.5e3}\n}";
        let v = parse(text, 1).unwrap();
        assert_eq!(v.line, 1);
        assert_eq!(v.get("a").unwrap().line, 2);
        assert_eq!(v.get("a").unwrap().as_u64(), Some(1));
        let b = v.get("b").unwrap().as_array().unwrap();
        assert_eq!(b[2].as_str(), Some("xé"));
        assert_eq!(
            v.get("c").unwrap().get("d").unwrap().as_f64(),
            Some(-2500.0)
        );
        assert_eq!(v.get("c").unwrap().line, 4);
    }

    #[test]
    fn big_integers_stay_exact() {
        let v = parse("18446744073709551615", 1).unwrap();
        assert_eq!(v.as_u64(), Some(u64::MAX));
    }

    #[test]
    fn reports_truncation_with_line() {
        let err = parse("{\n\"a\": [1,\n2", 1).unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("truncated"), "{}", err.message);
    }

    #[test]
    fn duplicate_keys_are_kept_and_the_first_is_found() {
        let v = parse("{\"a\": 1, \"a\": 2}", 1).unwrap();
        assert_eq!(v.as_object().map(<[_]>::len), Some(2));
        assert_eq!(v.get("a").and_then(Json::as_u64), Some(1));
    }

    #[test]
    fn lines_count_from_the_first_line() {
        let v = parse("  [1,\n\n  {\"x\": \"y\"}]", 7).unwrap();
        assert_eq!(v.line, 7);
        assert_eq!(v.as_array().unwrap()[1].line, 9);
        let err = parse("[1,\n  x]", 7).unwrap_err();
        assert_eq!((err.line, err.message.as_str()), (8, "expected value"));
    }

    #[test]
    fn rejects_garbage_and_trailing_text() {
        assert!(parse("{\"a\" 1}", 1).is_err());
        assert!(parse("[1] x", 1).is_err());
        assert!(parse("", 5).unwrap_err().line == 5);
        assert!(parse("\"\\ud800\"", 1).is_err());
        let deep = "[".repeat(500);
        assert!(parse(&deep, 1).is_err());
    }
}
