//! Builds a `.flow` file for Kubeflow Pipelines, as `flowc build --target kfp` does, for the
//! benchmark (`bench/compare_build.sh`) while the CLI does not offer the target:
//! `kfp_build FILE OUT [VERSION]` (or `FILE -o OUT`). Prints the issues on standard error; exits 1 when the file
//! has errors.

use std::path::Path;

fn main() {
    // `kfp_build FILE OUT [VERSION]`, or `kfp_build FILE -o OUT` as `flowc build` takes it.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "-o").collect();
    let (Some(file), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: kfp_build FILE OUT [VERSION]");
        std::process::exit(2);
    };
    let path = Path::new(file);
    let root = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(Path::new).unwrap_or(path);
    let analysis = flowc_tests::analyze_at(root, name);
    let plan =
        match flowc_compiler::plan::build_plan(&analysis, None, args.get(2).map(String::as_str)) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{file}: {e}");
                std::process::exit(1);
            }
        };
    let emitted = flowc_targets::kfp::emit(&plan, &flowc_targets::EmitOptions::default());
    for i in &emitted.issues {
        eprintln!("{}: {}", i.diagnostic.code.as_str(), i.diagnostic.message);
    }
    if let Err(e) = std::fs::write(out, emitted.text) {
        eprintln!("{out}: {e}");
        std::process::exit(2);
    }
}
