//! The explanations' examples are run: one test `explain::CODE` per code.
//!
//! The convention of `compiler/src/diagnostics/explain/CODE.md` (also in ARCHITECTURE.md):
//!
//! - the first ```` ```flow ```` block under `## Example` shows the problem: checked alone, it
//!   must report CODE;
//! - the first ```` ```flow ```` block under `## How to fix` is the fixed example: it must not
//!   report CODE;
//! - a ```` ```text ```` block after `flowc prints:` under `## Example` is an excerpt of
//!   `flowc check --format short` on the problem saved under the file name the excerpt shows:
//!   every line of it must be a line of the real output, so an excerpt cannot drift from the
//!   message the checker builds;
//! - a block ```` ```flow file=PATH ```` is a file the example imports (`PATH` relative to the
//!   example): under `## Example` for the problem, under `## How to fix` replacing or adding to
//!   those for the fixed example;
//! - a block ```` ```yaml file=PATH ```` is a Kubeflow file the example imports with `import kfp`
//!   (the analysis has the importer, as the CLI's has);
//! - ```` ```flow encoding=latin1 ```` checks the example's text encoded as Latin-1 (E007's file
//!   that is not UTF-8).
//!
//! Target codes (E5xx, W5xx, and E432) are reported for a build target (`flowc build`, `flowc check
//! --target`); their examples are commands and are tested with the emitters and the CLI. They are
//! listed in [`TARGET_CODES`], and a test fails when a code is in that range but not in the list,
//! or in the list but not in the table, so none is skipped silently.

use std::path::PathBuf;

use flowc_compiler::{analyze, Code, FileLoader, MemoryLoader};
use libtest_mimic::{Failed, Trial};

/// Codes whose examples need a build target and are tested with the emitters and the CLI.
const TARGET_CODES: &[&str] = &["E432", "E501", "E502", "E503", "W501", "W503"];

/// Codes of the operations phase that only a build target reports (a `std.io` step's local path,
/// which only a pod would throw away).
const TARGET_REPORTED: &[&str] = &["E432"];

/// Codes reported only about what a command is given — build values (`--set`), files named on
/// its command line — whose examples are commands, run by the CLI's tests
/// (cli/tests/build_vars.rs, cli/tests/cli.rs, the lock file's tests).
const BUILD_VALUE_CODES: &[&str] = &["E008", "E009", "E430"];

/// Whether `code` is reported only when a command gives build values.
pub fn is_build_value_code(code: Code) -> bool {
    BUILD_VALUE_CODES.contains(&code.as_str())
}

/// Whether `code` is a target code (E5xx or W5xx, and those of [`TARGET_REPORTED`]).
pub fn is_target_code(code: Code) -> bool {
    code.as_str().get(1..2) == Some("5") || TARGET_REPORTED.contains(&code.as_str())
}

/// One test per code, and one that checks the list of target codes.
pub fn trials() -> Vec<Trial> {
    let mut trials: Vec<Trial> = Code::ALL
        .iter()
        .filter(|c| !is_target_code(**c) && !is_build_value_code(**c))
        .map(|c| {
            let code = *c;
            Trial::test(format!("explain::{}", code.as_str()), move || {
                check_explanation(code)
            })
        })
        .collect();
    trials.push(Trial::test(
        "explain::target_codes_are_listed",
        target_codes_are_listed,
    ));
    trials
}

fn target_codes_are_listed() -> Result<(), Failed> {
    let in_table: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| is_target_code(**c))
        .map(|c| c.as_str())
        .collect();
    let unlisted: Vec<&&str> = in_table
        .iter()
        .filter(|c| !TARGET_CODES.contains(c))
        .collect();
    let unknown: Vec<&&str> = TARGET_CODES
        .iter()
        .filter(|c| !in_table.contains(c))
        .collect();
    if unlisted.is_empty() && unknown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "target codes not in TARGET_CODES: {unlisted:?}; in TARGET_CODES but not in the table: {unknown:?}"
        )
        .into())
    }
}

/// A fenced block: its info string (`flow`, `flow file=lib/common.flow`, `text`) and body.
struct Fence<'t> {
    info: &'t str,
    body: &'t str,
}

impl Fence<'_> {
    /// The value of `key=VALUE` in the info string.
    fn attr(&self, key: &str) -> Option<&str> {
        self.info
            .split_whitespace()
            .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
    }

    fn lang(&self) -> &str {
        self.info.split_whitespace().next().unwrap_or_default()
    }
}

/// The fenced blocks of a section, in order.
fn fences<'t>(text: &'t str, heading: &str) -> Vec<Fence<'t>> {
    let Some((_, section)) = text.split_once(&format!("\n{heading}\n")) else {
        return Vec::new();
    };
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut out = Vec::new();
    let mut rest = section;
    while let Some((_, open)) = rest.split_once("```") {
        let Some((info, body)) = open.split_once('\n') else {
            break;
        };
        let Some((body, after)) = body.split_once("\n```") else {
            break;
        };
        out.push(Fence {
            info: info.trim(),
            body,
        });
        rest = after;
    }
    out
}

/// The blocks of an explanation that the test runs.
struct Blocks<'t> {
    problem: Fence<'t>,
    fixed: Fence<'t>,
    /// Files the problem imports, from blocks ```` ```flow file=PATH ```` under `## Example`.
    helpers: Vec<(String, &'t str)>,
    /// Files the fixed example imports: the same, replaced or added by those under `## How to
    /// fix`.
    fixed_helpers: Vec<(String, &'t str)>,
    excerpt: Option<&'t str>,
}

/// The first `flow` block of a section that is not a helper file.
fn example<'t>(fences: &mut Vec<Fence<'t>>) -> Option<Fence<'t>> {
    let i = fences
        .iter()
        .position(|f| f.lang() == "flow" && f.attr("file").is_none())?;
    Some(fences.remove(i))
}

fn blocks<'t>(text: &'t str) -> Result<Blocks<'t>, String> {
    let mut example_fences = fences(text, "## Example");
    let mut fix_fences = fences(text, "## How to fix");
    let problem = example(&mut example_fences)
        .ok_or("no ```flow block under `## Example` (the example that shows the problem)")?;
    let fixed = example(&mut fix_fences)
        .ok_or("no ```flow block under `## How to fix` (the fixed example)")?;
    let helper = |f: &Fence<'t>| Some((f.attr("file")?.to_string(), f.body));
    let helpers: Vec<(String, &str)> = example_fences.iter().filter_map(helper).collect();
    let mut fixed_helpers = helpers.clone();
    for (path, body) in fix_fences.iter().filter_map(helper) {
        fixed_helpers.retain(|(p, _)| *p != path);
        fixed_helpers.push((path, body));
    }
    let excerpt = match text.split_once("flowc prints:\n") {
        Some((_, rest)) => Some(
            rest.trim_start()
                .strip_prefix("```text\n")
                .and_then(|b| b.split_once("```"))
                .map(|(b, _)| b)
                .ok_or("`flowc prints:` is not followed by a ```text block")?,
        ),
        None => None,
    };
    Ok(Blocks {
        problem,
        fixed,
        helpers,
        fixed_helpers,
        excerpt,
    })
}

/// An example's bytes: its text, or its text in Latin-1 for ```` ```flow encoding=latin1 ````
/// (how E007's example shows a file that is not UTF-8).
fn bytes(fence: &Fence<'_>) -> Result<Vec<u8>, String> {
    match fence.attr("encoding") {
        None => Ok(format!("{}\n", fence.body).into_bytes()),
        Some("latin1") => format!("{}\n", fence.body)
            .chars()
            .map(|c| u8::try_from(u32::from(c)).map_err(|_| format!("`{c}` is not Latin-1")))
            .collect(),
        Some(other) => Err(format!("unknown encoding `{other}`")),
    }
}

/// `flowc check --format short` on `text` saved as `name`, beside the helper files.
fn short(name: &str, text: Vec<u8>, helpers: &[(String, &str)]) -> (Vec<Code>, String) {
    let mut loader = MemoryLoader::new().with(name, text);
    for (path, body) in helpers {
        loader = loader.with(path.as_str(), format!("{body}\n"));
    }
    // With the importer, as the CLI's loader has it (`import kfp "FILE"`, whose YAML files are
    // helper blocks such as ```` ```yaml file=components/train.yaml ````).
    let loader = WithImporter(loader);
    let mut a = analyze(&loader, &[PathBuf::from(name)]);
    // Python steps are compared with their functions' source (`P0xx`), as the CLI does.
    flowc_pycheck::check(&mut a, &loader, &[]);
    let codes = a.diagnostics.iter().map(|d| d.code).collect();
    (codes, flowc::render::short(a.sources(), &a.diagnostics))
}

/// A loader over memory with the Kubeflow importer.
struct WithImporter(MemoryLoader);

impl FileLoader for WithImporter {
    fn load(&self, path: &std::path::Path) -> Result<Vec<u8>, String> {
        self.0.load(path)
    }

    fn foreign(&self) -> Option<&dyn flowc_compiler::foreign::ForeignImporter> {
        Some(&flowc_import::KfpImporter)
    }
}

/// The `.flow` file name the excerpt shows first (`daily.flow` in `daily.flow:4:21: error…`);
/// lines about an imported YAML file are skipped.
fn excerpt_file(excerpt: &str) -> Option<&str> {
    excerpt.lines().find_map(|line| {
        let (name, _) = line.split_once(".flow:")?;
        Some(&line[..name.len() + ".flow".len()])
    })
}

fn check_explanation(code: Code) -> Result<(), Failed> {
    let id = code.as_str();
    let b = blocks(code.explanation()).map_err(|e| format!("explain/{id}.md: {e}"))?;
    let name = b.excerpt.and_then(excerpt_file).unwrap_or("example.flow");
    let (codes, printed) = short(name, bytes(&b.problem)?, &b.helpers);
    if !codes.contains(&code) {
        return Err(format!(
            "explain/{id}.md: the example must report {id}; flowc prints:\n{printed}"
        )
        .into());
    }
    if let Some(excerpt) = b.excerpt {
        let lines: Vec<&str> = printed.lines().collect();
        for line in excerpt.lines() {
            if !lines.contains(&line) {
                return Err(format!(
                    "explain/{id}.md: the excerpt line\n  {line}\nis not what flowc prints:\n{printed}"
                )
                .into());
            }
        }
    }
    let (codes, printed) = short(name, bytes(&b.fixed)?, &b.fixed_helpers);
    if codes.contains(&code) {
        return Err(format!(
            "explain/{id}.md: the fixed example must not report {id}; flowc prints:\n{printed}"
        )
        .into());
    }
    Ok(())
}
