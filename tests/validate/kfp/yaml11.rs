//! The YAML 1.1 reading of KFP files (PyYAML, as the kfp SDK and backend read them): every
//! plain scalar is a boolean or a plain decimal number, and no plain key reads as anything but
//! a string.

/// What YAML 1.1 (go-yaml v2, PyYAML) makes of a plain scalar.
#[derive(Debug, PartialEq)]
pub enum Yaml11 {
    Bool,
    Int,
    Float,
    Null,
    Timestamp,
    Str,
}

fn digits(s: &str, radix: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c == '_' || c.is_digit(radix)) && s.chars().any(|c| c != '_')
}

pub fn resolve_yaml11(s: &str) -> Yaml11 {
    const BOOLS: [&str; 22] = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    if BOOLS.contains(&s) {
        return Yaml11::Bool;
    }
    if ["~", "null", "Null", "NULL", ""].contains(&s) {
        return Yaml11::Null;
    }
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if let Some(b) = body.strip_prefix("0b") {
        if digits(b, 2) {
            return Yaml11::Int;
        }
    }
    if let Some(h) = body.strip_prefix("0x") {
        if digits(h, 16) {
            return Yaml11::Int;
        }
    }
    if digits(body, 10) {
        return Yaml11::Int;
    }
    // Sexagesimal: 12:30, 1:20:30.5
    if body.contains(':')
        && body
            .split(':')
            .all(|p| digits(p.split('.').next().unwrap_or_default(), 10))
        && body.starts_with(|c: char| c.is_ascii_digit())
    {
        return if body.contains('.') {
            Yaml11::Float
        } else {
            Yaml11::Int
        };
    }
    if [".inf", ".Inf", ".INF"].contains(&body) || [".nan", ".NaN", ".NAN"].contains(&s) {
        return Yaml11::Float;
    }
    // [-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?
    if let Some((int, rest)) = body.split_once('.') {
        let int_ok =
            int.is_empty() || (int.starts_with(|c: char| c.is_ascii_digit()) && digits(int, 10));
        let (frac, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        // PyYAML and go-yaml: `[0-9_]*` after the point (the 1.1 spec's `[0-9.]*` would make
        // `0.0.1` a float, which no reader does).
        let frac_ok = frac.chars().all(|c| c.is_ascii_digit() || c == '_');
        let exp_ok = exp.is_none_or(|e| {
            e.len() > 1 && e.starts_with(['-', '+']) && e[1..].chars().all(|c| c.is_ascii_digit())
        });
        if int_ok && frac_ok && exp_ok && (int.len() + frac.len()) > 0 {
            return Yaml11::Float;
        }
    }
    // 2001-12-14 and its longer forms
    let b = s.as_bytes();
    if b.len() >= 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && s[5..]
            .split(['-', 'T', 't', ' '])
            .next()
            .is_some_and(|m| digits(m, 10))
        && s.matches('-').count() >= 2
    {
        return Yaml11::Timestamp;
    }
    Yaml11::Str
}

/// The plain (unquoted) scalars of a block-style YAML file: (line, is_key, text).
pub fn plain_scalars(yaml: &str) -> Vec<(usize, bool, String)> {
    let mut out = Vec::new();
    for (i, line) in yaml.lines().enumerate() {
        if line.trim_start().starts_with('#') || line == "---" {
            continue;
        }
        let mut rest = line.trim_start();
        while let Some(r) = rest.strip_prefix("- ") {
            rest = r.trim_start();
        }
        if rest == "-" {
            continue;
        }
        // A key, quoted or plain.
        let (key, value) = if rest.starts_with('"') {
            match closing_quote(rest) {
                Some(end) if rest[end + 1..].starts_with(':') => {
                    (None, rest[end + 2..].trim_start())
                }
                _ => (None, rest),
            }
        } else {
            match rest
                .find(": ")
                .or_else(|| rest.strip_suffix(':').map(|k| k.len()))
            {
                Some(at) => (Some(&rest[..at]), rest[at + 1..].trim_start()),
                None => (None, rest),
            }
        };
        if let Some(k) = key {
            out.push((i + 1, true, k.to_string()));
        }
        if !value.is_empty() && !value.starts_with('"') && value != "{}" && value != "[]" {
            out.push((i + 1, false, value.to_string()));
        }
    }
    out
}

fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Some(i);
        }
    }
    None
}

pub fn check_yaml11(name: &str, text: &str) {
    assert!(!text.contains('\t'), "{name}: a tab");
    for (line, is_key, s) in plain_scalars(text) {
        let r = resolve_yaml11(&s);
        if is_key {
            assert_eq!(
                r,
                Yaml11::Str,
                "{name}:{line}: the plain key `{s}` is not a string in YAML 1.1"
            );
        } else {
            let plain_decimal = {
                let b = s.strip_prefix('-').unwrap_or(&s);
                let (i, f) = b.split_once('.').unwrap_or((b, "0"));
                digits(i, 10)
                    && !i.contains('_')
                    && (i == "0" || !i.starts_with('0'))
                    && digits(f, 10)
                    && !f.contains('_')
            };
            assert!(
                s == "true" || s == "false" || plain_decimal,
                "{name}:{line}: the plain value `{s}` reads as {r:?} in YAML 1.1; strings must be quoted"
            );
        }
    }
}
