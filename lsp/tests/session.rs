//! The editor session and the random-edits test against an in-process server, over pipes with
//! the same framing as stdio (`cli/tests/lsp.rs` runs the same scenarios on the real binary).

mod client;

use std::thread::JoinHandle;

use client::Client;

/// A server on a thread, and a client talking to it.
fn start() -> (Client, JoinHandle<u8>) {
    let (server_in, client_out) = std::io::pipe().expect("a pipe");
    let (client_in, server_out) = std::io::pipe().expect("a pipe");
    let server = std::thread::spawn(move || flowc_lsp::serve(server_in, server_out));
    (Client::new(client_out, client_in), server)
}

#[test]
fn an_editor_session() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut c, server) = start();
    client::session(&mut c, dir.path());
    assert_eq!(server.join().expect("the server thread"), 0);
}

#[test]
fn a_thousand_random_edits_are_all_answered() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut c, server) = start();
    let took = client::random_edits(&mut c, dir.path(), 1000, 0x5EED);
    eprintln!("1000 edits and requests in {took:?}");
    assert_eq!(server.join().expect("the server thread"), 0);
}

#[test]
fn requests_before_initialize_and_exit_without_shutdown() {
    let (mut c, server) = start();
    let id = c.send_request("textDocument/hover", serde_json::json!({}));
    assert_eq!(c.response(id)["error"]["code"], -32002);
    let dir = tempfile::tempdir().expect("a temporary folder");
    client::initialize(&mut c, dir.path());
    c.notify("exit", serde_json::Value::Null);
    assert_eq!(server.join().expect("the server thread"), 1);
}

/// More seeds, for hunting bugs: `FLOWC_LSP_SEEDS=50 cargo test -p flowc-lsp --test session -- --ignored`.
#[test]
#[ignore]
fn random_edits_with_many_seeds() {
    let n: u64 = std::env::var("FLOWC_LSP_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    for seed in 1..=n {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (mut c, server) = start();
        client::random_edits(&mut c, dir.path(), 1000, seed);
        assert_eq!(server.join().expect("the server thread"), 0, "seed {seed}");
    }
}

#[test]
fn closed_files_importing_an_edited_file_are_checked() {
    use serde_json::json;
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("common.flow"), client::COMMON).expect("writable");
    // A closed file of the workspace that imports the file being edited.
    let app = "import \"./common.flow\" (load)\n\npipeline app(day: Date) {\n  rows = load(day: day)\n  output rows\n}\n";
    std::fs::write(dir.path().join("app.flow"), app).expect("writable");
    let (mut c, server) = start();
    client::initialize(&mut c, dir.path());
    let common = client::uri(&dir.path().join("common.flow"));
    let app_uri = client::uri(&dir.path().join("app.flow"));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": common, "languageId": "flow", "version": 1, "text": client::COMMON}}),
    );
    assert!(c.diagnostics(&common, 1).is_empty());
    // Renaming the step's parameter in the open file breaks the closed importer.
    let renamed = client::COMMON.replace("day", "date");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": common, "version": 2}, "contentChanges": [{"text": renamed}]}),
    );
    let v = c.wait_for("diagnostics of the importer", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == app_uri
            && !m["params"]["diagnostics"]
                .as_array()
                .is_none_or(Vec::is_empty)
    });
    let codes: Vec<&str> = v["params"]["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"E206"), "{v}");
    assert_eq!(
        c.request("shutdown", serde_json::Value::Null),
        serde_json::Value::Null
    );
    c.notify("exit", serde_json::Value::Null);
    assert_eq!(server.join().expect("the server thread"), 0);
}
