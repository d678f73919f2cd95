//! Lowering declarations to types: schemas, written types and step signatures.

use std::sync::Arc;

use crate::maps::IndexMap;

use super::Checker;
use crate::diagnostics::{names, records, types, Code};
use crate::resolve::{DeclId, DeclKind, ModuleId};
use crate::suggest::did_you_mean;
use crate::types::{ColumnTy, Scalar, Schema, SchemaTpl, TplTerm, Ty};
use flowc_grammar::ast::{self, Column, Expr, Item, SchemaTermKind, TypeExpr, TypeKind};
use flowc_grammar::Span;

/// A parameter of a step or pipeline signature.
#[derive(Clone, Debug)]
pub struct ParamSig {
    /// Its name.
    pub name: String,
    /// Its type (with schema variables for built-ins).
    pub ty: Ty,
    /// Its default value, if any (boxed: most parameters have none, and a signature's
    /// parameters are a large part of the memory a check touches).
    pub default: Option<Box<Expr>>,
    /// Where it is declared.
    pub span: Span,
}

impl ParamSig {
    /// Whether a call may omit it.
    pub fn is_required(&self) -> bool {
        self.default.is_none() && !matches!(self.ty, Ty::Optional(_))
    }
}

/// The signature of a step (container or built-in) or of a pipeline used as a step.
#[derive(Clone, Debug)]
pub struct StepSig {
    /// The step's name.
    pub name: String,
    /// Where it is declared.
    pub decl: DeclId,
    /// Whether it is a built-in.
    pub builtin: bool,
    /// Schema variables with their required columns.
    pub generics: Vec<(String, Schema)>,
    /// Inputs.
    pub params: Vec<ParamSig>,
    /// Outputs; the first is the call's primary result.
    pub outputs: Vec<ParamSig>,
}

const TYPE_NAMES: &[&str] = &[
    "Str", "Int", "Float", "Bool", "Date", "File", "Dir", "Model", "Json", "Metrics", "Table",
    "List",
];

impl Checker<'_> {
    /// The schema declared by `decl`, lowered once.
    pub fn schema(&mut self, decl: DeclId) -> Schema {
        if let Some(s) = self.out.schemas.get(&decl) {
            return s.clone();
        }
        let Item::Schema(ast) = self.item(decl) else {
            return Schema::default();
        };
        let m = decl.module;
        let file = self.file(m);
        if !self.in_progress.insert(decl) {
            self.push(types::schema_extends_itself(
                file,
                ast.name.span,
                &ast.name.name,
            ));
            return Schema::default();
        }
        let mut columns: IndexMap<String, ColumnTy> = IndexMap::default();
        let mut inherited_from: IndexMap<String, String> = IndexMap::default();
        for parent in &ast.extends {
            let Some(entry) = self.lookup_kind(
                m,
                &parent.name,
                parent.span,
                &[DeclKind::Schema],
                Code::UnknownType,
                "a schema",
            ) else {
                continue;
            };
            let ps = self.schema(entry.decl);
            for (name, col) in ps.columns {
                if let Some(prev) = columns.get(&name) {
                    if prev.ty != col.ty {
                        self.push(types::conflicting_parents(
                            file,
                            parent.span,
                            &name,
                            prev.ty,
                            inherited_from.get(&name).map_or("", String::as_str),
                            col.ty,
                            &parent.name,
                        ));
                    }
                    continue;
                }
                inherited_from.insert(name.clone(), parent.name.clone());
                columns.insert(name, col);
            }
        }
        let own = self.columns(m, &ast.columns, &[]);
        for (name, col) in own {
            if let Some(prev) = columns.get(&name) {
                if prev.ty != col.ty {
                    let (f, s) = col.origin.unwrap_or((file, ast.name.span));
                    let mut d = types::column_redefined(
                        f,
                        s,
                        &name,
                        col.ty,
                        inherited_from.get(&name).map_or("", String::as_str),
                        prev.ty,
                    );
                    if let Some((pf, ps)) = prev.origin {
                        d = d.with_label(pf, ps, "inherited column declared here");
                    }
                    self.push(d.with_help("keep the inherited type, or rename the column"));
                    continue;
                }
            }
            columns.insert(name, col);
        }
        let schema = Schema {
            name: Some(ast.name.name.clone()),
            columns,
            origin: Some((file, ast.name.span)),
        };
        self.in_progress.remove(&decl);
        self.out.schemas.insert(decl, schema.clone());
        schema
    }

    /// Lowers written columns; duplicates are reported.
    pub fn columns(
        &mut self,
        m: ModuleId,
        cols: &[Column],
        generics: &[String],
    ) -> IndexMap<String, ColumnTy> {
        let file = self.file(m);
        let mut out: IndexMap<String, ColumnTy> = IndexMap::default();
        let mut spans: IndexMap<String, Span> = IndexMap::default();
        for c in cols {
            let ty = self.ty(m, &c.ty, generics);
            let (scalar, nullable) = match &ty {
                Ty::Scalar(s) => (*s, false),
                Ty::Optional(inner) => match **inner {
                    Ty::Scalar(s) => (s, true),
                    _ => {
                        self.bad_column_type(m, c, &ty);
                        continue;
                    }
                },
                Ty::Error => continue,
                _ => {
                    self.bad_column_type(m, c, &ty);
                    continue;
                }
            };
            if let Some(prev) = spans.get(&c.name.name) {
                self.push(names::declared_twice(
                    file,
                    c.name.span,
                    *prev,
                    "column",
                    &c.name.name,
                ));
                continue;
            }
            spans.insert(c.name.name.clone(), c.name.span);
            out.insert(
                c.name.name.clone(),
                ColumnTy {
                    ty: scalar,
                    nullable,
                    origin: Some((file, c.span)),
                },
            );
        }
        out
    }

    fn bad_column_type(&mut self, m: ModuleId, c: &Column, ty: &Ty) {
        let file = self.file(m);
        self.push(types::invalid_column_type(
            file,
            c.ty.span,
            &c.name.name,
            ty,
        ));
    }

    /// Lowers a written type. `generics` are the schema variables in scope.
    pub fn ty(&mut self, m: ModuleId, t: &TypeExpr, generics: &[String]) -> Ty {
        let file = self.file(m);
        let base = match &t.kind {
            TypeKind::Named(id) => {
                if let Some(s) = Scalar::from_name(&id.name) {
                    Ty::Scalar(s)
                } else {
                    match id.name.as_str() {
                        "File" => Ty::File,
                        "Dir" => Ty::Dir,
                        "Model" => Ty::Model,
                        "Json" => Ty::Json,
                        "Metrics" => Ty::Metrics(None),
                        name if self.is_broken(m, name) => Ty::Error,
                        name => {
                            let entry = self.program.module(m).scope.get(name).cloned();
                            let help = if generics.iter().any(|g| g == name)
                                || entry.as_ref().is_some_and(|e| e.kind == DeclKind::Schema)
                            {
                                if entry.is_some() {
                                    self.lookup(m, name);
                                }
                                Some(format!(
                                    "a schema is the type of a table's rows: write `Table<{name}>`"
                                ))
                            } else {
                                let mut cands: Vec<String> =
                                    TYPE_NAMES.iter().map(|s| s.to_string()).collect();
                                cands.extend(self.names_of_kind(m, &[DeclKind::Schema]));
                                did_you_mean(name, cands.iter().map(String::as_str))
                            };
                            self.push(names::unknown_type(file, id.span, name, help));
                            Ty::Error
                        }
                    }
                }
            }
            TypeKind::List(inner) => Ty::List(Box::new(self.ty(m, inner, generics))),
            TypeKind::Table(se) => match self.schema_tpl(m, se, generics) {
                Some(tpl) => Ty::Table(tpl),
                None => Ty::Error,
            },
            TypeKind::Metrics(None) => Ty::Metrics(None),
            TypeKind::Metrics(Some(se)) => match self.schema_tpl(m, se, &[]) {
                Some(tpl) => match tpl.as_fixed() {
                    Some(s) => Ty::Metrics(Some(Box::new(s.clone()))),
                    None => Ty::Metrics(None),
                },
                None => Ty::Error,
            },
            TypeKind::Columns(id) => Ty::Columns(id.name.clone()),
            TypeKind::Column(id) => Ty::Column(id.name.clone()),
            TypeKind::Record(cols) => self.record_ty(m, cols, generics),
        };
        if t.optional && !base.is_error() {
            Ty::Optional(Box::new(base))
        } else {
            base
        }
    }

    /// Lowers a record type `{ name: Type, ... }`: fields of value types, each named once.
    fn record_ty(&mut self, m: ModuleId, cols: &[Column], generics: &[String]) -> Ty {
        let file = self.file(m);
        let mut fields = IndexMap::default();
        for c in cols {
            let t = self.ty(m, &c.ty, generics);
            if fields.contains_key(&c.name.name) {
                self.push(records::duplicate_field(file, c.name.span, &c.name.name));
                continue;
            }
            if !t.is_error() && !is_value_type(&t) {
                self.push(records::artifact_field(file, c.ty.span, &c.name.name, &t));
                return Ty::Error;
            }
            fields.insert(c.name.name.clone(), t);
        }
        Ty::Record(Box::new(fields))
    }

    /// Lowers a schema expression; `None` when a term is unknown (already reported).
    pub fn schema_tpl(
        &mut self,
        m: ModuleId,
        se: &ast::SchemaExpr,
        generics: &[String],
    ) -> Option<SchemaTpl> {
        let file = self.file(m);
        let mut terms = Vec::new();
        let mut ok = true;
        for term in &se.terms {
            match &term.kind {
                SchemaTermKind::Name(id) if generics.contains(&id.name) => {
                    terms.push(TplTerm::Var {
                        name: id.name.clone(),
                        projection: term.projection.as_ref().map(|p| p.name.clone()),
                    })
                }
                SchemaTermKind::Name(id) => {
                    match self.lookup_kind(
                        m,
                        &id.name,
                        id.span,
                        &[DeclKind::Schema],
                        Code::UnknownType,
                        "a schema",
                    ) {
                        Some(e) => {
                            let s = self.schema(e.decl);
                            if let Some(p) = &term.projection {
                                self.push(names::projection_of_named_schema(
                                    file, p.span, &id.name,
                                ));
                            }
                            terms.push(TplTerm::Fixed(s));
                        }
                        None => ok = false,
                    }
                }
                SchemaTermKind::Inline(cols) => {
                    let columns = self.columns(m, cols, generics);
                    terms.push(TplTerm::Fixed(Schema {
                        name: None,
                        columns,
                        origin: Some((file, term.span)),
                    }));
                }
            }
        }
        if !ok {
            return None;
        }
        // Merge adjacent fixed terms, so a concrete schema is a single term.
        let mut merged: Vec<TplTerm> = Vec::new();
        for t in terms {
            match (merged.last_mut(), t) {
                (Some(TplTerm::Fixed(a)), TplTerm::Fixed(b)) => {
                    a.name = None;
                    for (k, v) in b.columns {
                        a.columns.insert(k, v);
                    }
                }
                (_, t) => merged.push(t),
            }
        }
        Some(SchemaTpl { terms: merged })
    }

    /// The signature of a step declaration, lowered once.
    pub fn step_sig(&mut self, decl: DeclId) -> Option<Arc<StepSig>> {
        self.lower_step_sig(decl)?;
        self.out.steps.get(&decl).cloned()
    }

    /// Lowers a step declaration's signature once, and borrows it: the caller that only needs a
    /// few fields reads them without a copy of every parameter's type and default.
    pub fn lower_step_sig(&mut self, decl: DeclId) -> Option<&StepSig> {
        if self.out.steps.contains_key(&decl) {
            return self.out.steps.get(&decl).map(|s| &**s);
        }
        let Item::Step(step) = self.item(decl) else {
            return None;
        };
        let m = decl.module;
        let file = self.file(m);
        let is_std = self.program.module(m).is_std;
        if step.builtin && !is_std {
            self.push(names::builtin_outside_std(
                file,
                step.name.span,
                &step.name.name,
            ));
        }
        let generic_names: Vec<String> =
            step.generics.iter().map(|g| g.name.name.clone()).collect();
        let mut generics = Vec::new();
        for g in &step.generics {
            let columns = self.columns(m, &g.bound, &[]);
            generics.push((
                g.name.name.clone(),
                Schema {
                    name: None,
                    columns,
                    origin: Some((file, g.span)),
                },
            ));
        }
        let mut params = Vec::with_capacity(step.params.len());
        for (k, p) in step.params.iter().enumerate() {
            let earlier = step.params[..k].iter().map(|q| &q.name);
            if let Some(prev) = first_named(earlier, &p.name.name) {
                self.push(names::declared_twice(
                    file,
                    p.name.span,
                    prev,
                    "parameter",
                    &p.name.name,
                ));
                continue;
            }
            let ty = self.ty(m, &p.ty, &generic_names);
            if let Some(d) = &p.default {
                self.check_default(m, &ty, d);
            }
            params.push(ParamSig {
                name: p.name.name.clone(),
                ty,
                default: p.default.clone(),
                span: p.span,
            });
        }
        // `Columns<x>` must name a schema variable or a table parameter.
        for p in &step.params {
            if let TypeKind::Columns(target) | TypeKind::Column(target) = &p.ty.kind {
                let known = generic_names.contains(&target.name)
                    || params.iter().any(|q| {
                        q.name == target.name && matches!(q.ty.strip_optional(), Ty::Table(_))
                    });
                if !known {
                    self.push(names::columns_of_unknown(file, target.span, &target.name));
                }
            }
        }
        let mut outputs = Vec::with_capacity(step.outputs.len());
        for (k, o) in step.outputs.iter().enumerate() {
            let params = step.params.iter().map(|q| &q.name);
            let earlier = step.outputs[..k].iter().map(|q| &q.name);
            let prev = first_named(params.chain(earlier), &o.name.name);
            if let Some(prev) = prev {
                self.push(names::declared_twice_in_signature(
                    file,
                    o.name.span,
                    prev,
                    &o.name.name,
                ));
                continue;
            }
            let mut ty = self.ty(m, &o.ty, &generic_names);
            if contains_record(&ty) {
                self.push(records::record_output(file, o.ty.span, &o.name.name));
                ty = Ty::Error;
            }
            outputs.push(ParamSig {
                name: o.name.name.clone(),
                ty,
                default: None,
                span: o.span,
            });
        }
        let sig = StepSig {
            name: step.name.name.clone(),
            decl,
            builtin: step.builtin,
            generics,
            params,
            outputs,
        };
        // Nothing in the properties' checking reads this step's signature back from the map.
        self.check_step_props(decl, step, &sig);
        Some(self.out.steps.entry(decl).or_insert(Arc::new(sig)))
    }
}

/// Where the first of `declared` named `name` names it: the declaration a later one of the same
/// name repeats (a scan: signatures are short, and a set of names would be an allocation a
/// step).
fn first_named<'a>(declared: impl IntoIterator<Item = &'a ast::Ident>, name: &str) -> Option<Span> {
    declared
        .into_iter()
        .find(|n| n.name == name)
        .map(|n| n.span)
}

/// Whether `t` is a record or holds one (a list or optional of records).
pub(crate) fn contains_record(t: &Ty) -> bool {
    match t {
        Ty::Record(_) => true,
        Ty::List(inner) | Ty::Optional(inner) => contains_record(inner),
        _ => false,
    }
}

/// Whether a record field may have type `t`: scalars, lists and records of them.
pub(crate) fn is_value_type(t: &Ty) -> bool {
    match t {
        Ty::Scalar(_) | Ty::Error => true,
        Ty::List(inner) | Ty::Optional(inner) => is_value_type(inner),
        Ty::Record(fields) => fields.values().all(is_value_type),
        _ => false,
    }
}
