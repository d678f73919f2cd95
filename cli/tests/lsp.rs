//! `flowc lsp` as an editor runs it: the real binary, JSON-RPC over its standard input and
//! output. The scenarios live with the language server (`lsp/tests/client`), which also runs
//! them in process.

#[path = "../../lsp/tests/client/mod.rs"]
mod client;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use client::Client;

fn spawn() -> (Client, Child) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("flowc starts");
    let stdin = child.stdin.take().expect("a stdin pipe");
    let stdout = child.stdout.take().expect("a stdout pipe");
    (Client::new(stdin, stdout), child)
}

/// Waits for the process to exit by itself, and returns its exit code.
fn exit_code(mut child: Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("the process can be waited for") {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("flowc lsp did not exit after `exit`");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_editor_session_with_the_real_binary() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut c, child) = spawn();
    client::session(&mut c, dir.path());
    assert_eq!(exit_code(child), Some(0));
}

#[test]
fn the_real_binary_answers_a_thousand_random_edits() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut c, child) = spawn();
    let took = client::random_edits(&mut c, dir.path(), 1000, 0xF10C);
    eprintln!("1000 random edits and requests in {took:?}");
    assert_eq!(exit_code(child), Some(0));
}

/// A pipeline whose secret mount Kubeflow can express; [`TYPED`] is what the user types.
const MOUNTS: &str = "secret cert = k8s(\"tls-bundle\", key: \"ca.crt\")\n\nstep connect() -> (o: File) {\n  image \"busybox:1.36\"\n  run [\"touch\", o]\n  mount cert at \"/etc/tls/ca.crt\"\n}\n\npipeline secure() {\n  a = connect()\n  output a\n}\n";

/// The mount at a path whose file name is not the secret's key, which KFP cannot express.
const TYPED: &str = "/etc/tls/private.key";

#[test]
fn the_real_binary_reports_target_problems_of_the_workspace_while_typing() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        dir.path().join("flowc.toml"),
        "[check]\ntargets = [\"kfp\"]\n",
    )
    .expect("a writable folder");
    let main = client::uri(&dir.path().join("main.flow"));
    let (mut c, child) = spawn();
    client::initialize(&mut c, dir.path());
    c.notify(
        "textDocument/didOpen",
        serde_json::json!({"textDocument": {"uri": main, "languageId": "flow", "version": 1, "text": MOUNTS}}),
    );
    let clean = c.diagnostics(&main, 1);
    assert!(clean.is_empty(), "no problem before the edit: {clean:?}");

    // Type the new path over the old one.
    let start = client::pos(MOUNTS, "/etc/tls/ca.crt", 0);
    let end = client::pos(MOUNTS, "/etc/tls/ca.crt", "/etc/tls/ca.crt".len());
    c.notify(
        "textDocument/didChange",
        serde_json::json!({
            "textDocument": {"uri": main, "version": 2},
            "contentChanges": [{"range": {"start": start, "end": end}, "text": TYPED}],
        }),
    );
    let typed = MOUNTS.replace("/etc/tls/ca.crt", TYPED);
    let diags = c.diagnostics(&main, 2);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    assert_eq!(d["code"], "E501", "{d}");
    assert_eq!(d["severity"], 1, "an error: {d}");
    assert!(
        d["message"]
            .as_str()
            .is_some_and(|m| m.contains("KFP mounts a Secret as a directory")),
        "{d}"
    );
    let mount = "mount cert at \"/etc/tls/private.key\"";
    assert_eq!(d["range"]["start"], client::pos(&typed, mount, 0), "{d}");
    assert_eq!(
        d["range"]["end"],
        client::pos(&typed, mount, mount.len()),
        "{d}"
    );

    // Without `flowc.toml` naming a target, the same text has no target problem.
    std::fs::write(dir.path().join("flowc.toml"), "[check]\ntargets = []\n").expect("write");
    c.notify(
        "textDocument/didChange",
        serde_json::json!({
            "textDocument": {"uri": main, "version": 3},
            "contentChanges": [{"text": typed}],
        }),
    );
    let none = c.diagnostics(&main, 3);
    assert!(none.is_empty(), "{none:?}");

    c.request("shutdown", serde_json::Value::Null);
    c.notify("exit", serde_json::Value::Null);
    assert_eq!(exit_code(child), Some(0));
}

const PY_STEP: &str = "step clean(raw: File, day: Date) -> (rows: File) {\n  image \"registry.example.com/etl:1.4.2\"\n  python \"etl.cleaning:clean\"\n}\n\npipeline p(f: File) {\n  clean(raw: f, day: \"2024-06-03\")\n}\n";

#[test]
fn the_real_binary_compares_python_steps_with_their_source_while_typing() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    // The module is under a source root that flowc.toml names.
    std::fs::write(
        dir.path().join("flowc.toml"),
        "[python]\npath = [\"src\"]\n",
    )
    .expect("write");
    std::fs::create_dir_all(dir.path().join("src/etl")).expect("mkdir");
    std::fs::write(dir.path().join("src/etl/__init__.py"), "").expect("write");
    let module = dir.path().join("src/etl/cleaning.py");
    std::fs::write(&module, "def clean(raw, day: int):\n    return raw\n").expect("write");
    let main = client::uri(&dir.path().join("main.flow"));
    let (mut c, child) = spawn();
    client::initialize(&mut c, dir.path());
    c.notify(
        "textDocument/didOpen",
        serde_json::json!({"textDocument": {"uri": main, "languageId": "flow", "version": 1, "text": PY_STEP}}),
    );
    let diags = c.diagnostics(&main, 1);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "P005", "{}", diags[0]);
    let related = diags[0]["relatedInformation"].to_string();
    assert!(
        related.contains("cleaning.py"),
        "the Python line is related: {related}"
    );

    // Fix the annotation in the editor (unsaved): the problem goes away as typed.
    let py = client::uri(&module);
    c.notify(
        "textDocument/didOpen",
        serde_json::json!({"textDocument": {"uri": py, "languageId": "python", "version": 1, "text": "import datetime\n\ndef clean(raw, day: datetime.date):\n    return raw\n"}}),
    );
    c.notify(
        "textDocument/didChange",
        serde_json::json!({
            "textDocument": {"uri": main, "version": 2},
            "contentChanges": [{"text": PY_STEP}],
        }),
    );
    let none = c.diagnostics(&main, 2);
    assert!(none.is_empty(), "{none:?}");

    c.request("shutdown", serde_json::Value::Null);
    c.notify("exit", serde_json::Value::Null);
    assert_eq!(exit_code(child), Some(0));
}

const KFP_MAIN: &str = "import kfp \"./components/train.yaml\" (train_model)\n\npipeline p(rows: File) {\n  train_model(rows: rows)\n}\n";

const KFP_COMPONENT: &str = "name: Train model\ninputs:\n- {name: rows, type: Dataset}\noutputs:\n- {name: model, type: Model}\nimplementation:\n  container:\n    image: registry.example.com/train:1.0.0\n    command: [train, {inputPath: row}, {outputPath: model}]\n";

#[test]
fn the_real_binary_reports_a_component_files_problem_at_its_yaml_line() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir_all(dir.path().join("components")).expect("mkdir");
    let yaml = dir.path().join("components/train.yaml");
    std::fs::write(&yaml, KFP_COMPONENT).expect("write");
    let main = client::uri(&dir.path().join("main.flow"));
    let yaml_uri = client::uri(&yaml);
    let (mut c, child) = spawn();
    client::initialize(&mut c, dir.path());
    c.notify(
        "textDocument/didOpen",
        serde_json::json!({"textDocument": {"uri": main, "languageId": "flow", "version": 1, "text": KFP_MAIN}}),
    );
    // The error is published for the YAML file, at its line and column (0-based in LSP:
    // line 9, column 24 of the file is `row` in `{inputPath: row}`).
    let published = c.wait_for("diagnostics of the component file", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == yaml_uri
    });
    let diags = published["params"]["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "I004", "{}", diags[0]);
    assert_eq!(diags[0]["range"]["start"]["line"], 8, "{}", diags[0]);
    assert_eq!(diags[0]["range"]["start"]["character"], 33, "{}", diags[0]);
    assert!(
        diags[0]["relatedInformation"]
            .to_string()
            .contains("main.flow"),
        "the import is related: {}",
        diags[0]
    );
    // The `.flow` file itself has nothing more to say: the names of the broken import are not
    // reported again where they are used.
    let flow = c.diagnostics(&main, 1);
    assert!(flow.is_empty(), "{flow:?}");

    // Fixed on disk, the problem goes when the `.flow` file is checked again.
    std::fs::write(
        &yaml,
        KFP_COMPONENT.replace("inputPath: row}", "inputPath: rows}"),
    )
    .expect("write");
    c.notify(
        "textDocument/didChange",
        serde_json::json!({
            "textDocument": {"uri": main, "version": 2},
            "contentChanges": [{"text": KFP_MAIN}],
        }),
    );
    let flow = c.diagnostics(&main, 2);
    assert!(flow.is_empty(), "{flow:?}");
    let cleared = c.wait_for("the component file's diagnostics cleared", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == yaml_uri
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(Vec::is_empty)
    });
    assert_eq!(cleared["params"]["uri"], yaml_uri);

    // Completion in the import's names offers what the component file makes.
    let got = c.request(
        "textDocument/completion",
        serde_json::json!({
            "textDocument": {"uri": main},
            "position": client::pos(KFP_MAIN, "(train_model", 1),
        }),
    );
    let items = got.get("items").unwrap_or(&got).to_string();
    assert!(items.contains("\"label\":\"train_model\""), "{items}");

    // A name made from the component file is renamed there: the server refuses, rather than
    // edit the YAML at the places of the generated text.
    for at in ["train_model(rows", "rows: rows"] {
        let id = c.send_request(
            "textDocument/rename",
            serde_json::json!({
                "textDocument": {"uri": main},
                "position": client::pos(KFP_MAIN, at, 1),
                "newName": "fit",
            }),
        );
        let reply = c.response(id);
        assert!(
            reply["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("components/train.yaml")),
            "{at}: {reply}"
        );
    }

    c.request("shutdown", serde_json::Value::Null);
    c.notify("exit", serde_json::Value::Null);
    assert_eq!(exit_code(child), Some(0));
}
