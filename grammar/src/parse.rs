//! `parse(&str) -> Parse`: the entry point that never fails.
//!
//! The file is cut into declarations by [`crate::split`]. Each declaration is parsed by the
//! hand-written parser ([`crate::hand`]), which builds [`crate::ast`] nodes directly; when it
//! cannot parse one, pest parses it with the `item_eoi` rule of `flow.pest` and the pest tree
//! is lowered into the same nodes, or, when pest fails too, the declaration becomes
//! [`Item::Error`] plus one [`SyntaxError`] worded from pest's failure. The others are
//! unaffected. Both parsers follow the one grammar, so the tree is the same whichever made it
//! (the equivalence tests in `tests/parse_equivalence.rs` hold them to that).

use std::sync::Arc;

use pest::iterators::Pair;
use pest::Parser as _;

use crate::ast::*;
use crate::expect::describe_failure;
use crate::hand;
use crate::lexer::unescape;
use crate::rules::{FlowParser, Rule};
use crate::span::{trimmed_span, Span};
use crate::split::{split, Problem, MAX_DEPTH};

/// The result of parsing: a tree (always) and the syntax errors (possibly none).
#[derive(Clone, Debug, Default)]
pub struct Parse {
    /// The syntax tree; broken declarations are [`Item::Error`].
    pub module: Module,
    /// Syntax errors in source order.
    pub errors: Vec<SyntaxError>,
}

/// What went wrong, for choosing a diagnostic code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntaxErrorKind {
    /// A token that does not fit where it is.
    Unexpected,
    /// An opening delimiter never closed.
    Unclosed,
    /// A closing delimiter without its opening one.
    Unmatched,
    /// A string or block comment with no end.
    Unterminated,
    /// Nesting deeper than the parser accepts.
    TooDeep,
    /// A number that does not fit.
    NumberOutOfRange,
}

/// A syntax error: a location, a message in words, and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// The kind, which selects the diagnostic code.
    pub kind: SyntaxErrorKind,
    /// Where the error is.
    pub span: Span,
    /// The message, in words (never pest's rule names).
    pub message: String,
    /// A label for the location.
    pub label: String,
    /// A secondary location and its label (e.g. the opening brace of an unclosed block).
    pub related: Option<(Span, String)>,
}

/// Which parser reads the declarations: for the equivalence tests and benchmarks, which set
/// the two parsers side by side. [`parse`] is [`Engine::Both`].
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The hand-written parser, and pest for the declarations it cannot parse.
    Both,
    /// pest alone.
    Pest,
    /// The hand-written parser alone: a declaration it cannot parse becomes [`Item::Error`]
    /// with one [`SyntaxError`] whose message is [`HAND_DECLINED`].
    Hand,
}

/// The message of [`Engine::Hand`]'s error for a declaration the hand parser did not parse.
#[doc(hidden)]
pub const HAND_DECLINED: &str = "the hand-written parser declined this declaration";

/// Parses a whole `.flow` file. Never panics and never fails.
pub fn parse(text: &str) -> Parse {
    parse_with(text, Engine::Both)
}

/// Parses a whole `.flow` file with the given parser(s); see [`Engine`].
#[doc(hidden)]
pub fn parse_with(text: &str, engine: Engine) -> Parse {
    let split = split(text);
    // (end, start) of each comment, sorted by end, to trim trailing trivia off node spans.
    let mut comment_starts: Vec<(u32, u32)> = split
        .comments
        .iter()
        .map(|c| (c.span.end, c.span.start))
        .collect();
    comment_starts.sort_unstable();
    let mut out = Parse {
        module: Module {
            items: Vec::with_capacity(split.chunks.len()),
            comments: split.comments,
            build_refs: Vec::new(),
        },
        errors: Vec::new(),
    };
    for chunk in split.chunks {
        if let Some(problem) = chunk.problem {
            out.errors.push(problem_error(problem));
            out.module
                .items
                .push(Item::Error(trimmed(text, chunk.span)));
            continue;
        }
        if engine != Engine::Pest {
            if let Some(decl) = hand::parse_decl(text, &comment_starts, chunk.span) {
                out.errors
                    .extend(decl.number_errors.into_iter().map(number_error));
                out.module.build_refs.extend(decl.build_refs);
                out.module.items.extend(decl.item);
                continue;
            }
            if engine == Engine::Hand {
                let span = trimmed(text, chunk.span);
                out.errors.push(SyntaxError {
                    kind: SyntaxErrorKind::Unexpected,
                    span,
                    message: HAND_DECLINED.into(),
                    label: String::new(),
                    related: None,
                });
                out.module.items.push(Item::Error(span));
                continue;
            }
        }
        let src = &text[chunk.span.range()];
        match FlowParser::parse(Rule::item_eoi, src).or_else(|_| parse_with_detail(src)) {
            Ok(mut pairs) => {
                let mut lower = Lower {
                    base: chunk.span.start as usize,
                    errors: &mut out.errors,
                    build_refs: &mut out.module.build_refs,
                    text,
                    comment_starts: &comment_starts,
                };
                let Some(top) = pairs.next() else { continue };
                for pair in top.into_inner() {
                    if pair.as_rule() == Rule::EOI {
                        continue;
                    }
                    let item = lower.item(pair);
                    out.module.items.push(item);
                }
            }
            Err(err) => {
                let (offset, message, label) = describe_failure(src, &err);
                let mut at = chunk.span.start as usize + offset;
                // At the end of a declaration, point at its last character (an empty span at
                // the end of a file cannot be drawn).
                let chunk_end = chunk.span.end as usize;
                if text[at.min(chunk_end)..chunk_end].trim().is_empty() {
                    if let Some((i, c)) = text[..at.min(text.len())]
                        .char_indices()
                        .rev()
                        .find(|(_, c)| !c.is_whitespace())
                    {
                        at = i;
                        let _ = c;
                    }
                }
                let end = next_token_end(text, at);
                out.errors.push(SyntaxError {
                    kind: SyntaxErrorKind::Unexpected,
                    span: Span::new(at, end),
                    message,
                    label,
                    related: None,
                });
                out.module
                    .items
                    .push(Item::Error(trimmed(text, chunk.span)));
            }
        }
    }
    out
}

/// Parses again with pest's error detail on, to word the error well. Tracking the detail slows
/// every parse down, so it is only switched on for declarations that failed. The switch is
/// process-wide: a lock keeps two detailed parses from switching it off under each other (a
/// plain parse that sees it on is only slower).
fn parse_with_detail(
    src: &str,
) -> Result<pest::iterators::Pairs<'_, Rule>, pest::error::Error<Rule>> {
    static DETAIL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = DETAIL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    pest::set_error_detail(true);
    let result = FlowParser::parse(Rule::item_eoi, src);
    pest::set_error_detail(false);
    result
}

/// Shrinks a chunk span to exclude trailing whitespace.
fn trimmed(text: &str, span: Span) -> Span {
    let s = &text[span.range()];
    let lead = s.len() - s.trim_start().len();
    Span::new(
        span.start as usize + lead,
        span.start as usize + s.trim_end().len().max(lead),
    )
}

/// The end of the token starting at `at`, for underlining it.
fn next_token_end(text: &str, at: usize) -> usize {
    let rest = &text[at.min(text.len())..];
    let mut chars = rest.char_indices();
    match chars.next() {
        None => at,
        Some((_, c)) if c.is_alphanumeric() || c == '_' => {
            at + rest
                .char_indices()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
                .map_or(rest.len(), |(i, _)| i)
        }
        Some((_, c)) => at + c.len_utf8(),
    }
}

fn problem_error(p: Problem) -> SyntaxError {
    match p {
        Problem::UnterminatedString(span) => SyntaxError {
            kind: SyntaxErrorKind::Unterminated,
            span,
            message: "unterminated string".into(),
            label: "this string has no closing `\"` on its line".into(),
            related: None,
        },
        Problem::UnterminatedComment(span) => SyntaxError {
            kind: SyntaxErrorKind::Unterminated,
            span,
            message: "unterminated block comment".into(),
            label: "this `/*` has no closing `*/`".into(),
            related: None,
        },
        Problem::Unclosed { open, delim } => SyntaxError {
            kind: SyntaxErrorKind::Unclosed,
            span: open,
            message: format!("this `{delim}` is never closed"),
            label: format!("unclosed `{delim}`"),
            related: None,
        },
        Problem::Unmatched {
            close,
            delim,
            expected,
            open,
        } => SyntaxError {
            kind: SyntaxErrorKind::Unmatched,
            span: close,
            message: match expected {
                Some(e) => format!("mismatched closing delimiter: expected `{e}`, found `{delim}`"),
                None => format!("unexpected closing delimiter `{delim}`"),
            },
            label: match expected {
                Some(e) => format!("expected `{e}` here"),
                None => "nothing is open here".into(),
            },
            related: open.map(|(span, d)| (span, format!("this `{d}` is still open"))),
        },
        Problem::TooDeep(span) => SyntaxError {
            kind: SyntaxErrorKind::TooDeep,
            span,
            message: format!("brackets are nested more than {MAX_DEPTH} levels deep"),
            label: "nesting limit reached here".into(),
            related: None,
        },
    }
}

/// The error of a number that does not fit (the tree is still built, with the number's value 0
/// or infinite).
fn number_error(span: Span) -> SyntaxError {
    SyntaxError {
        kind: SyntaxErrorKind::NumberOutOfRange,
        span,
        message: "number out of range".into(),
        label: "this does not fit in a 64-bit integer".into(),
        related: None,
    }
}

/// Lowers pest pairs of one chunk into AST nodes.
struct Lower<'e> {
    base: usize,
    errors: &'e mut Vec<SyntaxError>,
    build_refs: &'e mut Vec<Ident>,
    text: &'e str,
    comment_starts: &'e [(u32, u32)],
}

impl Lower<'_> {
    /// The span of a pair, trimmed ([`trimmed_span`]).
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        trimmed_span(
            self.text,
            self.comment_starts,
            self.base + s.start(),
            self.base + s.end(),
        )
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Item {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::import_decl => Item::Import(self.import(pair)),
            Rule::schema_decl => Item::Schema(self.schema(pair)),
            Rule::secret_decl => Item::Secret(self.secret(pair, SecretKind::Secret)),
            Rule::config_decl => Item::Secret(self.secret(pair, SecretKind::Config)),
            Rule::volume_decl => Item::Secret(self.secret(pair, SecretKind::Volume)),
            Rule::build_decl => match self.params(pair).pop() {
                Some(var) => Item::Build(BuildVar { span, var }),
                None => Item::Error(span),
            },
            Rule::profile_decl => {
                let mut inner = pair.into_inner();
                let name = inner.next().map(|p| self.ident(p));
                let props = inner.next().map(|p| self.props(p)).unwrap_or_default();
                match name {
                    Some(name) => Item::Profile(Profile { span, name, props }),
                    None => Item::Error(span),
                }
            }
            Rule::step_decl | Rule::builtin_decl => Item::Step(self.step(pair)),
            Rule::pipeline_decl => Item::Pipeline(self.pipeline(pair)),
            _ => Item::Error(span),
        }
    }

    fn import(&mut self, pair: Pair<'_, Rule>) -> Import {
        let span = self.span(&pair);
        let mut source = None;
        let mut kind = None;
        let mut names = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::import_kind => kind = p.into_inner().next().map(|p| self.ident(p)),
                Rule::module_path => {
                    source = Some(ImportSource::Module {
                        path: p.as_str().to_string(),
                        span: self.span(&p),
                    })
                }
                Rule::string => source = Some(ImportSource::File(self.string(p))),
                Rule::import_name => {
                    let mut i = p.into_inner();
                    if let Some(name) = i.next().map(|p| self.ident(p)) {
                        let alias = i.next().map(|p| self.ident(p));
                        names.push(ImportName { name, alias });
                    }
                }
                _ => {}
            }
        }
        Import {
            span,
            kind,
            source: source.unwrap_or(ImportSource::Module {
                path: String::new(),
                span,
            }),
            names,
        }
    }

    fn schema(&mut self, pair: Pair<'_, Rule>) -> Schema {
        let span = self.span(&pair);
        let mut name = None;
        let mut extends = Vec::new();
        let mut columns = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::extends => extends = p.into_inner().map(|p| self.ident(p)).collect(),
                Rule::schema_body => columns = self.columns(p),
                _ => {}
            }
        }
        Schema {
            span,
            name: name.unwrap_or(Ident {
                name: String::new(),
                span,
            }),
            extends,
            columns,
        }
    }

    fn columns(&mut self, body: Pair<'_, Rule>) -> Vec<Column> {
        body.into_inner()
            .filter(|p| p.as_rule() == Rule::column)
            .filter_map(|p| {
                let span = self.span(&p);
                let mut i = p.into_inner();
                let name = self.ident(i.next()?);
                let ty = self.type_expr(i.next()?);
                Some(Column { span, name, ty })
            })
            .collect()
    }

    fn secret(&mut self, pair: Pair<'_, Rule>, kind: SecretKind) -> Secret {
        let span = self.span(&pair);
        let mut i = pair.into_inner();
        let name = i.next().map(|p| self.ident(p));
        let mut k8s_name = None;
        let mut key = None;
        let mut options = Vec::new();
        let mut name_param = None;
        for p in i {
            match p.as_rule() {
                Rule::secret_param => {
                    k8s_name = Some(StrLit {
                        value: String::new(),
                        parts: StrParts::default(),
                        span: self.span(&p),
                    });
                    name_param = p.into_inner().next().map(|p| self.ident(p));
                }
                Rule::string if k8s_name.is_none() => k8s_name = Some(self.string(p)),
                Rule::string => key = Some(self.string(p)),
                Rule::field => options.extend(self.field(p)),
                _ => {}
            }
        }
        let empty = StrLit {
            value: String::new(),
            parts: StrParts::default(),
            span,
        };
        Secret {
            span,
            kind,
            name: name.unwrap_or(Ident {
                name: String::new(),
                span,
            }),
            k8s_name: k8s_name.unwrap_or_else(|| empty.clone()),
            key: key.unwrap_or(empty),
            options,
            name_param,
        }
    }

    fn step(&mut self, pair: Pair<'_, Rule>) -> Step {
        let span = self.span(&pair);
        let builtin = pair.as_rule() == Rule::builtin_decl;
        let mut step = Step {
            span,
            builtin,
            name: Ident {
                name: String::new(),
                span,
            },
            generics: Vec::new(),
            params: Vec::new(),
            outputs: Vec::new(),
            props: Vec::new(),
            body: None,
        };
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => step.name = self.ident(p),
                Rule::generics => {
                    for g in p.into_inner() {
                        let gspan = self.span(&g);
                        let mut i = g.into_inner();
                        let Some(name) = i.next().map(|p| self.ident(p)) else {
                            continue;
                        };
                        let bound = i.next().map(|b| self.columns(b)).unwrap_or_default();
                        step.generics.push(Generic {
                            span: gspan,
                            name,
                            bound,
                        });
                    }
                }
                Rule::params => step.params = self.params(p),
                Rule::outputs => {
                    step.outputs = p
                        .into_inner()
                        .filter_map(|o| {
                            let span = self.span(&o);
                            let mut i = o.into_inner();
                            let name = self.ident(i.next()?);
                            let ty = self.type_expr(i.next()?);
                            Some(OutputParam { span, name, ty })
                        })
                        .collect()
                }
                Rule::prop_block => {
                    step.body = Some(self.span(&p));
                    step.props = self.props(p);
                }
                _ => {}
            }
        }
        step
    }

    fn params(&mut self, pair: Pair<'_, Rule>) -> Vec<Param> {
        pair.into_inner()
            .filter_map(|p| {
                let span = self.span(&p);
                let mut i = p.into_inner();
                let name = self.ident(i.next()?);
                let ty = self.type_expr(i.next()?);
                let default = i.next().map(|e| Box::new(self.expr(e)));
                Some(Param {
                    span,
                    name,
                    ty,
                    default,
                })
            })
            .collect()
    }

    fn type_expr(&mut self, pair: Pair<'_, Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let mut optional = false;
        let mut kind = TypeKind::Named(Ident {
            name: String::new(),
            span,
        });
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::optional_mark => optional = true,
                Rule::named_type => {
                    if let Some(i) = p.into_inner().next() {
                        kind = TypeKind::Named(self.ident(i));
                    }
                }
                Rule::list_type => {
                    if let Some(t) = p.into_inner().next() {
                        kind = TypeKind::List(Box::new(self.type_expr(t)));
                    }
                }
                Rule::table_type => {
                    if let Some(s) = p.into_inner().next() {
                        kind = TypeKind::Table(self.schema_expr(s));
                    }
                }
                Rule::metrics_type => {
                    kind = TypeKind::Metrics(p.into_inner().next().map(|s| self.schema_expr(s)));
                }
                Rule::columns_type => {
                    if let Some(i) = p.into_inner().next() {
                        kind = TypeKind::Columns(self.ident(i));
                    }
                }
                Rule::column_type => {
                    if let Some(i) = p.into_inner().next() {
                        kind = TypeKind::Column(self.ident(i));
                    }
                }
                Rule::record_type => {
                    if let Some(body) = p.into_inner().next() {
                        kind = TypeKind::Record(self.columns(body));
                    }
                }
                _ => {}
            }
        }
        TypeExpr {
            span,
            kind,
            optional,
        }
    }

    fn schema_expr(&mut self, pair: Pair<'_, Rule>) -> SchemaExpr {
        let span = self.span(&pair);
        let terms = pair
            .into_inner()
            .filter_map(|t| {
                let tspan = self.span(&t);
                let mut kind = None;
                let mut projection = None;
                for p in t.into_inner() {
                    match p.as_rule() {
                        Rule::ident => kind = Some(SchemaTermKind::Name(self.ident(p))),
                        Rule::schema_body => kind = Some(SchemaTermKind::Inline(self.columns(p))),
                        Rule::projection => {
                            projection = p.into_inner().next().map(|i| self.ident(i))
                        }
                        _ => {}
                    }
                }
                Some(SchemaTerm {
                    span: tspan,
                    kind: kind?,
                    projection,
                })
            })
            .collect();
        SchemaExpr { span, terms }
    }

    fn props(&mut self, block: Pair<'_, Rule>) -> Vec<Prop> {
        block.into_inner().filter_map(|p| self.prop(p)).collect()
    }

    fn prop(&mut self, pair: Pair<'_, Rule>) -> Option<Prop> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut i = pair.into_inner();
        let kind = match rule {
            Rule::image_prop => PropKind::Image(self.string(i.next()?)),
            Rule::run_prop => PropKind::Run(std::sync::Arc::new(self.expr_primary(i.next()?))),
            Rule::python_prop => PropKind::Python(self.string(i.next()?)),
            Rule::use_prop => PropKind::Use(i.map(|p| self.ident(p)).collect()),
            Rule::cache_prop => {
                let c = i.next()?;
                PropKind::Cache(match c.as_rule() {
                    Rule::cache_off => CacheSetting::Off,
                    Rule::cache_on => CacheSetting::On,
                    _ => CacheSetting::Ttl(self.quantity(c.into_inner().next()?)),
                })
            }
            Rule::resources_prop => {
                let r = i.next()?;
                PropKind::Resources(match r.as_rule() {
                    Rule::record => Resources::Fixed(self.record(r)),
                    _ => {
                        let aspan = self.span(&r);
                        let bounds = r
                            .into_inner()
                            .filter_map(|b| {
                                let mut bi = b.into_inner();
                                let name = self.ident(bi.next()?);
                                let rec = self.record(bi.next()?);
                                Some((name, rec))
                            })
                            .collect();
                        Resources::Auto {
                            span: aspan,
                            bounds,
                        }
                    }
                })
            }
            Rule::retries_prop => {
                let count = self.int_lit(i.next()?);
                let (mut backoff_pair, mut within) = (None, None);
                for p in i {
                    match p.as_rule() {
                        Rule::backoff => backoff_pair = Some(p),
                        Rule::retry_within => {
                            within = p.into_inner().next().map(|q| self.quantity(q))
                        }
                        _ => {}
                    }
                }
                let backoff = backoff_pair.and_then(|b| {
                    let mut delay = None;
                    let mut factor = None;
                    let mut max = None;
                    for p in b.into_inner() {
                        match p.as_rule() {
                            Rule::quantity if delay.is_none() => delay = Some(self.quantity(p)),
                            Rule::quantity => max = Some(self.quantity(p)),
                            Rule::int | Rule::float => {
                                let s = self.span(&p);
                                factor = Some((p.as_str().parse::<f64>().unwrap_or(f64::NAN), s));
                            }
                            _ => {}
                        }
                    }
                    Some(Box::new(Backoff {
                        delay: delay?,
                        factor,
                        max,
                    }))
                });
                PropKind::Retries {
                    count,
                    backoff,
                    within,
                }
            }
            Rule::timeout_prop => PropKind::Timeout(self.quantity(i.next()?)),
            Rule::env_prop => {
                let name = self.ident(i.next()?);
                let value = self.expr(i.next()?);
                PropKind::Env { name, value }
            }
            Rule::mount_prop => {
                let secret = self.ident(i.next()?);
                let path = self.string(i.next()?);
                PropKind::Mount { secret, path }
            }
            Rule::node_selector_prop => PropKind::NodeSelector(self.record(i.next()?)),
            Rule::toleration_prop => PropKind::Toleration(self.record(i.next()?)),
            Rule::network_prop => PropKind::Network(i.next()?.as_rule() == Rule::network_on),
            _ => return None,
        };
        Some(Prop { span, kind })
    }

    fn pipeline(&mut self, pair: Pair<'_, Rule>) -> Pipeline {
        let span = self.span(&pair);
        let mut name = Ident {
            name: String::new(),
            span,
        };
        let mut params = Vec::new();
        let mut body = Block {
            span,
            stmts: Vec::new(),
        };
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = self.ident(p),
                Rule::params => params = self.params(p),
                Rule::block => body = self.block(p),
                _ => {}
            }
        }
        Pipeline {
            span,
            name,
            params,
            body,
        }
    }

    fn block(&mut self, pair: Pair<'_, Rule>) -> Block {
        let span = self.span(&pair);
        let stmts = pair.into_inner().filter_map(|s| self.stmt(s)).collect();
        Block { span, stmts }
    }

    fn stmt(&mut self, pair: Pair<'_, Rule>) -> Option<Stmt> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut i = pair.into_inner();
        let kind = match rule {
            Rule::defaults_stmt => StmtKind::Defaults(self.props(i.next()?)),
            Rule::schedule_stmt => {
                let cron = self.string(i.next()?);
                let mut timezone = None;
                let mut options = Vec::new();
                for p in i {
                    match p.as_rule() {
                        Rule::string => timezone = Some(self.string(p)),
                        Rule::schedule_block => options = self.schedule_options(p),
                        _ => {}
                    }
                }
                StmtKind::Schedule {
                    cron,
                    timezone,
                    options,
                }
            }
            Rule::parallel_stmt => StmtKind::Parallel(self.int_lit(i.next()?)),
            Rule::if_stmt => {
                let cond = self.expr(i.next()?);
                let then = self.block(i.next()?);
                let otherwise = i.next().and_then(|e| match e.as_rule() {
                    Rule::block => Some(Else::Block(self.block(e))),
                    _ => self.stmt(e).map(|s| Else::If(Box::new(s))),
                });
                StmtKind::If {
                    cond,
                    then,
                    otherwise,
                }
            }
            Rule::for_stmt => {
                let var = self.ident(i.next()?);
                let iter = self.expr(i.next()?);
                let mut parallel = None;
                let mut body = None;
                for p in i {
                    match p.as_rule() {
                        Rule::int => parallel = Some(self.int_lit(p)),
                        Rule::block => body = Some(self.block(p)),
                        _ => {}
                    }
                }
                StmtKind::For {
                    var,
                    iter,
                    parallel,
                    body: body?,
                }
            }
            Rule::check_stmt => StmtKind::Check(self.expr(i.next()?)),
            Rule::output_stmt => {
                let name = self.ident(i.next()?);
                let value = i.next().map(|e| self.expr(e));
                StmtKind::Output { name, value }
            }
            Rule::finally_stmt => StmtKind::Finally(Arc::new(self.call(i.next()?))),
            Rule::bind_stmt => {
                let name = self.ident(i.next()?);
                let call = Arc::new(self.call(i.next()?));
                StmtKind::Bind { name, call }
            }
            Rule::call_stmt => StmtKind::Call(Arc::new(self.call(i.next()?))),
            _ => return None,
        };
        Some(Stmt { span, kind })
    }

    /// The options of a `schedule { ... }` block.
    fn schedule_options(&mut self, block: Pair<'_, Rule>) -> Vec<ScheduleOption> {
        block
            .into_inner()
            .filter_map(|o| {
                let span = self.span(&o);
                let rule = o.as_rule();
                let inner = o.into_inner().next()?;
                let kind = match rule {
                    Rule::concurrency_opt => ScheduleOptionKind::Concurrency(self.ident(inner)),
                    Rule::history_opt => ScheduleOptionKind::History(self.record(inner)),
                    Rule::deadline_opt => {
                        ScheduleOptionKind::StartingDeadline(self.quantity(inner))
                    }
                    _ => return None,
                };
                Some(ScheduleOption { span, kind })
            })
            .collect()
    }

    fn call(&mut self, pair: Pair<'_, Rule>) -> Call {
        let span = self.span(&pair);
        let mut call = Call {
            span,
            callee: Ident {
                name: String::new(),
                span,
            },
            args: Vec::new(),
            cast: None,
            after: Vec::new(),
            settings: None,
        };
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => call.callee = self.ident(p),
                Rule::arg => {
                    let aspan = self.span(&p);
                    let mut i = p.into_inner();
                    if let (Some(n), Some(v)) = (i.next(), i.next()) {
                        let name = self.ident(n);
                        let value = self.expr(v);
                        call.args.push(Arg {
                            span: aspan,
                            name,
                            value,
                        });
                    }
                }
                Rule::cast => {
                    if let Some(t) = p.into_inner().next() {
                        call.cast = Some(Box::new(self.type_expr(t)));
                    }
                }
                Rule::after => call.after = p.into_inner().map(|i| self.ident(i)).collect(),
                Rule::with_block => {
                    let span = self.span(&p);
                    if let Some(block) = p.into_inner().next() {
                        call.settings = Some(Box::new(CallSettings {
                            span,
                            block: self.span(&block),
                            props: self.props(block),
                        }));
                    }
                }
                _ => {}
            }
        }
        call
    }

    fn int_lit(&mut self, pair: Pair<'_, Rule>) -> IntLit {
        let span = self.span(&pair);
        let value = match pair.as_str().parse::<i64>() {
            Ok(v) => v,
            Err(_) => {
                self.number_error(span);
                0
            }
        };
        IntLit { value, span }
    }

    fn number_error(&mut self, span: Span) {
        self.errors.push(number_error(span));
    }

    fn quantity(&mut self, pair: Pair<'_, Rule>) -> Quantity {
        let span = self.span(&pair);
        let mut i = pair.into_inner();
        let number = i.next().map(|p| p.as_str().to_string()).unwrap_or_default();
        let unit = i.next().map(|p| p.as_str().to_string()).unwrap_or_default();
        let value = number.parse::<f64>().unwrap_or(0.0);
        if !value.is_finite() {
            self.number_error(span);
        }
        Quantity {
            number,
            value,
            unit,
            span,
        }
    }

    fn string(&mut self, pair: Pair<'_, Rule>) -> StrLit {
        let span = self.span(&pair);
        let raw = pair.into_inner().next().map(|p| p.as_str()).unwrap_or("");
        let inner_start = span.start as usize + 1;
        let (value, parts) = unescape(raw, inner_start);
        let s = StrLit { value, parts, span };
        self.build_refs.extend(s.build_vars().cloned());
        s
    }

    fn record(&mut self, pair: Pair<'_, Rule>) -> Record {
        let span = self.span(&pair);
        let fields = pair.into_inner().filter_map(|f| self.field(f)).collect();
        Record { span, fields }
    }

    /// One `key: value` of a record (or of a volume's settings).
    fn field(&mut self, f: Pair<'_, Rule>) -> Option<Field> {
        let fspan = self.span(&f);
        let mut i = f.into_inner();
        let k = i.next()?;
        let (key, quoted) = if k.as_rule() == Rule::string {
            let s = self.string(k);
            (
                Ident {
                    name: s.value,
                    span: s.span,
                },
                true,
            )
        } else {
            (self.ident(k), false)
        };
        let value = self.expr(i.next()?);
        Some(Field {
            span: fspan,
            key,
            quoted,
            value,
        })
    }

    fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::expr => match pair.into_inner().next() {
                Some(p) => self.expr(p),
                None => Expr {
                    span,
                    kind: ExprKind::None,
                },
            },
            Rule::or_expr | Rule::and_expr | Rule::add_expr => {
                let mut inner = pair.into_inner();
                let Some(first) = inner.next() else {
                    return Expr {
                        span,
                        kind: ExprKind::None,
                    };
                };
                let first = self.expr(first);
                let mut rest = Vec::new();
                while let (Some(op), Some(rhs)) = (inner.next(), inner.next()) {
                    let op_span = self.span(&op);
                    let op = match op.as_str() {
                        "+" => BinOp::Add,
                        "-" => BinOp::Sub,
                        "and" => BinOp::And,
                        _ => BinOp::Or,
                    };
                    rest.push((op, op_span, self.expr(rhs)));
                }
                if rest.is_empty() {
                    first
                } else {
                    Expr {
                        span,
                        kind: ExprKind::Chain {
                            first: Box::new(first),
                            rest,
                        },
                    }
                }
            }
            Rule::not_expr => {
                let mut count = 0;
                let mut operand = None;
                for p in pair.into_inner() {
                    if p.as_rule() == Rule::not_op {
                        count += 1;
                    } else {
                        operand = Some(self.expr(p));
                    }
                }
                let operand = operand.unwrap_or(Expr {
                    span,
                    kind: ExprKind::None,
                });
                if count == 0 {
                    operand
                } else {
                    Expr {
                        span,
                        kind: ExprKind::Not {
                            count,
                            expr: Box::new(operand),
                        },
                    }
                }
            }
            Rule::cmp_expr => {
                let mut inner = pair.into_inner();
                let Some(lhs) = inner.next() else {
                    return Expr {
                        span,
                        kind: ExprKind::None,
                    };
                };
                let lhs = self.expr(lhs);
                match (inner.next(), inner.next()) {
                    (Some(op), Some(rhs)) => {
                        let op_span = self.span(&op);
                        let op = match op.as_str() {
                            "==" => CmpOp::Eq,
                            "!=" => CmpOp::Ne,
                            "<=" => CmpOp::Le,
                            ">=" => CmpOp::Ge,
                            "<" => CmpOp::Lt,
                            _ => CmpOp::Gt,
                        };
                        Expr {
                            span,
                            kind: ExprKind::Compare {
                                lhs: Box::new(lhs),
                                op,
                                op_span,
                                rhs: Box::new(self.expr(rhs)),
                            },
                        }
                    }
                    _ => lhs,
                }
            }
            _ => self.expr_primary(pair),
        }
    }

    fn func_call(&mut self, pair: Pair<'_, Rule>) -> ExprKind {
        let mut inner = pair.into_inner();
        let func = match inner.next() {
            Some(name) => self.ident(name),
            None => return ExprKind::None,
        };
        let args = inner.map(|e| self.expr(e)).collect();
        ExprKind::Call { func, args }
    }

    fn expr_primary(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::quantity => ExprKind::Quantity(self.quantity(pair)),
            Rule::int => ExprKind::Int(self.int_lit(pair).value),
            Rule::float => {
                let v = pair.as_str().parse::<f64>().unwrap_or(f64::NAN);
                if !v.is_finite() {
                    self.number_error(span);
                }
                ExprKind::Float(v)
            }
            Rule::string => ExprKind::Str(self.string(pair)),
            Rule::bool_lit => ExprKind::Bool(pair.as_str() == "true"),
            Rule::none_lit => ExprKind::None,
            Rule::list_expr => ExprKind::List(pair.into_inner().map(|e| self.expr(e)).collect()),
            Rule::record => ExprKind::Record(self.record(pair)),
            Rule::paren => match pair.into_inner().next() {
                Some(e) => ExprKind::Paren(Box::new(self.expr(e))),
                None => ExprKind::None,
            },
            Rule::path => ExprKind::Path(
                pair.into_inner()
                    .map(|i| self.ident(i))
                    .collect::<Vec<_>>()
                    .into(),
            ),
            Rule::func_call => self.func_call(pair),
            _ => return self.expr(pair),
        };
        Expr { span, kind }
    }
}
