//! One function per request: decode the parameters, call the compiler's editor feature,
//! encode the result.
//!
//! Positions are converted with the text of the analysis the answer comes from. When the
//! current analysis has no answer and the document has changed since its last analysis
//! without syntax errors, hover, go to definition and completion ask that older analysis, with
//! the cursor mapped through the edit (the text before and after the edited region is the
//! same) and spans mapped back the same way.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use flowc_compiler::ide::completion::{completions_in, CompletionKind, Completions};
use flowc_compiler::ide::signature_help::{signature_help_in, SignatureHelp};
use flowc_compiler::ide::symbols::{Symbol, SymbolKind};
use flowc_compiler::ide::{goto, hover, references, rename, symbols, NavTarget};
use flowc_compiler::lockfile;
use flowc_compiler::source::{normalize, Origin};
use flowc_compiler::{Analysis, FileId};
use flowc_grammar::{LineIndex, Span};
use lsp_server::{ErrorCode, Request, ResponseError};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, CompletionParams, CompletionResponse,
    CompletionTextEdit, DocumentFormattingParams, DocumentSymbol, DocumentSymbolParams,
    Documentation, GotoDefinitionParams, GotoDefinitionResponse, HoverContents, HoverParams,
    HoverProviderCapability, Location, MarkupContent, MarkupKind, OneOf, ParameterInformation,
    ParameterLabel, Position, PrepareRenameResponse, Range, ReferenceParams, RenameOptions,
    RenameParams, SaveOptions, ServerCapabilities, SignatureHelpOptions, SignatureHelpParams,
    SignatureInformation, TextDocumentPositionParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, TextEdit, Uri,
    WorkDoneProgressOptions, WorkspaceEdit,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::convert::Text;
use crate::workspace::{CleanAnalysis, Workspace};

/// What the server can do.
pub(crate) fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..Default::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(
                [".", "(", "[", ",", ":"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            ..Default::default()
        }),
        signature_help_provider: Some(SignatureHelpOptions {
            trigger_characters: Some(vec!["(".into(), ",".into()]),
            retrigger_characters: Some(vec![":".into()]),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        }),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        ..Default::default()
    }
}

/// Answers one request.
pub(crate) fn dispatch(s: &Workspace, req: Request) -> Result<Value, ResponseError> {
    let Request { method, params, .. } = req;
    match method.as_str() {
        "textDocument/hover" => to_json(hover(s, decode::<HoverParams>(params)?)),
        "textDocument/definition" => {
            to_json(definition(s, decode::<GotoDefinitionParams>(params)?))
        }
        "textDocument/references" => to_json(references(s, decode::<ReferenceParams>(params)?)),
        "textDocument/completion" => to_json(completion(s, decode::<CompletionParams>(params)?)),
        "textDocument/signatureHelp" => {
            to_json(signature_help(s, decode::<SignatureHelpParams>(params)?))
        }
        "textDocument/documentSymbol" => {
            to_json(document_symbols(s, decode::<DocumentSymbolParams>(params)?))
        }
        "textDocument/formatting" => {
            to_json(formatting(s, decode::<DocumentFormattingParams>(params)?))
        }
        "textDocument/prepareRename" => to_json(prepare_rename(
            s,
            decode::<TextDocumentPositionParams>(params)?,
        )?),
        "textDocument/rename" => to_json(rename_request(s, decode::<RenameParams>(params)?)?),
        _ => Err(error(
            ErrorCode::MethodNotFound,
            format!("flowc does not handle `{method}`"),
        )),
    }
}

fn decode<P: DeserializeOwned>(params: Value) -> Result<P, ResponseError> {
    serde_json::from_value(params).map_err(|e| error(ErrorCode::InvalidParams, e.to_string()))
}

fn to_json<T: serde::Serialize>(value: T) -> Result<Value, ResponseError> {
    serde_json::to_value(value).map_err(|e| error(ErrorCode::InternalError, e.to_string()))
}

/// A document as the current analysis has it.
struct Doc {
    file: FileId,
    path: PathBuf,
    text: Arc<str>,
    lines: Arc<LineIndex>,
}

impl Doc {
    fn view(&self) -> Text<'_> {
        Text {
            text: &self.text,
            lines: &self.lines,
        }
    }
}

fn doc(s: &Workspace, uri: &Uri) -> Option<Doc> {
    let (file, path) = s.file_of(uri)?;
    let f = s.analysis.sources().get(file);
    Some(Doc {
        file,
        path,
        text: Arc::clone(&f.text),
        lines: Arc::clone(&f.lines),
    })
}

/// How offsets move between an older text and the current one: the edited region lies
/// between a common prefix and a common suffix.
struct Shift {
    prefix: u32,
    suffix: u32,
    old_len: u32,
    new_len: u32,
}

impl Shift {
    fn new(old: &str, new: &str) -> Shift {
        let (o, n) = (old.as_bytes(), new.as_bytes());
        let mut prefix = o.iter().zip(n).take_while(|(a, b)| a == b).count();
        while !new.is_char_boundary(prefix) || !old.is_char_boundary(prefix) {
            prefix -= 1;
        }
        let room = o.len().min(n.len()) - prefix;
        let mut suffix = o
            .iter()
            .rev()
            .zip(n.iter().rev())
            .take(room)
            .take_while(|(a, b)| a == b)
            .count();
        while !new.is_char_boundary(n.len() - suffix) || !old.is_char_boundary(o.len() - suffix) {
            suffix -= 1;
        }
        Shift {
            prefix: prefix as u32,
            suffix: suffix as u32,
            old_len: o.len() as u32,
            new_len: n.len() as u32,
        }
    }

    fn to_old(&self, n: u32) -> Option<u32> {
        if n <= self.prefix {
            Some(n)
        } else if n >= self.new_len - self.suffix {
            (n + self.old_len).checked_sub(self.new_len)
        } else {
            None
        }
    }

    fn to_new(&self, o: u32) -> Option<u32> {
        if o <= self.prefix {
            Some(o)
        } else if o >= self.old_len - self.suffix {
            (o + self.new_len).checked_sub(self.old_len)
        } else {
            None
        }
    }

    fn span_to_new(&self, s: Span) -> Option<Span> {
        Some(Span::new(
            self.to_new(s.start)? as usize,
            self.to_new(s.end)? as usize,
        ))
    }
}

/// The last analysis of a document without syntax errors, when it saw another text.
fn good<'s>(s: &'s Workspace, d: &Doc) -> Option<(&'s CleanAnalysis, FileId, Shift)> {
    let g = s.clean.get(&normalize(&d.path))?;
    if Arc::ptr_eq(&g.analysis, &s.analysis) || *g.text == *d.text {
        return None;
    }
    let file = g.analysis.sources().find(&Origin::File(d.path.clone()))?;
    Some((g, file, Shift::new(&g.text, &d.text)))
}

fn hover(s: &Workspace, p: HoverParams) -> Option<lsp_types::Hover> {
    let pos = p.text_document_position_params;
    let d = doc(s, &pos.text_document.uri)?;
    let offset = d.view().offset(pos.position);
    let make = |markdown: String, range: Option<Range>| lsp_types::Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: markdown,
        }),
        range,
    };
    let tuned = tuned_values(&s.analysis);
    if let Some(h) = hover::hover_tuned(&s.analysis, d.file, offset, &tuned) {
        return Some(make(h.markdown, Some(d.view().range(h.span))));
    }
    let (g, file, shift) = good(s, &d)?;
    let h = hover::hover_tuned(&g.analysis, file, shift.to_old(offset)?, &tuned)?;
    let range = shift.span_to_new(h.span).map(|sp| d.view().range(sp));
    Some(make(h.markdown, range))
}

/// The values `flowc autotune` wrote to the lock files (`FILE.flow.lock`) beside the analysed
/// files, parsed as `flowc build` parses them. A lock file that cannot be read or used is
/// ignored.
fn tuned_values(a: &Analysis) -> Vec<hover::Tuned> {
    let mut out = Vec::new();
    for (_, f) in a.sources().iter() {
        let Origin::File(path) = &f.origin else {
            continue;
        };
        let lock = lockfile::path_for(path);
        let Ok(text) = std::fs::read_to_string(&lock) else {
            continue;
        };
        let Ok(parsed) = lockfile::parse(&text) else {
            continue;
        };
        let source = lock
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        for (key, v) in parsed.steps {
            let Some((pipeline, step)) = key.split_once('/') else {
                continue;
            };
            out.push(hover::Tuned {
                source: source.clone(),
                pipeline: pipeline.to_string(),
                step: step.to_string(),
                memory: v.memory,
                cpu: v.cpu,
                gpu: v.gpu,
                confidence: Some(v.confidence),
                executions: Some(v.executions as u64),
            });
        }
    }
    out
}

/// A location from an answer of `a`; spans in the document's own file are mapped to its
/// current text when `a` is an older analysis.
fn nav_location(
    s: &Workspace,
    a: &Analysis,
    d: &Doc,
    old: Option<(FileId, &Shift)>,
    file: FileId,
    span: Span,
) -> Option<Location> {
    if let Some((own, shift)) = old {
        if file == own {
            let span = shift.span_to_new(span)?;
            return Some(Location {
                uri: s.uri_of(&s.analysis, d.file)?,
                range: d.view().range(span),
            });
        }
    }
    s.location(a, file, span)
}

fn definition(s: &Workspace, p: GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
    let pos = p.text_document_position_params;
    let d = doc(s, &pos.text_document.uri)?;
    let offset = d.view().offset(pos.position);
    let found = |t: NavTarget, a: &Analysis, old: Option<(FileId, &Shift)>| {
        nav_location(s, a, &d, old, t.file, t.focus).map(GotoDefinitionResponse::Scalar)
    };
    if let Some(t) = goto::goto_definition(&s.analysis, d.file, offset) {
        return found(t, &s.analysis, None);
    }
    let (g, file, shift) = good(s, &d)?;
    let t = goto::goto_definition(&g.analysis, file, shift.to_old(offset)?)?;
    found(t, &g.analysis, Some((file, &shift)))
}

fn references(s: &Workspace, p: ReferenceParams) -> Option<Vec<Location>> {
    let pos = p.text_document_position;
    let d = doc(s, &pos.text_document.uri)?;
    let offset = d.view().offset(pos.position);
    let refs = references::references(&s.analysis, d.file, offset, p.context.include_declaration);
    Some(
        refs.iter()
            .filter_map(|r| s.location(&s.analysis, r.file, r.span))
            .collect(),
    )
}

fn completion(s: &Workspace, p: CompletionParams) -> Option<CompletionResponse> {
    let pos = p.text_document_position;
    let d = doc(s, &pos.text_document.uri)?;
    let offset = d.view().offset(pos.position);
    let mut c = completions_in(&s.analysis, d.file, &d.text, offset);
    // Names the current analysis cannot see (the declaration being typed does not parse) come
    // from the last analysis without syntax errors; its items are preferred (they have types).
    if let Some((g, file, _)) = good(s, &d) {
        let older = completions_in(&g.analysis, file, &d.text, offset);
        let mut items = older.items;
        for i in c.items {
            if !items.iter().any(|x| x.label == i.label) {
                items.push(i);
            }
        }
        c = Completions {
            replace: c.replace,
            items,
        };
    }
    let range = d.view().range(c.replace);
    let items = c
        .items
        .into_iter()
        .map(|i| CompletionItem {
            kind: Some(completion_kind(i.kind)),
            detail: i.detail,
            documentation: i.documentation.map(|value| {
                Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value,
                })
            }),
            sort_text: Some(format!("{}{}", i.rank, i.label)),
            filter_text: Some(i.label.clone()),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                range,
                new_text: i.insert.unwrap_or_else(|| i.label.clone()),
            })),
            label: i.label,
            ..Default::default()
        })
        .collect();
    Some(CompletionResponse::Array(items))
}

fn signature_help(s: &Workspace, p: SignatureHelpParams) -> Option<lsp_types::SignatureHelp> {
    let pos = p.text_document_position_params;
    let d = doc(s, &pos.text_document.uri)?;
    let offset = d.view().offset(pos.position);
    // While the call is typed the file may not parse: the last good analysis knows the names.
    let h = signature_help_in(&s.analysis, d.file, &d.text, offset).or_else(|| {
        let (g, file, _) = good(s, &d)?;
        signature_help_in(&g.analysis, file, &d.text, offset)
    })?;
    Some(to_lsp_signature(h))
}

/// Parameter ranges in UTF-16 code units of the label, as the protocol counts.
fn to_lsp_signature(h: SignatureHelp) -> lsp_types::SignatureHelp {
    let units = |byte: usize| h.label.get(..byte).map_or(0, |s| s.encode_utf16().count()) as u32;
    let parameters = h
        .params
        .iter()
        .map(|&(start, end)| ParameterInformation {
            label: ParameterLabel::LabelOffsets([units(start), units(end)]),
            documentation: None,
        })
        .collect();
    let active = h.active.map(|i| i as u32);
    lsp_types::SignatureHelp {
        signatures: vec![SignatureInformation {
            documentation: h.doc.map(|value| {
                Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value,
                })
            }),
            parameters: Some(parameters),
            active_parameter: active,
            label: h.label,
        }],
        active_signature: Some(0),
        active_parameter: active,
    }
}

fn completion_kind(k: CompletionKind) -> CompletionItemKind {
    match k {
        CompletionKind::Keyword => CompletionItemKind::KEYWORD,
        CompletionKind::Step => CompletionItemKind::FUNCTION,
        CompletionKind::Pipeline => CompletionItemKind::MODULE,
        CompletionKind::Schema => CompletionItemKind::STRUCT,
        CompletionKind::Type => CompletionItemKind::TYPE_PARAMETER,
        CompletionKind::Profile => CompletionItemKind::VALUE,
        CompletionKind::Secret => CompletionItemKind::CONSTANT,
        CompletionKind::Argument => CompletionItemKind::PROPERTY,
        CompletionKind::Column => CompletionItemKind::FIELD,
        CompletionKind::Value => CompletionItemKind::VARIABLE,
        CompletionKind::Output => CompletionItemKind::FIELD,
        CompletionKind::Module => CompletionItemKind::MODULE,
        CompletionKind::Property => CompletionItemKind::PROPERTY,
    }
}

fn document_symbols(s: &Workspace, p: DocumentSymbolParams) -> Option<Vec<DocumentSymbol>> {
    let d = doc(s, &p.text_document.uri)?;
    let view = d.view();
    #[allow(deprecated)]
    fn convert(sym: Symbol, view: &Text<'_>) -> DocumentSymbol {
        DocumentSymbol {
            name: sym.name,
            detail: sym.detail,
            kind: match sym.kind {
                SymbolKind::Import => lsp_types::SymbolKind::NAMESPACE,
                SymbolKind::Schema => lsp_types::SymbolKind::STRUCT,
                SymbolKind::Column => lsp_types::SymbolKind::FIELD,
                SymbolKind::Secret => lsp_types::SymbolKind::CONSTANT,
                SymbolKind::Profile => lsp_types::SymbolKind::OBJECT,
                SymbolKind::Step => lsp_types::SymbolKind::FUNCTION,
                SymbolKind::Parameter => lsp_types::SymbolKind::VARIABLE,
                SymbolKind::Output => lsp_types::SymbolKind::PROPERTY,
                SymbolKind::Pipeline => lsp_types::SymbolKind::MODULE,
                SymbolKind::Binding => lsp_types::SymbolKind::VARIABLE,
            },
            tags: None,
            deprecated: None,
            range: view.range(sym.span),
            // The selection must lie inside the range.
            selection_range: view.range(
                if sym.span.contains(sym.selection.start) && sym.span.contains(sym.selection.end) {
                    sym.selection
                } else {
                    sym.span
                },
            ),
            children: (!sym.children.is_empty())
                .then(|| sym.children.into_iter().map(|c| convert(c, view)).collect()),
        }
    }
    Some(
        symbols::document_symbols(&s.analysis, d.file)
            .into_iter()
            .map(|sym| convert(sym, &view))
            .collect(),
    )
}

fn formatting(s: &Workspace, p: DocumentFormattingParams) -> Option<Vec<TextEdit>> {
    let d = doc(s, &p.text_document.uri)?;
    // Files with syntax errors are not formatted (the answer is no edit).
    let formatted = flowc_compiler::fmt::format(&d.text).ok()?;
    if formatted == *d.text {
        return Some(Vec::new());
    }
    let end = d.view().position(d.text.len() as u32);
    Some(vec![TextEdit {
        range: Range::new(Position::new(0, 0), end),
        new_text: formatted,
    }])
}

fn has_syntax_errors(a: &Analysis, file: FileId) -> bool {
    a.diagnostics
        .iter()
        .any(|x| x.code.as_str().starts_with("E0") && x.primary().is_some_and(|l| l.file == file))
}

fn prepare_rename(
    s: &Workspace,
    p: TextDocumentPositionParams,
) -> Result<Option<PrepareRenameResponse>, ResponseError> {
    let Some(d) = doc(s, &p.text_document.uri) else {
        return Ok(None);
    };
    let offset = d.view().offset(p.position);
    match rename::prepare_rename(&s.analysis, d.file, offset) {
        Ok((span, placeholder)) => Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
            range: d.view().range(span),
            placeholder,
        })),
        Err(why) => Err(error(ErrorCode::RequestFailed, why)),
    }
}

fn rename_request(s: &Workspace, p: RenameParams) -> Result<Option<WorkspaceEdit>, ResponseError> {
    let pos = p.text_document_position;
    let Some(d) = doc(s, &pos.text_document.uri) else {
        return Ok(None);
    };
    if has_syntax_errors(&s.analysis, d.file) {
        return Err(error(
            ErrorCode::RequestFailed,
            "fix the syntax errors of this file first: renaming needs the whole file",
        ));
    }
    let offset = d.view().offset(pos.position);
    let edits = rename::rename(&s.analysis, d.file, offset, &p.new_name)
        .map_err(|why| error(ErrorCode::RequestFailed, why))?;
    // `Uri` caches its parts in cells, but its hash and equality use only its text.
    #[allow(clippy::mutable_key_type)]
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for e in edits {
        let Some(loc) = s.location(&s.analysis, e.file, e.span) else {
            continue;
        };
        changes.entry(loc.uri).or_default().push(TextEdit {
            range: loc.range,
            new_text: e.new_text,
        });
    }
    Ok(Some(WorkspaceEdit::new(changes)))
}

/// An error response.
pub(crate) fn error(code: ErrorCode, message: impl Into<String>) -> ResponseError {
    ResponseError {
        code: code as i32,
        message: message.into(),
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_map_around_the_edited_region() {
        let old = "abc XYZ def";
        let new = "abc QQ def";
        let s = Shift::new(old, new);
        assert_eq!(s.to_old(2), Some(2));
        assert_eq!(s.to_old(5), None);
        assert_eq!(
            s.to_old(new.find("def").unwrap() as u32),
            Some(old.find("def").unwrap() as u32)
        );
        assert_eq!(
            s.to_new(old.find("def").unwrap() as u32),
            Some(new.find("def").unwrap() as u32)
        );
        // Multi-byte characters are never split.
        let s = Shift::new("é", "è");
        assert_eq!((s.prefix, s.suffix), (0, 0));
        let s = Shift::new("aaa", "aaaa");
        assert_eq!(s.to_new(3), Some(3));
    }

    #[test]
    fn tuned_values_come_from_usable_lock_files_beside_the_files() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (good, old) = (dir.path().join("a.flow"), dir.path().join("b.flow"));
        let steps = r#""steps": {"daily/load": {"memory": "1536Mi", "cpu": "500m", "gpu": 0, "confidence": "high", "executions": 12}}"#;
        let write = |source: &std::path::Path, text: String| {
            std::fs::write(lockfile::path_for(source), text).unwrap_or_else(|e| panic!("{e}"))
        };
        write(
            &good,
            format!(r#"{{"format": "flowc.lock", "version": 1, {steps}}}"#),
        );
        // A version `flowc build` refuses is not shown either.
        write(
            &old,
            format!(r#"{{"format": "flowc.lock", "version": 2, {steps}}}"#),
        );
        let loader = flowc_compiler::MemoryLoader::new()
            .with(&good, "")
            .with(&old, "");
        let a = flowc_compiler::analyze(&loader, &[good, old]);
        let tuned = tuned_values(&a);
        assert_eq!(tuned.len(), 1);
        let t = &tuned[0];
        assert_eq!(
            (t.source.as_str(), t.pipeline.as_str(), t.step.as_str()),
            ("a.flow.lock", "daily", "load")
        );
        assert_eq!(
            (t.memory.as_deref(), t.cpu.as_deref(), t.gpu),
            (Some("1536Mi"), Some("500m"), Some(0))
        );
        assert_eq!(
            (t.confidence.as_deref(), t.executions),
            (Some("high"), Some(12))
        );
    }
}
