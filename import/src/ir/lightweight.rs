//! Kubeflow lightweight Python components (`@dsl.component`) as flowc Python steps.
//!
//! The kfp SDK compiles such a component into a container whose command installs kfp, writes
//! the function's module source (the command's last string) to a file and runs
//! `kfp.dsl.executor_main` with `--executor_input {{$}} --function_to_execute NAME`. Only
//! Kubeflow can run that command (it needs the executor input). When the importer is given a
//! package name for modules, the step becomes `python "PACKAGE.NAME:NAME"` instead, and the
//! source becomes the module `PACKAGE/NAME.py` with its `kfp` imports pointed at
//! `flowc_step.kfp_dsl` (which gives `InputPath`, `Output[...]` and the artifact classes their
//! meaning without kfp). The packages the command installed at every start are named in a note:
//! they belong in the step's image.

/// What a lightweight component's container holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lightweight {
    /// The function the executor calls.
    pub function: String,
    /// The module's source, as the kfp SDK wrote it.
    pub source: String,
    /// The packages its command installs before it starts (kfp itself left out).
    pub packages: Vec<String>,
}

/// The lightweight component in `command` + `args`, if the container is one.
pub fn detect(command: &[&str], args: &[&str]) -> Option<Lightweight> {
    if !command.iter().any(|c| c.contains("kfp.dsl.executor_main")) {
        return None;
    }
    let function = args
        .iter()
        .position(|a| *a == "--function_to_execute")
        .and_then(|i| args.get(i + 1))?
        .to_string();
    let def = format!("def {function}(");
    let source = command.iter().rev().find(|c| c.contains(&def))?.to_string();
    let packages = command.iter().flat_map(|c| installed(c)).collect();
    Some(Lightweight {
        function,
        source,
        packages,
    })
}

/// The packages the `pip install` lines of `script` install, without kfp's own.
fn installed(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    for command in script.split("&&") {
        let Some((_, rest)) = command.split_once("pip install") else {
            continue;
        };
        for word in shell_words(rest) {
            let word = word.as_str();
            let kfp_own = word.starts_with("kfp==")
                || word.starts_with("kfp-")
                || word.starts_with("typing-extensions");
            if word.is_empty() || word.starts_with('-') || kfp_own || word.contains(';') {
                continue;
            }
            out.push(word.to_string());
        }
    }
    out
}

/// The words of a shell command line: split at blanks outside quotes, quotes removed.
fn shell_words(text: &str) -> Vec<String> {
    let (mut words, mut word, mut quote) = (Vec::new(), String::new(), None);
    let mut started = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// The module source of `lw`, its kfp imports replaced by flowc's stand-ins; `origin` names
/// where it came from (for the module's docstring).
pub fn module_source(lw: &Lightweight, origin: &str) -> String {
    let mut out = format!(
        "\"\"\"`{}` from {origin}, moved into a module by `flowc import kfp`.\n\n\
         Its kfp imports come from `flowc_step.kfp_dsl` (flowc's Python runtime), so it runs as\n\
         a flowc Python step without kfp.\n\"\"\"\n",
        lw.function
    );
    for line in lw.source.trim_start_matches('\n').lines() {
        out.push_str(&rewrite_import(line));
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// A line of the module with kfp's imports pointed at `flowc_step.kfp_dsl`.
fn rewrite_import(line: &str) -> String {
    let indent = &line[..line.len() - line.trim_start().len()];
    let code = line.trim();
    if code == "import kfp" {
        return format!("{indent}# import kfp  (not needed: flowc_step.kfp_dsl stands in)");
    }
    for from in ["from kfp.dsl import ", "from kfp import "] {
        if let Some(names) = code.strip_prefix(from) {
            return format!("{indent}from flowc_step.kfp_dsl import {names}");
        }
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTALL: &str = "\nif ! [ -x \"$(command -v pip)\" ]; then\n    python3 -m ensurepip\nfi\n\nPIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --no-warn-script-location 'kfp==2.17.3' '--no-deps' 'typing-extensions>=3.7.4,<5; python_version<\"3.9\"' && python3 -m pip install --quiet --no-warn-script-location 'pandas==2.2.3' 'pyarrow' && \"$0\" \"$@\"\n";
    const SOURCE: &str = "\nimport kfp\nfrom kfp import dsl\nfrom kfp.dsl import *\nfrom typing import *\n\ndef train(data: InputPath(Dataset), model: Output[Model]) -> str:\n    return 'ok'\n\n";

    fn container() -> (Vec<&'static str>, Vec<&'static str>) {
        (
            vec![
                "sh",
                "-c",
                INSTALL,
                "sh",
                "-ec",
                "program_path=$(mktemp -d)\n_KFP_RUNTIME=true python3 -m kfp.dsl.executor_main --component_module_path \"$program_path/ephemeral_component.py\" \"$@\"\n",
                SOURCE,
            ],
            vec![
                "--executor_input",
                "{{$}}",
                "--function_to_execute",
                "train",
            ],
        )
    }

    #[test]
    fn a_lightweight_component_is_found_with_its_function_source_and_packages() {
        let (command, args) = container();
        let lw = detect(&command, &args).expect("a lightweight component");
        assert_eq!(lw.function, "train");
        assert_eq!(lw.source, SOURCE);
        assert_eq!(lw.packages, ["pandas==2.2.3", "pyarrow"]);
        // A container component is not one.
        assert_eq!(detect(&["sh", "-c"], &["echo hi"]), None);
        // Nor a command that names the executor without saying which function.
        assert_eq!(detect(&command, &["--executor_input", "{{$}}"]), None);
    }

    #[test]
    fn the_module_imports_kfp_names_from_flowc() {
        let (command, args) = container();
        let lw = detect(&command, &args).expect("a lightweight component");
        let text = module_source(&lw, "`p.yaml` (component `comp-train`)");
        assert!(text.starts_with("\"\"\"`train` from `p.yaml`"), "{text}");
        for line in [
            "# import kfp  (not needed: flowc_step.kfp_dsl stands in)",
            "from flowc_step.kfp_dsl import dsl",
            "from flowc_step.kfp_dsl import *",
            "from typing import *",
            "def train(data: InputPath(Dataset), model: Output[Model]) -> str:",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }
        assert!(!text.contains("import kfp\n"), "{text}");
        assert!(text.ends_with("return 'ok'\n"), "{text:?}");
    }
}
