//! Source files and how the compiler gets them without doing IO itself.
//!
//! The compiler asks a [`FileLoader`] for the bytes of a path; the CLI reads the disk, the LSP
//! serves open editor buffers first, and tests serve strings. Standard-library modules come
//! from `flowc-stdlib` and get the display name `std/<module>.flow`.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use flowc_grammar::LineIndex;

/// Identifies a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// Reads source files for the compiler.
pub trait FileLoader {
    /// The bytes of the file at `path`, or a message saying why it cannot be read.
    fn load(&self, path: &Path) -> Result<Vec<u8>, String>;

    /// The importer of foreign files (`import kfp "train.yaml" (train)`), if this loader's
    /// caller offers one; without it such imports are reported as unknown kinds.
    fn foreign(&self) -> Option<&dyn crate::foreign::ForeignImporter> {
        None
    }
}

/// Where a source file comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file read through the loader.
    File(PathBuf),
    /// A standard-library module, such as `std.survey`.
    Std(String),
    /// The `.flow` source an importer made of the foreign file at this path (the file itself
    /// is also loaded, as a [`Origin::File`]).
    Imported(PathBuf),
}

/// A loaded source file.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Where it comes from.
    pub origin: Origin,
    /// Its text (empty when it could not be decoded).
    pub text: Arc<str>,
    /// Its line starts.
    pub lines: Arc<LineIndex>,
}

impl SourceFile {
    /// The name shown in diagnostics: the path as given, or `std/<module>.flow`.
    pub fn name(&self) -> String {
        match &self.origin {
            Origin::File(p) => p.to_string_lossy().replace('\\', "/"),
            Origin::Std(m) => format!("std/{}.flow", m.trim_start_matches("std.")),
            Origin::Imported(p) => format!("{} (imported)", p.to_string_lossy().replace('\\', "/")),
        }
    }

    /// The path for a file origin.
    pub fn path(&self) -> Option<&Path> {
        match &self.origin {
            Origin::File(p) => Some(p),
            Origin::Std(_) | Origin::Imported(_) => None,
        }
    }
}

/// All files of one analysis, indexed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// Adds a file and returns its id.
    pub fn add(&mut self, origin: Origin, text: impl Into<Arc<str>>) -> FileId {
        let text: Arc<str> = text.into();
        let lines = Arc::new(LineIndex::new(&text));
        self.files.push(SourceFile {
            origin,
            text,
            lines,
        });
        FileId(self.files.len() as u32 - 1)
    }

    /// The file with id `id`.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// The id of an already loaded origin.
    pub fn find(&self, origin: &Origin) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| &f.origin == origin)
            .map(|i| FileId(i as u32))
    }

    /// Every file with its id.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there is no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Joins `relative` to the folder of `from` and removes `.` and `..` lexically (no IO).
pub fn resolve_relative(from: &Path, relative: &str) -> PathBuf {
    let base = from.parent().unwrap_or(Path::new(""));
    normalize(&base.join(relative))
}

/// Removes `.` and `..` components lexically.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) | Some(Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            c => out.push(c),
        }
    }
    out.iter().collect()
}

/// A loader over in-memory files, for tests and benchmarks.
#[derive(Clone, Debug, Default)]
pub struct MemoryLoader {
    files: Vec<(PathBuf, Vec<u8>)>,
}

impl MemoryLoader {
    /// An empty loader.
    pub fn new() -> MemoryLoader {
        MemoryLoader::default()
    }

    /// Adds a file.
    pub fn with(mut self, path: impl Into<PathBuf>, text: impl Into<Vec<u8>>) -> MemoryLoader {
        self.files.push((normalize(&path.into()), text.into()));
        self
    }
}

impl FileLoader for MemoryLoader {
    fn load(&self, path: &Path) -> Result<Vec<u8>, String> {
        let path = normalize(path);
        self.files
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| "no such file".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_imports_resolve_lexically() {
        assert_eq!(
            resolve_relative(Path::new("a/b/main.flow"), "../common.flow"),
            PathBuf::from("a/common.flow")
        );
        assert_eq!(
            resolve_relative(Path::new("main.flow"), "./x/y.flow"),
            PathBuf::from("x/y.flow")
        );
    }
}
