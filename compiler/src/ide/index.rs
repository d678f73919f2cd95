//! Every name of a module with what it refers to.
//!
//! [`occurrences`] walks a module's syntax tree with the scopes built by `resolve` (declarations
//! and imported names) and, inside pipelines, the names the checker binds: parameters, `for`
//! variables and bindings, looked up in the same order as the checker (loop variables, then
//! parameters, then bindings, then declarations). Arguments name the callee's parameters;
//! `x.out` names an output of the step bound to `x`; the bare names of a `Columns<T>` argument
//! name columns of the table bound to `T`, found through the call's bindings in the checked
//! model. The result is a flat list of [`Occurrence`]s in source order, from which go to
//! definition, references, rename and hover are simple lookups.

use std::collections::HashMap;

use flowc_grammar::ast::{
    Block, Call, Else, Expr, ExprKind, Generic, Ident, ImportSource, Item, Param, Prop, PropKind,
    Resources, SchemaExpr, SchemaTermKind, Stmt, StmtKind, TypeExpr, TypeKind,
};
use flowc_grammar::Span;

use super::{module_of, NavTarget};
use crate::check::{PipelineInfo, StepSig};
use crate::resolve::{DeclId, DeclKind, ModuleId};
use crate::source::FileId;
use crate::types::{Schema, Ty};
use crate::Analysis;

/// What a name refers to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A declaration: schema, secret, profile, step or pipeline.
    Decl(DeclId),
    /// An imported name renamed with `as`, in the importing module.
    Alias {
        /// The importing module.
        module: ModuleId,
        /// The import item's index.
        item: u32,
        /// The name's index in the import.
        index: u32,
    },
    /// A parameter of a step or pipeline (index in the declaration's parameters).
    Param {
        /// The step or pipeline.
        owner: DeclId,
        /// The parameter's index as written.
        index: usize,
    },
    /// An output of a step (index in the declaration's outputs).
    Output {
        /// The step.
        owner: DeclId,
        /// The output's index as written.
        index: usize,
    },
    /// An `output` of a pipeline.
    PipelineOutput {
        /// The pipeline.
        pipeline: DeclId,
        /// The output's name.
        name: String,
    },
    /// A schema variable of a built-in step.
    Generic {
        /// The step.
        owner: DeclId,
        /// The variable's index as written.
        index: usize,
    },
    /// A column, identified by where it is declared.
    Column {
        /// The file of the declaration.
        file: FileId,
        /// The whole column declaration (`name: Type`).
        span: Span,
        /// The column's name.
        name: String,
    },
    /// A name bound to a call in a pipeline (possibly in several `if` branches).
    Binding {
        /// The pipeline.
        pipeline: DeclId,
        /// The bound name.
        name: String,
    },
    /// A `for` loop variable, identified by where it is declared.
    LoopVar {
        /// The pipeline.
        pipeline: DeclId,
        /// The variable in `for x in ...`.
        def: Span,
    },
    /// A module named by an import.
    Module(ModuleId),
}

/// How a name is written at an occurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Where the name is declared.
    Def,
    /// A use of the name.
    Use,
    /// The original name in an import (`rake` in `import std.survey (rake as r)`).
    ImportName,
    /// `output x`: both a pipeline output and a use of the binding `x`.
    OutputShorthand,
}

/// One name in the source with what it refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    /// The file.
    pub file: FileId,
    /// The name's span.
    pub span: Span,
    /// What it refers to.
    pub target: Target,
    /// How it is written.
    pub role: Role,
    /// For an output named through a binding (`weights.report`), the binding.
    pub via: Option<Target>,
}

/// Every occurrence of a name in the module of `file`, in source order.
pub fn occurrences(a: &Analysis, file: FileId) -> Vec<Occurrence> {
    match module_of(a, file) {
        Some(m) => module_occurrences(a, m),
        None => Vec::new(),
    }
}

/// Every occurrence of a name in every module of the analysis.
pub fn all_occurrences(a: &Analysis) -> Vec<Occurrence> {
    (0..a.program.modules.len())
        .flat_map(|i| module_occurrences(a, ModuleId(i as u32)))
        .collect()
}

/// The occurrence under the cursor at `offset` in `file` (a cursor just after a name counts).
pub fn at(a: &Analysis, file: FileId, offset: u32) -> Option<Occurrence> {
    let all = occurrences(a, file);
    // Prefer a name the cursor is inside over one it merely touches at an end.
    all.iter()
        .find(|o| o.span.start <= offset && offset < o.span.end)
        .or_else(|| all.iter().find(|o| o.span.contains(offset)))
        .cloned()
}

/// The declaration an alias stands for, and any target itself otherwise.
pub fn canonical(a: &Analysis, t: &Target) -> Target {
    if let Target::Alias {
        module,
        item,
        index,
    } = t
    {
        let m = a.program.module(*module);
        if let Some(Item::Import(imp)) = m.ast.items.get(*item as usize) {
            if let Some(name) = imp.names.get(*index as usize) {
                if let Some(e) = m.scope.get(&name.local().name) {
                    return Target::Decl(e.decl);
                }
            }
        }
    }
    t.clone()
}

/// Where a target is declared.
pub fn definition(a: &Analysis, t: &Target) -> Option<NavTarget> {
    let p = &a.program;
    let at_decl = |decl: DeclId, span: Span, focus: Span| NavTarget {
        file: p.file(decl.module),
        full: span,
        focus,
    };
    match t {
        Target::Decl(d) => {
            let item = p.item(*d);
            let name = item.name()?;
            Some(at_decl(*d, item.span(), name.span))
        }
        Target::Alias {
            module,
            item,
            index,
        } => {
            let Item::Import(imp) = p.module(*module).ast.items.get(*item as usize)? else {
                return None;
            };
            let n = imp.names.get(*index as usize)?;
            Some(NavTarget {
                file: p.file(*module),
                full: n.name.span.cover(n.local().span),
                focus: n.local().span,
            })
        }
        Target::Param { owner, index } => {
            let param = params_of(p.item(*owner))?.get(*index)?;
            Some(at_decl(*owner, param.span, param.name.span))
        }
        Target::Output { owner, index } => {
            let Item::Step(s) = p.item(*owner) else {
                return None;
            };
            let o = s.outputs.get(*index)?;
            Some(at_decl(*owner, o.span, o.name.span))
        }
        Target::Generic { owner, index } => {
            let Item::Step(s) = p.item(*owner) else {
                return None;
            };
            let g = s.generics.get(*index)?;
            Some(at_decl(*owner, g.span, g.name.span))
        }
        Target::PipelineOutput { pipeline, name } => {
            let Item::Pipeline(pl) = p.item(*pipeline) else {
                return None;
            };
            let stmt =
                pl.body.stmts.iter().find(
                    |s| matches!(&s.kind, StmtKind::Output { name: n, .. } if n.name == *name),
                )?;
            let StmtKind::Output { name: n, .. } = &stmt.kind else {
                return None;
            };
            Some(at_decl(*pipeline, stmt.span, n.span))
        }
        Target::Column { file, span, name } => {
            let focus = Span::new(span.start as usize, span.start as usize + name.len());
            let text = &p.sources.get(*file).text;
            let focus = if text.get(focus.range()) == Some(name.as_str()) {
                focus
            } else {
                *span
            };
            Some(NavTarget {
                file: *file,
                full: *span,
                focus,
            })
        }
        Target::Binding { pipeline, name } => {
            let Item::Pipeline(pl) = p.item(*pipeline) else {
                return None;
            };
            let mut found = None;
            visit_stmts(&pl.body, &mut |s| {
                if let StmtKind::Bind { name: n, .. } = &s.kind {
                    if n.name == *name && found.is_none() {
                        found = Some((s.span, n.span));
                    }
                }
            });
            let (full, focus) = found?;
            Some(at_decl(*pipeline, full, focus))
        }
        Target::LoopVar { pipeline, def } => Some(at_decl(*pipeline, *def, *def)),
        Target::Module(m) => Some(NavTarget {
            file: p.file(*m),
            full: Span::empty(0),
            focus: Span::empty(0),
        }),
    }
}

/// The parameters of a step or pipeline declaration.
pub(crate) fn params_of(item: &Item) -> Option<&[Param]> {
    match item {
        Item::Step(s) => Some(&s.params),
        Item::Pipeline(p) => Some(&p.params),
        _ => None,
    }
}

/// The signature of a step or pipeline, from the checked model.
pub(crate) fn signature(a: &Analysis, decl: DeclId) -> Option<&StepSig> {
    a.checked
        .steps
        .get(&decl)
        .map(|s| &**s)
        .or_else(|| a.checked.pipelines.get(&decl).map(|p| &p.sig))
}

/// Calls every statement of a block, nested ones included, in source order.
pub(crate) fn visit_stmts(block: &Block, f: &mut dyn FnMut(&Stmt)) {
    for s in &block.stmts {
        f(s);
        match &s.kind {
            StmtKind::If {
                then, otherwise, ..
            } => {
                visit_stmts(then, f);
                let mut next = otherwise.as_ref();
                while let Some(e) = next {
                    match e {
                        Else::Block(b) => {
                            visit_stmts(b, f);
                            next = None;
                        }
                        Else::If(s) => {
                            f(s);
                            if let StmtKind::If {
                                then, otherwise, ..
                            } = &s.kind
                            {
                                visit_stmts(then, f);
                                next = otherwise.as_ref();
                            } else {
                                next = None;
                            }
                        }
                    }
                }
            }
            StmtKind::For { body, .. } => visit_stmts(body, f),
            _ => {}
        }
    }
}

/// The schema of a table type, looking through lists and optionals.
pub(crate) fn table_schema(t: &Ty) -> Option<&Schema> {
    match t {
        Ty::Table(tpl) => tpl.as_fixed(),
        Ty::List(i) | Ty::Optional(i) => table_schema(i),
        _ => None,
    }
}

fn module_occurrences(a: &Analysis, m: ModuleId) -> Vec<Occurrence> {
    let module = a.program.module(m);
    let mut w = Walker {
        a,
        m,
        file: module.file,
        out: Vec::new(),
    };
    for (i, item) in module.ast.items.iter().enumerate() {
        let decl = DeclId {
            module: m,
            item: i as u32,
        };
        w.item(decl, i as u32, item);
    }
    w.out
        .sort_by_key(|o| (o.span.start, o.span.end, o.role != Role::Use));
    w.out
}

/// What names in a step's properties may refer to besides declarations.
#[derive(Clone, Copy)]
enum Owner<'a> {
    None,
    Step(DeclId, &'a flowc_grammar::ast::Step),
}

/// Names visible in a pipeline body.
struct PipeScope<'a> {
    decl: DeclId,
    params: &'a [Param],
    /// Bound names with the declaration they call, when it resolves.
    bindings: HashMap<String, Option<DeclId>>,
    /// Enclosing `for` variables, outermost first.
    loops: Vec<Ident>,
    info: Option<&'a PipelineInfo>,
}

struct Walker<'a> {
    a: &'a Analysis,
    m: ModuleId,
    file: FileId,
    out: Vec<Occurrence>,
}

impl<'a> Walker<'a> {
    fn push(&mut self, span: Span, target: Target, role: Role) {
        self.push_via(span, target, role, None);
    }

    fn push_via(&mut self, span: Span, target: Target, role: Role, via: Option<Target>) {
        if span.is_empty() {
            return;
        }
        self.out.push(Occurrence {
            file: self.file,
            span,
            target,
            role,
            via,
        });
    }

    /// What a name means in the module's scope.
    fn scope_target(&self, name: &str) -> Option<Target> {
        let module = self.a.program.module(self.m);
        let e = module.scope.get(name)?;
        if let Some((item, index)) = e.import {
            if let Some(Item::Import(imp)) = module.ast.items.get(item as usize) {
                if imp
                    .names
                    .get(index as usize)
                    .is_some_and(|n| n.alias.is_some())
                {
                    return Some(Target::Alias {
                        module: self.m,
                        item,
                        index,
                    });
                }
            }
        }
        Some(Target::Decl(e.decl))
    }

    /// The declaration a name in scope stands for, if it is of one of `kinds`.
    fn scope_decl(&self, name: &str, kinds: &[DeclKind]) -> Option<DeclId> {
        let e = self.a.program.module(self.m).scope.get(name)?;
        kinds.contains(&e.kind).then_some(e.decl)
    }

    fn use_scope(&mut self, id: &Ident) {
        if let Some(t) = self.scope_target(&id.name) {
            self.push(id.span, t, Role::Use);
        }
    }

    fn item(&mut self, decl: DeclId, index: u32, item: &'a Item) {
        if let Some(n) = item.name() {
            self.push(n.span, Target::Decl(decl), Role::Def);
        }
        match item {
            Item::Import(imp) => self.import(index, imp),
            Item::Schema(s) => {
                for e in &s.extends {
                    self.use_scope(e);
                }
                for c in &s.columns {
                    self.column(c);
                }
            }
            Item::Secret(_) | Item::Build(_) | Item::Error(_) => {}
            Item::Profile(p) => self.props(&p.props, Owner::None),
            Item::Step(s) => {
                for (i, g) in s.generics.iter().enumerate() {
                    self.push(
                        g.name.span,
                        Target::Generic {
                            owner: decl,
                            index: i,
                        },
                        Role::Def,
                    );
                    for c in &g.bound {
                        self.column(c);
                    }
                }
                for (i, p) in s.params.iter().enumerate() {
                    self.push(
                        p.name.span,
                        Target::Param {
                            owner: decl,
                            index: i,
                        },
                        Role::Def,
                    );
                    self.ty(&p.ty, Some((decl, &s.generics[..], &s.params[..])));
                }
                for (i, o) in s.outputs.iter().enumerate() {
                    self.push(
                        o.name.span,
                        Target::Output {
                            owner: decl,
                            index: i,
                        },
                        Role::Def,
                    );
                    self.ty(&o.ty, Some((decl, &s.generics[..], &s.params[..])));
                }
                self.props(&s.props, Owner::Step(decl, s));
            }
            Item::Pipeline(p) => self.pipeline(decl, p),
        }
    }

    fn import(&mut self, index: u32, imp: &flowc_grammar::ast::Import) {
        let module = self.a.program.module(self.m);
        let target = module.imports.get(&index).copied().flatten();
        let source_span = match &imp.source {
            ImportSource::Module { span, .. } => *span,
            ImportSource::File(s) => s.span,
        };
        let Some(target) = target else { return };
        self.push(source_span, Target::Module(target), Role::Use);
        let target_module = self.a.program.module(target);
        for (n, name) in imp.names.iter().enumerate() {
            let found = target_module
                .ast
                .items
                .iter()
                .position(|it| it.name().is_some_and(|x| x.name == name.name.name));
            if let Some(j) = found {
                self.push(
                    name.name.span,
                    Target::Decl(DeclId {
                        module: target,
                        item: j as u32,
                    }),
                    Role::ImportName,
                );
            }
            if let Some(alias) = &name.alias {
                self.push(
                    alias.span,
                    Target::Alias {
                        module: self.m,
                        item: index,
                        index: n as u32,
                    },
                    Role::Def,
                );
            }
        }
    }

    fn column(&mut self, c: &flowc_grammar::ast::Column) {
        self.push(
            c.name.span,
            Target::Column {
                file: self.file,
                span: c.span,
                name: c.name.name.clone(),
            },
            Role::Def,
        );
        self.ty(&c.ty, None);
    }

    /// Names in a written type; `sig` gives a step's schema variables and parameters.
    fn ty(&mut self, t: &TypeExpr, sig: Option<(DeclId, &[Generic], &[Param])>) {
        match &t.kind {
            TypeKind::Named(id) => self.type_name(id, sig),
            TypeKind::List(inner) => self.ty(inner, sig),
            TypeKind::Table(se) => self.schema_expr(se, sig),
            TypeKind::Metrics(se) => {
                if let Some(se) = se {
                    self.schema_expr(se, sig);
                }
            }
            TypeKind::Columns(id) | TypeKind::Column(id) => {
                if !self.generic_or_param(id, sig) {
                    self.type_name(id, sig);
                }
            }
            TypeKind::Record(cols) => cols.iter().for_each(|c| self.ty(&c.ty, sig)),
        }
    }

    /// A schema variable or a parameter of the step; false when it is neither.
    fn generic_or_param(
        &mut self,
        id: &Ident,
        sig: Option<(DeclId, &[Generic], &[Param])>,
    ) -> bool {
        let Some((owner, generics, params)) = sig else {
            return false;
        };
        if let Some(i) = generics.iter().position(|g| g.name.name == id.name) {
            self.push(id.span, Target::Generic { owner, index: i }, Role::Use);
            return true;
        }
        if let Some(i) = params.iter().position(|p| p.name.name == id.name) {
            self.push(id.span, Target::Param { owner, index: i }, Role::Use);
            return true;
        }
        false
    }

    fn type_name(&mut self, id: &Ident, sig: Option<(DeclId, &[Generic], &[Param])>) {
        if flowc_grammar::keywords::TYPES.contains(&id.name.as_str()) {
            return;
        }
        if let Some((owner, generics, _)) = sig {
            if let Some(i) = generics.iter().position(|g| g.name.name == id.name) {
                self.push(id.span, Target::Generic { owner, index: i }, Role::Use);
                return;
            }
        }
        self.use_scope(id);
    }

    fn schema_expr(&mut self, se: &SchemaExpr, sig: Option<(DeclId, &[Generic], &[Param])>) {
        for term in &se.terms {
            match &term.kind {
                SchemaTermKind::Name(id) => self.type_name(id, sig),
                SchemaTermKind::Inline(cols) => {
                    for c in cols {
                        self.column(c);
                    }
                }
            }
            if let Some(p) = &term.projection {
                self.generic_or_param(p, sig);
            }
        }
    }

    fn props(&mut self, props: &[Prop], owner: Owner<'_>) {
        for p in props {
            match &p.kind {
                PropKind::Run(e) => self.prop_expr(e, owner),
                PropKind::Use(names) => names.iter().for_each(|n| self.use_scope(n)),
                PropKind::Env { value, .. } => self.prop_expr(value, owner),
                PropKind::Mount { secret, .. } => self.use_scope(secret),
                PropKind::Resources(Resources::Fixed(_) | Resources::Auto { .. })
                | PropKind::Image(_)
                | PropKind::Python(_)
                | PropKind::Cache(_)
                | PropKind::Retries { .. }
                | PropKind::Timeout(_)
                | PropKind::NodeSelector(_)
                | PropKind::Toleration(_)
                | PropKind::Network(_) => {}
            }
        }
    }

    /// Names in `run` and `env` values: the step's parameters and outputs, or declarations.
    fn prop_expr(&mut self, e: &Expr, owner: Owner<'_>) {
        let mut names = Vec::new();
        expr_idents(e, &mut names);
        for id in names {
            if let Owner::Step(decl, step) = owner {
                if let Some(i) = step.params.iter().position(|p| p.name.name == id.name) {
                    self.push(
                        id.span,
                        Target::Param {
                            owner: decl,
                            index: i,
                        },
                        Role::Use,
                    );
                    continue;
                }
                if let Some(i) = step.outputs.iter().position(|p| p.name.name == id.name) {
                    self.push(
                        id.span,
                        Target::Output {
                            owner: decl,
                            index: i,
                        },
                        Role::Use,
                    );
                    continue;
                }
            }
            self.use_scope(&id);
        }
    }

    fn pipeline(&mut self, decl: DeclId, p: &'a flowc_grammar::ast::Pipeline) {
        for (i, param) in p.params.iter().enumerate() {
            self.push(
                param.name.span,
                Target::Param {
                    owner: decl,
                    index: i,
                },
                Role::Def,
            );
            self.ty(&param.ty, None);
        }
        let mut bindings = HashMap::new();
        visit_stmts(&p.body, &mut |s| {
            if let StmtKind::Bind { name, call } = &s.kind {
                let callee =
                    self.scope_decl(&call.callee.name, &[DeclKind::Step, DeclKind::Pipeline]);
                bindings
                    .entry(name.name.clone())
                    .and_modify(|c: &mut Option<DeclId>| {
                        if c.is_none() {
                            *c = callee;
                        }
                    })
                    .or_insert(callee);
            }
        });
        let mut scope = PipeScope {
            decl,
            params: &p.params,
            bindings,
            loops: Vec::new(),
            info: self.a.checked.pipelines.get(&decl),
        };
        self.block(&p.body, &mut scope);
    }

    fn block(&mut self, b: &Block, scope: &mut PipeScope<'_>) {
        for s in &b.stmts {
            self.stmt(s, scope);
        }
    }

    fn stmt(&mut self, s: &Stmt, scope: &mut PipeScope<'_>) {
        match &s.kind {
            StmtKind::Defaults(props) => self.props(props, Owner::None),
            StmtKind::Schedule { .. } | StmtKind::Parallel(_) => {}
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.value(cond, scope);
                self.block(then, scope);
                match otherwise {
                    Some(Else::Block(b)) => self.block(b, scope),
                    Some(Else::If(next)) => self.stmt(next, scope),
                    None => {}
                }
            }
            StmtKind::For {
                var, iter, body, ..
            } => {
                self.value(iter, scope);
                self.push(
                    var.span,
                    Target::LoopVar {
                        pipeline: scope.decl,
                        def: var.span,
                    },
                    Role::Def,
                );
                scope.loops.push(var.clone());
                self.block(body, scope);
                scope.loops.pop();
            }
            StmtKind::Check(e) => self.value(e, scope),
            StmtKind::Output { name, value } => match value {
                Some(v) => {
                    self.push(
                        name.span,
                        Target::PipelineOutput {
                            pipeline: scope.decl,
                            name: name.name.clone(),
                        },
                        Role::Def,
                    );
                    self.value(v, scope);
                }
                None => {
                    if let Some(t) = self.resolve_value(&name.name, scope) {
                        self.push(name.span, t, Role::OutputShorthand);
                    }
                    self.push(
                        name.span,
                        Target::PipelineOutput {
                            pipeline: scope.decl,
                            name: name.name.clone(),
                        },
                        Role::Def,
                    );
                }
            },
            StmtKind::Finally(call) | StmtKind::Call(call) => self.call(call, scope),
            StmtKind::Bind { name, call } => {
                self.push(
                    name.span,
                    Target::Binding {
                        pipeline: scope.decl,
                        name: name.name.clone(),
                    },
                    Role::Def,
                );
                self.call(call, scope);
            }
        }
    }

    /// A name in a pipeline expression, looked up as the checker does.
    fn resolve_value(&self, name: &str, scope: &PipeScope<'_>) -> Option<Target> {
        if let Some(v) = scope.loops.iter().rev().find(|v| v.name == name) {
            return Some(Target::LoopVar {
                pipeline: scope.decl,
                def: v.span,
            });
        }
        if let Some(i) = scope.params.iter().position(|p| p.name.name == name) {
            return Some(Target::Param {
                owner: scope.decl,
                index: i,
            });
        }
        if scope.bindings.contains_key(name) {
            return Some(Target::Binding {
                pipeline: scope.decl,
                name: name.to_string(),
            });
        }
        self.scope_target(name)
    }

    fn value(&mut self, e: &Expr, scope: &PipeScope<'_>) {
        match &e.kind {
            ExprKind::Path(path) => {
                let Some(first) = path.first() else { return };
                let Some(t) = self.resolve_value(&first.name, scope) else {
                    return;
                };
                self.push(first.span, t.clone(), Role::Use);
                // `x.out`: an output of the step or pipeline bound to `x`.
                if let (Target::Binding { name, .. }, Some(member)) = (&t, path.get(1)) {
                    if let Some(Some(callee)) = scope.bindings.get(name) {
                        if let Some(o) = self.output_target(*callee, &member.name) {
                            self.push_via(member.span, o, Role::Use, Some(t.clone()));
                        }
                    }
                }
            }
            ExprKind::Str(s) => {
                for v in s.vars() {
                    if let Some(t) = self.resolve_value(&v.name, scope) {
                        self.push(v.span, t, Role::Use);
                    }
                }
            }
            ExprKind::List(items) | ExprKind::Call { args: items, .. } => {
                items.iter().for_each(|i| self.value(i, scope))
            }
            ExprKind::Record(r) => r.fields.iter().for_each(|f| self.value(&f.value, scope)),
            ExprKind::Paren(inner) | ExprKind::Not { expr: inner, .. } => self.value(inner, scope),
            ExprKind::Chain { first, rest } => {
                self.value(first, scope);
                rest.iter().for_each(|(_, _, e)| self.value(e, scope));
            }
            ExprKind::Compare { lhs, rhs, .. } => {
                self.value(lhs, scope);
                self.value(rhs, scope);
            }
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Quantity(_)
            | ExprKind::Bool(_)
            | ExprKind::None => {}
        }
    }

    /// The output `name` of a step or pipeline.
    fn output_target(&self, callee: DeclId, name: &str) -> Option<Target> {
        match self.a.program.item(callee) {
            Item::Step(s) => s
                .outputs
                .iter()
                .position(|o| o.name.name == name)
                .map(|index| Target::Output {
                    owner: callee,
                    index,
                }),
            Item::Pipeline(p) => p
                .body
                .stmts
                .iter()
                .any(|s| matches!(&s.kind, StmtKind::Output { name: n, .. } if n.name == name))
                .then(|| Target::PipelineOutput {
                    pipeline: callee,
                    name: name.to_string(),
                }),
            _ => None,
        }
    }

    fn call(&mut self, call: &Call, scope: &PipeScope<'_>) {
        self.use_scope(&call.callee);
        let callee = self.scope_decl(&call.callee.name, &[DeclKind::Step, DeclKind::Pipeline]);
        let params = callee.and_then(|d| params_of(self.a.program.item(d)));
        let sig = callee.and_then(|d| signature(self.a, d));
        let node = scope
            .info
            .and_then(|info| info.nodes.iter().find(|n| n.call.span == call.span));
        for arg in &call.args {
            if let (Some(decl), Some(params)) = (callee, params) {
                if let Some(i) = params.iter().position(|p| p.name.name == arg.name.name) {
                    self.push(
                        arg.name.span,
                        Target::Param {
                            owner: decl,
                            index: i,
                        },
                        Role::Use,
                    );
                }
            }
            // Column-name arguments name columns of a bound table, not values.
            let column_of = sig
                .and_then(|s| s.params.iter().find(|p| p.name == arg.name.name))
                .and_then(|p| match p.ty.strip_optional() {
                    Ty::Columns(v) | Ty::Column(v) => Some(v.clone()),
                    _ => None,
                });
            if let Some(var) = column_of {
                let schema = node.and_then(|n| {
                    n.bindings
                        .as_deref()
                        .and_then(|b| b.get(&var))
                        .or_else(|| n.arg_types.get(&var).and_then(table_schema))
                });
                if let Some(schema) = schema {
                    self.column_names(&arg.value, schema);
                }
                continue;
            }
            self.value(&arg.value, scope);
        }
        if let Some(t) = &call.cast {
            self.ty(t, None);
        }
        for a in &call.after {
            if scope.bindings.contains_key(&a.name) {
                self.push(
                    a.span,
                    Target::Binding {
                        pipeline: scope.decl,
                        name: a.name.clone(),
                    },
                    Role::Use,
                );
            }
        }
    }

    /// Column names written bare or quoted in a `Columns<T>` argument.
    fn column_names(&mut self, e: &Expr, schema: &Schema) {
        let items: Vec<&Expr> = match &e.kind {
            ExprKind::List(items) => items.iter().collect(),
            _ => vec![e],
        };
        for item in items {
            let (name, span) = match &item.kind {
                ExprKind::Path(p) if p.len() == 1 => (p[0].name.clone(), p[0].span),
                ExprKind::Str(s) if s.vars().next().is_none() && s.span.len() >= 2 => (
                    s.value.clone(),
                    Span::new(s.span.start as usize + 1, s.span.end as usize - 1),
                ),
                _ => continue,
            };
            let Some(col) = schema.columns.get(&name) else {
                continue;
            };
            if let Some((file, span_decl)) = col.origin {
                self.push(
                    span,
                    Target::Column {
                        file,
                        span: span_decl,
                        name,
                    },
                    Role::Use,
                );
            }
        }
    }
}

/// Every name in an expression that could refer to something: the first name of each path and
/// each `${name}` interpolation.
fn expr_idents(e: &Expr, out: &mut Vec<Ident>) {
    match &e.kind {
        ExprKind::Path(p) => out.extend(p.first().cloned()),
        ExprKind::Str(s) => out.extend(s.vars().cloned()),
        ExprKind::List(items) | ExprKind::Call { args: items, .. } => {
            items.iter().for_each(|i| expr_idents(i, out))
        }
        ExprKind::Record(r) => r.fields.iter().for_each(|f| expr_idents(&f.value, out)),
        ExprKind::Paren(inner) | ExprKind::Not { expr: inner, .. } => expr_idents(inner, out),
        ExprKind::Chain { first, rest } => {
            expr_idents(first, out);
            rest.iter().for_each(|(_, _, e)| expr_idents(e, out));
        }
        ExprKind::Compare { lhs, rhs, .. } => {
            expr_idents(lhs, out);
            expr_idents(rhs, out);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_util::{fixture, text};

    const COMMON: &str = "schema Row { id: Int, region: Str }\n\nstep load(day: Date) -> (rows: Table<Row>) {\n  image \"busybox:1.36\"\n  run [\"load\", day, rows]\n}\n";

    /// The target's name and the text of its definition's focus.
    fn def_text(src: &[(&str, &str)]) -> Option<String> {
        let (a, file, offset) = fixture(src);
        let o = at(&a, file, offset)?;
        let d = definition(&a, &canonical(&a, &o.target))?;
        Some(format!(
            "{}@{}",
            text(&a, d.file, d.focus),
            a.sources().get(d.file).name()
        ))
    }

    #[test]
    fn pipeline_names_resolve_like_the_checker() {
        let main = "import \"./common.flow\" (load)\n\npipeline p(day: Date, regions: List<Str>) {\n  rows = load(day: day)\n  for region in regions {\n    x = load(day: day)\n  }\n  output rows = $0rows.rows\n}\n";
        assert_eq!(
            def_text(&[("main.flow", main), ("common.flow", COMMON)]).as_deref(),
            Some("rows@main.flow")
        );
        let member = main.replace("$0rows.rows", "rows.r$0ows");
        assert_eq!(
            def_text(&[("main.flow", &member), ("common.flow", COMMON)]).as_deref(),
            Some("rows@common.flow")
        );
        let arg = main.replace("rows = load(day: day)", "rows = load(d$0ay: day)");
        let arg = arg.replace("$0rows.rows", "rows.rows");
        assert_eq!(
            def_text(&[("main.flow", &arg), ("common.flow", COMMON)]).as_deref(),
            Some("day@common.flow")
        );
    }

    #[test]
    fn aliases_and_columns() {
        let main = "import std.synth (panel as p)\nimport std.table (select)\n\npipeline q(seed: Int) {\n  all = p(n: 10, seed: seed, day: \"2024-01-01\")\n  few = select(table: all, columns: [sex, \"re$0gion\"])\n  output few\n}\n";
        assert_eq!(
            def_text(&[("main.flow", main)]).as_deref(),
            Some("region@std/synth.flow")
        );
        let alias = main
            .replace("\"re$0gion\"", "\"region\"")
            .replace("all = p(", "all = $0p(");
        assert_eq!(
            def_text(&[("main.flow", &alias)]).as_deref(),
            Some("panel@std/synth.flow")
        );
    }

    #[test]
    fn step_properties_name_parameters_and_outputs() {
        let src = "step s(day: Date) -> (out: File) {\n  image \"busybox:1.36\"\n  run [\"x\", \"--day=${d$0ay}\", out]\n}\n";
        assert_eq!(
            def_text(&[("main.flow", src)]).as_deref(),
            Some("day@main.flow")
        );
    }
}
