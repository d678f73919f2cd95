//! The `.flow` language's syntax: grammar, parser, syntax tree and spans.
//!
//! [`parse`] turns text into a [`Parse`]: a [`ast::Module`] that always exists, and the
//! [`SyntaxError`]s found. It never panics and never fails, whatever the input; a broken
//! declaration becomes an [`ast::Item::Error`] and does not hide the others. This crate knows
//! nothing of types, targets or editors.

// The parser pest generates names `alloc`: pest is used without its `std` feature, whose stack
// probe on every rule call cost a tenth of a parse; `split` bounds nesting depth instead.
extern crate alloc;

pub mod ast;
pub mod doc;
mod expect;
mod hand;
pub mod lexer;
mod parse;
mod rules;
pub mod span;
pub mod split;

pub use parse::{parse, Parse, SyntaxError, SyntaxErrorKind};
#[doc(hidden)]
pub use parse::{parse_with, Engine, HAND_DECLINED};
pub use span::{LineCol, LineIndex, Span};

/// Words with a meaning in the language, for editors' syntax highlighting and completion.
///
/// `RESERVED` can never be names; `CONTEXTUAL` are keywords only where a property or statement
/// starts, and `TYPES` name the built-in types.
pub mod keywords {
    /// Keywords that can never be used as names.
    pub const RESERVED: &[&str] = &[
        "import", "schema", "extends", "secret", "profile", "step", "builtin", "pipeline", "if",
        "else", "for", "in", "after", "check", "output", "finally", "defaults", "true", "false",
        "none", "and", "or", "not", "as", "with",
    ];
    /// Keywords that start a property or statement, and words inside them (and `build`,
    /// `config` and `volume`, which start a declaration only at the start of a top-level line).
    pub const CONTEXTUAL: &[&str] = &[
        "image",
        "run",
        "python",
        "use",
        "cache",
        "on",
        "off",
        "ttl",
        "resources",
        "auto",
        "retries",
        "backoff",
        "factor",
        "max",
        "within",
        "timeout",
        "env",
        "mount",
        "at",
        "node_selector",
        "toleration",
        "schedule",
        "timezone",
        "concurrency",
        "history",
        "starting_deadline",
        "parallel",
        "k8s",
        "key",
        "param",
        "build",
        "config",
        "kfp",
        "k8s_configmap",
        "network",
        "volume",
        "k8s_pvc",
    ];
    /// Built-in type names.
    pub const TYPES: &[&str] = &[
        "Str", "Int", "Float", "Bool", "Date", "File", "Dir", "Model", "Json", "Metrics", "Table",
        "List", "Columns", "Column",
    ];
}
