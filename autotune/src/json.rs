//! A small JSON parser that remembers the line of every value.
//!
//! `serde_json` reports the position of syntax errors only; the readers also need the line of a
//! value that parses but means nothing (a missing field, a string where a number belongs), so that
//! every error names its file and line. The parser is iterative-recursive with a depth limit and
//! never panics: malformed text is a [`JsonError`] with a line.

use std::fmt;

/// Deepest nesting accepted; deeper input is rejected instead of overflowing the stack.
const MAX_DEPTH: usize = 128;

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
    let mut p = Parser {
        bytes: text.as_bytes(),
        pos: 0,
        line: first_line,
    };
    p.skip_ws();
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(value)
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl Parser<'_> {
    fn err(&self, message: &str) -> JsonError {
        JsonError {
            line: self.line,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                _ => break,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("JSON nested too deeply"));
        }
        let line = self.line;
        let kind = match self.peek() {
            None => return Err(self.err("unexpected end of input (truncated JSON?)")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => JsonKind::String(self.string()?),
            Some(b't') => self.literal("true", JsonKind::Bool(true))?,
            Some(b'f') => self.literal("false", JsonKind::Bool(false))?,
            Some(b'n') => self.literal("null", JsonKind::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.err("expected a JSON value")),
        };
        Ok(Json { kind, line })
    }

    fn literal(&mut self, word: &str, kind: JsonKind) -> Result<JsonKind, JsonError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.err("expected a JSON value"))
        }
    }

    fn number(&mut self) -> Result<JsonKind, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.pos;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
            p.pos > s
        };
        if !digits(self) {
            return Err(self.err("invalid number"));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.err("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.err("invalid number"));
            }
        }
        let text = String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned();
        Ok(JsonKind::Number(text))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let end = self.pos + 4;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| self.err("truncated \\u escape"))?;
        let text = std::str::from_utf8(slice).map_err(|_| self.err("invalid \\u escape"))?;
        let v = u32::from_str_radix(text, 16).map_err(|_| self.err("invalid \\u escape"))?;
        self.pos = end;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err("unterminated string (truncated JSON?)"));
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\n' => return Err(self.err("line break inside a string")),
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.err("unterminated string (truncated JSON?)"));
                    };
                    self.pos += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(self.err("unpaired surrogate in \\u escape"));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("unpaired surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or_else(|| self.err("invalid \\u escape"))?
                        }
                        _ => return Err(self.err("invalid escape in string")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(b),
            }
        }
        String::from_utf8(out).map_err(|_| self.err("string is not valid UTF-8"))
    }

    fn array(&mut self, depth: usize) -> Result<JsonKind, JsonError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(JsonKind::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(JsonKind::Array(items));
                }
                None => return Err(self.err("unexpected end of input (truncated JSON?)")),
                Some(_) => return Err(self.err("expected `,` or `]` in array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonKind, JsonError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(JsonKind::Object(members));
        }
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'"') => {}
                None => return Err(self.err("unexpected end of input (truncated JSON?)")),
                Some(_) => return Err(self.err("expected a string key in object")),
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(if self.peek().is_none() {
                    self.err("unexpected end of input (truncated JSON?)")
                } else {
                    self.err("expected `:` after object key")
                });
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            members.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(JsonKind::Object(members));
                }
                None => return Err(self.err("unexpected end of input (truncated JSON?)")),
                Some(_) => return Err(self.err("expected `,` or `}` in object")),
            }
        }
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
    fn rejects_garbage_and_trailing_text() {
        assert!(parse("{\"a\" 1}", 1).is_err());
        assert!(parse("[1] x", 1).is_err());
        assert!(parse("", 5).unwrap_err().line == 5);
        assert!(parse("\"\\ud800\"", 1).is_err());
        let deep = "[".repeat(500);
        assert!(parse(&deep, 1).is_err());
    }
}
