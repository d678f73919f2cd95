//! Checking one call of a step or pipeline: arguments, schema variables and output types.
//!
//! Table arguments are checked first, because they bind the callee's schema variables; then
//! `Columns<T>` arguments are checked against the bound schemas (bare names there are column
//! names, not variables); then every other argument. Output types are the callee's output types
//! with the variables substituted, or the caller's `as Table<...>` for a variable no input binds.

use std::sync::Arc;

use crate::maps::IndexMap;

use super::assign::{assign, table, Mismatch};
use super::lower::{ParamSig, StepSig};
use super::pipeline::{Frame, PipelineCheck};
use super::Checker;
use crate::diagnostics::{graph, types, Code};
use crate::resolve::{DeclId, DeclKind};
use crate::source::FileId;
use crate::types::{Schema, SchemaTpl, TplTerm, Ty};
use flowc_grammar::ast::{Arg, Call, Expr, ExprKind};
use flowc_grammar::Span;

/// Substitutes bound schema variables in `t`; `None` when a variable is unbound.
/// What a call's checking knows of its callee: its signature, where it is declared, and the
/// frames of the call.
struct CallSite {
    sig: Arc<StepSig>,
    def: (FileId, Span),
    frames: Vec<Frame>,
}

/// What a call's arguments have shown so far.
#[derive(Default)]
struct CallTypes {
    /// The schema bound to each schema variable.
    bindings: IndexMap<String, Schema>,
    /// The type of each argument.
    arg_types: IndexMap<String, Ty>,
    /// The column names given to each `Columns<...>` parameter.
    column_values: IndexMap<String, Vec<String>>,
}

pub(crate) fn subst(
    t: &Ty,
    bindings: &IndexMap<String, Schema>,
    columns: &IndexMap<String, Vec<String>>,
) -> Option<Ty> {
    Some(match t {
        Ty::Table(tpl) => Ty::table(eval_tpl(tpl, bindings, columns)?),
        Ty::List(i) => Ty::List(Box::new(subst(i, bindings, columns)?)),
        Ty::Optional(i) => Ty::Optional(Box::new(subst(i, bindings, columns)?)),
        other => other.clone(),
    })
}

/// Evaluates a schema template with bound variables.
pub(crate) fn eval_tpl(
    tpl: &SchemaTpl,
    bindings: &IndexMap<String, Schema>,
    columns: &IndexMap<String, Vec<String>>,
) -> Option<Schema> {
    if let Some(s) = tpl.as_fixed() {
        return Some(s.clone());
    }
    let mut out = Schema::default();
    for term in &tpl.terms {
        match term {
            TplTerm::Fixed(s) => {
                for (k, v) in &s.columns {
                    out.columns.insert(k.clone(), v.clone());
                }
            }
            TplTerm::Var { name, projection } => {
                let s = bindings.get(name)?;
                match projection {
                    Some(p) => {
                        for c in columns.get(p)? {
                            if let Some(v) = s.columns.get(c) {
                                out.columns.insert(c.clone(), v.clone());
                            }
                        }
                    }
                    None => {
                        for (k, v) in &s.columns {
                            out.columns.insert(k.clone(), v.clone());
                        }
                    }
                }
                if tpl.terms.len() == 1 && projection.is_none() {
                    out.name = s.name.clone();
                    out.origin = s.origin;
                }
            }
        }
    }
    Some(out)
}

/// The schema variable a parameter type binds directly (`Table<T>`, `List<Table<T>>`, `Table<T>?`).
fn bound_var(t: &Ty) -> Option<&str> {
    match t {
        Ty::Table(tpl) => match tpl.terms.as_slice() {
            [TplTerm::Var {
                name,
                projection: None,
            }] => Some(name),
            _ => None,
        },
        Ty::List(i) | Ty::Optional(i) => bound_var(i),
        _ => None,
    }
}

/// The table schema inside a type, looking through lists and optionals.
fn table_schema(t: &Ty) -> Option<&Schema> {
    match t {
        Ty::Table(tpl) => tpl.as_fixed(),
        Ty::List(i) | Ty::Optional(i) => table_schema(i),
        _ => None,
    }
}

impl Checker<'_> {
    /// Marks the names in a call's arguments as used without typing them, for a call whose
    /// callee did not resolve (its parameters, and so which names are columns, are unknown).
    fn mark_args_used(&mut self, pc: &mut PipelineCheck, call: &flowc_grammar::ast::Call) {
        let mut names = Vec::new();
        for a in &call.args {
            super::expr::expr_names(&a.value, &mut names);
        }
        for n in names {
            pc.used.insert(n.name);
        }
    }

    pub(crate) fn check_call(&mut self, pc: &mut PipelineCheck, i: usize) {
        // The node and its statement share the call; typing it borrows it from a handle of its
        // own, while the node's other parts are filled in.
        let call = std::sync::Arc::clone(&pc.info.nodes[i].call);
        self.type_call(pc, i, &call);
    }

    /// [`Self::check_call`] of node `i`, whose call is `call`.
    fn type_call(&mut self, pc: &mut PipelineCheck, i: usize, call: &Call) {
        let Some((sig, decl)) = self.callee_sig(pc, i, call) else {
            return;
        };
        pc.info.nodes[i].callee = Some(decl);
        let site = CallSite {
            def: self.decl_name_span(decl),
            frames: pc.info.nodes[i].frames.clone(),
            sig,
        };
        let args = self.argument_names(pc, call, &site);
        let mut found = CallTypes {
            arg_types: IndexMap::with_capacity_and_hasher(call.args.len(), Default::default()),
            ..CallTypes::default()
        };
        pc.in_finally = pc.info.nodes[i].is_finally;
        self.bind_schema_variables(pc, &args, &site, &mut found);
        self.type_other_arguments(pc, &args, &site, &mut found);
        pc.in_finally = false;
        let outputs = self.output_types(pc, call, &site, &mut found);
        let settings = self.call_settings(pc, i, call, &site.sig);
        let node = &mut pc.info.nodes[i];
        if call.settings.is_some() {
            node.settings = std::sync::Arc::new(settings);
        }
        node.outputs = outputs;
        node.arg_types = found.arg_types;
        node.bindings = (!found.bindings.is_empty()).then(|| Box::new(found.bindings));
    }

    /// The signature of the callee of node `i` and its declaration; `None` (reported) for an
    /// unknown callee or a recursive pipeline.
    fn callee_sig(
        &mut self,
        pc: &mut PipelineCheck,
        i: usize,
        call: &Call,
    ) -> Option<(Arc<StepSig>, DeclId)> {
        let file = self.file(pc.m);
        let m = pc.m;
        let Some(entry) = self.lookup_kind(
            m,
            &call.callee.name,
            call.callee.span,
            &[DeclKind::Step, DeclKind::Pipeline],
            Code::UnknownStep,
            "a step",
        ) else {
            self.mark_args_used(pc, call);
            return None;
        };
        let sig = match entry.kind {
            DeclKind::Pipeline => {
                pc.info.nodes[i].callee_is_pipeline = true;
                match self.pipeline(entry.decl) {
                    Some(s) => Arc::new(s),
                    None => {
                        self.mark_args_used(pc, call);
                        self.push(graph::recursive_pipeline(
                            file,
                            call.callee.span,
                            &call.callee.name,
                        ));
                        return None;
                    }
                }
            }
            _ => self.step_sig(entry.decl)?,
        };
        Some((sig, entry.decl))
    }

    /// The arguments by name; reports arguments given twice, unknown and missing ones.
    fn argument_names<'c>(
        &mut self,
        pc: &mut PipelineCheck,
        call: &'c Call,
        site: &CallSite,
    ) -> IndexMap<&'c str, &'c Arg> {
        let file = self.file(pc.m);
        let CallSite { sig, def, frames } = site;
        let def = *def;
        // Keyed by the names as written: no copy of each name.
        let mut args: IndexMap<&'c str, &'c Arg> =
            IndexMap::with_capacity_and_hasher(call.args.len(), Default::default());
        for a in &call.args {
            if let Some(prev) = args.get(a.name.name.as_str()) {
                self.push(types::duplicate_argument(
                    file,
                    a.name.span,
                    prev.name.span,
                    &a.name.name,
                ));
                continue;
            }
            if !sig.params.iter().any(|p| p.name == a.name.name) {
                let names: Vec<&str> = sig.params.iter().map(|p| p.name.as_str()).collect();
                let mut d = types::unknown_argument(
                    file,
                    a.name.span,
                    &a.name.name,
                    &sig.name,
                    def,
                    &names,
                );
                d = d.with_note(if names.is_empty() {
                    format!("`{}` takes no arguments", sig.name)
                } else {
                    format!("its parameters are: {}", names.join(", "))
                });
                self.push(d);
                // Type it anyway for errors inside.
                self.value(pc, &a.value, frames, None);
                continue;
            }
            args.insert(&a.name.name, a);
        }
        let missing: Vec<&ParamSig> = sig
            .params
            .iter()
            .filter(|p| p.is_required() && !args.contains_key(p.name.as_str()))
            .collect();
        if !missing.is_empty() {
            let list: Vec<String> = missing
                .iter()
                .map(|p| format!("`{}: {}`", p.name, p.ty))
                .collect();
            let mut d = types::missing_arguments(file, call.callee.span, &sig.name, &list);
            for p in &missing {
                d = d.with_label(def.0, p.span, "required parameter declared here");
            }
            let example: Vec<String> = missing.iter().map(|p| format!("{}: ...", p.name)).collect();
            self.push(d.with_help(format!("add {}", example.join(", "))));
        }

        args
    }

    /// Pass 1: table arguments bind the callee's schema variables.
    fn bind_schema_variables(
        &mut self,
        pc: &mut PipelineCheck,
        args: &IndexMap<&str, &Arg>,
        site: &CallSite,
        found: &mut CallTypes,
    ) {
        let CallSite { sig, frames, .. } = site;
        let CallTypes {
            bindings,
            arg_types,
            ..
        } = found;
        let generics: IndexMap<String, Schema> = sig.generics.iter().cloned().collect();
        for p in &sig.params {
            let Some(var) = bound_var(&p.ty) else {
                continue;
            };
            let Some(a) = args.get(p.name.as_str()) else {
                continue;
            };
            let actual = self.value(pc, &a.value, frames, Some(&p.ty));
            arg_types.insert(p.name.clone(), actual.clone());
            if bindings.contains_key(var) {
                let expected = subst(&p.ty, bindings, &IndexMap::default()).unwrap_or(Ty::Error);
                let mm = assign(&expected, &actual);
                self.report_argument(pc, site, (p, a), (&expected, &actual), mm);
                continue;
            }
            // Shape first: the argument must be a table (in the same list/optional shape).
            let shape = subst(
                &p.ty,
                &[(var.to_string(), Schema::default())].into_iter().collect(),
                &IndexMap::default(),
            )
            .unwrap_or(Ty::Error);
            let shape_mm: Vec<Mismatch> = assign(&shape, &actual)
                .into_iter()
                .filter(|x| {
                    !matches!(
                        x,
                        Mismatch::MissingColumn { .. }
                            | Mismatch::ColumnType { .. }
                            | Mismatch::Nullable { .. }
                    )
                })
                .collect();
            if !shape_mm.is_empty() {
                self.report_argument(pc, site, (p, a), (&p.ty, &actual), shape_mm);
                continue;
            }
            let Some(schema) = table_schema(&actual).cloned() else {
                continue;
            };
            if let Some(bound) = generics.get(var) {
                let mm = table(bound, &schema);
                self.report_argument(pc, site, (p, a), (&Ty::table(bound.clone()), &actual), mm);
            }
            bindings.insert(var.to_string(), schema);
        }
    }

    /// Reports the `mismatches` of argument `a` against parameter `p` of the call at `site`,
    /// wording them (and finding the argument's producer) only when there are some.
    fn report_argument(
        &mut self,
        pc: &PipelineCheck,
        site: &CallSite,
        (p, a): (&ParamSig, &Arg),
        (expected, actual): (&Ty, &Ty),
        mismatches: Vec<Mismatch>,
    ) {
        if mismatches.is_empty() {
            return;
        }
        let producer = self.producer_of(pc, &a.value);
        let what = format!("argument `{}` of `{}`", p.name, site.sig.name);
        self.report_mismatches(
            pc.m,
            &what,
            a.value.span,
            Some((site.def.0, p.span)),
            producer.as_ref(),
            expected,
            actual,
            mismatches,
        );
    }

    /// Passes 2 and 3: column-name arguments against the bound schemas, then every other
    /// argument against its parameter's type with the variables substituted.
    fn type_other_arguments(
        &mut self,
        pc: &mut PipelineCheck,
        args: &IndexMap<&str, &Arg>,
        site: &CallSite,
        found: &mut CallTypes,
    ) {
        let CallSite { sig, frames, .. } = site;
        let CallTypes {
            bindings,
            arg_types,
            column_values,
        } = found;
        // Tables given by table parameters, for `Columns<param>`.
        let mut table_of: IndexMap<String, Schema> = bindings.clone();
        for p in &sig.params {
            if let Some(t) = arg_types.get(&p.name) {
                if let Some(s) = table_schema(t) {
                    table_of.insert(p.name.clone(), s.clone());
                }
            }
        }

        for p in &sig.params {
            if arg_types.contains_key(&p.name) {
                continue;
            }
            let Some(a) = args.get(p.name.as_str()) else {
                continue;
            };
            match p.ty.strip_optional() {
                Ty::Columns(target) | Ty::Column(target) => {
                    let single = matches!(p.ty.strip_optional(), Ty::Column(_));
                    let names = self.column_names(pc, a, frames, table_of.get(target), single, sig);
                    if let Some(names) = names {
                        column_values.insert(p.name.clone(), names);
                    }
                    arg_types.insert(p.name.clone(), p.ty.clone());
                }
                _ => {
                    let expected = subst(&p.ty, bindings, column_values).unwrap_or(Ty::Error);
                    let actual = self.value(pc, &a.value, frames, Some(&expected));
                    let mm = assign(&expected, &actual);
                    self.report_argument(pc, site, (p, a), (&expected, &actual), mm);
                    arg_types.insert(p.name.clone(), actual);
                }
            }
        }
    }

    /// The types of the call's outputs: the callee's with the variables substituted, or the
    /// call's `as Table<...>` for a variable that no input binds.
    fn output_types(
        &mut self,
        pc: &mut PipelineCheck,
        call: &Call,
        site: &CallSite,
        found: &mut CallTypes,
    ) -> Vec<(String, Ty)> {
        let m = pc.m;
        let file = self.file(m);
        let CallSite { sig, def, .. } = site;
        let def = *def;
        let CallTypes {
            bindings,
            column_values,
            ..
        } = found;
        // Outputs.
        let mut outputs = Vec::with_capacity(sig.outputs.len());
        let cast = call.cast.as_ref().map(|c| (c.span, self.ty(m, c, &[])));
        if cast.is_some() && sig.outputs.is_empty() {
            let (span, _) = cast.clone().unwrap_or((call.span, Ty::Error));
            self.push(types::cast_without_output(file, span, &sig.name));
        }
        for (k, o) in sig.outputs.iter().enumerate() {
            let mut ty = subst(&o.ty, bindings, column_values);
            if k == 0 {
                if let Some((cspan, cty)) = &cast {
                    match (&ty, &o.ty) {
                        (None, _) => {
                            // The cast binds the unbound variable.
                            if let (Some(var), Some(s)) = (bound_var(&o.ty), table_schema(cty)) {
                                bindings.insert(var.to_string(), s.clone());
                            }
                            ty = subst(&o.ty, bindings, column_values).or(Some(cty.clone()));
                            if !matches!(cty, Ty::Table(_)) {
                                self.push(types::cast_to_non_table(file, *cspan, &sig.name, cty));
                            }
                        }
                        (Some(actual), _) => {
                            let mm = assign(cty, actual);
                            if !mm.is_empty() {
                                let what = format!("`as {cty}`");
                                self.report_mismatches(
                                    m, &what, *cspan, None, None, cty, actual, mm,
                                );
                            } else {
                                ty = Some(cty.clone());
                            }
                        }
                    }
                }
            }
            let ty = match ty {
                Some(t) => t,
                None => {
                    let vars: Vec<String> = match &o.ty {
                        Ty::Table(t) => t.vars().map(str::to_string).collect(),
                        _ => Vec::new(),
                    };
                    let var = vars.first().cloned().unwrap_or_default();
                    if k == 0 || !vars.iter().all(|v| bindings.contains_key(v)) {
                        self.push(types::cannot_infer_schema(
                            file,
                            call.span,
                            &sig.name,
                            var,
                            &o.name,
                            (def.0, o.span),
                            k == 0,
                        ));
                    }
                    Ty::Error
                }
            };
            outputs.push((o.name.clone(), ty));
        }
        outputs
    }

    /// Checks the column names given to a `Columns<...>` or `Column<...>` parameter.
    fn column_names(
        &mut self,
        pc: &mut PipelineCheck,
        a: &Arg,
        frames: &[super::pipeline::Frame],
        schema: Option<&Schema>,
        single: bool,
        sig: &StepSig,
    ) -> Option<Vec<String>> {
        let file = self.file(pc.m);
        let items: Vec<&Expr> = match (&a.value.kind, single) {
            (ExprKind::List(items), false) => items.iter().collect(),
            (ExprKind::Path(p), true) if p.len() == 1 => vec![&a.value],
            (ExprKind::Str(_), true) => vec![&a.value],
            _ => {
                // A parameter holding names: checked at run time.
                let want = if single {
                    Ty::Scalar(crate::types::Scalar::Str)
                } else {
                    Ty::List(Box::new(Ty::Scalar(crate::types::Scalar::Str)))
                };
                let actual = self.value(pc, &a.value, frames, Some(&want));
                let mm = assign(&want, &actual);
                if !mm.is_empty() {
                    self.push(types::not_columns(
                        file,
                        a.value.span,
                        &a.name.name,
                        &sig.name,
                        single,
                        &actual,
                    ));
                }
                return None;
            }
        };
        let mut names = Vec::new();
        for item in items {
            let (name, span) = match &item.kind {
                ExprKind::Path(p) if p.len() == 1 => (p[0].name.clone(), p[0].span),
                ExprKind::Str(s) if s.vars().next().is_none() => (s.value.clone(), s.span),
                _ => {
                    self.push(types::not_a_column_name(file, item.span));
                    continue;
                }
            };
            if let Some(s) = schema {
                if !s.columns.contains_key(&name) {
                    let cands: Vec<&str> = s.columns.keys().map(String::as_str).collect();
                    let mut d = types::unknown_column(file, span, &name, &cands);
                    if let Some((f, sp)) = s.origin {
                        d = d.with_label(f, sp, "the table's schema");
                    }
                    self.push(d);
                    continue;
                }
            }
            if names.contains(&name) {
                self.push(types::duplicate_column_argument(file, span, &name));
                continue;
            }
            names.push(name);
        }
        let _: Option<Span> = None;
        Some(names)
    }
}
