//! The CEL conditions of compiled pipelines (`triggerPolicy.condition`) as `.flow`
//! expressions, and how `dsl.Else`/`dsl.Elif` branches read (`!(a) && b`).
//!
//! Only what `dsl.If` writes is read: comparisons of inputs with literals, `&&`, `||`, `!`,
//! parentheses and the casts `int(...)`, `double(...)`, `string(...)`; anything else is
//! `None`, and the caller says so in the output.

/// Translates `cel`, reading `inputs.parameter_values['x']` through `input`.
pub fn translate(cel: &str, input: &mut dyn FnMut(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = cel.trim();
    while !rest.is_empty() {
        let c = rest.chars().next()?;
        if c.is_whitespace() {
            rest = rest.trim_start();
            continue;
        }
        if let Some(r) = rest.strip_prefix("inputs.parameter_values['") {
            let end = r.find("']")?;
            out.push_str(&input(&r[..end])?);
            rest = &r[end + 2..];
        } else if let Some(r) = ["int(", "double(", "string("]
            .iter()
            .find_map(|f| rest.strip_prefix(f))
        {
            out.push('(');
            rest = r;
        } else if c == '\'' || c == '"' {
            let end = rest[1..].find(c)? + 1;
            out.push_str(&crate::names::string(&rest[1..end]));
            rest = &rest[end + 1..];
        } else if let Some((op, flow)) = [
            ("&&", " and "),
            ("||", " or "),
            ("==", " == "),
            ("!=", " != "),
            ("<=", " <= "),
            (">=", " >= "),
            ("<", " < "),
            (">", " > "),
            ("!", "not "),
            ("(", "("),
            (")", ")"),
        ]
        .iter()
        .find(|(op, _)| rest.starts_with(op))
        {
            out.push_str(flow);
            rest = &rest[op.len()..];
        } else if c.is_ascii_digit() || c == '-' || c == '.' {
            let end = rest
                .find(|ch: char| !(ch.is_ascii_digit() || ch == '.' || ch == '-'))
                .unwrap_or(rest.len());
            let num = &rest[..end];
            num.parse::<f64>().ok()?;
            out.push_str(num);
            rest = &rest[end..];
        } else if let Some(r) = rest
            .strip_prefix("true")
            .or_else(|| rest.strip_prefix("false"))
        {
            out.push_str(&rest[..rest.len() - r.len()]);
            rest = r;
        } else {
            return None;
        }
    }
    let text = out
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("( ", "(")
        .replace(" )", ")");
    Some(unwrap_names(&text))
}

/// `(name)` as `name`: the parentheses a cast such as `int(...)` leaves around one value.
fn unwrap_names(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('(') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(')').unwrap_or(after.len());
        let inner = &after[..end];
        let is_name = !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if is_name && end < after.len() {
            out.push_str(inner);
            rest = &after[end + 1..];
        } else {
            out.push('(');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The parts of `cel` joined by a top-level `&&`.
pub fn conjuncts(cel: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    let bytes = cel.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, '&') if depth == 0 && bytes.get(i + 1) == Some(&b'&') => {
                parts.push(cel[start..i].trim().to_string());
                start = i + 2;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(cel[start..].trim().to_string());
    parts
}

/// For the branches of one `dsl.If`/`Elif`/`Else` group in order, what each adds to the
/// negations of the branches before it: `Some(c)` a condition of its own, `None` an `else`.
/// A branch that does not negate every earlier one starts a new `if` (`Err` with its CEL).
pub fn chain(conditions: &[String]) -> Vec<Result<Option<String>, String>> {
    let mut out = Vec::new();
    let mut owns: Vec<String> = Vec::new();
    for (i, c) in conditions.iter().enumerate() {
        let parts = conjuncts(c);
        let negated = |p: &String| owns.iter().any(|o| *p == format!("!({o})"));
        let own: Vec<&String> = parts.iter().filter(|p| !negated(p)).collect();
        let negates_all = i > 0 && parts.iter().filter(|p| negated(p)).count() == owns.len();
        let own_text = own
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" && ");
        if !negates_all {
            out.push(Err(c.clone()));
            owns = vec![c.clone()];
        } else if own.is_empty() {
            out.push(Ok(None));
        } else {
            out.push(Ok(Some(own_text.clone())));
            owns.push(own_text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_translate() {
        let mut input = |n: &str| (n == "pipelinechannel--flag").then(|| "flag".to_string());
        assert_eq!(
            translate("inputs.parameter_values['pipelinechannel--flag'] == 'yes' && !(int(inputs.parameter_values['pipelinechannel--flag']) > 2)", &mut input).as_deref(),
            Some("flag == \"yes\" and not (flag > 2)")
        );
        assert_eq!(
            translate("inputs.parameter_values['other'] == 1", &mut input),
            None
        );
        assert_eq!(translate("size(x) > 1", &mut input), None);
    }

    #[test]
    fn else_and_elif_are_found() {
        let c = vec![
            "a == 1".to_string(),
            "!(a == 1) && b".to_string(),
            "!(a == 1) && !(b)".to_string(),
        ];
        let chain = chain(&c);
        assert_eq!(chain[0], Err("a == 1".into()));
        assert_eq!(chain[1], Ok(Some("b".into())));
        assert_eq!(chain[2], Ok(None));
    }
}
