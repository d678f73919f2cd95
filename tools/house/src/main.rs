//! The house rules of ARCHITECTURE.md that code can check: no function is longer than
//! [`MAX_FUNCTION_LINES`] (in any file of a workspace crate, tests included), and no two sibling
//! modules of a crate use each other (a module cycle), except the intended recursions named in
//! [`INTENDED_CYCLES`].
//!
//! Every workspace crate's `src/` is parsed with `syn`. It prints the ten longest functions and
//! any module cycle, and exits 1 when a rule is broken:
//! `cargo run --manifest-path tools/house/Cargo.toml` (CI runs it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use petgraph::algo::tarjan_scc;
use petgraph::graphmap::DiGraphMap;
use syn::visit::Visit;

/// The longest a function may be, in lines, outside generated code.
const MAX_FUNCTION_LINES: usize = 150;

/// Sibling modules that use each other on purpose (mutual recursion of the language's own
/// structure), named as the test prints them: `crate::parent::{a, b}`. ARCHITECTURE.md names
/// the same ones.
const INTENDED_CYCLES: &[&str] = &[];

/// The repository root: two folders above this tool's manifest.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The crates whose `src/` is checked.
fn crate_dirs() -> Vec<PathBuf> {
    let root = repo_root();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("workspace manifest");
    let members = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("members"))
        .expect("a members line");
    members
        .split('"')
        .skip(1)
        .step_by(2)
        .map(|m| root.join(m))
        .filter(|d| d.is_dir())
        .collect()
}

/// Every `.rs` file under `dir` (build output excepted), sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && p.file_name().is_some_and(|n| n != "target") {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The module path of a source file inside its crate: `src/check/props.rs` → `["check",
/// "props"]`; `lib.rs`, `main.rs` and `mod.rs` name their folder.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("lib" | "main" | "mod")
    ) {
        parts.pop();
    }
    parts
}

/// One function's place and length.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FnLength {
    lines: usize,
    place: String,
}

/// Collects the functions of one file and the module paths it refers to.
struct FileVisitor<'a> {
    place: &'a str,
    module: &'a [String],
    functions: Vec<FnLength>,
    references: BTreeSet<Vec<String>>,
    in_test_module: usize,
}

impl FileVisitor<'_> {
    fn function(&mut self, name: &syn::Ident, block: &syn::Block) {
        use syn::spanned::Spanned;
        let span = block.span();
        let lines = span.end().line.saturating_sub(name.span().start().line) + 1;
        self.functions.push(FnLength {
            lines,
            place: format!("{}:{} `{}`", self.place, name.span().start().line, name),
        });
    }

    /// A path such as `crate::a::b` or `super::c` made absolute within the crate.
    fn absolute(&self, segments: &[String]) -> Option<Vec<String>> {
        let mut base: Vec<String> = self.module.to_vec();
        let mut rest = segments;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &rest[1..];
            }
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
            }
            Some("self") => rest = &rest[1..],
            _ => return None,
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.reference(prefix, Some(n.ident.to_string())),
            syn::UseTree::Rename(r) => self.reference(prefix, Some(r.ident.to_string())),
            syn::UseTree::Glob(_) => self.reference(prefix, None),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    fn reference(&mut self, prefix: &[String], last: Option<String>) {
        let mut segments = prefix.to_vec();
        segments.extend(last);
        if let Some(abs) = self.absolute(&segments) {
            self.references.insert(abs);
        }
    }
}

impl<'ast> Visit<'ast> for FileVisitor<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let is_test = m.attrs.iter().any(|a| {
            matches!(&a.meta, syn::Meta::List(l)
                if l.path.is_ident("cfg") && l.tokens.to_string().contains("test"))
        });
        self.in_test_module += usize::from(is_test);
        syn::visit::visit_item_mod(self, m);
        self.in_test_module -= usize::from(is_test);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if self.in_test_module == 0 {
            self.function(&f.sig.ident, &f.block);
        }
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if self.in_test_module == 0 {
            self.function(&f.sig.ident, &f.block);
        }
        syn::visit::visit_impl_item_fn(self, f);
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if self.in_test_module == 0 {
            self.use_tree(&mut Vec::new(), &u.tree);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if self.in_test_module == 0 {
            let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            self.reference(&segments, None);
        }
        syn::visit::visit_path(self, p);
    }
}

/// What the checks read from one crate.
struct CrateFacts {
    name: String,
    functions: Vec<FnLength>,
    /// Edges between sibling modules: (parent, from child, to child).
    sibling_uses: BTreeSet<(Vec<String>, String, String)>,
}

fn read_crate(dir: &Path) -> CrateFacts {
    let src = dir.join("src");
    let root = repo_root();
    // Functions are measured in every file of the crate (tests, benches and examples too);
    // module cycles are looked for among the library's and binary's modules under `src/`.
    let files = rust_files(dir);
    let modules: BTreeSet<Vec<String>> = files
        .iter()
        .filter(|f| f.starts_with(&src))
        .map(|f| module_path(&src, f))
        .collect();
    let mut functions = Vec::new();
    let mut sibling_uses = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        let tree = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
        let module = module_path(&src, file);
        let place = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        let mut v = FileVisitor {
            place: &place,
            module: &module,
            functions: Vec::new(),
            references: BTreeSet::new(),
            in_test_module: 0,
        };
        v.visit_file(&tree);
        functions.append(&mut v.functions);
        if !file.starts_with(&src) {
            continue;
        }
        for r in &v.references {
            if let Some(edge) = sibling_edge(&modules, &module, r) {
                sibling_uses.insert(edge);
            }
        }
    }
    CrateFacts {
        name: dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
        functions,
        sibling_uses,
    }
}

/// The edge between two sibling modules that `from` referring to `target` makes: the children
/// of their common parent on each side. None when one contains the other, or `target` names
/// no module file of the crate.
fn sibling_edge(
    modules: &BTreeSet<Vec<String>>,
    from: &[String],
    target: &[String],
) -> Option<(Vec<String>, String, String)> {
    // The longest prefix of the target that is a module file.
    let to = (0..=target.len())
        .rev()
        .map(|n| &target[..n])
        .find(|p| modules.contains(*p))?;
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    if common == from.len() || common == to.len() {
        return None;
    }
    Some((
        from[..common].to_vec(),
        from[common].clone(),
        to[common].clone(),
    ))
}

/// The cycles among sibling modules, as sorted `crate::parent::{a, b}` names.
fn cycles(facts: &CrateFacts) -> Vec<String> {
    let mut by_parent: BTreeMap<&Vec<String>, Vec<(&str, &str)>> = BTreeMap::new();
    for (parent, a, b) in &facts.sibling_uses {
        by_parent.entry(parent).or_default().push((a, b));
    }
    let mut out = Vec::new();
    for (parent, edges) in by_parent {
        let graph: DiGraphMap<&str, ()> = DiGraphMap::from_edges(edges);
        for mut scc in tarjan_scc(&graph) {
            if scc.len() > 1 {
                scc.sort_unstable();
                let mut path = vec![facts.name.clone()];
                path.extend(parent.iter().cloned());
                out.push(format!("{}::{{{}}}", path.join("::"), scc.join(", ")));
            }
        }
    }
    out
}

/// Prints the longest functions; returns those over the limit.
fn long_functions(crates: &[CrateFacts]) -> Vec<String> {
    let mut all: Vec<&FnLength> = crates.iter().flat_map(|c| &c.functions).collect();
    all.sort_by(|a, b| b.cmp(a));
    println!("The longest functions (limit {MAX_FUNCTION_LINES} lines):");
    for f in all.iter().take(10) {
        println!("  {:>4} lines  {}", f.lines, f.place);
    }
    all.iter()
        .filter(|f| f.lines > MAX_FUNCTION_LINES)
        .map(|f| {
            format!(
                "function over {MAX_FUNCTION_LINES} lines: {} ({} lines)",
                f.place, f.lines
            )
        })
        .collect()
}

/// Prints the module cycles; returns those not named as intended.
fn unintended_cycles(crates: &[CrateFacts]) -> Vec<String> {
    let found: Vec<String> = crates.iter().flat_map(cycles).collect();
    println!("Module cycles between siblings: {found:?} (intended: {INTENDED_CYCLES:?})");
    found
        .into_iter()
        .filter(|c| !INTENDED_CYCLES.contains(&c.as_str()))
        .map(|c| {
            format!(
                "module cycle {c}: break it, or name it in INTENDED_CYCLES and ARCHITECTURE.md \
                 if it is intended recursion"
            )
        })
        .collect()
}

fn main() -> std::process::ExitCode {
    let crates: Vec<CrateFacts> = crate_dirs().iter().map(|d| read_crate(d)).collect();
    let mut problems = long_functions(&crates);
    problems.extend(unintended_cycles(&crates));
    for p in &problems {
        eprintln!("error: {p}");
    }
    if problems.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cycle_finder_finds_a_cycle_and_ignores_containment() {
        let modules: BTreeSet<Vec<String>> =
            [vec![], vec!["a".into()], vec!["a".into(), "b".into()]]
                .into_iter()
                .chain([vec!["a".into(), "c".into()]])
                .collect();
        let b = vec!["a".to_string(), "b".to_string()];
        let item_in_c = vec!["a".to_string(), "c".to_string(), "Thing".to_string()];
        assert_eq!(
            sibling_edge(&modules, &b, &item_in_c),
            Some((vec!["a".to_string()], "b".to_string(), "c".to_string()))
        );
        assert_eq!(sibling_edge(&modules, &b, &["a".to_string()]), None);
        let facts = CrateFacts {
            name: "k".into(),
            functions: Vec::new(),
            sibling_uses: [
                (vec!["a".to_string()], "b".to_string(), "c".to_string()),
                (vec!["a".to_string()], "c".to_string(), "b".to_string()),
            ]
            .into_iter()
            .collect(),
        };
        assert_eq!(cycles(&facts), vec!["k::a::{b, c}".to_string()]);
    }
}
