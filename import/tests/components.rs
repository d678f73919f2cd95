//! Real Kubeflow component files (`data/components/`, vendored with their source in the README
//! there) converted to `.flow`: a reviewed snapshot of each result with its warnings, and each
//! result checks without errors with the compiler.

mod common;

use common::{check, check_spec, check_yaml11, data_files, render};

#[test]
fn every_vendored_component_converts_and_checks() {
    let files = data_files("components");
    let mut failures = Vec::new();
    for (name, text) in &files {
        let c = flowc_import::convert(name, text);
        if c.has_errors() {
            failures.push(format!("{name}: not converted\n{}", render(name, &c)));
            continue;
        }
        let diagnostics = check(name, &c.source);
        if diagnostics.iter().any(|d| d.starts_with("error")) {
            failures.push(format!("{name}: {diagnostics:?}\n{}", c.source));
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots/components");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_input_file(format!("tests/data/components/{name}"));
        settings.bind(|| {
            insta::assert_snapshot!(
                name.trim_end_matches(".yaml"),
                format!(
                    "{}\n----- IMPORT PROBLEMS\n{}----- CHECK\n{}\n",
                    c.source,
                    render(name, &c),
                    diagnostics.join("\n")
                )
            );
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        files.len() >= 15,
        "at least 15 real component files are vendored, found {}",
        files.len()
    );
}

// ---------------------------------------------------------------------------------------------
// The round trip: each converted step, called by a pipeline taking its inputs as parameters,
// builds for Kubeflow to an executor with the component's image and command line.

use flowc_compiler::plan::build_plan;
use flowc_compiler::{analyze, MemoryLoader};
use flowc_import::names::Names;
use flowc_import::yaml::{self, Node, Value};
use flowc_targets::{kfp, EmitOptions};
use serde_json::Value as Json;

/// The step's name and its inputs (`name: type`) in a converted source.
fn signature(source: &str) -> (String, Vec<(String, String)>) {
    let start = source.find("\nstep ").map_or(0, |i| i + 6);
    let open = source[start..].find('(').map_or(start, |i| start + i);
    let name = source[start..open].trim().to_string();
    let mut depth = 0;
    let mut end = open;
    for (i, c) in source[open..].char_indices() {
        match c {
            '(' | '<' => depth += 1,
            ')' | '>' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            end = open + i;
            break;
        }
    }
    let params = source[open + 1..end]
        .split(',')
        .filter_map(|p| {
            let (n, rest) = p.split_once(':')?;
            let ty = rest.split('=').next()?.trim().to_string();
            Some((n.trim().to_string(), ty))
        })
        .collect();
    (name, params)
}

/// The component's command line with placeholders as `{in:NAME}` / `{out:NAME}`, names as the
/// converter spells them.
fn original_argv(doc: &Node) -> Vec<String> {
    let mut names = Names::default();
    let mut rename = std::collections::BTreeMap::new();
    for (list, prefix) in [("inputs", "in"), ("outputs", "out")] {
        for item in doc.get(list).and_then(Node::as_seq).unwrap_or_default() {
            let kfp = item.str_of("name").unwrap_or_default();
            rename.insert((prefix, kfp.to_string()), names.unique(kfp));
        }
    }
    let container = doc.get("implementation").and_then(|i| i.get("container"));
    let mut out = Vec::new();
    for part in ["command", "args"] {
        for a in container
            .and_then(|c| c.get(part))
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            flatten(a, &rename, &mut out);
        }
    }
    out
}

fn placeholder(n: &Node, rename: &std::collections::BTreeMap<(&str, String), String>) -> String {
    if let Value::Scalar(s, _) = &n.value {
        return s.clone();
    }
    let Some([(k, v)]) = n.as_map() else {
        return String::new();
    };
    match k.as_str().unwrap_or_default() {
        "concat" => v
            .as_seq()
            .unwrap_or_default()
            .iter()
            .map(|p| placeholder(p, rename))
            .collect(),
        key => {
            let io = if key.starts_with("output") {
                "out"
            } else {
                "in"
            };
            let name = v.as_str().unwrap_or_default().to_string();
            let shown = rename.get(&(io, name.clone())).cloned().unwrap_or(name);
            format!("{{{io}:{shown}}}")
        }
    }
}

fn flatten(
    n: &Node,
    rename: &std::collections::BTreeMap<(&str, String), String>,
    out: &mut Vec<String>,
) {
    if let Some([(k, v)]) = n.as_map() {
        if k.as_str() == Some("if") {
            for t in v.get("then").and_then(Node::as_seq).unwrap_or_default() {
                flatten(t, rename, out);
            }
            return;
        }
    }
    out.push(placeholder(n, rename));
}

/// The emitted executor's command line, placeholders as `{in:NAME}` / `{out:NAME}`.
fn emitted_argv(exec: &Json) -> Vec<String> {
    let c = &exec["container"];
    let mut argv: Vec<Json> = c["command"].as_array().cloned().unwrap_or_default();
    argv.extend(c["args"].as_array().cloned().unwrap_or_default());
    argv.iter()
        .map(|a| {
            a.as_str()
                .unwrap_or_default()
                .replace("{{$.inputs.parameters['", "{in:")
                .replace("{{$.inputs.artifacts['", "{in:")
                .replace("{{$.outputs.artifacts['", "{out:")
                .replace("'].path}}", "}")
                .replace("']}}", "}")
        })
        .collect()
}

#[test]
fn every_vendored_component_builds_back_to_its_command_line() {
    for (name, text) in &data_files("components") {
        let c = flowc_import::convert(name, text);
        let (step, params) = signature(&c.source);
        let args: Vec<String> = params.iter().map(|(n, _)| format!("{n}: {n}")).collect();
        let decl: Vec<String> = params.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        let source = format!(
            "{}\npipeline roundtrip({}) {{\n  {step}({})\n}}\n",
            c.source,
            decl.join(", "),
            args.join(", ")
        );
        let path = std::path::PathBuf::from("roundtrip.flow");
        let analysis = analyze(
            &MemoryLoader::new().with(path.clone(), source.as_str()),
            &[path],
        );
        assert!(
            !analysis.has_errors(),
            "{name}: {:?}\n{source}",
            analysis.diagnostics
        );
        let plan = build_plan(&analysis, None, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let e = kfp::emit(&plan, &EmitOptions::default());
        let docs: Vec<Json> = e
            .text
            .split("\n---\n")
            .map(|d| serde_saphyr::from_str(d).unwrap_or_else(|err| panic!("{name}: {err}")))
            .collect();
        let errs = check_spec(&docs);
        assert!(
            errs.is_empty(),
            "{name}: the rebuilt spec is inconsistent:\n{}",
            errs.join("\n")
        );
        check_yaml11(name, &e.text);
        let spec: Json = serde_saphyr::from_str(e.text.split("\n---\n").next().unwrap_or_default())
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        let executors = spec["deploymentSpec"]["executors"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let (label, exec) = executors
            .iter()
            .find(|(_, x)| x.get("container").is_some())
            .unwrap_or_else(|| panic!("{name}: no container executor"));
        let doc = &yaml::parse(text).expect("vendored files are YAML")[0];
        let image = doc
            .get("implementation")
            .and_then(|i| i.get("container"))
            .and_then(|c| c.str_of("image"));
        assert_eq!(exec["container"]["image"].as_str(), image, "{name}: image");
        assert_eq!(
            emitted_argv(exec),
            original_argv(doc),
            "{name}: command line"
        );
        let comp = spec["components"]
            .as_object()
            .and_then(|m| {
                m.values()
                    .find(|c| c["executorLabel"].as_str() == Some(label))
            })
            .cloned()
            .unwrap_or_default();
        let mut declared: Vec<String> = ["parameters", "artifacts"]
            .iter()
            .flat_map(|k| {
                comp["inputDefinitions"][*k]
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(n, _)| n)
            })
            .collect();
        declared.sort();
        let mut names = Names::default();
        let mut expected: Vec<String> = doc
            .get("inputs")
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .map(|i| names.unique(i.str_of("name").unwrap_or_default()))
            .collect();
        expected.sort();
        assert_eq!(declared, expected, "{name}: inputs");
    }
}
