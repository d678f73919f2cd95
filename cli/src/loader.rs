//! Reading source files from the disk for the compiler.

use std::path::Path;

use flowc_compiler::FileLoader;

/// Reads files from the file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiskLoader;

impl FileLoader for DiskLoader {
    fn load(&self, path: &Path) -> Result<Vec<u8>, String> {
        std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
            _ => e.to_string(),
        })
    }
}

/// Analyses `roots` as [`flowc_compiler::analyze`] does, then checks their Python steps
/// against their functions' source ([`flowc_pycheck`]), with the source roots of the
/// `flowc.toml` nearest to the first file (a broken `flowc.toml` is left to the commands that
/// run steps, which report it).
pub fn analyze(loader: &dyn FileLoader, roots: &[std::path::PathBuf]) -> flowc_compiler::Analysis {
    let mut analysis = flowc_compiler::analyze(loader, roots);
    let start = roots
        .first()
        .and_then(|r| r.parent())
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let python_roots = crate::project::python_settings(start)
        .map(|s| s.path)
        .unwrap_or_default();
    flowc_pycheck::check(&mut analysis, loader, &python_roots);
    analysis
}
