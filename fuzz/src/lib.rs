//! What the fuzz targets run, as plain functions of the input bytes, so that a finding can be
//! replayed without AFL++ (`cargo run --bin replay -- TARGET FILE`) and kept as a regression
//! test in the suite of the crate it concerns.
//!
//! Each function panics exactly when it finds a bug: a panic inside flowc, or a property that
//! does not hold (formatting that is not idempotent or changes the plan).

use std::path::PathBuf;

use flowc_compiler::{analyze, plan, Analysis, MemoryLoader};

/// The input as text: fuzzers produce bytes, the front end reads UTF-8 (lossily, as the CLI).
fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Analyses `source` as the single file `main.flow`.
pub fn analyze_text(source: &str) -> Analysis {
    let loader = MemoryLoader::new().with("main.flow", source.as_bytes().to_vec());
    analyze(&loader, &[PathBuf::from("main.flow")])
}

/// The plan JSON of `source`, when it checks without errors, without `source_sha256` (the
/// hash of the text, which formatting changes).
pub fn plan_json(source: &str) -> Option<serde_json::Value> {
    let a = analyze_text(source);
    let p = plan::build_plan(&a, None, Some("1.0.0")).ok()?;
    let mut v: serde_json::Value = serde_json::from_str(&p.to_json()).ok()?;
    v.as_object_mut()?.remove("source_sha256");
    Some(v)
}

/// Parser, checker, plan and both emitters on any text.
pub fn check(data: &[u8]) {
    let source = text(data);
    let parsed = flowc_grammar::parse(&source);
    let _ = parsed.module.items.len();
    let a = analyze_text(&source);
    if let Ok(p) = plan::build_plan(&a, None, Some("1.0.0")) {
        let options = flowc_targets::EmitOptions::default();
        let _ = flowc_targets::argo::emit(&p, &options);
        let _ = flowc_targets::kfp::emit(&p, &options);
    }
}

/// `fmt`: formatting is idempotent and the formatted file has the same plan.
pub fn fmt(data: &[u8]) {
    let source = text(data);
    let Ok(once) = flowc_compiler::fmt::format(&source) else {
        return;
    };
    let twice = match flowc_compiler::fmt::format(&once) {
        Ok(t) => t,
        Err(e) => panic!("the formatted text does not format again: {e:?}\n{once}"),
    };
    assert_eq!(once, twice, "fmt is not idempotent");
    let before = plan_json(&source);
    if before.is_some() {
        assert_eq!(before, plan_json(&once), "fmt changed the plan\n{once}");
    }
}

/// Every history reader of `flowc autotune`, on the same bytes under each format.
pub fn autotune(data: &[u8]) {
    use flowc_autotune::readers::{read_as, read_text, Format, Sink};
    let source = text(data);
    for (file, format) in [
        ("records.jsonl", Format::FlowcRecords),
        ("trace.csv", Format::NextflowTrace),
        ("wf.json", Format::ArgoStatus),
        ("prom.json", Format::PrometheusRange),
        ("instance.json", Format::WfCommons),
    ] {
        let _ = read_as(format, &source, &mut Sink::new(file, true));
        let _ = read_as(format, &source, &mut Sink::new(file, false));
        let _ = read_text(file, &source, &mut Sink::new(file, true));
    }
}

/// `flowc import kfp` on a component file and on a compiled pipeline.
pub fn import(data: &[u8]) {
    let source = text(data);
    for name in ["component.yaml", "pipeline.yaml"] {
        let _ = flowc_import::convert(name, &source);
    }
    // As `flowc import kfp -o DIR` runs it: lightweight Python components become modules.
    let _ = flowc_import::convert_with_modules("pipeline.yaml", &source, "pipeline_kfp");
}

/// `flowc exec`: the input is NUL-separated command-line arguments after `flowc exec`; only
/// the modes that write nothing outside a fresh folder run (`--check`, `--eval`,
/// `--enumerate`, `--gather` with the executor input), in that folder.
pub fn exec(data: &[u8]) {
    use clap::Parser;
    let source = text(data);
    let mut argv = vec!["flowc".to_string(), "exec".to_string()];
    argv.extend(source.split('\0').map(str::to_string));
    let Ok(cli) = flowc::args::Cli::try_parse_from(&argv) else {
        return;
    };
    let flowc::args::Command::Exec(mut a) = cli.command else {
        return;
    };
    if a.step.is_some() || a.copy.is_some() || a.call.is_some() || a.absent {
        return;
    }
    let dir = std::env::temp_dir().join(format!("flowc-fuzz-exec-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    // Outputs, inputs and metrics only under the fresh folder, by file name.
    let inside = |pairs: &mut Vec<(String, String)>| {
        for (_, path) in pairs.iter_mut() {
            let name: String = path.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
            *path = dir.join(format!("f-{name}")).to_string_lossy().into_owned();
        }
    };
    inside(&mut a.outputs);
    inside(&mut a.metrics);
    a.inputs.retain(|(_, p)| p.starts_with("@executor-input:"));
    let _ = flowc::commands::exec::run(&a);
}

/// A language-server session: the input opens a document and drives a stream of edits and
/// requests at positions it chooses, then shuts the server down.
pub fn lsp(data: &[u8]) {
    let (first, ops) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let uri = "file:///fuzz/main.flow";
    let mut msgs = vec![
        serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"capabilities": {}, "rootUri": "file:///fuzz"}}),
        serde_json::json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
        serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "flow", "version": 1, "text": text(first)}}}),
    ];
    let mut version = 1;
    let mut id = 1;
    let mut bytes = ops.iter().copied();
    while let Some(op) = bytes.next() {
        let line = u32::from(bytes.next().unwrap_or(0) % 40);
        let character = u32::from(bytes.next().unwrap_or(0) % 80);
        let pos = serde_json::json!({"line": line, "character": character});
        let doc = serde_json::json!({"uri": uri});
        let method = match op % 10 {
            0 | 9 => {
                let n = usize::from(bytes.next().unwrap_or(0) % 16);
                let inserted: Vec<u8> = bytes.by_ref().take(n).collect();
                let end =
                    serde_json::json!({"line": line, "character": character + u32::from(op % 3)});
                version += 1;
                let change = if op % 10 == 0 {
                    serde_json::json!({"range": {"start": pos, "end": end}, "text": text(&inserted)})
                } else {
                    serde_json::json!({"text": text(&inserted)})
                };
                msgs.push(
                    serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didChange",
                    "params": {"textDocument": {"uri": uri, "version": version},
                               "contentChanges": [change]}}),
                );
                continue;
            }
            1 => "textDocument/hover",
            2 => "textDocument/completion",
            3 => "textDocument/definition",
            4 => "textDocument/references",
            5 => "textDocument/rename",
            6 => "textDocument/formatting",
            7 => "textDocument/signatureHelp",
            _ => "textDocument/documentSymbol",
        };
        let params = serde_json::json!({"textDocument": doc, "position": pos, "newName": "renamed",
            "context": {"includeDeclaration": true}, "options": {"tabSize": 2, "insertSpaces": true}});
        msgs.push(
            serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        );
        id += 1;
    }
    msgs.push(serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "shutdown"}));
    msgs.push(serde_json::json!({"jsonrpc": "2.0", "method": "exit"}));
    let mut stream = Vec::new();
    for m in msgs {
        let body = m.to_string();
        stream.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        stream.extend_from_slice(body.as_bytes());
    }
    flowc_lsp::serve(std::io::Cursor::new(stream), std::io::sink());
}

/// A fuzz target: runs the front end (or a reader) on one input; a bug panics or hangs.
pub type Target = fn(&[u8]);

/// The targets by name, for `replay` and `run.sh`.
pub const TARGETS: &[(&str, Target)] = &[
    ("check", check),
    ("fmt", fmt),
    ("lsp", lsp),
    ("autotune", autotune),
    ("exec", exec),
    ("import", import),
];
