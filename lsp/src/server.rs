//! The main loop: initialization, documents, analysis, diagnostics and request dispatch.
//!
//! Messages are handled one at a time, in the order they arrive. A change marks the analysis
//! stale; the files are re-analysed (the open files, the closed workspace files that import
//! them, and what they all import) when no other message is waiting, or before answering a
//! request, so a burst of keystrokes is checked once and a request always sees the latest text.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_channel::Sender;
use flowc_compiler::source::{normalize, resolve_relative, Origin};
use flowc_compiler::{analyze, Analysis, Diagnostic, FileId, FileLoader};
use flowc_grammar::lexer::{string_value, Lexer, Token, TokenKind};
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    InitializeResult, PublishDiagnosticsParams, Uri,
};
use serde_json::Value;

use crate::convert::{self, path_to_uri, uri_to_path, Text};
use crate::documents::Documents;
use crate::handlers;
use crate::targets::TargetChecker;
use crate::transport::Connection;
use crate::workspace::{std_module_of_file, CleanAnalysis, Workspace};

#[derive(PartialEq)]
struct Published {
    uri: Uri,
    version: Option<i32>,
    diags: Vec<lsp_types::Diagnostic>,
}

/// The server: what requests read, and what it needs to keep it up to date and published.
pub(crate) struct Server {
    sender: Sender<Message>,
    /// The documents and analyses the requests read.
    ws: Workspace,
    /// Workspace files (closed or not) with the files they import, to find importers.
    imports: BTreeMap<PathBuf, Vec<PathBuf>>,
    folders: Vec<PathBuf>,
    stale: bool,
    published: HashMap<String, Published>,
    /// Analyses to free on another thread.
    garbage: Sender<Arc<Analysis>>,
    /// Where target problems come from, if the binary supplied it.
    targets: Option<Box<dyn TargetChecker>>,
    /// The target problems of the open files, with the file ids of `analysis`.
    target_diags: Vec<Diagnostic>,
}

/// Runs the protocol on a connection; returns the exit code.
pub(crate) fn run(conn: Connection, targets: Option<Box<dyn TargetChecker>>) -> u8 {
    let Some(mut server) = initialize(&conn, targets) else {
        return 1;
    };
    let mut shutdown = false;
    while let Ok(msg) = conn.receiver.recv() {
        match msg {
            Message::Request(req) => {
                if shutdown {
                    server.reply_err(
                        req.id,
                        ErrorCode::InvalidRequest,
                        "the server is shutting down",
                    );
                } else if req.method == "shutdown" {
                    shutdown = true;
                    server.send(Response::new_ok(req.id, Value::Null).into());
                } else {
                    server.request(req);
                }
            }
            Message::Notification(n) if n.method == "exit" => return if shutdown { 0 } else { 1 },
            Message::Notification(n) => {
                let method = n.method.clone();
                if catch_unwind(AssertUnwindSafe(|| server.notification(n))).is_err() {
                    eprintln!("flowc lsp: internal error while handling `{method}`");
                }
            }
            Message::Response(_) => {}
        }
        if server.stale && conn.receiver.is_empty() {
            server.refresh();
        }
    }
    1
}

/// Waits for `initialize`, answering anything else with "not initialized".
fn initialize(conn: &Connection, targets: Option<Box<dyn TargetChecker>>) -> Option<Server> {
    let mut targets = targets;
    loop {
        match conn.receiver.recv().ok()? {
            Message::Request(req) if req.method == "initialize" => {
                let folders = workspace_folders(&req.params);
                let result = InitializeResult {
                    capabilities: handlers::capabilities(),
                    server_info: Some(lsp_types::ServerInfo {
                        name: "flowc".to_string(),
                        version: Some(env!("CARGO_PKG_VERSION").to_string()),
                    }),
                };
                let _ = conn.sender.send(Response::new_ok(req.id, result).into());
                let (garbage, bin) = crossbeam_channel::unbounded::<Arc<Analysis>>();
                std::thread::spawn(move || bin.into_iter().for_each(drop));
                let docs = Documents::default();
                let empty = analyze(&docs, &[]);
                let mut server = Server {
                    sender: conn.sender.clone(),
                    ws: Workspace {
                        docs,
                        analysis: Arc::new(empty),
                        clean: HashMap::new(),
                        std_dir: std::env::temp_dir()
                            .join(format!("flowc-{}-std", env!("CARGO_PKG_VERSION"))),
                    },
                    imports: BTreeMap::new(),
                    folders,
                    stale: false,
                    published: HashMap::new(),
                    garbage,
                    targets: targets.take(),
                    target_diags: Vec::new(),
                };
                server.scan_workspace();
                return Some(server);
            }
            Message::Request(req) => {
                let resp = Response::new_err(
                    req.id,
                    ErrorCode::ServerNotInitialized as i32,
                    "the server is not initialized yet".to_string(),
                );
                let _ = conn.sender.send(resp.into());
            }
            Message::Notification(n) if n.method == "exit" => return None,
            Message::Notification(_) | Message::Response(_) => {}
        }
    }
}

/// The folders of `initialize`'s parameters, read leniently.
fn workspace_folders(params: &Value) -> Vec<PathBuf> {
    let mut uris: Vec<&str> = Vec::new();
    if let Some(Value::Array(folders)) = params.get("workspaceFolders") {
        uris.extend(folders.iter().filter_map(|f| f.get("uri")?.as_str()));
    }
    if uris.is_empty() {
        uris.extend(params.get("rootUri").and_then(Value::as_str));
    }
    let mut out: Vec<PathBuf> = uris
        .iter()
        .filter_map(|u| u.parse::<Uri>().ok())
        .filter_map(|u| uri_to_path(&u))
        .collect();
    if out.is_empty() {
        if let Some(p) = params.get("rootPath").and_then(Value::as_str) {
            out.push(normalize(Path::new(p)));
        }
    }
    out
}

/// The file imports of a `.flow` text (`import "./x.flow" (...)`), resolved against `path`,
/// found without parsing: an `import` that is the first token of its line (where the parser's
/// declaration splitter starts declarations) followed by a string, or by a kind and a string
/// (`import kfp "train.yaml"`). Strings and comments are the
/// grammar lexer's, so an `import` line inside a block comment is not an import.
fn file_imports(path: &Path, text: &str) -> Vec<PathBuf> {
    let tokens: Vec<Token> = Lexer::new(text).filter(|t| !t.kind.is_trivia()).collect();
    (0..tokens.len())
        .filter(|&i| {
            tokens[i].first_on_line
                && tokens[i].kind == TokenKind::Ident
                && &text[tokens[i].span.range()] == "import"
        })
        .filter_map(|i| {
            // `import "x.flow"`, or a foreign file: `import kfp "train.yaml"`.
            let next = tokens.get(i + 1)?;
            let source = match next.kind {
                TokenKind::Ident => tokens.get(i + 2)?,
                _ => next,
            };
            string_value(&text[source.span.range()])
        })
        .map(|relative| resolve_relative(path, &relative))
        .collect()
}

/// The loader for one analysis: the documents, plus a generated root importing the open
/// standard-library modules (so that they are analysed too).
struct Loader<'a> {
    docs: &'a Documents,
    std_root: Option<(PathBuf, String)>,
}

impl FileLoader for Loader<'_> {
    fn load(&self, path: &Path) -> Result<Vec<u8>, String> {
        if let Some((p, text)) = &self.std_root {
            if normalize(path) == *p {
                return Ok(text.clone().into_bytes());
            }
        }
        self.docs.load(path)
    }

    fn foreign(&self) -> Option<&dyn flowc_compiler::foreign::ForeignImporter> {
        self.docs.foreign()
    }
}

impl Server {
    fn send(&self, msg: Message) {
        let _ = self.sender.send(msg);
    }

    fn reply_err(&self, id: RequestId, code: ErrorCode, message: &str) {
        self.send(Response::new_err(id, code as i32, message.to_string()).into());
    }

    fn request(&mut self, req: Request) {
        let id = req.id.clone();
        let method = req.method.clone();
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.ensure_fresh();
            handlers::dispatch(&self.ws, req)
        }));
        let resp = match result {
            Ok(Ok(value)) => Response {
                id,
                result: Some(value),
                error: None,
            },
            Ok(Err(error)) => Response {
                id,
                result: None,
                error: Some(error),
            },
            Err(_) => {
                eprintln!("flowc lsp: internal error while handling `{method}`");
                Response::new_err(
                    id,
                    ErrorCode::InternalError as i32,
                    format!("internal error in flowc while handling `{method}`"),
                )
            }
        };
        self.send(resp.into());
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) else {
                    return;
                };
                let doc = p.text_document;
                let path = self.ws.path_of(&doc.uri);
                self.ws.docs.open(doc.uri, path, doc.version, doc.text);
                self.stale = true;
            }
            "textDocument/didChange" => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) else {
                    return;
                };
                let path = self.ws.path_of(&p.text_document.uri);
                let Some(doc) = self.ws.docs.get_mut(&path) else {
                    return;
                };
                for change in p.content_changes {
                    doc.apply(change);
                }
                doc.version = p.text_document.version;
                self.stale = true;
            }
            "textDocument/didClose" => {
                let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) else {
                    return;
                };
                let path = self.ws.path_of(&p.text_document.uri);
                self.ws.docs.close(&path);
                self.ws.clean.remove(&normalize(&path));
                if self.imports.contains_key(&normalize(&path)) {
                    self.index_file(&normalize(&path));
                }
                self.stale = true;
            }
            "workspace/didChangeWatchedFiles" | "textDocument/didSave" => {
                self.scan_workspace();
                self.stale = true;
            }
            _ => {}
        }
    }

    /// Re-reads the imports of every `.flow` file of the workspace folders.
    fn scan_workspace(&mut self) {
        self.imports.clear();
        let mut budget = 20_000usize;
        let mut stack: Vec<(PathBuf, usize)> =
            self.folders.iter().map(|f| (f.clone(), 0)).collect();
        let mut files = Vec::new();
        while let Some((dir, depth)) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                if budget == 0 {
                    break;
                }
                budget -= 1;
                let path = e.path();
                let name = e.file_name().to_string_lossy().to_string();
                let Ok(kind) = e.file_type() else { continue };
                if kind.is_dir() {
                    if depth < 16
                        && !name.starts_with('.')
                        && name != "target"
                        && name != "node_modules"
                    {
                        stack.push((path, depth + 1));
                    }
                } else if name.ends_with(".flow") {
                    files.push(normalize(&path));
                }
            }
        }
        for f in files {
            self.index_file(&f);
        }
    }

    fn index_file(&mut self, path: &Path) {
        let text = std::fs::read(path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        self.imports
            .insert(path.to_path_buf(), file_imports(path, &text));
    }

    /// The files to analyse: the open documents, and the closed workspace files that import
    /// them (directly or not).
    fn roots(&self) -> Vec<PathBuf> {
        let mut want: BTreeSet<PathBuf> = self
            .ws
            .docs
            .iter()
            .map(|d| d.path.clone())
            .filter(|p| !self.ws.is_std_path(p))
            .collect();
        loop {
            let more: Vec<PathBuf> = self
                .imports
                .iter()
                .filter(|(f, imps)| !want.contains(*f) && imps.iter().any(|i| want.contains(i)))
                .map(|(f, _)| f.clone())
                .collect();
            if more.is_empty() {
                break;
            }
            want.extend(more);
        }
        want.into_iter().collect()
    }

    /// The generated root that imports every open standard-library module.
    fn std_root(&self) -> Option<(PathBuf, String)> {
        let mut text = String::new();
        for d in self.ws.docs.iter().filter(|d| self.ws.is_std_path(&d.path)) {
            let Some(name) = d.path.file_name().map(|n| n.to_string_lossy().to_string()) else {
                continue;
            };
            let Some(module) = std_module_of_file(&name) else {
                continue;
            };
            let Some(src) = flowc_stdlib::source(&module) else {
                continue;
            };
            let names: Vec<String> = flowc_grammar::parse(src)
                .module
                .items
                .iter()
                .filter_map(|i| i.name().map(|n| n.name.clone()))
                .collect();
            if !names.is_empty() {
                text.push_str(&format!("import {module} ({})\n", names.join(", ")));
            }
        }
        (!text.is_empty()).then(|| (self.ws.std_dir.join("__open__.flow"), text))
    }

    /// Analyses again if a document changed, and publishes diagnostics.
    fn ensure_fresh(&mut self) {
        if self.stale {
            self.refresh();
        }
    }

    fn refresh(&mut self) {
        self.stale = false;
        let mut roots = self.roots();
        let std_root = self.std_root();
        if let Some((p, _)) = &std_root {
            roots.push(p.clone());
        }
        let loader = Loader {
            docs: &self.ws.docs,
            std_root,
        };
        let checked = || {
            let mut a = analyze(&loader, &roots);
            // Python steps against their functions' source, found from each `.flow` file's
            // folder and its flowc.toml (the editor's unsaved text of a `.py` file is checked).
            flowc_pycheck::check(&mut a, &loader, &[]);
            a
        };
        let old = match catch_unwind(AssertUnwindSafe(checked)) {
            Ok(a) => std::mem::replace(&mut self.ws.analysis, Arc::new(a)),
            Err(_) => {
                eprintln!("flowc lsp: internal error while checking; keeping the last results");
                return;
            }
        };
        self.target_diags = match catch_unwind(AssertUnwindSafe(|| self.check_targets(&loader))) {
            Ok(d) => d,
            Err(_) => {
                eprintln!("flowc lsp: internal error while checking the targets");
                Vec::new()
            }
        };
        let replaced = self.remember_good();
        self.publish();
        // Freeing an analysis takes a few milliseconds on large files: not on this thread.
        let _ = self.garbage.send(old);
        for g in replaced {
            let _ = self.garbage.send(g);
        }
    }

    /// The target problems of each open file (analysed on its own, as `flowc check --target`
    /// does) whose workspace names a target, with the file ids of the current analysis.
    fn check_targets(&self, loader: &dyn FileLoader) -> Vec<Diagnostic> {
        let Some(checker) = &self.targets else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for d in self
            .ws
            .docs
            .iter()
            .filter(|d| !self.ws.is_std_path(&d.path))
        {
            let Some(workspace) = self.workspace_of(&d.path) else {
                continue;
            };
            if !checker.names_targets(workspace) {
                continue;
            }
            let alone = analyze(loader, std::slice::from_ref(&d.path));
            for mut diag in checker.check(workspace, &alone) {
                if relabel(&mut diag, &alone, &self.ws.analysis) {
                    out.push(diag);
                }
            }
        }
        flowc_compiler::diagnostics::sort(&mut out);
        out
    }

    /// The workspace folder holding `path`, or its own folder outside every workspace folder.
    fn workspace_of<'a>(&'a self, path: &'a Path) -> Option<&'a Path> {
        self.folders
            .iter()
            .find(|f| path.starts_with(f))
            .map(PathBuf::as_path)
            .or_else(|| path.parent())
    }

    /// Remembers, for each open document without syntax errors, this analysis; returns the
    /// analyses it replaces.
    fn remember_good(&mut self) -> Vec<Arc<Analysis>> {
        let mut replaced = Vec::new();
        let a = Arc::clone(&self.ws.analysis);
        for (id, f) in a.sources().iter() {
            let Origin::File(path) = &f.origin else {
                continue;
            };
            if self.ws.docs.get(path).is_none() {
                continue;
            }
            let broken = a.diagnostics.iter().any(|d| {
                d.code.as_str().starts_with("E0") && d.primary().is_some_and(|l| l.file == id)
            });
            if !broken {
                let old = self.ws.clean.insert(
                    normalize(path),
                    CleanAnalysis {
                        analysis: Arc::clone(&a),
                        text: Arc::clone(&f.text),
                    },
                );
                replaced.extend(old.map(|g| g.analysis));
            }
        }
        replaced
    }

    /// Publishes the diagnostics of every file of the analysis that changed since last time,
    /// and clears those of files no longer analysed.
    fn publish(&mut self) {
        let a = Arc::clone(&self.ws.analysis);
        let mut next: HashMap<String, Published> = HashMap::new();
        let locate = |file: FileId, span: flowc_grammar::Span| self.ws.location(&a, file, span);
        for (id, f) in a.sources().iter() {
            let Origin::File(path) = &f.origin else {
                continue;
            };
            if self.ws.is_std_path(path) {
                continue;
            }
            let (uri, version) = match self.ws.docs.get(path) {
                Some(d) => (d.uri.clone(), Some(d.version)),
                None => match path_to_uri(path) {
                    Some(u) => (u, None),
                    None => continue,
                },
            };
            let text = Text {
                text: &f.text,
                lines: &f.lines,
            };
            let diags: Vec<lsp_types::Diagnostic> = a
                .diagnostics
                .iter()
                .chain(&self.target_diags)
                .filter(|d| d.primary().is_some_and(|l| l.file == id))
                .map(|d| convert::diagnostic(d, &text, &locate))
                .collect();
            next.insert(
                uri.as_str().to_string(),
                Published {
                    uri,
                    version,
                    diags,
                },
            );
        }
        for (key, p) in &next {
            if self.published.get(key) != Some(p) {
                self.notify_diagnostics(p.uri.clone(), p.diags.clone(), p.version);
            }
        }
        for (key, old) in &self.published {
            if !next.contains_key(key) && !old.diags.is_empty() {
                self.notify_diagnostics(old.uri.clone(), Vec::new(), None);
            }
        }
        self.published = next;
    }

    fn notify_diagnostics(
        &self,
        uri: Uri,
        diagnostics: Vec<lsp_types::Diagnostic>,
        version: Option<i32>,
    ) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.send(Notification::new("textDocument/publishDiagnostics".to_string(), params).into());
    }
}

/// Gives the labels of `d`, a diagnostic of `from`, the file ids of the same files in `to`;
/// false if a file is not in `to`.
fn relabel(d: &mut Diagnostic, from: &Analysis, to: &Analysis) -> bool {
    d.labels.iter_mut().all(|l| {
        let origin = &from.sources().get(l.file).origin;
        match to.sources().find(origin) {
            Some(id) => {
                l.file = id;
                true
            }
            None => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_imports_are_found_without_parsing() {
        let text = "import std.io (read_csv)\nimport \"../common.flow\" (a, b)\n  import \"x.flow\" (\n c)\n/*\nimport \"commented.flow\" (d)\n*/ import\n  \"y\\\\z.flow\" (e)\nx import \"not.flow\"\nimport kfp \"c/train.yaml\" (train)\n";
        assert_eq!(
            file_imports(Path::new("/w/p/main.flow"), text),
            vec![
                PathBuf::from("/w/common.flow"),
                PathBuf::from("/w/p/x.flow"),
                PathBuf::from("/w/p/y\\z.flow"),
                PathBuf::from("/w/p/c/train.yaml"),
            ]
        );
    }

    #[test]
    fn folders_are_read_leniently() {
        let params = serde_json::json!({"rootUri": "file:///w", "workspaceFolders": null});
        assert_eq!(workspace_folders(&params), vec![PathBuf::from("/w")]);
        let params = serde_json::json!({"workspaceFolders": [{"uri": "file:///a", "name": "a"}]});
        assert_eq!(workspace_folders(&params), vec![PathBuf::from("/a")]);
        assert!(workspace_folders(&serde_json::json!(42)).is_empty());
    }
}
