//! The flowc standard library: the `.flow` signature files of the built-in steps, embedded in
//! the binary.
//!
//! Each module (`std.io`, `std.table`, `std.survey`, `std.synth`) is an ordinary `.flow` file
//! of `schema` and `builtin step` declarations, with `///` doc comments that editors show on
//! hover. `import std.survey (rake)` reads the text from here; nothing is read from disk at run
//! time. The steps' implementations live elsewhere (natively in flowc); this crate only holds
//! their signatures.

/// Every standard-library module: its dotted name and its source text.
pub fn files() -> &'static [(&'static str, &'static str)] {
    const FILES: &[(&str, &str)] = &[
        ("std.io", include_str!("../std/io.flow")),
        ("std.table", include_str!("../std/table.flow")),
        ("std.survey", include_str!("../std/survey.flow")),
        ("std.synth", include_str!("../std/synth.flow")),
    ];
    FILES
}

/// The source text of the standard-library module `module` (e.g. `"std.survey"`), if it exists.
pub fn source(module: &str) -> Option<&'static str> {
    files()
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_file_is_non_empty_and_names_are_unique() {
        let mut seen = HashSet::new();
        for (name, text) in files() {
            assert!(!text.trim().is_empty(), "{name} is empty");
            assert!(name.starts_with("std."), "{name} is not under std");
            assert!(seen.insert(*name), "{name} appears twice");
        }
        assert_eq!(seen.len(), 4);
    }

    #[test]
    fn source_finds_modules() {
        assert!(source("std.survey").is_some_and(|t| t.contains("builtin step rake")));
        assert!(source("std.synth").is_some_and(|t| t.contains("import std.survey (Target)")));
        assert_eq!(source("std.nope"), None);
    }
}
