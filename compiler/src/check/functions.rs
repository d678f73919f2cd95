//! Built-in functions in expressions: `flatten(xs)` turns a `List<List<T>>` (what nested `for`
//! loops collect) into a `List<T>`, the items in order (as the kfp SDK's nested `Collected`).

use super::expr::Resolver;
use super::Checker;
use crate::diagnostics::functions;
use crate::resolve::ModuleId;
use crate::types::Ty;
use flowc_grammar::ast::{Expr, Ident};
use flowc_grammar::Span;

/// The functions an expression can call.
pub(crate) const FUNCTIONS: &[&str] = &["flatten"];

impl Checker<'_> {
    /// The type of `func(args)`; `hint` is the type expected there.
    pub(super) fn call_ty(
        &mut self,
        m: ModuleId,
        span: Span,
        (func, args): (&Ident, &[Expr]),
        hint: Option<&Ty>,
        resolve: &mut Resolver<'_>,
    ) -> Ty {
        let file = self.file(m);
        let arg_hint = match (func.name.as_str(), hint.map(Ty::strip_optional)) {
            ("flatten", Some(list @ Ty::List(_))) => Some(Ty::List(Box::new(list.clone()))),
            _ => None,
        };
        let tys: Vec<Ty> = args
            .iter()
            .map(|a| self.expr_ty(m, a, arg_hint.as_ref(), resolve))
            .collect();
        match func.name.as_str() {
            "flatten" => self.flatten_ty(m, span, args, &tys),
            _ => {
                self.push(functions::unknown_function(
                    file, func.span, &func.name, FUNCTIONS,
                ));
                Ty::Error
            }
        }
    }

    /// `flatten(xs)`: one argument, a list of lists.
    fn flatten_ty(&mut self, m: ModuleId, span: Span, args: &[Expr], tys: &[Ty]) -> Ty {
        let file = self.file(m);
        let (arg, ty) = match (args, tys) {
            ([arg], [ty]) => (arg, ty),
            _ => {
                self.push(functions::wrong_arity(file, span, "flatten", 1, args.len()));
                return Ty::Error;
            }
        };
        if ty.is_error() {
            return Ty::Error;
        }
        if let Ty::List(inner) = ty {
            if let Ty::List(item) = &**inner {
                return Ty::List(item.clone());
            }
        }
        self.push(functions::flatten_not_nested(file, arg.span, ty));
        Ty::Error
    }
}
