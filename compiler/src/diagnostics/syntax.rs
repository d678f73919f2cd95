//! Constructors of the syntax diagnostics (`E0xx`) that the compiler builds: a file that is not
//! UTF-8, and the parser's syntax errors turned into diagnostics.

use flowc_grammar::{Span, SyntaxError, SyntaxErrorKind};

use super::{Code, Diagnostic};
use crate::source::FileId;

/// E007: the file is not UTF-8; `span` covers the first invalid byte, `byte`.
pub(crate) fn invalid_utf8(file: FileId, span: Span, byte: u8) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidUtf8,
        "file is not valid UTF-8 text",
        file,
        span,
        format!("invalid byte 0x{byte:02X} here"),
    )
    .with_help("save the file as UTF-8; `.flow` files are text")
}

/// E001–E006: a syntax error found by the parser.
pub(crate) fn syntax_error(file: FileId, e: &SyntaxError) -> Diagnostic {
    let code = match e.kind {
        SyntaxErrorKind::Unexpected => Code::UnexpectedToken,
        SyntaxErrorKind::Unclosed => Code::UnclosedDelimiter,
        SyntaxErrorKind::Unmatched => Code::UnmatchedDelimiter,
        SyntaxErrorKind::Unterminated => Code::Unterminated,
        SyntaxErrorKind::TooDeep => Code::NestingTooDeep,
        SyntaxErrorKind::NumberOutOfRange => Code::NumberOutOfRange,
    };
    let mut d = Diagnostic::new(code, e.message.clone(), file, e.span, e.label.clone());
    if let Some((span, label)) = &e.related {
        d = d.with_label(file, *span, label.clone());
    }
    match e.kind {
        SyntaxErrorKind::Unclosed => {
            d.with_help("add the closing delimiter at the end of the declaration")
        }
        SyntaxErrorKind::TooDeep => d.with_help("flatten the expression or move data into a file"),
        _ => d,
    }
}
