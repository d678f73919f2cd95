//! `[python]` of `flowc.toml`: where Python steps' modules are found and which interpreter
//! runs them here. The nearest `flowc.toml` at or above a `.flow` file's folder applies to it;
//! other sections are read by the CLI (`cli/src/project.rs`).
//!
//! ```toml
//! [python]
//! path = ["src"]                        # source roots, after the pipeline's folder
//! interpreter = ".venv/bin/python"      # default: python3 on PATH
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The name of the configuration file.
const FILE_NAME: &str = "flowc.toml";

/// The part of `flowc.toml` read here (other sections are ignored).
#[derive(Debug, Default, Deserialize)]
struct Config {
    #[serde(default)]
    python: PythonSection,
}

/// `[python]`: how Python steps are found and run on this machine.
///
/// ```toml
/// [python]
/// path = ["src"]                        # source roots, after the pipeline's folder
/// interpreter = ".venv/bin/python"      # default: python3 on PATH
/// ```
#[derive(Debug, Default, Deserialize)]
pub struct PythonSection {
    /// Source roots (relative to the file's folder) where steps' modules are found.
    #[serde(default)]
    pub path: Vec<PathBuf>,
    /// The interpreter that runs Python steps locally (relative to the file's folder, or a
    /// name looked up on `PATH`).
    pub interpreter: Option<PathBuf>,
}

/// The `flowc.toml` nearest to `start` (in it or a folder above), if any.
pub fn find_config(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// The `[python]` settings of the `flowc.toml` nearest to `start`, with paths made absolute
/// (none without the file; a file that does not parse is an error naming it).
pub fn python_settings(start: &Path) -> Result<PythonSection, String> {
    let Some(file) = find_config(start) else {
        return Ok(PythonSection::default());
    };
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let config: Config = toml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut python = config.python;
    python.path = python.path.iter().map(|p| base.join(p)).collect();
    python.interpreter = python.interpreter.map(|i| {
        if i.components().count() > 1 {
            base.join(i)
        } else {
            i
        }
    });
    Ok(python)
}
