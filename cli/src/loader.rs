//! Reading source files from the disk for the compiler.

use std::path::Path;

use flowc_compiler::FileLoader;

/// Reads files from the file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiskLoader;

impl FileLoader for DiskLoader {
    fn load(&self, path: &Path) -> Result<Vec<u8>, String> {
        std::fs::read(path).map_err(|e| why_unreadable(&e))
    }

    fn foreign(&self) -> Option<&dyn flowc_compiler::foreign::ForeignImporter> {
        Some(&flowc_import::KfpImporter)
    }
}

/// The disk, with the files a command has read already handed over (once each) instead of read
/// again: `flowc check` reads every file it is given to tell the unreadable ones first, and the
/// analysis then takes those bytes rather than a second copy of the file.
#[derive(Default)]
pub struct Preloaded {
    files: std::cell::RefCell<Vec<(std::path::PathBuf, Vec<u8>)>>,
}

impl Preloaded {
    /// Reads `path` from the disk, keeping its bytes for the analysis; why not, when it cannot.
    pub fn read(&self, path: &Path) -> Result<(), String> {
        let bytes = DiskLoader.load(path)?;
        self.files.borrow_mut().push((path.to_path_buf(), bytes));
        Ok(())
    }
}

impl FileLoader for Preloaded {
    fn load(&self, path: &Path) -> Result<Vec<u8>, String> {
        let mut files = self.files.borrow_mut();
        match files.iter().position(|(p, _)| p == path) {
            Some(i) => Ok(files.swap_remove(i).1),
            None => DiskLoader.load(path),
        }
    }

    fn foreign(&self) -> Option<&dyn flowc_compiler::foreign::ForeignImporter> {
        DiskLoader.foreign()
    }
}

/// Why a file cannot be read, in words.
pub fn why_unreadable(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
        _ => e.to_string(),
    }
}

/// Prints `E008` for a file named on the command line that cannot be read (`why`). Every
/// command says it the same way.
pub fn print_unreadable(path: &Path, why: &str) {
    eprintln!(
        "{}: error[E008]: cannot read the file: {why}\n  help: check the path (relative to the current folder) and that the file can be read",
        path.display()
    );
}

/// [`print_unreadable`], and the exit code of an input that cannot be read.
pub fn unreadable(path: &Path, why: &str) -> u8 {
    print_unreadable(path, why);
    crate::EXIT_FAILURE
}

/// Analyses `roots` as [`flowc_compiler::analyze`] does, then checks their Python steps
/// against their functions' source ([`flowc_pycheck`]: each step's module is looked for beside
/// its `.flow` file and under the `[python] path` of the nearest `flowc.toml`).
pub fn analyze(loader: &dyn FileLoader, roots: &[std::path::PathBuf]) -> flowc_compiler::Analysis {
    let mut analysis = flowc_compiler::analyze(loader, roots);
    flowc_pycheck::check(&mut analysis, loader, &[]);
    analysis
}

/// Reads and analyses one `.flow` file for a command that needs it clean: the analysis, or the
/// exit code after the problem is printed (a file that cannot be read, or errors, with
/// `error: FILE has errors; NOTHING` where `nothing` says what was not done).
pub fn analyze_clean(file: &Path, nothing: &str) -> Result<flowc_compiler::Analysis, u8> {
    let loader = DiskLoader;
    if let Err(why) = loader.load(file) {
        return Err(unreadable(file, &why));
    }
    let analysis = analyze(&loader, &[file.to_path_buf()]);
    if analysis.has_errors() {
        eprint!(
            "{}",
            crate::render::human::render(analysis.sources(), &analysis.diagnostics, false, 100)
        );
        eprintln!("error: `{}` has errors; {nothing}", file.display());
        return Err(crate::EXIT_ERRORS);
    }
    Ok(analysis)
}

/// The build values `--set` gives a clean analysis (docs/language.md, build variables): every
/// problem is printed (E430, and E416 for an image the values break), and `nothing` says
/// what was not done.
pub fn build_values(
    analysis: &flowc_compiler::Analysis,
    set: &[(String, String)],
    nothing: &str,
) -> Result<flowc_compiler::build_values::BuildValues, u8> {
    let errors = match flowc_compiler::build_values::resolve(analysis, set) {
        Ok(values) => return Ok(values),
        Err(e) => e,
    };
    print_unknown_set(&errors.unknown);
    eprint!(
        "{}",
        crate::render::human::render(analysis.sources(), &errors.diagnostics, false, 100)
    );
    eprintln!("error: the build values are not valid; {nothing}");
    Err(crate::EXIT_ERRORS)
}

/// Prints the `--set` names no file declares (E430; they have no place in a source).
pub fn print_unknown_set(unknown: &[(String, Vec<String>)]) {
    for (name, declared) in unknown {
        let known = match declared.is_empty() {
            true => "the program declares no build variables".to_string(),
            false => format!("the program declares: {}", declared.join(", ")),
        };
        eprintln!("error[E430]: `--set {name}=...` names no build variable; {known}");
    }
}
