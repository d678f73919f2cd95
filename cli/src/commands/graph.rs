//! `flowc graph`: a pipeline's step graph as DOT or Mermaid.

use crate::loader::analyze;
use flowc_compiler::graph::{render, GraphFormat as Fmt};
use flowc_compiler::FileLoader;
use flowc_grammar::ast::Item;

use crate::args::{GraphArgs, GraphFormat};
use crate::loader::DiskLoader;
use crate::{EXIT_ERRORS, EXIT_OK};

/// Runs `flowc graph`.
pub fn run(args: &GraphArgs) -> u8 {
    let loader = DiskLoader;
    if let Err(why) = loader.load(&args.file) {
        return crate::loader::unreadable(&args.file, &why);
    }
    let analysis = analyze(&loader, std::slice::from_ref(&args.file));
    if analysis.has_errors() {
        let errors: Vec<_> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        eprint!("{}", crate::render::short(analysis.sources(), &errors));
        eprintln!("error: the file has errors; fix them to draw its graph");
        return EXIT_ERRORS;
    }
    let Some(&root) = analysis.program.roots.first() else {
        return super::fail("nothing to draw");
    };
    let module = analysis.program.module(root);
    let pipelines: Vec<(usize, String)> = module
        .ast
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| match it {
            Item::Pipeline(p) => Some((i, p.name.name.clone())),
            _ => None,
        })
        .collect();
    let chosen = match &args.pipeline {
        Some(name) => pipelines.iter().find(|(_, n)| n == name),
        None => pipelines.last(),
    };
    let Some((index, name)) = chosen else {
        let names: Vec<&str> = pipelines.iter().map(|(_, n)| n.as_str()).collect();
        return super::fail(match &args.pipeline {
            Some(p) => format!(
                "no pipeline `{p}` in `{}`; it has: {}",
                args.file.display(),
                names.join(", ")
            ),
            None => format!("`{}` declares no pipeline", args.file.display()),
        });
    };
    let decl = flowc_compiler::resolve::DeclId {
        module: root,
        item: *index as u32,
    };
    let Some(info) = analysis.checked.pipelines.get(&decl) else {
        return super::fail("the pipeline could not be checked");
    };
    let format = match args.format {
        GraphFormat::Dot => Fmt::Dot,
        GraphFormat::Mermaid => Fmt::Mermaid,
    };
    print!("{}", render(info, name, format));
    EXIT_OK
}
