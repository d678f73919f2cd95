//! Names and literals as `.flow` writes them: Kubeflow names (`Learning rate`, `train-model`)
//! made into valid, unique `.flow` names, and strings, numbers and doc comments written as
//! the grammar reads them.

use std::collections::BTreeSet;

/// The reserved words of `.flow` (docs/language.md section 16), which cannot be names.
const RESERVED: &[&str] = &[
    "import", "as", "schema", "extends", "secret", "profile", "step", "builtin", "pipeline", "if",
    "else", "for", "in", "after", "check", "output", "finally", "defaults", "true", "false",
    "none", "and", "or", "not",
];

/// Whether `s` is a valid `.flow` name.
pub fn is_valid(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&s)
}

/// `s` as a valid `.flow` name: as it is when valid, else lower-cased with every run of other
/// characters made one `_` (as the kfp SDK names Python parameters), `_` before a leading
/// digit and after a reserved word.
pub fn sanitize(s: &str) -> String {
    if is_valid(s) {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let mut out = out.trim_matches('_').to_string();
    if out.is_empty() {
        out = "unnamed".into();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if RESERVED.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// Names already given in one namespace; [`Names::unique`] adds `_2`, `_3`… to a clash.
#[derive(Debug, Default, Clone)]
pub struct Names {
    used: BTreeSet<String>,
}

impl Names {
    /// Reserves `name` (a name the output uses whatever happens).
    pub fn reserve(&mut self, name: &str) {
        self.used.insert(name.to_string());
    }

    /// A name from `wanted` that is not taken yet, and takes it.
    pub fn unique(&mut self, wanted: &str) -> String {
        let base = sanitize(wanted);
        let mut name = base.clone();
        let mut n = 2;
        while self.used.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.used.insert(name.clone());
        name
    }
}

/// `s` as a `.flow` string literal (escapes, and `\$` before `{` so `${` stays literal).
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:X}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A float as a `.flow` literal: digits on both sides of the point, no exponent.
pub fn float(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let s = format!("{f}");
    Some(if s.contains('.') { s } else { format!("{s}.0") })
}

/// A JSON value as a `.flow` literal of type `ty` (`Str`, `Int`, `Float`, `Bool`, `List<T>`);
/// `None` when it does not fit. Objects become their JSON text.
pub fn literal(v: &serde_json::Value, ty: &str) -> Option<String> {
    use serde_json::Value as J;
    let ty = ty.trim_end_matches('?');
    match (v, ty) {
        (J::String(s), "Str" | "Date") => Some(string(s)),
        (J::Number(n), "Int") => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .map(|i| i.to_string()),
        (J::Number(n), "Float") => n.as_f64().and_then(float),
        (J::Bool(b), "Bool") => Some(b.to_string()),
        (J::Array(items), t) if t.starts_with("List<") && t.ends_with('>') => {
            let elem = &t[5..t.len() - 1];
            let parts: Option<Vec<String>> = items.iter().map(|i| literal(i, elem)).collect();
            parts.map(|p| format!("[{}]", p.join(", ")))
        }
        (J::Object(_) | J::Array(_), "Str") => Some(string(&v.to_string())),
        (J::Number(n), "Str") => Some(string(&n.to_string())),
        (J::Bool(b), "Str") => Some(string(&b.to_string())),
        _ => None,
    }
}

/// `text` as `///` doc comment lines at `indent`.
pub fn doc(text: &str, indent: &str) -> String {
    let mut out = String::new();
    for line in text.trim().lines() {
        let line = line.trim_end();
        if line.is_empty() {
            out.push_str(&format!("{indent}///\n"));
        } else {
            out.push_str(&format!("{indent}/// {line}\n"));
        }
    }
    out
}

/// `text` as `//` comment lines at `indent` (one line per line of `text`).
pub fn comment(text: &str, indent: &str) -> String {
    text.lines()
        .map(|l| format!("{indent}// {}\n", l.trim_end()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_valid_and_unique() {
        assert_eq!(sanitize("Learning rate"), "learning_rate");
        assert_eq!(sanitize("train-model"), "train_model");
        assert_eq!(sanitize("Output"), "Output");
        assert_eq!(sanitize("1st pass"), "_1st_pass");
        assert_eq!(sanitize("in"), "in_");
        assert_eq!(sanitize("%%"), "unnamed");
        let mut n = Names::default();
        assert_eq!(n.unique("a b"), "a_b");
        assert_eq!(n.unique("a-b"), "a_b_2");
    }

    #[test]
    fn literals_read_back() {
        assert_eq!(string("a\"b${c}$d\n"), "\"a\\\"b\\${c}$d\\n\"");
        assert_eq!(float(0.000001).as_deref(), Some("0.000001"));
        assert_eq!(float(3.0).as_deref(), Some("3.0"));
    }
}
