//! The open documents, overlaid on the disk.
//!
//! The compiler reads files through a [`FileLoader`]; the server's loader serves the text of
//! open editor buffers first and the disk otherwise, so unsaved edits are what gets checked,
//! in the edited file and in the files it imports. Changes arrive as full texts or as ranges
//! (incremental sync) and are applied in order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use flowc_compiler::source::normalize;
use flowc_compiler::FileLoader;
use flowc_grammar::LineIndex;
use lsp_types::{TextDocumentContentChangeEvent, Uri};

use crate::convert::Text;

/// An open document.
pub struct Document {
    /// Its URI, as the client wrote it.
    pub uri: Uri,
    /// The path the compiler knows it by.
    pub path: PathBuf,
    /// The client's version of the text.
    pub version: i32,
    /// The current text.
    pub text: String,
    /// Its line starts.
    pub lines: LineIndex,
}

impl Document {
    /// The text with its line index, for position conversions.
    pub fn view(&self) -> Text<'_> {
        Text {
            text: &self.text,
            lines: &self.lines,
        }
    }

    /// Applies one change: a whole new text, or a range replaced.
    pub fn apply(&mut self, change: TextDocumentContentChangeEvent) {
        match change.range {
            None => self.text = change.text,
            Some(range) => {
                let span = self.view().span(range);
                self.text.replace_range(span.range(), &change.text);
            }
        }
        self.lines = LineIndex::new(&self.text);
    }
}

/// The open documents by path.
#[derive(Default)]
pub struct Documents {
    docs: BTreeMap<PathBuf, Document>,
}

impl Documents {
    /// Opens (or reopens) a document.
    pub fn open(&mut self, uri: Uri, path: PathBuf, version: i32, text: String) {
        let path = normalize(&path);
        let lines = LineIndex::new(&text);
        self.docs.insert(
            path.clone(),
            Document {
                uri,
                path,
                version,
                text,
                lines,
            },
        );
    }

    /// Closes a document.
    pub fn close(&mut self, path: &Path) {
        self.docs.remove(&normalize(path));
    }

    /// The open document at `path`.
    pub fn get(&self, path: &Path) -> Option<&Document> {
        self.docs.get(&normalize(path))
    }

    /// The open document at `path`, to change it.
    pub fn get_mut(&mut self, path: &Path) -> Option<&mut Document> {
        self.docs.get_mut(&normalize(path))
    }

    /// The open document with this URI.
    pub fn by_uri(&self, uri: &Uri) -> Option<&Document> {
        self.docs.values().find(|d| d.uri == *uri)
    }

    /// Every open document, by path.
    pub fn iter(&self) -> impl Iterator<Item = &Document> {
        self.docs.values()
    }
}

impl FileLoader for Documents {
    fn load(&self, path: &Path) -> Result<Vec<u8>, String> {
        if let Some(d) = self.get(path) {
            return Ok(d.text.clone().into_bytes());
        }
        std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
            _ => e.to_string(),
        })
    }

    fn foreign(&self) -> Option<&dyn flowc_compiler::foreign::ForeignImporter> {
        Some(&flowc_import::KfpImporter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{Position, Range};
    use std::str::FromStr;

    fn change(
        range: Option<((u32, u32), (u32, u32))>,
        text: &str,
    ) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: range
                .map(|((a, b), (c, d))| Range::new(Position::new(a, b), Position::new(c, d))),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn incremental_changes_apply_in_order_and_clamp() {
        let mut docs = Documents::default();
        let uri = Uri::from_str("file:///w/a.flow").unwrap();
        docs.open(
            uri,
            PathBuf::from("/w/./a.flow"),
            1,
            "ab\n\u{1F600}cd\n".into(),
        );
        let d = docs.get_mut(Path::new("/w/a.flow")).unwrap();
        d.apply(change(Some(((1, 2), (1, 3))), "X"));
        assert_eq!(d.text, "ab\n\u{1F600}Xd\n");
        // Reversed and out-of-range ranges are clamped, never a panic.
        d.apply(change(Some(((9, 9), (0, 1))), "!"));
        assert_eq!(d.text, "a!");
        d.apply(change(None, "new"));
        assert_eq!(d.text, "new");
        assert_eq!(docs.load(Path::new("/w/a.flow")).unwrap(), b"new");
        assert!(docs.load(Path::new("/w/nowhere.flow")).is_err());
    }
}
