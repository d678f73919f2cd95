//! Shared helpers for the integration tests: a loader rooted at the tests folder, rendering of
//! diagnostics exactly as `flowc check` prints them without colour, the validators of emitted
//! YAML ([`validate`]), a generator of well-typed programs ([`gen`]) and where the project's
//! `shared/` folder is ([`shared`]).

use std::path::{Path, PathBuf};

use flowc_compiler::{analyze, Analysis, FileLoader};

pub mod gen;
pub mod shared;
pub mod validate;

/// The folder of this crate.
pub fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    tests_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Loads files relative to a root folder, so diagnostics show short, machine-independent paths.
pub struct RootedLoader {
    /// The folder paths are relative to.
    pub root: PathBuf,
}

impl FileLoader for RootedLoader {
    fn load(&self, path: &Path) -> Result<Vec<u8>, String> {
        std::fs::read(self.root.join(path)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        })
    }

    fn foreign(&self) -> Option<&dyn flowc_compiler::foreign::ForeignImporter> {
        Some(&flowc_import::KfpImporter)
    }
}

/// Analyses `relative` (a path under `root`).
pub fn analyze_at(root: &Path, relative: &Path) -> Analysis {
    let loader = RootedLoader {
        root: root.to_path_buf(),
    };
    let mut analysis = analyze(&loader, &[relative.to_path_buf()]);
    // Python steps against their functions' source, as every command of the CLI checks them;
    // the files are named relative to `root`, so the nearest `flowc.toml` is found from there.
    let start = root.join(relative);
    let python_roots = flowc_pycheck::config::python_settings(start.parent().unwrap_or(root))
        .map(|s| s.path)
        .unwrap_or_default();
    flowc_pycheck::check(&mut analysis, &loader, &python_roots);
    analysis
}

/// Renders an analysis' diagnostics as `flowc check` does, without colour, 100 columns wide.
pub fn render_human(a: &Analysis) -> String {
    let (errors, warnings) = flowc::render::counts(&a.diagnostics);
    let mut s = flowc::render::human::render(a.sources(), &a.diagnostics, false, 100);
    s.push_str(&flowc::commands::check::summary(
        errors,
        warnings,
        a.program.roots.len(),
    ));
    s
}

/// Every `.flow` file under `dir`, sorted, as paths relative to `root`.
pub fn flow_files(root: &Path, dir: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.join(dir)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "flow") {
                if let Ok(rel) = p.strip_prefix(root) {
                    out.push(rel.to_path_buf());
                }
            }
        }
    }
    out.sort();
    out
}

/// Generators of large, valid `.flow` sources for benchmarks and scale tests.
pub mod generate {
    /// A pipeline of `steps` calls over table artifacts: a layered graph where each call reads
    /// one or two earlier results, with schemas that exercise width subtyping.
    pub fn pipeline(steps: usize) -> String {
        let mut s = String::from(
            "schema Base { id: Int, day: Date, value: Float }\n\
             schema Wide extends Base { extra: Str, score: Float? }\n\n\
             step source(day: Date, part: Int) -> (out: Table<Wide>) {\n  image \"registry.example.com/gen:1.0\"\n  run [\"gen\", \"--day\", day, \"--part\", part, \"--out\", out]\n  resources { cpu: 500m, memory: 1Gi }\n}\n\n\
             step transform(input: Table<Base>, factor: Float) -> (out: Table<Wide>) {\n  image \"registry.example.com/gen:1.0\"\n  run [\"transform\", input, factor, out]\n  cache ttl 1d\n  retries 2 backoff 10s factor 2 max 5m\n}\n\n\
             step merge(left: Table<Base>, right: Table<Base>) -> (out: Table<Wide>, stats: Metrics<{ rows: Int, drift: Float }>) {\n  image \"registry.example.com/gen:1.0\"\n  run [\"merge\", left, right, out, stats]\n  timeout 20m\n}\n\n",
        );
        s.push_str("pipeline big(day: Date = \"2024-01-01\", factor: Float = 1.5) {\n");
        for i in 0..steps {
            if i < 10 {
                s.push_str(&format!("  s{i} = source(day: day, part: {i})\n"));
            } else if i % 3 == 0 {
                s.push_str(&format!(
                    "  s{i} = merge(left: s{}, right: s{})\n",
                    i - 1,
                    i - 7
                ));
            } else {
                s.push_str(&format!(
                    "  s{i} = transform(input: s{}, factor: factor)\n",
                    i - 1 - (i % 5)
                ));
            }
        }
        s.push_str(&format!("  output last = s{}\n", steps - 1));
        s.push_str("}\n");
        s
    }

    /// How the steps of [`distinct`] are connected.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Shape {
        /// Each step reads the File of the step before it.
        Chain,
        /// Diamonds in a row: a step's File is read by the next two, which the third joins.
        Diamond,
    }

    impl Shape {
        /// The shape named `chain` or `diamond`.
        pub fn parse(name: &str) -> Option<Shape> {
            match name {
                "chain" => Some(Shape::Chain),
                "diamond" => Some(Shape::Diamond),
                _ => None,
            }
        }

        /// The indices of the steps whose Files step `i` (> 0) reads.
        pub fn inputs(self, i: usize) -> Vec<usize> {
            match (self, i % 3) {
                (Shape::Chain, _) => vec![i - 1],
                (Shape::Diamond, 1) => vec![i - 1],
                (Shape::Diamond, 2) => vec![i - 2],
                (Shape::Diamond, _) => vec![i - 2, i - 1],
            }
        }
    }

    /// A pipeline of `steps` distinct container steps, each its own `step` declaration with
    /// its own image and command, reading one File (two where a diamond joins) and writing
    /// one: the shape of real pipelines, where components are rarely shared. Every step sets
    /// `resources` and every other one `retries`; [`distinct_plain`] leaves both out.
    pub fn distinct(steps: usize, shape: Shape) -> String {
        distinct_with(steps, shape, true)
    }

    /// The pipeline of [`distinct`] without `resources` and `retries`: the pipeline
    /// (a step declaration per step, one File in and out), nothing else set.
    pub fn distinct_plain(steps: usize, shape: Shape) -> String {
        distinct_with(steps, shape, false)
    }

    /// The pipeline of [`distinct`], with each step's settings when `settings` is true.
    fn distinct_with(steps: usize, shape: Shape, settings: bool) -> String {
        let mut s = String::from("//! A generated pipeline of distinct container steps.\n\n");
        for i in 0..steps {
            s.push_str(&distinct_step(i, shape, settings));
        }
        s.push_str("pipeline distinct(day: Date = \"2024-01-01\", factor: Float = 1.5) {\n");
        for i in 0..steps {
            let args: Vec<String> = if i == 0 {
                vec!["day: day".into()]
            } else {
                let inputs = shape.inputs(i);
                let names = input_names(inputs.len());
                let mut args: Vec<String> = (names.iter().zip(&inputs))
                    .map(|(name, j)| format!("{name}: r{j}"))
                    .collect();
                args.push("factor: factor".into());
                args
            };
            s.push_str(&format!("  r{i} = s{i}({})\n", args.join(", ")));
        }
        // A diamond cut off after its two sides: the first side is read by nothing else.
        if shape == Shape::Diamond && steps > 2 && (steps - 1) % 3 == 2 {
            s.push_str(&format!("  output side = r{}\n", steps - 2));
        }
        s.push_str(&format!(
            "  output last = r{}\n}}\n",
            steps.saturating_sub(1)
        ));
        s
    }

    fn input_names(n: usize) -> &'static [&'static str] {
        if n == 1 {
            &["input"]
        } else {
            &["left", "right"]
        }
    }

    /// The declaration of step `i` of [`distinct`], with its settings when `settings` is true.
    fn distinct_step(i: usize, shape: Shape, settings: bool) -> String {
        let (params, run_inputs) = if i == 0 {
            ("day: Date".to_string(), "\"--day\", day".to_string())
        } else {
            let names = input_names(shape.inputs(i).len());
            let params: Vec<String> = names.iter().map(|n| format!("{n}: File")).collect();
            let run: Vec<String> = names.iter().map(|n| format!("\"--{n}\", {n}")).collect();
            (
                format!("{}, factor: Float", params.join(", ")),
                format!("{}, \"--factor\", factor", run.join(", ")),
            )
        };
        let mut s = format!(
            "step s{i}({params}) -> (out: File) {{\n  \
             image \"registry.example.com/step-{i}:1.{v}\"\n  \
             run [\"python\", \"-m\", \"steps.s{i}\", {run_inputs}, \"--out\", out]\n",
            v = i % 7
        );
        if settings {
            s.push_str("  resources { cpu: 250m, memory: 512Mi }\n");
        }
        if settings && i % 2 == 1 {
            s.push_str("  retries 2 backoff 10s\n");
        }
        s.push_str("}\n\n");
        s
    }
}

/// A test of the libtest-mimic harness (the suites with one test per file) that fails when `f`
/// panics, with the panic's message.
pub fn trial(
    name: &str,
    f: impl FnOnce() + Send + std::panic::UnwindSafe + 'static,
) -> libtest_mimic::Trial {
    libtest_mimic::Trial::test(name, move || {
        std::panic::catch_unwind(f)
            .map_err(|e| libtest_mimic::Failed::from(validate::panic_message(e)))
    })
}

#[cfg(test)]
mod shared_tests {
    use super::shared::*;
    use std::path::Path;

    #[test]
    fn a_missing_shared_file_is_an_error_that_says_how_to_fix_it() {
        let dir = std::env::temp_dir().join("flowc-no-shared-here");
        let m = locate(&dir, "schemas/argo-workflows-schema.json")
            .expect_err("a missing file is an error");
        assert!(
            m.contains("shared/schemas/argo-workflows-schema.json"),
            "{m}"
        );
        assert!(
            m.contains("beside the repository") && m.contains("FLOWC_SHARED"),
            "{m}"
        );
        let found = locate(Path::new(env!("CARGO_MANIFEST_DIR")), "shared.rs");
        assert_eq!(
            found,
            Ok(Path::new(env!("CARGO_MANIFEST_DIR")).join("shared.rs"))
        );
    }

    #[test]
    fn the_shared_folder_is_found_beside_the_repository() {
        assert!(shared_path("design").is_dir());
        assert!(!shared_files("reference/kfp", "yaml").is_empty());
    }
}

#[cfg(test)]
mod generate_tests {
    use super::generate::{distinct, distinct_plain, Shape};
    use flowc_compiler::{analyze, MemoryLoader};
    use std::path::PathBuf;

    /// Both shapes check without a single diagnostic, with one declaration per step, so the
    /// benchmarks measure the front end's work and not its error paths.
    #[test]
    fn distinct_pipelines_check_clean_with_one_declaration_per_step() {
        let variants = [Shape::Chain, Shape::Diamond]
            .into_iter()
            .flat_map(|shape| {
                [
                    (shape, distinct(30, shape)),
                    (shape, distinct_plain(30, shape)),
                ]
            });
        for (shape, text) in variants {
            assert_eq!(text.matches("\nstep s").count(), 30, "{shape:?}");
            let loader = MemoryLoader::new().with("d.flow", text);
            let a = analyze(&loader, &[PathBuf::from("d.flow")]);
            let codes: Vec<&str> = a.diagnostics.iter().map(|d| d.code.as_str()).collect();
            assert!(codes.is_empty(), "{shape:?}: {codes:?}");
        }
    }

    #[test]
    fn a_diamond_joins_the_two_steps_before_it() {
        assert_eq!(Shape::Diamond.inputs(1), vec![0]);
        assert_eq!(Shape::Diamond.inputs(2), vec![0]);
        assert_eq!(Shape::Diamond.inputs(3), vec![1, 2]);
        assert_eq!(Shape::Chain.inputs(3), vec![2]);
        assert_eq!(Shape::parse("ring"), None);
        let text = distinct(4, Shape::Diamond);
        assert!(
            text.contains("r3 = s3(left: r1, right: r2, factor: factor)"),
            "{text}"
        );
    }

    /// The plain variant is the same pipeline without a step's `resources` and `retries`.
    #[test]
    fn the_plain_variant_drops_only_resources_and_retries() {
        let full = distinct(10, Shape::Chain);
        let plain = distinct_plain(10, Shape::Chain);
        assert_eq!(full.matches("resources {").count(), 10);
        assert_eq!(full.matches("retries 2").count(), 5);
        assert!(
            !plain.contains("resources") && !plain.contains("retries"),
            "{plain}"
        );
        let stripped: String = (full.lines())
            .filter(|l| !l.contains("resources {") && !l.contains("retries 2"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(stripped, plain);
    }
}
