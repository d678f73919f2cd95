//! Time from a change to published diagnostics, on a 2,000-line file.
//!
//! An in-process server (the same code as `flowc lsp`, on the main thread as there, over pipes
//! with the same framing as stdio) has the file open; each iteration sends one incremental change (a default value
//! toggled between `0` and `1`) and waits for the `publishDiagnostics` of the new version. The
//! time covers applying the change, re-checking the file, converting the diagnostics and the
//! JSON-RPC round trip. Changes are 30 ms apart (not timed), as keystrokes are. For
//! comparison, `analyze` alone on the same text is measured too.
//!
//! `cargo bench -p flowc-lsp --bench change`

#[path = "../tests/client/mod.rs"]
mod client;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::Criterion;

/// The allocator of the `flowc` binary, so that the server here runs as it does there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use flowc_compiler::{analyze, MemoryLoader};
use serde_json::json;

/// A clean file of `steps` container steps chained in one pipeline: 9 lines per step.
fn generate(steps: usize) -> String {
    let mut s = String::from(
        "//! Generated for the language server benchmark.\n\nimport std.io (read_csv)\n\nschema Row { id: Int, value: Float, region: Str }\n\n",
    );
    for i in 0..steps {
        s.push_str(&format!(
            "/// Step {i}.\nstep s{i}(input: Table<Row>, n: Int = {}) -> (out: Table<Row>) {{\n  image \"python:3.12-slim\"\n  run [\"python3\", \"-m\", \"job\", input, \"${{n}}\", out]\n  resources {{ cpu: 500m, memory: 512Mi }}\n  retries 2\n}}\n\n",
            i % 7
        ));
    }
    s.push_str(
        "pipeline chain(path: Str = \"in.csv\") {\n  r0 = read_csv(path: path) as Table<Row>\n",
    );
    for i in 0..steps {
        s.push_str(&format!("  r{} = s{i}(input: r{i})\n", i + 1));
    }
    s.push_str(&format!("  output r{steps}\n}}\n"));
    s
}

/// The benchmarks, on the client's side of the pipes.
fn bench(c: &mut Criterion, mut cl: client::Client) {
    let text = generate(221);
    let lines = text.lines().count();
    assert!((1900..=2100).contains(&lines), "{lines} lines");

    let loader = MemoryLoader::new().with("bench.flow", text.clone());
    let a = analyze(&loader, &[PathBuf::from("bench.flow")]);
    assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics.first());
    c.bench_function("analyze a 2,000-line file", |b| {
        b.iter(|| analyze(&loader, &[PathBuf::from("bench.flow")]))
    });

    let dir = tempfile::tempdir().expect("a temporary folder");
    client::initialize(&mut cl, dir.path());
    let uri = client::uri(&dir.path().join("bench.flow"));
    cl.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "flow", "version": 1, "text": text}}),
    );
    assert!(cl.diagnostics(&uri, 1).is_empty());
    // The default value of step 0's `n`: `= 0` at this position.
    let at = client::pos(&text, "n: Int = 0", 9);
    let end = json!({"line": at["line"], "character": at["character"].as_u64().unwrap_or(0) + 1});
    let mut version = 1;
    let mut digit = 0;
    c.bench_function("change to published diagnostics, 2,000-line file", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                version += 1;
                digit = 1 - digit;
                let start = Instant::now();
                cl.notify(
                    "textDocument/didChange",
                    json!({
                        "textDocument": {"uri": uri, "version": version},
                        "contentChanges": [{"range": {"start": at, "end": end}, "text": digit.to_string()}],
                    }),
                );
                let diags = cl.diagnostics(&uri, version);
                total += start.elapsed();
                assert!(diags.is_empty());
                cl.clear();
                // Keystrokes come tens of milliseconds apart: let the server finish what it
                // does after publishing (freeing the previous analysis) before the next one.
                std::thread::sleep(Duration::from_millis(30));
            }
            total
        })
    });
    cl.request("shutdown", serde_json::Value::Null);
    cl.notify("exit", serde_json::Value::Null);
}

/// The server runs on the main thread, as in `flowc lsp`; the client and criterion on another.
fn main() {
    let (server_in, client_out) = std::io::pipe().expect("a pipe");
    let (client_in, server_out) = std::io::pipe().expect("a pipe");
    let client = std::thread::spawn(move || {
        let cl = client::Client::new(client_out, client_in);
        let mut c = Criterion::default()
            .sample_size(30)
            .measurement_time(Duration::from_secs(8))
            .configure_from_args();
        bench(&mut c, cl);
        c.final_summary();
    });
    flowc_lsp::serve(server_in, server_out);
    client.join().expect("the benchmarks ran");
}
