//! Argo strings built from literal text and `{{...}}` variables.
//!
//! Every string the emitter writes into a field that Argo substitutes (arguments, container
//! arguments, environment values, keys, conditions) is a [`Text`]: literal pieces and variable
//! references kept apart, so one value can be written two ways. [`Text::simple`] gives the
//! usual template form (`out/{{workflow.parameters.day}}.csv`), escaping any literal `{{` that
//! Argo would otherwise try to resolve; [`Text::expr`] gives an `expr` expression with the same
//! value, for `{{=...}}` tags (hashes, arithmetic). Invariant: a variable is always a path of
//! plain names (`tasks`, a task name, `outputs`, ...), never a fragment of an expression.

/// A piece of an Argo string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Piece {
    /// Literal text, written as is (with `{{` escaped).
    Lit(String),
    /// A variable such as `inputs.parameters.day`, as its path segments.
    Var(Vec<String>),
    /// An `expr` expression, written as `{{=...}}`.
    Expr(String),
}

/// A string made of literal text, variables and expressions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Text(pub(crate) Vec<Piece>);

impl Text {
    /// Literal text.
    pub(crate) fn lit(s: impl Into<String>) -> Text {
        let s = s.into();
        if s.is_empty() {
            return Text::default();
        }
        Text(vec![Piece::Lit(s)])
    }

    /// A variable, from its path segments.
    pub(crate) fn var<S: AsRef<str>>(segments: &[S]) -> Text {
        Text(vec![Piece::Var(
            segments.iter().map(|s| s.as_ref().to_string()).collect(),
        )])
    }

    /// An `expr` expression.
    pub(crate) fn expr_tag(e: impl Into<String>) -> Text {
        Text(vec![Piece::Expr(e.into())])
    }

    /// Appends another text.
    pub(crate) fn push(&mut self, other: Text) {
        for p in other.0 {
            match (self.0.last_mut(), p) {
                (Some(Piece::Lit(a)), Piece::Lit(b)) => a.push_str(&b),
                (_, p) => self.0.push(p),
            }
        }
    }

    /// Appends literal text.
    pub(crate) fn push_lit(&mut self, s: &str) {
        self.push(Text::lit(s));
    }

    /// This text followed by another.
    pub(crate) fn then(mut self, other: Text) -> Text {
        self.push(other);
        self
    }

    /// This text followed by literal text.
    pub(crate) fn then_lit(mut self, s: &str) -> Text {
        self.push_lit(s);
        self
    }

    /// Whether the text is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text when it has no variables or expressions.
    pub(crate) fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Lit(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }

    /// The path of the variable when the text is exactly one variable.
    pub(crate) fn as_var(&self) -> Option<&[String]> {
        match self.0.as_slice() {
            [Piece::Var(v)] => Some(v),
            _ => None,
        }
    }

    /// The Argo template form: literal text with `{{` escaped, `{{a.b}}`, `{{=e}}`.
    pub(crate) fn simple(&self) -> String {
        let mut out = String::new();
        for (i, p) in self.0.iter().enumerate() {
            match p {
                Piece::Lit(s) => {
                    let tag_follows =
                        matches!(self.0.get(i + 1), Some(Piece::Var(_) | Piece::Expr(_)));
                    escape_braces(s, tag_follows, &mut out);
                }
                Piece::Var(v) => {
                    out.push_str("{{");
                    out.push_str(&v.join("."));
                    out.push_str("}}");
                }
                Piece::Expr(e) => {
                    out.push_str("{{=");
                    out.push_str(e);
                    out.push_str("}}");
                }
            }
        }
        out
    }

    /// An `expr` expression whose value is this text, as a string.
    pub(crate) fn expr(&self) -> String {
        if self.0.is_empty() {
            return "''".to_string();
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|p| match p {
                Piece::Lit(s) => expr_string(s),
                Piece::Var(v) => expr_path(v),
                Piece::Expr(e) if strip_parens(e) != e || !e.contains(' ') => e.clone(),
                Piece::Expr(e) => format!("({e})"),
            })
            .collect();
        parts.join(" + ")
    }
}

/// Writes literal text so that Argo keeps it literal: every `{` that would start a `{{` tag
/// becomes the expression `{{='{'}}`.
fn escape_braces(s: &str, tag_follows: bool, out: &mut String) {
    let chars: Vec<char> = s.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let next_is_brace = match chars.get(i + 1) {
            Some(n) => *n == '{',
            None => tag_follows,
        };
        if *c == '{' && next_is_brace {
            out.push_str("{{='{'}}");
        } else {
            out.push(*c);
        }
    }
}

/// A variable path as an `expr` expression: `inputs.parameters['flowc-key']`. A segment that
/// is an `expr` identifier is a member (`.parameters`), any other (hyphens, keywords) an index
/// (`['flowc-key']`); on Argo's maps of variables the two mean the same.
pub(crate) fn expr_path(v: &[String]) -> String {
    let mut out = String::new();
    for (i, seg) in v.iter().enumerate() {
        if i == 0 {
            out.push_str(seg);
        } else if is_expr_identifier(seg) {
            out.push('.');
            out.push_str(seg);
        } else {
            out.push('[');
            out.push_str(&expr_string(seg));
            out.push(']');
        }
    }
    out
}

/// Whether `s` can follow a `.` in an `expr` member access: an identifier that is none of the
/// language's words (operators, literals, `let`/`if`/`else`).
fn is_expr_identifier(s: &str) -> bool {
    const WORDS: [&str; 14] = [
        "and",
        "or",
        "not",
        "in",
        "matches",
        "contains",
        "startsWith",
        "endsWith",
        "true",
        "false",
        "nil",
        "let",
        "if",
        "else",
    ];
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !WORDS.contains(&s)
}

/// A string literal of the `expr` language. Braces are written as `\u` escapes so that a `}}`
/// in the value never ends the `{{=...}}` tag around the expression.
pub(crate) fn expr_string(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '{' => out.push_str("\\u007b"),
            '}' => out.push_str("\\u007d"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A string literal for a `when` condition (govaluate): single quotes, `'` and `\` escaped.
pub(crate) fn when_string(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The text form of a JSON value as a parameter: strings as they are, numbers in plain decimal,
/// `true`/`false`, `none` as the empty string, lists and maps as compact JSON.
pub(crate) fn text_form(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => number_text(n),
        serde_json::Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// A JSON number in plain decimal (`0.000001`, never `1e-6`; `5` for `5.0`).
pub(crate) fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    match n.as_f64() {
        // Rust prints floats without exponents.
        Some(f) if f.is_finite() => format!("{f}"),
        _ => n.to_string(),
    }
}

/// `x` for `(x)` when the parentheses enclose the whole text.
pub(crate) fn strip_parens(s: &str) -> &str {
    let Some(inner) = s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) else {
        return s;
    };
    let mut depth = 0i32;
    let mut quoted = false;
    for c in inner.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth < 0 {
                    return s;
                }
            }
            _ => {}
        }
    }
    if depth == 0 {
        inner
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_form_escapes_literal_tags() {
        let t = Text::lit("a {{b}} ").then(Text::var(&["inputs", "parameters", "x"]));
        assert_eq!(t.simple(), "a {{='{'}}{b}} {{inputs.parameters.x}}");
        let t = Text::lit("{").then(Text::var(&["item"]));
        assert_eq!(t.simple(), "{{='{'}}{{item}}");
        assert_eq!(Text::lit("{}").simple(), "{}");
    }

    #[test]
    fn expr_form() {
        let t = Text::lit("out/")
            .then(Text::var(&["workflow", "parameters", "day"]))
            .then_lit("'}}");
        assert_eq!(
            t.expr(),
            "'out/' + workflow.parameters.day + '\\'\\u007d\\u007d'"
        );
        let t = Text::var(&["tasks", "make-data", "outputs", "parameters", "in"]);
        assert_eq!(t.expr(), "tasks['make-data'].outputs.parameters['in']");
        assert_eq!(Text::default().expr(), "''");
    }

    #[test]
    fn numbers_are_plain() {
        assert_eq!(text_form(&serde_json::json!(0.000001)), "0.000001");
        assert_eq!(text_form(&serde_json::json!(5.0)), "5");
        assert_eq!(text_form(&serde_json::json!(-3)), "-3");
        assert_eq!(text_form(&serde_json::json!(null)), "");
        assert_eq!(text_form(&serde_json::json!(["a", 1])), "[\"a\",1]");
    }
}
