//! Typing expressions: literals, names, operators, and reporting type mismatches.

use super::assign::{assign, Mismatch};
use super::lower::is_value_type;
use super::Checker;
use crate::diagnostics::{records, types};
use crate::resolve::ModuleId;
use crate::source::FileId;
use crate::types::{Scalar, Ty};
use flowc_grammar::ast::{BinOp, CmpOp, Expr, ExprKind, Ident, Record, StrLit};
use flowc_grammar::Span;

/// Resolves a name path (`x`, `x.out`) to a type, reporting unknown names itself.
pub(crate) type Resolver<'a> = dyn FnMut(&mut Checker<'_>, &[Ident]) -> Ty + 'a;

/// Where a value comes from, for pointing at the producer in a mismatch.
#[derive(Clone, Debug)]
pub(crate) struct Producer {
    pub file: FileId,
    pub span: Span,
    pub label: String,
}

impl Checker<'_> {
    /// The type of `e`; `hint` is the type expected there, used to read a string as a `Date`.
    pub fn expr_ty(
        &mut self,
        m: ModuleId,
        e: &Expr,
        hint: Option<&Ty>,
        resolve: &mut Resolver<'_>,
    ) -> Ty {
        let file = self.file(m);
        match &e.kind {
            ExprKind::Int(_) => Ty::Scalar(Scalar::Int),
            ExprKind::Float(_) => Ty::Scalar(Scalar::Float),
            ExprKind::Bool(_) => Ty::Scalar(Scalar::Bool),
            ExprKind::None => Ty::None,
            ExprKind::Str(s) => self.str_ty(m, s, hint, resolve),
            ExprKind::Quantity(q) => {
                self.push(types::quantity_as_value(file, e.span, &q.number, &q.unit));
                Ty::Error
            }
            ExprKind::Record(r) => self.record_value_ty(m, r, hint, resolve),
            ExprKind::List(items) => self.list_ty(m, items, hint, resolve),
            ExprKind::Path(path) => resolve(self, path),
            ExprKind::Paren(inner) => self.expr_ty(m, inner, hint, resolve),
            ExprKind::Call { func, args } => self.call_ty(m, e.span, (func, args), hint, resolve),
            ExprKind::Not { expr, .. } => {
                let t = self.expr_ty(m, expr, None, resolve);
                self.expect_operand(m, expr.span, &t, "not", &[Scalar::Bool]);
                Ty::Scalar(Scalar::Bool)
            }
            ExprKind::Chain { first, rest } => self.chain_ty(m, first, rest, resolve),
            ExprKind::Compare {
                lhs,
                op,
                op_span,
                rhs,
            } => self.compare_ty(m, (lhs, *op, *op_span, rhs), resolve),
        }
    }

    /// A string: `Date` where a date is expected and the string is one; artifacts cannot be
    /// interpolated.
    fn str_ty(
        &mut self,
        m: ModuleId,
        s: &StrLit,
        hint: Option<&Ty>,
        resolve: &mut Resolver<'_>,
    ) -> Ty {
        let file = self.file(m);
        self.build_refs(m, s);
        for p in s.paths() {
            self.interpolating = true;
            let t = resolve(self, p);
            self.interpolating = false;
            if let (true, Some(v)) = (t.is_artifact(), p.last()) {
                self.push(types::interpolated_artifact(file, v.span, &v.name, &t));
            }
        }
        let wants_date = matches!(hint.map(Ty::strip_optional), Some(Ty::Scalar(Scalar::Date)));
        if wants_date
            && s.parts
                .iter()
                .all(|p| matches!(p, flowc_grammar::ast::StrPart::Text(_)))
        {
            if let Err(why) = parse_date(&s.value) {
                self.push(types::invalid_date(file, s.span, &s.value, why));
                return Ty::Error;
            }
            return Ty::Scalar(Scalar::Date);
        }
        Ty::Scalar(Scalar::Str)
    }

    /// A record value `{ a: 1, b: "x" }`: a record of its fields' types, each named once.
    fn record_value_ty(
        &mut self,
        m: ModuleId,
        r: &Record,
        hint: Option<&Ty>,
        resolve: &mut Resolver<'_>,
    ) -> Ty {
        let file = self.file(m);
        let hints = match hint.map(Ty::strip_optional) {
            Some(Ty::Record(fs)) => Some((**fs).clone()),
            _ => None,
        };
        let mut fields = crate::maps::IndexMap::default();
        let mut broken = false;
        for f in &r.fields {
            let h = hints.as_ref().and_then(|fs| fs.get(&f.key.name));
            let t = self.expr_ty(m, &f.value, h, resolve);
            if fields.contains_key(&f.key.name) {
                self.push(records::duplicate_field(file, f.key.span, &f.key.name));
                continue;
            }
            if !is_literal(&f.value) {
                self.push(records::run_time_field(file, f.value.span, &f.key.name));
                broken = true;
            }
            if !t.is_error() && !is_value_type(&t) && !matches!(t, Ty::None) {
                self.push(records::artifact_field(file, f.value.span, &f.key.name, &t));
                broken = true;
            }
            fields.insert(f.key.name.clone(), t);
        }
        if broken {
            return Ty::Error;
        }
        Ty::Record(Box::new(fields))
    }

    /// A list: the type of its items, which must agree.
    fn list_ty(
        &mut self,
        m: ModuleId,
        items: &[Expr],
        hint: Option<&Ty>,
        resolve: &mut Resolver<'_>,
    ) -> Ty {
        let file = self.file(m);
        let elem_hint = match hint.map(Ty::strip_optional) {
            Some(Ty::List(t)) => Some((**t).clone()),
            _ => None,
        };
        let mut elem: Option<Ty> = None;
        for item in items {
            let t = self.expr_ty(m, item, elem_hint.as_ref(), resolve);
            if t.is_error() {
                continue;
            }
            match &elem {
                None => elem = Some(t),
                Some(prev) => {
                    if !assign(prev, &t).is_empty() {
                        if assign(&t, prev).is_empty() {
                            elem = Some(t);
                        } else if let Some(d) =
                            records::list_disagreement(file, item.span, prev, &t)
                        {
                            self.push(d);
                        } else {
                            self.push(types::mixed_list(file, item.span, prev, &t));
                        }
                    }
                }
            }
        }
        Ty::List(Box::new(elem.or(elem_hint).unwrap_or(Ty::Error)))
    }

    /// `a and b`, `a or b`, `a + b - c`: operands of the operator's types.
    fn chain_ty(
        &mut self,
        m: ModuleId,
        first: &Expr,
        rest: &[(BinOp, Span, Expr)],
        resolve: &mut Resolver<'_>,
    ) -> Ty {
        let mut types = vec![(first.span, self.expr_ty(m, first, None, resolve))];
        for (_, _, e) in rest {
            types.push((e.span, self.expr_ty(m, e, None, resolve)));
        }
        let op = rest[0].0;
        match op {
            BinOp::And | BinOp::Or => {
                for (span, t) in &types {
                    self.expect_operand(m, *span, t, op.as_str(), &[Scalar::Bool]);
                }
                Ty::Scalar(Scalar::Bool)
            }
            BinOp::Add | BinOp::Sub => {
                let all_str = types
                    .iter()
                    .all(|(_, t)| matches!(t, Ty::Scalar(Scalar::Str) | Ty::Error));
                let all_add = rest.iter().all(|(o, _, _)| *o == BinOp::Add);
                if all_str && all_add {
                    return Ty::Scalar(Scalar::Str);
                }
                // `+` with a string: a join of strings, so the operand that is not a string is
                // what is wrong.
                let is_str = |t: &Ty| matches!(t, Ty::Scalar(Scalar::Str));
                if let (true, Some((s_span, s_ty)), Some((o_span, o_ty))) = (
                    all_add,
                    types.iter().find(|(_, t)| is_str(t)),
                    types.iter().find(|(_, t)| !is_str(t) && !t.is_error()),
                ) {
                    let file = self.file(m);
                    self.push(types::mixed_plus(file, (*s_span, s_ty), (*o_span, o_ty)));
                    return Ty::Error;
                }
                // No string here (it returned above): `+` still takes strings, `-` numbers only.
                let allowed: &[Scalar] = if all_add {
                    &[Scalar::Int, Scalar::Float, Scalar::Str]
                } else {
                    &[Scalar::Int, Scalar::Float]
                };
                let mut result = Scalar::Int;
                for (span, t) in &types {
                    if !self.expect_operand(m, *span, t, op.as_str(), allowed) {
                        return Ty::Error;
                    }
                    if matches!(t, Ty::Scalar(Scalar::Float)) {
                        result = Scalar::Float;
                    }
                }
                Ty::Scalar(result)
            }
        }
    }

    /// A comparison: a `Bool`, of operands that can be compared.
    fn compare_ty(
        &mut self,
        m: ModuleId,
        (lhs, op, op_span, rhs): (&Expr, CmpOp, Span, &Expr),
        resolve: &mut Resolver<'_>,
    ) -> Ty {
        let file = self.file(m);
        let l = self.expr_ty(m, lhs, None, resolve);
        let r = self.expr_ty(m, rhs, Some(&l), resolve);
        if l.is_error() || r.is_error() {
            return Ty::Scalar(Scalar::Bool);
        }
        let numeric =
            |t: &Ty| matches!(t.strip_optional(), Ty::Scalar(Scalar::Int | Scalar::Float));
        // Records compare field by field in a step, not as their JSON text on a target.
        let record = |t: &Ty| super::lower::contains_record(t);
        let ok = !record(&l)
            && !record(&r)
            && match op {
                CmpOp::Eq | CmpOp::Ne => {
                    (numeric(&l) && numeric(&r))
                        || (l.strip_optional() == r.strip_optional() && !l.is_artifact())
                        || matches!(r, Ty::None)
                        || matches!(
                            (l.strip_optional(), r.strip_optional()),
                            (Ty::Scalar(Scalar::Date), Ty::Scalar(Scalar::Str))
                                | (Ty::Scalar(Scalar::Str), Ty::Scalar(Scalar::Date))
                        )
                }
                _ => {
                    (numeric(&l) && numeric(&r))
                        || (l == r && matches!(l, Ty::Scalar(Scalar::Str | Scalar::Date)))
                }
            };
        if !ok {
            self.push(types::incomparable(
                file,
                op.as_str(),
                op_span,
                lhs.span,
                &l,
                rhs.span,
                &r,
            ));
        }
        Ty::Scalar(Scalar::Bool)
    }

    /// Reports an operand whose type is not one of `allowed`; returns whether it was fine.
    fn expect_operand(
        &mut self,
        m: ModuleId,
        span: Span,
        t: &Ty,
        op: &str,
        allowed: &[Scalar],
    ) -> bool {
        if t.is_error() {
            return true;
        }
        if let Ty::Scalar(s) = t {
            if allowed.contains(s) {
                return true;
            }
        }
        let want: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        let file = self.file(m);
        self.push(types::invalid_operand(file, span, op, &want, t));
        false
    }

    /// Checks a parameter's default value: a literal of the parameter's type.
    pub fn check_default(&mut self, m: ModuleId, ty: &Ty, default: &Expr) {
        let file = self.file(m);
        let mut no_names = |checker: &mut Checker<'_>, path: &[Ident]| {
            if let Some(first) = path.first() {
                checker.push(types::default_not_literal(file, first.span, &first.name));
            }
            Ty::Error
        };
        let actual = self.expr_ty(m, default, Some(ty), &mut no_names);
        let columns = matches!(ty.strip_optional(), Ty::Columns(_) | Ty::Column(_));
        if columns {
            return;
        }
        if assign(ty, &actual).is_empty() {
            return;
        }
        if let Some(d) =
            records::list_disagreement(file, default.span, ty.strip_optional(), &actual)
        {
            self.push(d);
        } else {
            self.push(types::default_type_mismatch(
                file,
                default.span,
                &actual,
                ty,
            ));
        }
    }

    /// Reports why `actual` cannot flow into `expected`.
    #[allow(clippy::too_many_arguments)]
    pub fn report_mismatches(
        &mut self,
        m: ModuleId,
        what: &str,
        consumer: Span,
        consumer_decl: Option<(FileId, Span)>,
        producer: Option<&Producer>,
        expected: &Ty,
        actual: &Ty,
        mismatches: Vec<Mismatch>,
    ) {
        let file = self.file(m);
        for mm in mismatches {
            let mut d = match &mm {
                Mismatch::Type => types::type_mismatch(file, consumer, what, expected, actual),
                Mismatch::MaybeNone => {
                    types::value_may_be_absent(file, consumer, what, expected, actual)
                }
                Mismatch::ArtifactVsParam { expected_artifact } => {
                    types::artifact_parameter_mismatch(
                        file,
                        consumer,
                        what,
                        expected,
                        actual,
                        *expected_artifact,
                    )
                }
                Mismatch::MissingColumn { name, expected: ec } => {
                    types::missing_column(file, consumer, what, name, ec)
                }
                Mismatch::ColumnType {
                    name,
                    expected: ec,
                    actual: ac,
                } => types::column_type_mismatch(file, consumer, what, name, ec, ac),
                Mismatch::Nullable {
                    name,
                    expected: ec,
                    actual: ac,
                } => types::nullable_column(file, consumer, what, name, ec, ac),
                Mismatch::MissingField { name } => {
                    records::missing_field(file, consumer, name, expected)
                }
                Mismatch::ExtraField { name } => {
                    records::extra_field(file, consumer, name, expected)
                }
            };
            if let Some(p) = producer {
                d = d.with_label(p.file, p.span, p.label.clone());
            }
            if let Some((f, s)) = consumer_decl {
                if !matches!(
                    mm,
                    Mismatch::MissingColumn { .. }
                        | Mismatch::ColumnType { .. }
                        | Mismatch::Nullable { .. }
                        | Mismatch::MissingField { .. }
                        | Mismatch::ExtraField { .. }
                ) {
                    d = d.with_label(f, s, "declared here");
                }
            }
            self.push(d);
        }
    }
}

/// First names referenced by an expression (paths and `${}` interpolations).
pub(crate) fn expr_names(e: &Expr, out: &mut Vec<Ident>) {
    each_name(e, &mut |n| out.push(n.clone()));
}

/// Calls `f` with each first name referenced by an expression, in [`expr_names`]' order.
pub(crate) fn each_name<'e>(e: &'e Expr, f: &mut impl FnMut(&'e Ident)) {
    match &e.kind {
        ExprKind::Path(p) => p.first().into_iter().for_each(f),
        ExprKind::Str(s) => s.vars().for_each(f),
        ExprKind::List(items) | ExprKind::Call { args: items, .. } => {
            items.iter().for_each(|i| each_name(i, f))
        }
        ExprKind::Record(r) => r.fields.iter().for_each(|x| each_name(&x.value, f)),
        ExprKind::Paren(inner) | ExprKind::Not { expr: inner, .. } => each_name(inner, f),
        ExprKind::Chain { first, rest } => {
            each_name(first, f);
            rest.iter().for_each(|(_, _, e)| each_name(e, f));
        }
        ExprKind::Compare { lhs, rhs, .. } => {
            each_name(lhs, f);
            each_name(rhs, f);
        }
        _ => {}
    }
}

/// Whether an expression is a literal value: no names, no interpolated values (build
/// variables are fixed when the pipeline is built).
fn is_literal(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Path(_) | ExprKind::Not { .. } | ExprKind::Chain { .. } => false,
        ExprKind::Compare { .. } => false,
        ExprKind::Str(s) => s.vars().next().is_none(),
        ExprKind::List(items) | ExprKind::Call { args: items, .. } => items.iter().all(is_literal),
        ExprKind::Record(r) => r.fields.iter().all(|f| is_literal(&f.value)),
        ExprKind::Paren(inner) => is_literal(inner),
        _ => true,
    }
}

/// Parses `YYYY-MM-DD`, checking the day exists.
pub fn parse_date(s: &str) -> Result<(i32, u32, u32), &'static str> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err("expected the form YYYY-MM-DD");
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let (Some(y), Some(mo), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return Err("expected digits in YYYY-MM-DD");
    };
    if !(1..=12).contains(&mo) {
        return Err("the month is not between 01 and 12");
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match mo {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if d == 0 || d > days {
        return Err("the day does not exist in that month");
    }
    Ok((y as i32, mo, d))
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn dates() {
        assert!(parse_date("2024-02-29").is_ok());
        assert!(parse_date("2023-02-29").is_err());
        assert!(parse_date("2024-13-01").is_err());
        assert!(parse_date("24-01-01").is_err());
    }
}
