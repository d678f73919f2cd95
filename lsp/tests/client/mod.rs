//! A minimal LSP client for tests: JSON-RPC with `Content-Length` framing over any pair of
//! streams (pipes to an in-process server, or the stdio of a real `flowc lsp` process), and the
//! scenarios both kinds of tests run. Included by `lsp/tests/*.rs` and by `cli/tests/lsp.rs`.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long any answer may take before the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(60);

/// A client connected to a server.
pub struct Client {
    writer: Box<dyn Write + Send>,
    incoming: Receiver<Value>,
    /// Notifications received while waiting for something else.
    pending: VecDeque<Value>,
    next_id: i64,
}

impl Client {
    /// A client writing requests to `writer` and reading answers from `reader`.
    pub fn new(writer: impl Write + Send + 'static, reader: impl Read + Send + 'static) -> Client {
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(reader);
            while let Some(body) = read_frame(&mut r) {
                let Ok(v) = serde_json::from_slice::<Value>(&body) else {
                    panic!(
                        "the server sent a body that is not JSON: {:?}",
                        String::from_utf8_lossy(&body)
                    );
                };
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        Client {
            writer: Box::new(writer),
            incoming: rx,
            pending: VecDeque::new(),
            next_id: 0,
        }
    }

    /// Sends raw bytes (for malformed-message tests).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("the server reads");
        self.writer.flush().expect("the server reads");
    }

    fn send(&mut self, msg: &Value) {
        let body = msg.to_string();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.send_raw(frame.as_bytes());
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    fn next(&mut self, what: &str) -> Value {
        match self.incoming.recv_timeout(PATIENCE) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => {
                panic!("no answer within {PATIENCE:?} while waiting for {what}")
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("the server closed its output while waiting for {what}")
            }
        }
    }

    /// Waits for the response to request `id` (the whole message: `result` or `error`).
    pub fn response(&mut self, id: i64) -> Value {
        loop {
            let v = self.next(&format!("the response to request {id}"));
            if v.get("method").is_some() {
                self.pending.push_back(v);
                continue;
            }
            if v.get("id") == Some(&json!(id)) {
                return v;
            }
            if v.get("id") == Some(&Value::Null) {
                // An answer to a malformed message.
                self.pending.push_back(v);
                continue;
            }
            panic!("unexpected message while waiting for {id}: {v}");
        }
    }

    /// Sends a request and returns its `result`, failing on an error response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        let r = self.response(id);
        if let Some(e) = r.get("error") {
            panic!("`{method}` failed: {e}");
        }
        r.get("result").cloned().expect("a result")
    }

    /// Waits for a message matching `pred` (looking at buffered ones first).
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i).expect("present");
        }
        loop {
            let v = self.next(what);
            if pred(&v) {
                return v;
            }
            self.pending.push_back(v);
        }
    }

    /// Waits for the diagnostics of `uri` published for document `version`.
    pub fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let v = self.wait_for(&format!("diagnostics of {uri} v{version}"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        v["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Drops buffered notifications.
    pub fn clear(&mut self) {
        self.pending.clear();
    }
}

fn read_frame(r: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let h = line.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some(v) = h.strip_prefix("Content-Length:") {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    r.read_exact(&mut body).ok()?;
    Some(body)
}

/// The LSP position (line, UTF-16 column) of the `nth` occurrence of `needle` in `text`, plus
/// `delta` characters.
pub fn pos(text: &str, needle: &str, delta: usize) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the text"))
        + delta;
    let before = &text[..at];
    let line = before.matches('\n').count();
    let col = before
        .rsplit('\n')
        .next()
        .unwrap_or("")
        .encode_utf16()
        .count();
    json!({"line": line, "character": col})
}

/// A `file:` URI for a path.
pub fn uri(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file://");
    if !s.starts_with('/') {
        out.push('/');
    }
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Scenarios

pub const COMMON: &str = "/// Loads the day's rows.\nstep load(day: Date) -> (rows: File) {\n  image \"busybox:1.36\"\n  run [\"sh\", \"-c\", \"echo $1 > $2\", \"load\", day, rows]\n}\n";

/// The main file, without errors.
pub const MAIN: &str = "import \"./common.flow\" (load)\nimport std.synth (panel, targets)\nimport std.survey (rake)\n\npipeline daily(day: Date, seed: Int = 1) {\n  rows = load(day: day)\n  sample = panel(n: 100, seed: seed, day: day)\n  population = targets(seed: seed)\n  weights = rake(panel: sample, targets: population, by: [sex, region])\n  output rows\n  output weights\n}\n";

/// Writes the workspace of the scenarios (`common.flow` on disk; `main.flow` is opened
/// unsaved) and returns the URI of `main.flow`.
pub fn workspace(dir: &Path) -> String {
    std::fs::write(dir.join("common.flow"), COMMON).expect("a writable folder");
    uri(&dir.join("main.flow"))
}

pub fn initialize(c: &mut Client, dir: &Path) {
    let result = c.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(dir), "capabilities": {}}),
    );
    let caps = &result["capabilities"];
    for cap in [
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "completionProvider",
        "documentFormattingProvider",
        "renameProvider",
        "documentSymbolProvider",
    ] {
        assert!(!caps[cap].is_null(), "capability {cap} missing: {caps}");
    }
    c.notify("initialized", json!({}));
}

fn edit(c: &mut Client, uri: &str, version: i64, changes: Value) {
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}),
    );
}

fn labels(completion: &Value) -> Vec<String> {
    let items = completion.get("items").unwrap_or(completion);
    items
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["label"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The editor session of the acceptance criteria: open a file with errors, get the
/// diagnostics, fix it, get none, hover, go to definition across an import, complete an
/// argument and a column, format, rename, shut down.
pub fn session(c: &mut Client, dir: &Path) {
    let main_uri = workspace(dir);
    initialize(c, dir);
    open_with_errors_then_fix(c, &main_uri);
    let text = MAIN.to_string();
    hover_and_go_to_definition(c, &main_uri, &text, dir);
    complete_while_typing(c, &main_uri, &text);
    format_rename_and_outline(c, &main_uri, &text, dir);
    protocol_errors_then_shut_down(c);
}

/// Opens the main file with a misspelt argument and column, checks the diagnostics, and fixes
/// both with incremental changes.
fn open_with_errors_then_fix(c: &mut Client, main_uri: &str) {
    let main_uri = main_uri.to_string();
    // Open with errors: a misspelt argument and a misspelt column.
    let broken = MAIN
        .replace("load(day: day)", "load(dya: day)")
        .replace("[sex, region]", "[sex, regoin]");
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": main_uri, "languageId": "flow", "version": 1, "text": broken}}),
    );
    let diags = c.diagnostics(&main_uri, 1);
    let codes: Vec<&str> = diags.iter().filter_map(|d| d["code"].as_str()).collect();
    assert!(
        codes.contains(&"E206"),
        "unknown argument expected: {diags:?}"
    );
    let e206 = diags.iter().find(|d| d["code"] == "E206").expect("E206");
    assert!(
        e206["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("`load` takes no argument `dya`"),
        "{e206}"
    );
    assert_eq!(
        e206["codeDescription"]["href"]
            .as_str()
            .map(|h| h.ends_with("#e206")),
        Some(true)
    );
    assert_eq!(e206["range"]["start"], pos(&broken, "dya", 0));
    assert!(
        diags
            .iter()
            .any(|d| d["message"].as_str().unwrap_or("").contains("regoin")),
        "{diags:?}"
    );

    // Fix both with incremental changes in one notification.
    let dya = pos(&broken, "dya", 0);
    let dya_end = pos(&broken, "dya", 3);
    let regoin = pos(&broken, "regoin", 0);
    let regoin_end = pos(&broken, "regoin", 6);
    edit(
        c,
        &main_uri,
        2,
        json!([
            {"range": {"start": regoin, "end": regoin_end}, "text": "region"},
            {"range": {"start": dya, "end": dya_end}, "text": "day"},
        ]),
    );
    let diags = c.diagnostics(&main_uri, 2);
    assert!(
        diags.is_empty(),
        "the fixed file still has diagnostics: {diags:?}"
    );
}

/// Hover on a binding and a step; go to definition across an import and into the standard
/// library.
fn hover_and_go_to_definition(c: &mut Client, main_uri: &str, text: &str, dir: &Path) {
    let (main_uri, text) = (main_uri.to_string(), text.to_string());
    // Hover: the outputs of a binding, with the schema variables substituted.
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": main_uri}, "position": pos(&text, "weights = rake", 1)}),
    );
    let md = h["contents"]["value"].as_str().unwrap_or("");
    assert!(md.contains("weight: Float"), "{md}");
    assert!(md.contains("`weights.report`"), "{md}");
    // Hover on a step: signature, docs.
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": main_uri}, "position": pos(&text, "load(day", 1)}),
    );
    let md = h["contents"]["value"].as_str().unwrap_or("");
    assert!(
        md.contains("step load(day: Date) -> (rows: File)") && md.contains("Loads the day's rows."),
        "{md}"
    );

    // Go to definition across the import.
    let d = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": main_uri}, "position": pos(&text, "load(day", 2)}),
    );
    assert_eq!(d["uri"], uri(&dir.join("common.flow")), "{d}");
    assert_eq!(d["range"]["start"], pos(COMMON, "load(", 0));
    // And into the standard library.
    let d = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": main_uri}, "position": pos(&text, "rake(panel", 1)}),
    );
    let std_file = d["uri"].as_str().unwrap_or("").to_string();
    assert!(std_file.ends_with("/survey.flow"), "{d}");
}

/// Completion of an argument and a column and signature help while a call is typed; hover on
/// the broken file.
fn complete_while_typing(c: &mut Client, main_uri: &str, text: &str) {
    let main_uri = main_uri.to_string();
    // Complete an argument, then a column, while the call is being typed.
    let typing = text.replace(
        "  output rows\n",
        "  extra = rake(panel: sample, \n  output rows\n",
    );
    edit(c, &main_uri, 3, json!([{"text": typing}]));
    let at = pos(&typing, "sample, \n", 8);
    let got = labels(&c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": main_uri}, "position": at}),
    ));
    assert!(
        got.contains(&"targets".to_string()) && got.contains(&"by".to_string()),
        "{got:?}"
    );
    assert!(
        !got.contains(&"panel".to_string()),
        "`panel` is already given: {got:?}"
    );
    // Signature help for the same call: `targets`, the first required parameter not given.
    let sh = c.request(
        "textDocument/signatureHelp",
        json!({"textDocument": {"uri": main_uri}, "position": at}),
    );
    let sig = &sh["signatures"][0];
    let label = sig["label"].as_str().unwrap_or("");
    assert!(
        label.starts_with("rake(panel: Table<T>, targets: Table<Target>"),
        "{sh}"
    );
    assert_eq!(sh["activeParameter"], 1, "{sh}");
    let range = &sig["parameters"][1]["label"];
    let (from, to) = (
        range[0].as_u64().unwrap_or(0) as usize,
        range[1].as_u64().unwrap_or(0) as usize,
    );
    assert_eq!(label.get(from..to), Some("targets: Table<Target>"), "{sh}");
    assert!(
        sig["documentation"]["value"]
            .as_str()
            .unwrap_or("")
            .contains("`panel` is the sample to weight"),
        "{sh}"
    );
    let typing = typing.replace("rake(panel: sample, \n", "rake(panel: sample, by: [se\n");
    edit(c, &main_uri, 4, json!([{"text": typing}]));
    let at = pos(&typing, "[se\n", 3);
    let got = labels(&c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": main_uri}, "position": at}),
    ));
    for col in ["sex", "age_group", "region"] {
        assert!(
            got.contains(&col.to_string()),
            "column {col} missing: {got:?}"
        );
    }
    // Hover still works on the broken file (from the last good analysis).
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": main_uri}, "position": pos(&typing, "weights = rake", 1)}),
    );
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .contains("weight: Float"),
        "{h}"
    );
}

/// Formatting as `flowc fmt`, rename across files, references and the outline.
fn format_rename_and_outline(c: &mut Client, main_uri: &str, text: &str, dir: &Path) {
    let main_uri = main_uri.to_string();
    // Format: the same text as `flowc fmt`.
    let messy = text.replace("  rows = load(day: day)", "rows   =   load( day:day )");
    edit(c, &main_uri, 5, json!([{"text": messy}]));
    let edits = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": main_uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edits = edits.as_array().cloned().unwrap_or_default();
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!(
        edits[0]["newText"].as_str(),
        Some(MAIN),
        "formatting differs from `flowc fmt`"
    );
    edit(c, &main_uri, 6, json!([{"text": MAIN}]));

    // Rename the imported step: its declaration, the import and the call.
    let r = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": main_uri}, "position": pos(text, "load(day", 1), "newName": "fetch"}),
    );
    let changes = r["changes"].as_object().cloned().unwrap_or_default();
    let common_uri = uri(&dir.join("common.flow"));
    assert_eq!(
        changes
            .get(&main_uri)
            .and_then(Value::as_array)
            .map(Vec::len),
        Some(2),
        "{r}"
    );
    assert_eq!(
        changes
            .get(&common_uri)
            .and_then(Value::as_array)
            .map(Vec::len),
        Some(1),
        "{r}"
    );

    // References and the outline.
    let refs = c.request(
        "textDocument/references",
        json!({"textDocument": {"uri": main_uri}, "position": pos(text, "sample =", 1), "context": {"includeDeclaration": true}}),
    );
    assert_eq!(refs.as_array().map(Vec::len), Some(2), "{refs}");
    let symbols = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": main_uri}}),
    );
    assert!(symbols.to_string().contains("\"daily\""), "{symbols}");
}

/// Unknown methods, bad parameters and malformed messages are protocol errors, and the server
/// keeps serving until `shutdown`.
fn protocol_errors_then_shut_down(c: &mut Client) {
    // Unknown methods and bad parameters are protocol errors, and the server keeps serving.
    let id = c.send_request("flowc/nothing", json!({}));
    assert_eq!(c.response(id)["error"]["code"], -32601);
    let id = c.send_request("textDocument/hover", json!({"textDocument": 42}));
    assert_eq!(c.response(id)["error"]["code"], -32602);
    c.send_raw(b"Content-Length: 9\r\n\r\nnot json!");
    let e = c.wait_for("the parse error", |m| {
        m["id"].is_null() && !m["error"].is_null()
    });
    assert_eq!(e["error"]["code"], -32700);

    assert_eq!(c.request("shutdown", Value::Null), Value::Null);
    c.notify("exit", Value::Null);
}

/// A deterministic pseudo-random generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

const SNIPPETS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    ".",
    "=",
    "->",
    "<",
    ">",
    "?",
    "\n",
    "  ",
    "/*",
    "*/",
    "//",
    "${",
    "pipeline",
    "step",
    "import",
    "schema",
    "rake(",
    "panel: ",
    "by: [sex, ",
    "x = ",
    "output ",
    "for r in [1] {",
    "if true {",
    "check x.y < 1",
    "Table<{ a: Int }>",
    "512Mi",
    "0.5",
    "-7",
    "é",
    "\u{1F600}",
    "\u{0}",
    "\t",
    "\r\n",
    "import std.survey (rake)\n",
    "builtin step z() -> ()",
    "resources { cpu: 1 }",
    "weights.report.",
    "\\",
    "$",
    "`",
    "🦀🦀",
    "\u{202E}",
    "::::",
    "((((((((((",
    "))))))))",
];

fn rpos(rng: &mut Rng, lines: u64) -> Value {
    json!({"line": rng.below(lines + 3), "character": rng.below(120)})
}

/// Sends `n` random edits (inserts, deletions, replacements, whole-text garbage, positions out
/// of range) to the main file, each followed by a request at a random position, and checks that
/// every request is answered and that no answer is an internal error. Returns the elapsed time.
pub fn random_edits(c: &mut Client, dir: &Path, n: usize, seed: u64) -> Duration {
    let main_uri = workspace(dir);
    initialize(c, dir);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": main_uri, "languageId": "flow", "version": 1, "text": MAIN}}),
    );
    let mut rng = Rng::new(seed);
    let methods = [
        "textDocument/hover",
        "textDocument/completion",
        "textDocument/signatureHelp",
        "textDocument/definition",
        "textDocument/references",
        "textDocument/documentSymbol",
        "textDocument/formatting",
        "textDocument/prepareRename",
        "textDocument/rename",
    ];
    let start = Instant::now();
    let mut lines = MAIN.lines().count() as u64;
    for i in 0..n {
        let version = i as i64 + 2;
        let change = match rng.below(10) {
            // Whole-text replacements: back to a good text, or garbage.
            0 => {
                let text = if rng.below(2) == 0 {
                    MAIN.to_string()
                } else {
                    (0..rng.below(60))
                        .map(|_| SNIPPETS[rng.below(SNIPPETS.len() as u64) as usize])
                        .collect()
                };
                lines = text.lines().count() as u64 + 1;
                json!({"text": text})
            }
            // Deletions.
            1..=3 => {
                json!({"range": {"start": rpos(&mut rng, lines), "end": rpos(&mut rng, lines)}, "text": ""})
            }
            // Insertions and replacements.
            _ => {
                let s = rpos(&mut rng, lines);
                let e = if rng.below(2) == 0 {
                    s.clone()
                } else {
                    rpos(&mut rng, lines)
                };
                let text: String = (0..1 + rng.below(3))
                    .map(|_| SNIPPETS[rng.below(SNIPPETS.len() as u64) as usize])
                    .collect();
                lines += text.matches('\n').count() as u64;
                json!({"range": {"start": s, "end": e}, "text": text})
            }
        };
        edit(c, &main_uri, version, json!([change]));
        let method = methods[rng.below(methods.len() as u64) as usize];
        let position = rpos(&mut rng, lines);
        let params = match method {
            "textDocument/documentSymbol" => json!({"textDocument": {"uri": main_uri}}),
            "textDocument/formatting" => {
                json!({"textDocument": {"uri": main_uri}, "options": {"tabSize": 2, "insertSpaces": true}})
            }
            "textDocument/references" => {
                json!({"textDocument": {"uri": main_uri}, "position": position, "context": {"includeDeclaration": true}})
            }
            "textDocument/rename" => {
                json!({"textDocument": {"uri": main_uri}, "position": position, "newName": "renamed"})
            }
            _ => json!({"textDocument": {"uri": main_uri}, "position": position}),
        };
        let id = c.send_request(method, params);
        let r = c.response(id);
        assert!(
            r.get("result").is_some() || r.get("error").is_some(),
            "edit {i}: `{method}` got no answer: {r}"
        );
        assert_ne!(
            r["error"]["code"], -32603,
            "edit {i}: `{method}` hit an internal error: {r}"
        );
        c.clear();
    }
    let elapsed = start.elapsed();
    // Back to the good text: the server still checks it correctly.
    let version = n as i64 + 2;
    edit(c, &main_uri, version, json!([{"text": MAIN}]));
    let diags = c.diagnostics(&main_uri, version);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(c.request("shutdown", Value::Null), Value::Null);
    c.notify("exit", Value::Null);
    elapsed
}
