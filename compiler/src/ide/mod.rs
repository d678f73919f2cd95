//! Editor features over an [`Analysis`]: hover, go to definition, find references, completion,
//! signature help, document symbols and rename.
//!
//! Each feature is a plain function taking an analysis, a [`FileId`] and a byte offset, and
//! returning plain data (spans, strings, kinds); the language server (`flowc-lsp`) only
//! translates these to the protocol. Nothing here knows LSP types, positions in UTF-16 or URIs.
//!
//! Name resolution for editors lives in [`index`]: a walk over a module's syntax tree with the
//! scopes built by `resolve` and the checked model, recording every name it meets with what it
//! refers to (a declaration, a parameter, a binding, a column ...). Go to definition, references
//! and rename are lookups in that list; hover adds the types the checker computed.

pub mod completion;
pub mod goto;
pub mod hover;
pub mod index;
pub mod references;
pub mod rename;
pub mod signature_help;
pub mod symbols;

use flowc_grammar::ast::{Item, Module};
use flowc_grammar::Span;

use crate::resolve::ModuleId;
use crate::source::FileId;
use crate::Analysis;

pub use index::{Occurrence, Role, Target};

/// A place to show in an editor: the whole construct, and the part to select (usually its name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NavTarget {
    /// The file.
    pub file: FileId,
    /// The whole construct (a declaration, a parameter ...).
    pub full: Span,
    /// The part to select, such as the declared name.
    pub focus: Span,
}

/// The module of a file, if the file was parsed as a module.
pub(crate) fn module_of(a: &Analysis, file: FileId) -> Option<ModuleId> {
    if file.0 as usize >= a.program.sources.len() {
        return None;
    }
    a.program.module_of_file(file)
}

/// The `///` doc comment right above `item`, without its markers, as Markdown.
pub(crate) fn doc_comment(module: &Module, text: &str, item: &Item) -> Option<String> {
    flowc_grammar::doc::doc_comment(&module.comments, text, item.span().start)
}

/// Whether `name` can be written as a name: ASCII letters, digits and `_`, not starting with a
/// digit, and not a reserved keyword.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !flowc_grammar::keywords::RESERVED.contains(&name)
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers for the feature tests: files with a `$0` cursor marker.

    use crate::source::{FileId, MemoryLoader, Origin};
    use crate::{analyze, Analysis};
    use std::path::PathBuf;

    /// Analyses `files` (path, text) with the first as root; a `$0` in one of them marks the
    /// cursor. Returns the analysis, the file holding the cursor, and the cursor's offset.
    pub fn fixture(files: &[(&str, &str)]) -> (Analysis, FileId, u32) {
        let mut loader = MemoryLoader::new();
        let mut cursor = None;
        for (path, text) in files {
            if let Some(i) = text.find("$0") {
                cursor = Some((path.to_string(), i as u32));
            }
            loader = loader.with(*path, text.replace("$0", ""));
        }
        let a = analyze(&loader, &[PathBuf::from(files[0].0)]);
        let (path, offset) = cursor.unwrap_or((files[0].0.to_string(), 0));
        let file = a
            .sources()
            .find(&Origin::File(PathBuf::from(path)))
            .expect("the cursor's file is loaded");
        (a, file, offset)
    }

    /// The text of `span` in `file`.
    pub fn text(a: &Analysis, file: FileId, span: flowc_grammar::Span) -> &str {
        &a.sources().get(file).text[span.range()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_like_the_grammar() {
        assert!(is_valid_name("weights_2"));
        assert!(is_valid_name("_tmp"));
        assert!(!is_valid_name("2x"));
        assert!(!is_valid_name("pipeline"));
        assert!(!is_valid_name("a-b"));
        assert!(!is_valid_name(""));
    }
}
