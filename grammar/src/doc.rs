//! Doc comments: the one place that joins `///` and `//!` comment lines into documentation.
//!
//! Comments are a side table ([`crate::ast::Module::comments`]), not part of the tree; a
//! declaration's documentation is the run of `///` comments right above it, with nothing but
//! whitespace between them and the declaration. Editors show it as Markdown ([`doc_comment`]);
//! the plan keeps it as a one-line description ([`one_line`]).

use crate::ast::{Comment, CommentKind};

/// The `///` comment right above byte `start` of `text` (only whitespace between them), as
/// Markdown: its lines without the `///` marker and the one space that usually follows it,
/// joined with newlines and trimmed. `comments` are the file's comments in source order.
pub fn doc_comment(comments: &[Comment], text: &str, start: u32) -> Option<String> {
    let mut lines: Vec<&str> = Vec::new();
    let mut next_start = start;
    for c in comments.iter().rev().filter(|c| c.span.end <= start) {
        // Only whitespace may sit between the comment and what follows it.
        let between = text.get(c.span.end as usize..next_start as usize);
        if c.kind != CommentKind::Doc || !between.is_some_and(|b| b.trim().is_empty()) {
            break;
        }
        lines.push(c.text.trim_start_matches("///"));
        next_start = c.span.start;
    }
    if lines.is_empty() {
        return None;
    }
    lines.reverse();
    Some(join(&lines))
}

/// The `//!` module documentation of a file, as Markdown (see [`doc_comment`]).
pub fn module_doc(comments: &[Comment]) -> Option<String> {
    let lines: Vec<&str> = comments
        .iter()
        .filter(|c| c.kind == CommentKind::ModuleDoc)
        .map(|c| c.text.trim_start_matches("//!"))
        .collect();
    if lines.is_empty() {
        None
    } else {
        Some(join(&lines))
    }
}

/// Documentation as one line: each line trimmed, joined with spaces.
pub fn one_line(doc: &str) -> String {
    doc.split('\n')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string()
}

/// Joins comment lines, removing the one space that usually follows the marker.
fn join(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_of_last_item(text: &str) -> Option<String> {
        let parsed = crate::parse(text);
        let item = parsed.module.items.last().expect("an item");
        doc_comment(&parsed.module.comments, text, item.span().start)
    }

    #[test]
    fn doc_comments_are_the_adjacent_triple_slash_lines() {
        let text =
            "//! Module.\n\n// not doc\n/// First line.\n///   indented\nschema A { x: Int }\n";
        let parsed = crate::parse(text);
        assert_eq!(
            doc_of_last_item(text).as_deref(),
            Some("First line.\n  indented")
        );
        assert_eq!(
            module_doc(&parsed.module.comments).as_deref(),
            Some("Module.")
        );
    }

    #[test]
    fn only_whitespace_may_separate_a_doc_comment_from_its_declaration() {
        assert_eq!(
            doc_of_last_item("/// A.\n\nschema A { x: Int }\n").as_deref(),
            Some("A.")
        );
        assert_eq!(
            doc_of_last_item("/// A.\n// b\nschema A { x: Int }\n"),
            None
        );
        assert_eq!(
            doc_of_last_item("/// A.\n//// b\nschema A { x: Int }\n"),
            None
        );
        assert_eq!(doc_of_last_item("schema A { x: Int }\n"), None);
    }

    #[test]
    fn one_line_documentation() {
        let doc =
            doc_of_last_item("/// Loads\n///   a day.\n///\n/// Fast.\nschema A { x: Int }\n");
        assert_eq!(doc.as_deref(), Some("Loads\n  a day.\n\nFast."));
        assert_eq!(one_line(&doc.unwrap_or_default()), "Loads a day.  Fast.");
        assert_eq!(one_line(""), "");
    }
}
