//! The YAML 1.1 reading of Argo files (go-yaml v2, as the Argo controller and kubectl read
//! them): every plain scalar, in block or flow style, reads the same in YAML 1.1 and 1.2: a
//! boolean spelled `true`/`false`, a number in plain decimal, or a string that no reader takes
//! for anything else (starting with a letter, `/` or dashes before a letter).

use crate::validate::{documents, strings};

/// How a YAML 1.1 reader (go-yaml v2, PyYAML) resolves a plain scalar.
#[derive(Debug, PartialEq)]
pub enum Yaml11 {
    Bool,
    Int,
    Float,
    Null,
    Timestamp,
    Str,
}

pub fn resolve_yaml11(s: &str) -> Yaml11 {
    const TRUE_FALSE: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    if TRUE_FALSE.contains(&s) {
        return Yaml11::Bool;
    }
    if ["", "~", "null", "Null", "NULL"].contains(&s) {
        return Yaml11::Null;
    }
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let digits_ = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '_');
    if body.starts_with("0b")
        && body[2..].chars().all(|c| matches!(c, '0' | '1' | '_'))
        && body.len() > 2
        || body.starts_with("0x")
            && body.len() > 2
            && body[2..].chars().all(|c| c.is_ascii_hexdigit() || c == '_')
        || body.starts_with("0o")
            && body.len() > 2
            && body[2..].chars().all(|c| c.is_digit(8) || c == '_')
        || digits_(body) && body.starts_with(|c: char| c.is_ascii_digit())
    {
        return Yaml11::Int;
    }
    // Sexagesimal: 12:30, 1:20:30.5
    let sexa: Vec<&str> = body.split(':').collect();
    if sexa.len() > 1
        && sexa[0].starts_with(|c: char| c.is_ascii_digit())
        && sexa.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_digit() || c == '_' || c == '.')
        })
    {
        return Yaml11::Int;
    }
    let lower = body.to_ascii_lowercase();
    if [".inf", ".nan"].contains(&lower.as_str()) {
        return Yaml11::Float;
    }
    let (mant, exp) = match lower.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (lower.as_str(), None),
    };
    let mant_ok = mant.contains('.')
        && mant
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
        && mant.chars().filter(|c| *c == '.').count() == 1
        && mant.chars().any(|c| c.is_ascii_digit());
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    if mant_ok && exp_ok {
        return Yaml11::Float;
    }
    let date = |t: &str| {
        let b = t.as_bytes();
        t.len() >= 8 && b[0..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
    };
    if date(s) && s.split('-').count() >= 3 {
        return Yaml11::Timestamp;
    }
    Yaml11::Str
}

/// The plain (unquoted) scalars of a YAML file written by flowc: values after `key: `, after
/// `- `, inside flow collections (`[a, b]`, `{k: v}`), and keys (as `key K`).
pub fn plain_scalars(yaml: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in yaml.lines().enumerate() {
        let mut rest = line.trim_start();
        if rest == "---" || rest.is_empty() {
            continue;
        }
        while let Some(r) = rest.strip_prefix("- ") {
            rest = r;
        }
        if rest.starts_with(['{', '[']) {
            flow_scalars(rest, n + 1, &mut out);
            continue;
        }
        // A key, quoted or plain.
        let value = if rest.starts_with('"') {
            match closing_quote(rest) {
                Some(end) if rest[end + 1..].starts_with(':') => rest[end + 2..].trim_start(),
                _ => rest,
            }
        } else if let Some((k, v)) = rest.split_once(": ") {
            out.push((n + 1, format!("key {k}")));
            v
        } else if let Some(k) = rest.strip_suffix(':') {
            out.push((n + 1, format!("key {k}")));
            ""
        } else {
            rest
        };
        let value = value.trim();
        if value.starts_with(['{', '[']) {
            flow_scalars(value, n + 1, &mut out);
            continue;
        }
        if value.is_empty() || value.starts_with('"') {
            continue;
        }
        out.push((n + 1, value.to_string()));
    }
    out
}

/// The plain scalars of a flow collection on one line: the text between `{`, `[`, `,`, `]`,
/// `}` and `: `, outside double quotes; a scalar before `: ` is a key.
fn flow_scalars(s: &str, line: usize, out: &mut Vec<(usize, String)>) {
    let b = s.as_bytes();
    let mut start: Option<usize> = None;
    let mut push = |from: Option<usize>, to: usize, key: bool| {
        if let Some(from) = from {
            let token = s[from..to].trim();
            if !token.is_empty() {
                let token = if key {
                    format!("key {token}")
                } else {
                    token.to_string()
                };
                out.push((line, token));
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += closing_quote(&s[i..]).map_or(b.len(), |e| e + 1);
                start = None;
                continue;
            }
            b'{' | b'[' | b',' | b']' | b'}' => {
                push(start, i, false);
                start = None;
            }
            b':' if matches!(b.get(i + 1), Some(b' ') | None) => {
                push(start, i, true);
                start = None;
            }
            b' ' => {}
            _ => {
                if start.is_none() {
                    start = Some(i);
                }
            }
        }
        i += 1;
    }
    push(start, b.len(), false);
}

/// Whether a plain scalar YAML 1.1 reads as a string is a string in YAML 1.2 (and for every
/// reader) too: it starts with a letter, `/`, or one or two dashes before a letter, and has
/// only letters, digits and `._/-`, so that it is no number, date, null or boolean anywhere.
fn safe_plain_string(s: &str) -> bool {
    let body = s.trim_start_matches('-');
    let dashes = s.len() - body.len();
    dashes <= 2
        && (body.starts_with(|c: char| c.is_ascii_alphabetic())
            || dashes == 0 && body.starts_with('/'))
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
}

fn closing_quote(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Every string of the JSON form of the documents must be a quoted scalar in the YAML: a
/// plain scalar must read (in YAML 1.1) as a boolean, number or null, and be that in JSON.
pub fn check_yaml11(name: &str, text: &str) {
    if let Some(problem) = yaml11_problem(name, text) {
        panic!("{problem}");
    }
}

/// The first place where `text` breaks [`check_yaml11`]'s rule, in words; `None` when it
/// keeps it.
pub fn yaml11_problem(name: &str, text: &str) -> Option<String> {
    if text.contains('\t') {
        return Some(format!("{name}: tabs in YAML"));
    }
    plain_scalars(text)
        .into_iter()
        .find_map(|(line, scalar)| scalar_problem(&scalar).map(|p| format!("{name}:{line}: {p}")))
}

/// Why one plain scalar (`key K` for a key) may not read in YAML 1.1 as it is meant.
fn scalar_problem(scalar: &str) -> Option<String> {
    if let Some(key) = scalar.strip_prefix("key ") {
        let string = resolve_yaml11(key) == Yaml11::Str && safe_plain_string(key);
        return (!string).then(|| format!("key `{key}` is not read as a string by YAML 1.1"));
    }
    let r = resolve_yaml11(scalar);
    if r == Yaml11::Str {
        return (!safe_plain_string(scalar))
            .then(|| format!("plain string `{scalar}` may be read as something else"));
    }
    if !matches!(r, Yaml11::Bool | Yaml11::Int | Yaml11::Float | Yaml11::Null) {
        return Some(format!(
            "plain scalar `{scalar}` would be read as {r:?} by YAML 1.1"
        ));
    }
    if r == Yaml11::Bool && scalar != "true" && scalar != "false" {
        return Some(format!("boolean spelled `{scalar}`"));
    }
    let plain_decimal = !scalar.contains(['_', ':', 'e', 'E', 'x', 'o', 'b'])
        && !scalar.starts_with('0')
        || scalar == "0"
        || scalar.starts_with("0.");
    (matches!(r, Yaml11::Int | Yaml11::Float) && !plain_decimal)
        .then(|| format!("number `{scalar}` is not plain decimal"))
}

/// Every file of `files` (name, text) reads the same with YAML 1.1 rules.
pub fn yaml_reads_the_same_in_yaml_1_1(files: &[(String, String)]) {
    for (name, text) in files {
        check_yaml11(name, text);
        // And the typed reading agrees: strings stay strings.
        for doc in documents(text) {
            let mut all = Vec::new();
            strings(&doc, &mut all);
            assert!(!all.is_empty());
        }
    }
}
