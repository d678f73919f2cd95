//! What the kubelet does to a container's `command`, `args` and `env` values, undone ahead.
//!
//! Kubernetes expands `$(NAME)` in those fields with the container's environment variables and
//! reduces `$$` to `$` (a reference to an undefined variable stays as written). A step's literal
//! text must reach the process byte for byte on every target, so [`escape_dollars`] doubles each
//! `$` that the kubelet could change: one followed by `$`, one starting `$(NAME)` where `NAME`
//! could be a variable's name (`[-._a-zA-Z][-._a-zA-Z0-9]*`, what Kubernetes accepts), and one
//! at the end of a literal piece (what follows is a value known only at run time). Text such as
//! `$(command -v pip)` is left as written, as the kfp SDK writes it: no variable has that name.

/// `text`, a literal piece of a container string, with every `$` the kubelet would read doubled.
pub fn escape_dollars(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        out.push(c);
        let rest = &text[i + c.len_utf8()..];
        if c == '$' && (rest.is_empty() || rest.starts_with('$') || starts_with_reference(rest)) {
            out.push('$');
        }
    }
    out
}

/// Whether `rest` starts with `(NAME)` for a name a container variable could have.
fn starts_with_reference(rest: &str) -> bool {
    let Some(name) = rest
        .strip_prefix('(')
        .and_then(|r| r.split_once(')'))
        .map(|(n, _)| n)
    else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || "-._".contains(c))
        && chars.all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
}

/// The kubelet's expansion of a container string (`$$` → `$`, `$(NAME)` → the value of a
/// defined variable), as `k8s.io/kubernetes/third_party/forked/golang/expansion` does it: the
/// inverse of [`escape_dollars`] when no variable is defined, used by the tests.
pub fn expand(text: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(name) = after
            .strip_prefix('(')
            .and_then(|a| a.find(')').map(|end| &a[..end]))
        {
            match env(name) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = &after[name.len() + 2..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_text_expands_to_itself() {
        let defined = |n: &str| (n == "HOME").then(|| "/home/app".to_string());
        for s in [
            "plain",
            "$1 $HOME",
            "$(HOME)",
            "$$",
            "a$",
            "$$(HOME)$",
            "echo \"$1 $(wc -c < \"$2\")\"",
            "€ $(",
        ] {
            assert_eq!(expand(&escape_dollars(s), &defined), s, "{s}");
        }
        assert_eq!(
            expand("$(HOME)/x $$ $(NOPE)", &defined),
            "/home/app/x $ $(NOPE)"
        );
        assert_eq!(
            escape_dollars("$1 $HOME"),
            "$1 $HOME",
            "only what the kubelet reads"
        );
    }
}
