//! What requests read: the open documents, the current analysis, each document's last analysis
//! without syntax errors, and where standard-library modules are written for editors to open;
//! with the lookups between URIs, paths, files of an analysis and locations.
//!
//! The server ([`crate::server`]) keeps it up to date; the request handlers
//! ([`crate::handlers`]) only read it, so neither depends on the other's module.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flowc_compiler::source::Origin;
use flowc_compiler::{Analysis, FileId};
use lsp_types::{Location, Uri};

use crate::convert::{path_to_uri, uri_to_path, Text};
use crate::documents::Documents;

/// The analysis of a file when it last had no syntax errors, and its text then.
pub(crate) struct CleanAnalysis {
    pub analysis: Arc<Analysis>,
    pub text: Arc<str>,
}

/// The documents and analyses requests are answered from.
pub(crate) struct Workspace {
    /// The open documents.
    pub docs: Documents,
    /// The current analysis of the open files and the files importing them.
    pub analysis: Arc<Analysis>,
    /// Each open document's last analysis without syntax errors, by normalised path.
    pub clean: HashMap<PathBuf, CleanAnalysis>,
    /// Where standard-library modules are written for editors to open.
    pub std_dir: PathBuf,
}

impl Workspace {
    /// The path the compiler knows a document by: its file path, or a stand-in for other
    /// URI schemes (`untitled:`).
    pub fn path_of(&self, uri: &Uri) -> PathBuf {
        if let Some(d) = self.docs.by_uri(uri) {
            return d.path.clone();
        }
        uri_to_path(uri).unwrap_or_else(|| {
            let name: String = uri
                .as_str()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            std::env::temp_dir()
                .join("flowc-untitled")
                .join(format!("{name}.flow"))
        })
    }

    pub fn is_std_path(&self, path: &Path) -> bool {
        path.starts_with(&self.std_dir)
    }

    /// The URI of a file of an analysis (standard-library modules are written to disk).
    pub fn uri_of(&self, a: &Analysis, file: FileId) -> Option<Uri> {
        match &a.sources().get(file).origin {
            Origin::File(path) => match self.docs.get(path) {
                Some(d) => Some(d.uri.clone()),
                None => path_to_uri(path),
            },
            Origin::Std(module) => path_to_uri(&self.materialize_std(module)?),
            // What an importer made of a foreign file: the file itself.
            Origin::Imported(path) => path_to_uri(path),
        }
    }

    /// Writes a standard-library module where editors can open it (read-only).
    fn materialize_std(&self, module: &str) -> Option<PathBuf> {
        let text = flowc_stdlib::source(module)?;
        let path = self
            .std_dir
            .join(format!("{}.flow", module.trim_start_matches("std.")));
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text) {
            return Some(path);
        }
        std::fs::create_dir_all(&self.std_dir).ok()?;
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, text).ok()?;
        if let Ok(meta) = std::fs::metadata(&path) {
            let mut perm = meta.permissions();
            perm.set_readonly(true);
            let _ = std::fs::set_permissions(&path, perm);
        }
        Some(path)
    }

    /// A location in a file of an analysis, converted with that analysis's text.
    pub fn location(
        &self,
        a: &Analysis,
        file: FileId,
        span: flowc_grammar::Span,
    ) -> Option<Location> {
        let f = a.sources().get(file);
        let text = Text {
            text: &f.text,
            lines: &f.lines,
        };
        // Generated `.flow` text has no place in the foreign file: its first line.
        let range = match f.origin {
            Origin::Imported(_) => lsp_types::Range::default(),
            _ => text.range(span),
        };
        Some(Location {
            uri: self.uri_of(a, file)?,
            range,
        })
    }

    /// The file id of a document in the current analysis, with its text.
    pub fn file_of(&self, uri: &Uri) -> Option<(FileId, PathBuf)> {
        let path = self.path_of(uri);
        let origin = match path.file_name().map(|n| n.to_string_lossy().to_string()) {
            Some(name) if self.is_std_path(&path) => Origin::Std(std_module_of_file(&name)?),
            _ => Origin::File(path.clone()),
        };
        let file = self.analysis.sources().find(&origin)?;
        Some((file, path))
    }
}

/// A standard-library module's source, by the name of its file in the std folder.
pub(crate) fn std_module_of_file(name: &str) -> Option<String> {
    let module = format!("std.{}", name.strip_suffix(".flow")?);
    flowc_stdlib::source(&module).map(|_| module)
}
