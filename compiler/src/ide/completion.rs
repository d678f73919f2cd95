//! Completion: what may be written at the cursor.
//!
//! Completion must work while the user is typing, that is on text that does not parse (`rake(`
//! with no closing parenthesis), so the context is read from the tokens of the grammar's
//! never-failing lexer (`flowc_grammar::lexer`, the same strings and comments as the parser's):
//! the open brackets around the cursor, the declaration it is in, and the tokens before it on
//! its line. The meaning of names then comes from an analysis, possibly an older one of the same
//! file (the last one without syntax errors): steps and their parameters, bindings and their
//! types, schemas and their columns are looked up by name.
//!
//! What is offered:
//! - at the top level, the declaration keywords; after `import`, the standard-library modules,
//!   and inside an import's parentheses the names the module declares;
//! - in a pipeline body, the statement keywords and the steps and pipelines in scope; after
//!   `name =`, the steps and pipelines;
//! - inside a call's parentheses, the callee's parameters not given yet (`name: `); after
//!   `name:`, the values in scope (parameters, bindings, loop variables), or, for a
//!   `Columns<T>` or `Column<T>` parameter, the columns of the table bound to `T`;
//! - after `x.`, the outputs of the call bound to `x` and the keys of its metrics;
//! - in a step, profile, `defaults` or call `with` body, the property keywords, and after
//!   `use`, `mount` and `env NAME =` the profiles, secrets and parameters; in `resources { }`,
//!   its keys;
//! - after `:` in a parameter list or a schema, the types and schemas.

use flowc_grammar::ast::{Item, SecretKind};
use flowc_grammar::keywords::TYPES;
use flowc_grammar::lexer::{string_value, Lexer, TokenKind};
use flowc_grammar::Span;

use super::index::{signature, table_schema};
use super::{doc_comment, module_of};
use crate::check::PipelineInfo;
use crate::resolve::{DeclId, DeclKind, ModuleId};
use crate::source::{resolve_relative, FileId, Origin};
use crate::types::{Schema, TplTerm, Ty};
use crate::Analysis;

/// What a completion item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    /// A keyword.
    Keyword,
    /// A step.
    Step,
    /// A pipeline.
    Pipeline,
    /// A schema.
    Schema,
    /// A built-in type.
    Type,
    /// A profile.
    Profile,
    /// A secret or a config.
    Secret,
    /// A named argument of a call.
    Argument,
    /// A column of a table.
    Column,
    /// A value: a parameter, binding or loop variable.
    Value,
    /// An output of a call, or a metric key.
    Output,
    /// A module to import.
    Module,
    /// A property, or a key of a property's record.
    Property,
}

/// One proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionItem {
    /// What is shown, and inserted unless `insert` says otherwise.
    pub label: String,
    /// What it is.
    pub kind: CompletionKind,
    /// A short description, such as a type or a signature.
    pub detail: Option<String>,
    /// Documentation, in Markdown.
    pub documentation: Option<String>,
    /// The text inserted, when it differs from the label (`panel: ` for an argument).
    pub insert: Option<String>,
    /// Sorting rank: lower first.
    pub rank: u8,
}

/// The proposals at a cursor, and the text they replace (the part of a name already typed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completions {
    /// The span replaced by an accepted item.
    pub replace: Span,
    /// The proposals.
    pub items: Vec<CompletionItem>,
}

/// Completions at `offset` in `file`, reading the text from the analysis.
pub fn completions(a: &Analysis, file: FileId, offset: u32) -> Completions {
    let Some(text) = a.program.sources.iter().find(|(id, _)| *id == file) else {
        return Completions::default();
    };
    let text = text.1.text.clone();
    completions_in(a, file, &text, offset)
}

/// Completions at `offset` in `text`, the current text of `file`, which may differ from the
/// text the analysis saw (an older analysis of a file being edited): names are looked up in
/// the analysis, the context is read from `text`.
pub fn completions_in(a: &Analysis, file: FileId, text: &str, offset: u32) -> Completions {
    let offset = char_start(text, offset);
    let tokens = lex(text);
    let Some(cursor) = CursorContext::new(a, file, text, &tokens, offset) else {
        return Completions {
            replace: Span::empty(offset),
            items: Vec::new(),
        };
    };
    let mut items = cursor.items();
    items.sort_by(|x, y| x.rank.cmp(&y.rank).then(x.label.cmp(&y.label)));
    items.dedup_by(|x, y| x.label == y.label);
    Completions {
        replace: cursor.replace,
        items,
    }
}

/// The call being typed at a cursor, for signature help.
pub(crate) struct CallAt<'a> {
    /// The callee's signature.
    pub sig: &'a crate::check::StepSig,
    /// Arguments already named in the call, before the cursor.
    pub given: Vec<String>,
    /// The argument the cursor is in, when it is named (`panel: sa|`).
    pub current: Option<String>,
}

/// The innermost step or pipeline call around `offset` in `text` (the current text of
/// `file`), as completion reads it: tokens, tolerant of a call that does not parse yet.
pub(crate) fn call_at<'a>(
    a: &'a Analysis,
    file: FileId,
    text: &str,
    offset: u32,
) -> Option<CallAt<'a>> {
    let offset = char_start(text, offset);
    let tokens = lex(text);
    let cursor = CursorContext::new(a, file, text, &tokens, offset)?;
    if cursor.decl_kind() != Some("pipeline") {
        return None;
    }
    let open = *cursor
        .stack
        .iter()
        .rev()
        .find(|&&i| cursor.tok(i).is('('))?;
    let callee = cursor
        .before
        .iter()
        .rev()
        .find(|&&i| i < open)
        .and_then(|&i| cursor.tok(i).ident())?;
    let m = module_of(a, file)?;
    let sig = signature(a, a.program.module(m).scope.get(callee)?.decl)?;
    let segments = cursor.segments(open);
    let named = |seg: &[usize]| match seg {
        [n, c, ..] if cursor.tok(*c).is(':') => cursor.tok(*n).ident().map(str::to_string),
        _ => None,
    };
    let (last, earlier) = segments.split_last()?;
    // The name being typed at the start of the argument counts as the current one.
    let typing = text
        .get(cursor.replace.range())
        .filter(|w| !w.is_empty() && last.is_empty())
        .map(str::to_string);
    let given = earlier.iter().filter_map(|seg| named(seg)).collect();
    let current = named(last).or(typing);
    Some(CallAt {
        sig,
        given,
        current,
    })
}

/// `offset` within `text`, moved back to the start of the character it falls in.
fn char_start(text: &str, offset: u32) -> usize {
    let offset = (offset as usize).min(text.len());
    (0..=offset)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Punct(char),
    Arrow,
    /// A string literal, and whether its closing quote is there.
    Str {
        closed: bool,
    },
    Num,
    /// A comment: a line comment (`//`, to the end of its line) or a block comment.
    Comment {
        line: bool,
    },
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    span: Span,
    /// Open brackets before the token.
    depth: usize,
    /// 0-based line of the token's start.
    line: usize,
}

impl Token {
    fn ident(&self) -> Option<&str> {
        match &self.tok {
            Tok::Ident(s) => Some(s),
            _ => None,
        }
    }

    fn is(&self, c: char) -> bool {
        self.tok == Tok::Punct(c)
    }

    fn is_word(&self, w: &str) -> bool {
        self.ident() == Some(w)
    }

    fn is_comment(&self) -> bool {
        matches!(self.tok, Tok::Comment { .. })
    }
}

/// The tokens of `text` (from the grammar's lexer, without whitespace), each with its depth and
/// line; never fails.
fn lex(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut line = 0;
    let mut depth: usize = 0;
    for token in Lexer::new(text) {
        let start_line = line;
        let source = &text[token.span.range()];
        line += source.matches('\n').count();
        let tok = match token.kind {
            TokenKind::Whitespace | TokenKind::Newline => continue,
            TokenKind::LineComment => Tok::Comment { line: true },
            TokenKind::BlockComment { .. } => Tok::Comment { line: false },
            TokenKind::Str { terminated } => Tok::Str { closed: terminated },
            TokenKind::Ident => Tok::Ident(source.to_string()),
            TokenKind::Number => Tok::Num,
            TokenKind::Arrow => Tok::Arrow,
            TokenKind::Punct(c) => Tok::Punct(c),
        };
        let tok_depth = match tok {
            Tok::Punct(')' | ']' | '}') => depth.saturating_sub(1),
            _ => depth,
        };
        match tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        out.push(Token {
            tok,
            span: token.span,
            depth: tok_depth,
            line: start_line,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Context

const DECL_KEYWORDS: &[&str] = &[
    "import", "schema", "secret", "config", "volume", "build", "profile", "step", "pipeline",
];
const STMT_KEYWORDS: &[&str] = &[
    "if", "for", "check", "output", "finally", "defaults", "schedule",
];
const PROPS: &[&str] = &[
    "image",
    "run",
    "python",
    "use",
    "cache",
    "resources",
    "retries",
    "timeout",
    "env",
    "mount",
    "node_selector",
    "toleration",
    "network",
];
const RESOURCE_KEYS: &[(&str, &str)] = &[
    (
        "cpu",
        "CPU request: cores (`2`, `0.5`) or millicores (`500m`)",
    ),
    ("memory", "memory request, with a unit (`512Mi`, `4Gi`)"),
    ("cpu_limit", "CPU limit"),
    ("memory_limit", "memory limit"),
    ("gpu", "number of GPUs"),
    ("gpu_type", "GPU type, such as `\"nvidia-tesla-t4\"`"),
];
const TOLERATION_KEYS: &[&str] = &["key", "operator", "value", "effect", "toleration_seconds"];

/// What completion reads from the text around a cursor: the tokens before it, the brackets open
/// at it, the declaration it is in and the name being typed.
struct CursorContext<'a> {
    a: &'a Analysis,
    file: FileId,
    m: Option<ModuleId>,
    text: &'a str,
    tokens: &'a [Token],
    /// Tokens before the cursor, without comments and without the name being typed.
    before: Vec<usize>,
    /// Open brackets at the cursor: the index in `tokens` of each opener.
    stack: Vec<usize>,
    /// The enclosing top-level declaration: its keyword's token index.
    decl: Option<usize>,
    line: usize,
    replace: Span,
}

impl<'a> CursorContext<'a> {
    fn new(
        a: &'a Analysis,
        file: FileId,
        text: &'a str,
        tokens: &'a [Token],
        offset: usize,
    ) -> Option<CursorContext<'a>> {
        let offset_u = offset as u32;
        let mut before = Vec::new();
        let mut replace = Span::empty(offset);
        for (i, t) in tokens.iter().enumerate() {
            if t.span.start >= offset_u {
                break;
            }
            match t.tok {
                // Inside a comment or a string: nothing to propose.
                Tok::Comment { .. } | Tok::Str { .. } if t.span.end > offset_u => return None,
                Tok::Comment { .. } => continue,
                Tok::Str { closed: false } if t.span.end == offset_u => return None,
                Tok::Ident(_) if t.span.end >= offset_u => {
                    replace = Span::new(t.span.start as usize, offset);
                    continue;
                }
                Tok::Num if t.span.end >= offset_u => return None,
                _ => before.push(i),
            }
        }
        // A line comment reaching the cursor.
        if let Some(t) = tokens.iter().take_while(|t| t.span.start < offset_u).last() {
            if t.tok == (Tok::Comment { line: true }) && t.span.end >= offset_u {
                return None;
            }
        }
        let mut stack = Vec::new();
        for &i in &before {
            match tokens[i].tok {
                Tok::Punct('(' | '[' | '{') => stack.push(i),
                Tok::Punct(')' | ']' | '}') => {
                    stack.pop();
                }
                _ => {}
            }
        }
        let decl = before.iter().rev().copied().find(|&i| {
            tokens[i].depth == 0
                && tokens[i]
                    .ident()
                    .is_some_and(|w| DECL_KEYWORDS.contains(&w) || w == "builtin")
        });
        let line = text[..offset].matches('\n').count();
        Some(CursorContext {
            a,
            file,
            m: module_of(a, file),
            text,
            tokens,
            before,
            stack,
            decl,
            line,
            replace,
        })
    }

    fn tok(&self, i: usize) -> &Token {
        &self.tokens[i]
    }

    /// The `k`-th token before the cursor counting back from 1.
    fn back(&self, k: usize) -> Option<&Token> {
        self.before
            .len()
            .checked_sub(k)
            .map(|i| &self.tokens[self.before[i]])
    }

    /// The keyword of the enclosing declaration (`step` for `builtin step`).
    fn decl_kind(&self) -> Option<&str> {
        let i = self.decl?;
        match self.tok(i).ident()? {
            "builtin" => Some("step"),
            w => Some(w),
        }
    }

    /// The name of the enclosing declaration.
    fn decl_name(&self) -> Option<&str> {
        let i = self.decl?;
        self.tokens[i + 1..]
            .iter()
            .filter(|t| !t.is_comment())
            .find_map(|t| t.ident().filter(|w| *w != "step"))
    }

    /// Tokens before the cursor after token `from`, on the cursor's line.
    fn line_tokens(&self, from: usize) -> Vec<&Token> {
        self.before
            .iter()
            .filter(|&&i| i > from && self.tok(i).line == self.line)
            .map(|&i| self.tok(i))
            .collect()
    }

    fn items(&self) -> Vec<CompletionItem> {
        // After `x.`: outputs and metric keys, or modules after `std.`.
        if let Some(items) = self.member() {
            return items;
        }
        let Some(&open) = self.stack.last() else {
            return self.top_level();
        };
        match self.tok(open).tok {
            Tok::Punct('(') => self.in_parens(open),
            Tok::Punct('[') => self.in_brackets(open),
            _ => self.in_braces(open),
        }
    }

    fn top_level(&self) -> Vec<CompletionItem> {
        let prev = self.back(1);
        if self.decl_kind() == Some("import") && prev.is_some_and(|t| t.is_word("import")) {
            return std_modules();
        }
        if prev.is_some_and(|t| {
            t.is_word("extends") || (t.is(',') && self.decl_kind() == Some("schema"))
        }) {
            return self.decls(&[DeclKind::Schema], 0);
        }
        if prev.is_some_and(|t| t.is('=')) && self.decl_kind() == Some("secret") {
            return keywords(&["k8s"]);
        }
        if prev.is_some_and(|t| t.is('=')) && self.decl_kind() == Some("config") {
            return keywords(&["k8s_configmap"]);
        }
        if prev.is_some_and(|t| t.is('=')) && self.decl_kind() == Some("volume") {
            return keywords(&["k8s_pvc"]);
        }
        if prev.is_some_and(|t| t.line == self.line) {
            return Vec::new();
        }
        keywords(DECL_KEYWORDS)
    }

    fn member(&self) -> Option<Vec<CompletionItem>> {
        if !self.back(1)?.is('.') {
            return None;
        }
        // The dotted chain before the cursor: `x.` or `x.y.`.
        let mut chain: Vec<&str> = Vec::new();
        let mut k = 2;
        while let Some(t) = self.back(k) {
            let Some(w) = t.ident() else { break };
            chain.insert(0, w);
            if self.back(k + 1).is_some_and(|t| t.is('.')) {
                k += 2;
            } else {
                break;
            }
        }
        if chain.first() == Some(&"std") {
            return Some(
                flowc_stdlib::files()
                    .iter()
                    .map(|(m, _)| {
                        item(
                            m.trim_start_matches("std."),
                            CompletionKind::Module,
                            None,
                            0,
                        )
                    })
                    .collect(),
            );
        }
        let info = self.pipeline()?;
        let node = info
            .bindings
            .get(*chain.first()?)
            .and_then(|s| s.first())
            .and_then(|s| info.nodes.get(s.node))?;
        let mut out = Vec::new();
        match chain.len() {
            1 => {
                for (name, t) in &node.outputs {
                    out.push(item(name, CompletionKind::Output, Some(t.to_string()), 0));
                }
                if let Some((_, t)) = node.outputs.first() {
                    out.extend(metric_keys(t));
                }
            }
            2 => {
                if let Some((_, t)) = node.outputs.iter().find(|(n, _)| n == chain[1]) {
                    out.extend(metric_keys(t));
                }
            }
            _ => {}
        }
        Some(out)
    }

    fn in_parens(&self, open: usize) -> Vec<CompletionItem> {
        let before_open = self
            .before
            .iter()
            .rev()
            .find(|&&i| i < open)
            .map(|&i| self.tok(i));
        let two_before = self
            .before
            .iter()
            .rev()
            .filter(|&&i| i < open)
            .nth(1)
            .map(|&i| self.tok(i));
        let after_colon = self.back(1).is_some_and(|t| t.is(':'));
        // Parameter and output lists of declarations.
        let is_decl_list = before_open.is_some_and(|t| t.tok == Tok::Arrow || t.is('>'))
            || two_before.is_some_and(|t| t.is_word("step") || t.is_word("pipeline"));
        if is_decl_list {
            return if after_colon || self.back(1).is_some_and(|t| t.is('<')) {
                self.types()
            } else {
                Vec::new()
            };
        }
        if self.decl_kind() == Some("import") {
            return self.import_names(open);
        }
        let Some(callee) = before_open.and_then(Token::ident) else {
            return Vec::new();
        };
        match callee {
            "k8s" => return keywords(&["key"]),
            "auto" => return keywords(&["min", "max"]),
            _ => {}
        }
        if self.decl_kind() != Some("pipeline") {
            return Vec::new();
        }
        let segments = self.segments(open);
        let current = segments.last().cloned().unwrap_or_default();
        match current.as_slice() {
            [] => self.arguments(callee, &segments),
            [name, colon, ..] if self.tok(*colon).is(':') => {
                let name = self.tok(*name).ident().unwrap_or_default().to_string();
                self.argument_value(callee, &name, &segments)
            }
            _ => self.values(),
        }
    }

    /// The arguments of the call opened at `open`, split at its commas: token indices.
    fn segments(&self, open: usize) -> Vec<Vec<usize>> {
        let d = self.tok(open).depth + 1;
        let mut segs: Vec<Vec<usize>> = vec![Vec::new()];
        for &i in self.before.iter().filter(|&&i| i > open) {
            let t = self.tok(i);
            if t.depth == d && t.is(',') {
                segs.push(Vec::new());
            } else if let Some(last) = segs.last_mut() {
                last.push(i);
            }
        }
        segs
    }

    fn in_brackets(&self, open: usize) -> Vec<CompletionItem> {
        // A list inside a call's argument: the argument's values (or columns).
        if let Some(&outer) = self.stack.iter().rev().nth(1) {
            if self.tok(outer).is('(') && self.decl_kind() == Some("pipeline") {
                let callee = self
                    .before
                    .iter()
                    .rev()
                    .find(|&&i| i < outer)
                    .and_then(|&i| self.tok(i).ident());
                let segments = self.segments(outer);
                if let (Some(callee), Some(seg)) = (callee, segments.last()) {
                    if let [name, colon, ..] = seg.as_slice() {
                        if self.tok(*colon).is(':') && *name < open {
                            let name = self.tok(*name).ident().unwrap_or_default().to_string();
                            return self.argument_value(callee, &name, &segments);
                        }
                    }
                }
                return self.values();
            }
        }
        // `run [...]` in a step: its inputs and outputs.
        if self.decl_kind() == Some("step") {
            return self.step_names();
        }
        if self.decl_kind() == Some("pipeline") {
            return self.values();
        }
        Vec::new()
    }

    fn in_braces(&self, open: usize) -> Vec<CompletionItem> {
        let before_open = self
            .before
            .iter()
            .rev()
            .find(|&&i| i < open)
            .map(|&i| self.tok(i));
        let prev = self.back(1);
        let at_key = prev.is_some_and(|t| t.is('{') || t.is(','));
        let after_colon = prev.is_some_and(|t| t.is(':'));
        // Records of properties.
        let in_resources = before_open.is_some_and(|t| t.is_word("resources") || t.is(':'))
            && self.stack.len() >= 2
            && self.decl_kind() != Some("schema")
            && !self.in_type_braces(open);
        if before_open.is_some_and(|t| t.is_word("resources"))
            || (in_resources && self.stack.iter().any(|&i| self.tok(i).is('(')))
        {
            return if at_key {
                RESOURCE_KEYS
                    .iter()
                    .map(|(k, d)| item(k, CompletionKind::Property, Some((*d).to_string()), 0))
                    .collect()
            } else {
                Vec::new()
            };
        }
        if before_open.is_some_and(|t| t.is_word("toleration")) {
            return if at_key {
                props_items(TOLERATION_KEYS)
            } else {
                Vec::new()
            };
        }
        if before_open.is_some_and(|t| t.is_word("node_selector")) {
            return Vec::new();
        }
        // Columns of schemas, schema variable bounds and inline schemas.
        if self.decl_kind() == Some("schema") || self.in_type_braces(open) {
            return if after_colon {
                self.types()
            } else {
                Vec::new()
            };
        }
        match self.decl_kind() {
            Some("step") => self.properties(open, true),
            Some("profile") => self.properties(open, false),
            Some("pipeline") => {
                if before_open.is_some_and(|t| t.is_word("defaults") || t.is_word("with")) {
                    self.properties(open, false)
                } else {
                    self.statements(open)
                }
            }
            _ => Vec::new(),
        }
    }

    /// Whether the braces opened at `open` hold columns of a type (`Table<{`, `T: {` in
    /// generics).
    fn in_type_braces(&self, open: usize) -> bool {
        let prev: Vec<&Token> = self
            .before
            .iter()
            .rev()
            .filter(|&&i| i < open)
            .take(2)
            .map(|&i| self.tok(i))
            .collect();
        match prev.as_slice() {
            [lt, ..] if lt.is('<') || lt.is('+') => true,
            [colon, name, ..] if colon.is(':') => {
                // `T: {` in generics sits inside `<`, not in a bracket we track: a capitalised
                // name at the top of a builtin step's signature.
                self.decl_kind() == Some("step")
                    && name
                        .ident()
                        .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_uppercase()))
                    && self.stack.len() == 1
            }
            _ => false,
        }
    }

    fn properties(&self, open: usize, is_step: bool) -> Vec<CompletionItem> {
        let line = self.line_tokens(open);
        let words: Vec<Option<&str>> = line.iter().map(|t| t.ident()).collect();
        match words.as_slice() {
            [] => {
                let props: Vec<&str> = PROPS
                    .iter()
                    .copied()
                    .filter(|p| is_step || !["image", "run", "python"].contains(p))
                    .collect();
                props_items(&props)
            }
            [Some("use"), ..] => self.decls(&[DeclKind::Profile], 0),
            [Some("mount")] => {
                self.decls(&[DeclKind::Secret, DeclKind::Config, DeclKind::Volume], 0)
            }
            [Some("mount"), Some(_)] => keywords(&["at"]),
            [Some("env"), ..] if line.iter().any(|t| t.is('=')) => {
                let mut out = self.decls(&[DeclKind::Secret, DeclKind::Config], 1);
                if is_step {
                    out.extend(self.step_names());
                }
                out
            }
            [Some("cache")] => keywords(&["on", "off", "ttl"]),
            [Some("network")] => keywords(&["on", "off"]),
            [Some("resources")] => keywords(&["auto"]),
            [Some("retries"), ..] => keywords(&["backoff", "factor", "max"]),
            _ => Vec::new(),
        }
    }

    fn statements(&self, open: usize) -> Vec<CompletionItem> {
        let line = self.line_tokens(open);
        let prev = line.last().copied();
        let first = line.first().and_then(|t| t.ident());
        let callables = || self.decls(&[DeclKind::Step, DeclKind::Pipeline], 0);
        if line.is_empty() {
            let mut out = keywords(STMT_KEYWORDS);
            out.extend(callables());
            return out;
        }
        if line.len() == 2 && line[1].is('=') && first.is_some() && first != Some("output") {
            return callables();
        }
        if first == Some("finally") && line.len() == 1 {
            return callables();
        }
        if prev.is_some_and(|t| t.is(')')) {
            return keywords(&["after", "as", "with"]);
        }
        if prev.is_some_and(|t| t.is_word("as")) {
            return self.types();
        }
        if prev.is_some_and(|t| t.is_word("after"))
            || (prev.is_some_and(|t| t.is(',')) && line.iter().any(|t| t.is_word("after")))
        {
            return self.bindings();
        }
        if first == Some("for") {
            return match line.len() {
                2 => keywords(&["in"]),
                n if n >= 4 && !prev.is_some_and(|t| t.is_word("in")) => keywords(&["parallel"]),
                _ => self.values(),
            };
        }
        if first == Some("schedule") {
            return keywords(&["timezone"]);
        }
        if first == Some("output") && line.len() == 1 {
            return self.bindings();
        }
        let mut out = self.values();
        out.extend(keywords(&["and", "or", "not"]));
        out
    }

    // -----------------------------------------------------------------------------------------
    // Lookups

    fn module(&self) -> Option<&'a crate::resolve::ModuleData> {
        self.m.map(|m| self.a.program.module(m))
    }

    /// Declarations in scope of some kinds.
    fn decls(&self, kinds: &[DeclKind], rank: u8) -> Vec<CompletionItem> {
        let Some(module) = self.module() else {
            return Vec::new();
        };
        module
            .scope
            .iter()
            .filter(|(_, e)| kinds.contains(&e.kind))
            .map(|(name, e)| self.decl_item(name, e.decl, e.kind, rank))
            .collect()
    }

    fn decl_item(&self, name: &str, d: DeclId, kind: DeclKind, rank: u8) -> CompletionItem {
        let ck = match kind {
            DeclKind::Schema => CompletionKind::Schema,
            DeclKind::Secret | DeclKind::Config | DeclKind::Volume => CompletionKind::Secret,
            DeclKind::Profile => CompletionKind::Profile,
            DeclKind::Step => CompletionKind::Step,
            DeclKind::Pipeline => CompletionKind::Pipeline,
        };
        let text = &self.a.sources().get(self.a.program.file(d.module)).text;
        let detail = match kind {
            DeclKind::Step | DeclKind::Pipeline => signature(self.a, d).map(|s| {
                let kw = if kind == DeclKind::Pipeline {
                    "pipeline"
                } else {
                    "step"
                };
                super::hover::sig_text(kw, s, text)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .replace("( ", "(")
                    .replace(", )", ")")
            }),
            _ => Some(kind.a().trim_start_matches("a ").to_string()),
        };
        let module = self.a.program.module(d.module);
        CompletionItem {
            label: name.to_string(),
            kind: ck,
            detail,
            documentation: doc_comment(&module.ast, text, self.a.program.item(d)),
            insert: None,
            rank,
        }
    }

    fn types(&self) -> Vec<CompletionItem> {
        let mut out: Vec<CompletionItem> = TYPES
            .iter()
            .map(|t| item(t, CompletionKind::Type, None, 1))
            .collect();
        out.extend(self.decls(&[DeclKind::Schema], 0));
        out
    }

    fn import_names(&self, open: usize) -> Vec<CompletionItem> {
        let Some(decl) = self.decl else {
            return Vec::new();
        };
        let source: Vec<&Token> = self
            .before
            .iter()
            .filter(|&&i| i > decl && i < open)
            .map(|&i| self.tok(i))
            .collect();
        let origin = match source.as_slice() {
            [s] if matches!(s.tok, Tok::Str { .. }) => {
                let Some(path) = string_value(&self.text[s.span.range()]) else {
                    return Vec::new();
                };
                let Origin::File(me) = &self.a.sources().get(self.file).origin else {
                    return Vec::new();
                };
                Origin::File(resolve_relative(me, &path))
            }
            // `import kfp "train.yaml" (`: the names an importer made of the foreign file.
            [k, s] if matches!(k.tok, Tok::Ident(_)) && matches!(s.tok, Tok::Str { .. }) => {
                let Some(path) = string_value(&self.text[s.span.range()]) else {
                    return Vec::new();
                };
                let Origin::File(me) = &self.a.sources().get(self.file).origin else {
                    return Vec::new();
                };
                Origin::Imported(resolve_relative(me, &path))
            }
            parts => {
                let path: String = parts
                    .iter()
                    .map(|t| match &t.tok {
                        Tok::Ident(w) => w.clone(),
                        _ => ".".to_string(),
                    })
                    .collect();
                Origin::Std(path)
            }
        };
        let Some(file) = self.a.sources().find(&origin) else {
            return Vec::new();
        };
        let Some(m) = module_of(self.a, file) else {
            return Vec::new();
        };
        let module = self.a.program.module(m);
        let mut out = Vec::new();
        for (i, it) in module.ast.items.iter().enumerate() {
            let Some(name) = it.name() else { continue };
            let kind = match it {
                Item::Schema(_) => DeclKind::Schema,
                Item::Secret(s) if s.kind == SecretKind::Config => DeclKind::Config,
                Item::Secret(s) if s.kind == SecretKind::Volume => DeclKind::Volume,
                Item::Secret(_) => DeclKind::Secret,
                Item::Profile(_) => DeclKind::Profile,
                Item::Step(_) => DeclKind::Step,
                _ => DeclKind::Pipeline,
            };
            let d = DeclId {
                module: m,
                item: i as u32,
            };
            out.push(self.decl_item(&name.name, d, kind, 0));
        }
        out
    }

    /// The checked pipeline the cursor is in.
    fn pipeline(&self) -> Option<&'a PipelineInfo> {
        if self.decl_kind() != Some("pipeline") {
            return None;
        }
        let e = self.module()?.scope.get(self.decl_name()?)?;
        if e.kind != DeclKind::Pipeline || Some(e.decl.module) != self.m {
            return None;
        }
        self.a.checked.pipelines.get(&e.decl)
    }

    /// The parameters and outputs of the step the cursor is in.
    fn step_names(&self) -> Vec<CompletionItem> {
        let Some(e) = self.decl_name().and_then(|n| self.module()?.scope.get(n)) else {
            return Vec::new();
        };
        let Some(sig) = self.a.checked.steps.get(&e.decl) else {
            return Vec::new();
        };
        let mut out: Vec<CompletionItem> = sig
            .params
            .iter()
            .map(|p| item(&p.name, CompletionKind::Value, Some(p.ty.to_string()), 0))
            .collect();
        out.extend(
            sig.outputs
                .iter()
                .map(|p| item(&p.name, CompletionKind::Output, Some(p.ty.to_string()), 0)),
        );
        out
    }

    /// Bound names of the pipeline: from the analysis (with types) and from the text.
    fn bindings(&self) -> Vec<CompletionItem> {
        let mut out = Vec::new();
        if let Some(info) = self.pipeline() {
            for (name, sites) in &info.bindings {
                let t = sites
                    .first()
                    .and_then(|s| info.nodes.get(s.node))
                    .and_then(|n| n.outputs.first())
                    .map(|(_, t)| t.to_string());
                out.push(item(name, CompletionKind::Value, t, 0));
            }
        }
        // Names bound in the text (`name = callee(`), for what the analysis has not seen.
        if let Some(decl) = self.decl {
            let end = self.tokens[decl + 1..]
                .iter()
                .position(|t| t.depth == 0 && t.ident().is_some_and(|w| DECL_KEYWORDS.contains(&w)))
                .map_or(self.tokens.len(), |p| decl + 1 + p);
            let toks: Vec<&Token> = self.tokens[decl..end]
                .iter()
                .filter(|t| !t.is_comment())
                .collect();
            for w in toks.windows(4) {
                if let (Some(name), true, Some(_), true) =
                    (w[0].ident(), w[1].is('='), w[2].ident(), w[3].is('('))
                {
                    if w[0].depth > 0 && !out.iter().any(|i| i.label == name) {
                        out.push(item(name, CompletionKind::Value, None, 0));
                    }
                }
            }
        }
        out
    }

    /// Values in scope: loop variables, parameters, bindings, literals.
    fn values(&self) -> Vec<CompletionItem> {
        let mut out = Vec::new();
        let info = self.pipeline();
        for v in self.loop_vars() {
            let t = info
                .and_then(|i| i.loops.iter().find(|l| l.var.name == v))
                .and_then(|l| l.elem.as_ref())
                .map(Ty::to_string);
            out.push(item(&v, CompletionKind::Value, t, 0));
        }
        if let Some(info) = info {
            for p in &info.sig.params {
                out.push(item(
                    &p.name,
                    CompletionKind::Value,
                    Some(p.ty.to_string()),
                    0,
                ));
            }
        } else if let Some(decl) = self.decl {
            // The pipeline is not in the analysis: its parameters as written (`name:` inside
            // the parentheses after its name).
            let toks: Vec<&Token> = self.tokens[decl..]
                .iter()
                .filter(|t| !t.is_comment())
                .skip_while(|t| !t.is('('))
                .skip(1)
                .take_while(|t| t.depth > 0)
                .collect();
            for w in toks.windows(2) {
                if let (Some(name), true) = (w[0].ident(), w[1].is(':')) {
                    if w[0].depth == 1 {
                        out.push(item(name, CompletionKind::Value, None, 0));
                    }
                }
            }
        }
        out.extend(self.bindings());
        out.extend(keywords(&["true", "false", "none"]));
        out
    }

    /// Variables of the `for` loops around the cursor, from the text.
    fn loop_vars(&self) -> Vec<String> {
        let mut out = Vec::new();
        for &open in &self.stack {
            // `for x in ... {`: find `for` on the tokens before the brace at the same depth.
            let d = self.tok(open).depth;
            let stmt: Vec<&Token> = self
                .before
                .iter()
                .rev()
                .filter(|&&i| i < open)
                .map(|&i| self.tok(i))
                .take_while(|t| t.depth >= d && !(t.depth == d && (t.is('{') || t.is('}'))))
                .collect();
            if let Some(pos) = stmt.iter().rposition(|t| t.is_word("for") && t.depth == d) {
                if let Some(v) = pos.checked_sub(1).and_then(|p| stmt[p].ident()) {
                    out.push(v.to_string());
                }
            }
        }
        out
    }

    fn arguments(&self, callee: &str, segments: &[Vec<usize>]) -> Vec<CompletionItem> {
        let given: Vec<&str> = segments
            .iter()
            .filter_map(|s| match s.as_slice() {
                [n, c, ..] if self.tok(*c).is(':') => self.tok(*n).ident(),
                _ => None,
            })
            .collect();
        let Some(sig) = self.callee_sig(callee) else {
            return Vec::new();
        };
        let text = &self
            .a
            .sources()
            .get(self.a.program.file(sig.decl.module))
            .text;
        sig.params
            .iter()
            .filter(|p| !given.contains(&p.name.as_str()))
            .map(|p| CompletionItem {
                label: p.name.clone(),
                kind: CompletionKind::Argument,
                detail: Some(
                    p.default
                        .as_ref()
                        .and_then(|d| text.get(d.span.range()))
                        .map_or(p.ty.to_string(), |d| format!("{} = {d}", p.ty)),
                ),
                documentation: None,
                insert: Some(format!("{}: ", p.name)),
                rank: if p.is_required() { 0 } else { 1 },
            })
            .collect()
    }

    fn callee_sig(&self, callee: &str) -> Option<&'a crate::check::StepSig> {
        let e = self.module()?.scope.get(callee)?;
        signature(self.a, e.decl)
    }

    fn argument_value(
        &self,
        callee: &str,
        arg: &str,
        segments: &[Vec<usize>],
    ) -> Vec<CompletionItem> {
        let Some(sig) = self.callee_sig(callee) else {
            return self.values();
        };
        let Some(p) = sig.params.iter().find(|p| p.name == arg) else {
            return self.values();
        };
        let var = match p.ty.strip_optional() {
            Ty::Columns(v) | Ty::Column(v) => v.clone(),
            _ => return self.values(),
        };
        // The table bound to `var`: the argument of a parameter `Table<var>`, or the parameter
        // `var` itself.
        let mut schema: Option<Schema> = None;
        for q in &sig.params {
            if !(binds(&q.ty, &var) || q.name == var) {
                continue;
            }
            let value = segments.iter().find_map(|s| match s.as_slice() {
                [n, c, rest @ ..] if self.tok(*c).is(':') && self.tok(*n).is_word(&q.name) => {
                    Some(rest.to_vec())
                }
                _ => None,
            });
            if let Some(value) = value {
                if let Some(t) = self.value_type(&value) {
                    schema = table_schema(&t).cloned();
                }
            }
            if schema.is_some() {
                break;
            }
        }
        let Some(schema) = schema else {
            return Vec::new();
        };
        schema
            .columns
            .iter()
            .map(|(name, c)| {
                let t = format!("{}{}", c.ty.as_str(), if c.nullable { "?" } else { "" });
                item(name, CompletionKind::Column, Some(t), 0)
            })
            .collect()
    }

    /// The type of a value written as `x` or `x.out`, in the pipeline around the cursor.
    fn value_type(&self, toks: &[usize]) -> Option<Ty> {
        let info = self.pipeline()?;
        let first = self.tok(*toks.first()?).ident()?;
        let member = match toks {
            [_, dot, m, ..] if self.tok(*dot).is('.') => self.tok(*m).ident(),
            _ => None,
        };
        if let Some(l) = info.loops.iter().find(|l| l.var.name == first) {
            return l.elem.clone();
        }
        if let Some(p) = info.sig.params.iter().find(|p| p.name == first) {
            return Some(p.ty.clone());
        }
        let node = info.nodes.get(info.bindings.get(first)?.first()?.node)?;
        match member.and_then(|m| node.outputs.iter().find(|(n, _)| n == m)) {
            Some((_, t)) => Some(t.clone()),
            None => node.outputs.first().map(|(_, t)| t.clone()),
        }
    }
}

/// Whether a parameter type binds schema variable `var` (`Table<T>`, `List<Table<T>>` ...).
fn binds(t: &Ty, var: &str) -> bool {
    match t {
        Ty::Table(tpl) => {
            matches!(tpl.terms.as_slice(), [TplTerm::Var { name, projection: None }] if name == var)
        }
        Ty::List(i) | Ty::Optional(i) => binds(i, var),
        _ => false,
    }
}

fn item(label: &str, kind: CompletionKind, detail: Option<String>, rank: u8) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind,
        detail,
        documentation: None,
        insert: None,
        rank,
    }
}

fn keywords(words: &[&str]) -> Vec<CompletionItem> {
    words
        .iter()
        .map(|w| item(w, CompletionKind::Keyword, None, 2))
        .collect()
}

fn props_items(words: &[&str]) -> Vec<CompletionItem> {
    words
        .iter()
        .map(|w| item(w, CompletionKind::Property, None, 0))
        .collect()
}

/// What follows `import `: the standard-library modules, and `kfp`, the kind of a Kubeflow
/// component file (`import kfp "train.yaml" (train)`).
fn std_modules() -> Vec<CompletionItem> {
    let mut out: Vec<CompletionItem> = flowc_stdlib::files()
        .iter()
        .map(|(m, _)| item(m, CompletionKind::Module, None, 0))
        .collect();
    out.push(item(
        "kfp",
        CompletionKind::Keyword,
        Some("a Kubeflow component file or compiled pipeline".to_string()),
        1,
    ));
    out
}

fn metric_keys(t: &Ty) -> Vec<CompletionItem> {
    match t.strip_optional() {
        Ty::Metrics(Some(s)) => s
            .columns
            .iter()
            .map(|(k, c)| {
                item(
                    k,
                    CompletionKind::Output,
                    Some(c.ty.as_str().to_string()),
                    1,
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_util::fixture;

    /// The labels proposed at `$0` in `current`, with names looked up in an analysis of
    /// `good` (the last text without syntax errors, as the language server does).
    fn labels_in(good: &str, current: &str) -> Vec<String> {
        let (a, file, _) = fixture(&[("main.flow", good)]);
        let offset = current.find("$0").expect("a cursor") as u32;
        let text = current.replace("$0", "");
        completions_in(&a, file, &text, offset)
            .items
            .into_iter()
            .map(|i| i.label)
            .collect()
    }

    fn labels(src: &str) -> Vec<String> {
        labels_in(&src.replace("$0", ""), src)
    }

    fn has(got: &[String], expect: &[&str]) {
        for e in expect {
            assert!(got.iter().any(|g| g == e), "missing {e:?} in {got:?}");
        }
    }

    fn lacks(got: &[String], absent: &[&str]) {
        for e in absent {
            assert!(!got.iter().any(|g| g == e), "unexpected {e:?} in {got:?}");
        }
    }

    const GOOD: &str = "import std.synth (panel, targets)\nimport std.survey (rake)\n\npipeline p(day: Date, seed: Int) {\n  sample = panel(n: 10, seed: seed, day: day)\n  population = targets(seed: seed)\n  w = rake(panel: sample, targets: population, by: [sex])\n}\n";

    /// `GOOD` with `line` typed after the bindings.
    fn typing(line: &str) -> String {
        GOOD.replace(
            "  w = rake(panel: sample, targets: population, by: [sex])\n",
            &format!("  w = rake(panel: sample, targets: population, by: [sex])\n  {line}\n"),
        )
    }

    #[test]
    fn configs_beside_secrets_and_the_network_switch() {
        let src = "secret token = k8s(\"api\", key: \"t\")\nconfig krb5 = k8s_configmap(\"kerberos\", key: \"krb5.conf\")\n\nstep s() -> (o: File) {\n  image \"busybox:1.36\"\n  run [\"touch\", o]\n  $0\n}\n";
        let at = |typed: &str| labels_in(&src.replace("$0", ""), &src.replace("$0", typed));
        has(&at("mount $0"), &["token", "krb5"]);
        has(&at("env A = $0"), &["token", "krb5"]);
        has(&at("network $0"), &["on", "off"]);
        has(&at("$0"), &["network", "mount"]);
        has(&labels("config c = $0"), &["k8s_configmap"]);
        lacks(&labels("config c = $0"), &["k8s"]);
        has(&labels("$0"), &["config", "secret"]);
    }

    #[test]
    fn settings_of_one_call() {
        let after = labels_in(GOOD, &typing("x = targets(seed: seed) $0"));
        has(&after, &["after", "as", "with"]);
        let inside = labels_in(GOOD, &typing("x = targets(seed: seed) with {\n    $0"));
        has(&inside, &["retries", "resources", "cache", "use"]);
        lacks(&inside, &["image", "run", "check"]);
    }

    #[test]
    fn arguments_of_a_call_being_typed() {
        let current = typing("x = rake(panel: sample, $0");
        let got = labels_in(GOOD, &current);
        has(&got, &["targets", "by", "cap"]);
        lacks(&got, &["panel"]);
        let (a, file, _) = fixture(&[("main.flow", GOOD)]);
        let offset = current.find("$0").unwrap() as u32;
        let c = completions_in(&a, file, &current.replace("$0", ""), offset);
        let by = c.items.iter().find(|i| i.label == "by").unwrap();
        assert_eq!(by.insert.as_deref(), Some("by: "));
        assert_eq!(by.detail.as_deref(), Some("Columns<T>"));
        // Required parameters come first.
        assert_eq!(c.items[0].label, "by");
    }

    #[test]
    fn columns_where_a_column_is_expected() {
        let current = typing("x = rake(panel: sample, targets: population, by: [sex, ag$0");
        let got = labels_in(GOOD, &current);
        has(&got, &["age_group", "region", "education"]);
        lacks(&got, &["seed", "sample"]);
        let (a, file, _) = fixture(&[("main.flow", GOOD)]);
        let offset = current.find("$0").unwrap() as u32;
        let text = current.replace("$0", "");
        let c = completions_in(&a, file, &text, offset);
        assert_eq!(&text[c.replace.range()], "ag");
        // A single column, outside a list; the table is a member of a binding.
        let single = typing("x = rake(panel: w.weights, targets: population, base_weight: $0");
        has(&labels_in(GOOD, &single), &["weight", "panelist_id"]);
    }

    #[test]
    fn values_steps_and_statement_keywords() {
        let got = labels_in(GOOD, &typing("x = targets(seed: $0"));
        has(&got, &["seed", "day", "sample", "w", "true"]);
        let stmt = labels(&typing("$0"));
        has(&stmt, &["rake", "panel", "check", "for", "output"]);
        let bind = labels_in(GOOD, &typing("x = ra$0"));
        has(&bind, &["rake"]);
        lacks(&bind, &["check"]);
        let fresh = labels("pipeline q(a: Int, b: Str) {\n  x = targets(seed: $0");
        has(&fresh, &["a", "b"]);
        let looped = labels_in(
            GOOD,
            &typing("for region in [\"a\"] {\n    y = targets(seed: $0"),
        );
        has(&looped, &["region", "seed"]);
    }

    #[test]
    fn members_of_a_binding() {
        has(
            &labels_in(GOOD, &typing("check w.report.$0")),
            &["converged", "iterations"],
        );
        has(
            &labels_in(GOOD, &typing("check w.$0")),
            &["weights", "report"],
        );
    }

    #[test]
    fn top_level_imports_properties_and_types() {
        has(&labels("$0"), &["import", "pipeline", "step"]);
        has(&labels("import $0"), &["std.survey", "std.io", "kfp"]);
        has(
            &labels_in("import std.survey (rake)\n", "import std.survey ($0"),
            &["rake", "Target", "fuse"],
        );
        has(&labels("import std.$0"), &["survey"]);
        let good = "profile small { retries 1 }\nstep s(x: Str) -> (o: File) {\n  image \"busybox:1.36\"\n}\n";
        has(
            &labels_in(good, &good.replace("x: Str", "x: $0")),
            &["Str", "Table", "File"],
        );
        let body = good.replace("  image", "  $0\n  image");
        has(&labels(&body), &["run", "resources", "use"]);
        has(&labels(&body.replace("  $0", "  use $0")), &["small"]);
        has(
            &labels(&body.replace("  $0", "  resources { cpu: 1, $0 }")),
            &["memory", "gpu"],
        );
        has(&labels(&body.replace("  $0", "  run [$0]")), &["x", "o"]);
    }

    #[test]
    fn nothing_in_comments_and_strings() {
        assert!(labels("// pipe$0").is_empty());
        assert!(labels("step s() { image \"bus$0").is_empty());
        assert!(labels("/* $0 */").is_empty());
        // The string's end is the lexer's: `\"` does not close it.
        assert!(labels("step s() { image \"a\\\"$0").is_empty());
    }

    #[test]
    fn any_offset_of_any_text_is_safe() {
        let texts = [
            "pipeline p( {\n  x = rake(panel: [\"é\", \u{1F600} ",
            "}}}))]]]  ((([[[{{{",
            "import \"./nowhere.flow\" (",
            "step s<T: {",
            GOOD,
        ];
        let (a, file, _) = fixture(&[("main.flow", GOOD)]);
        for t in texts {
            for off in 0..=t.len() as u32 + 2 {
                let _ = completions_in(&a, file, t, off);
            }
        }
    }
}
