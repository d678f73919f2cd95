//! `python "package.module:function"`: a step whose command is a call of a Python function.
//!
//! The checker (`props.rs`) validates the reference's form with [`parse_reference`] (a dotted
//! module path, `:`, a function name, each part a Python identifier) and records it; the plan turns it into the command of the runtime
//! entry point (`python3 -m flowc_step ...`, see `plan::python`). Whether the module and the
//! function exist, and whether the function's signature agrees with the step's, is checked
//! outside the compiler core, against the Python source (the `flowc-python` crate).

use flowc_grammar::Span;

/// A step's Python function: where it is and where the reference is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonFunction {
    /// The dotted module path, such as `etl.cleaning`.
    pub module: String,
    /// The function's name in the module, such as `clean_panel`.
    pub function: String,
    /// The string literal in the step's body.
    pub span: Span,
}

impl PythonFunction {
    /// The reference as written: `module:function`.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.module, self.function)
    }
}

/// Words Python reserves, which can name neither a module nor a function.
pub const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Whether `s` is a Python identifier (ASCII letters, digits and `_`, not starting with a digit;
/// non-ASCII names are accepted as Python accepts them) and not a keyword.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| c == '_' || c.is_alphabetic());
    first_ok && chars.all(|c| c == '_' || c.is_alphanumeric()) && !PYTHON_KEYWORDS.contains(&s)
}

/// The module and function of `module:function`, or why the text is not such a reference.
pub fn parse_reference(text: &str) -> Result<(String, String), &'static str> {
    let Some((module, function)) = text.split_once(':') else {
        return Err("it has no `:` between the module and the function");
    };
    if module.is_empty() || !module.split('.').all(is_identifier) {
        return Err("the module is not a dotted path of Python names");
    }
    if !is_identifier(function) {
        return Err(
            "the function is not a Python name (a method or a nested name cannot be called)",
        );
    }
    Ok((module.to_string(), function.to_string()))
}

#[cfg(test)]
mod tests {
    use super::parse_reference;

    #[test]
    fn references_are_a_dotted_module_and_a_name() {
        assert_eq!(
            parse_reference("etl.cleaning:clean_panel"),
            Ok(("etl.cleaning".into(), "clean_panel".into()))
        );
        assert_eq!(parse_reference("m:f"), Ok(("m".into(), "f".into())));
        for bad in [
            "etl.cleaning",
            ":f",
            "etl..x:f",
            "etl.cleaning:Cls.method",
            "etl-tools:f",
            "etl:1f",
            "etl:class",
            "etl:",
            "a.b:c:d",
        ] {
            assert!(parse_reference(bad).is_err(), "{bad} accepted");
        }
    }
}
