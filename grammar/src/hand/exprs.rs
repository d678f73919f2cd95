//! Numbers, expressions and records, as `flow.pest`'s `int`, `float`, `quantity`, `expr` to
//! `primary`, `list_expr`, `record` and `field` rules, lowered as the pest lowering does.

use super::{is_ident_char, Hand};
use crate::ast::{BinOp, CmpOp, Expr, ExprKind, Field, Ident, IntLit, OneOrVec, Quantity, Record};
use crate::span::Span;

/// The units of `unit`, in the grammar's order (the first that matches is taken).
const UNITS: [&[u8]; 14] = [
    b"Ki", b"Mi", b"Gi", b"Ti", b"ms", b"K", b"k", b"M", b"G", b"T", b"m", b"s", b"h", b"d",
];

impl Hand<'_> {
    /// The end of the run of ASCII digits from `i`.
    fn digits_end(&self, i: usize) -> usize {
        let mut e = i;
        while self.byte(e).is_ascii_digit() {
            e += 1;
        }
        e
    }

    /// The end of an `int` (`"-"? ~ digits ~ !("." ~ digit) ~ !ident_char`) at the position.
    fn int_end(&self) -> Option<usize> {
        let start = self.pos + usize::from(self.peek() == b'-');
        let e = self.digits_end(start);
        let dot_digit = self.byte(e) == b'.' && self.byte(e + 1).is_ascii_digit();
        (e > start && !dot_digit && !is_ident_char(self.byte(e))).then_some(e)
    }

    /// The end of a `float` (`"-"? ~ digits ~ "." ~ digits ~ !ident_char`) at the position.
    fn float_end(&self) -> Option<usize> {
        let start = self.pos + usize::from(self.peek() == b'-');
        let e = self.digits_end(start);
        if e == start || self.byte(e) != b'.' {
            return None;
        }
        let f = self.digits_end(e + 1);
        (f > e + 1 && !is_ident_char(self.byte(f))).then_some(f)
    }

    /// `int`, reported when it does not fit in 64 bits (its value is then 0).
    pub(super) fn int_lit(&mut self) -> Option<IntLit> {
        let start = self.pos;
        self.pos = self.int_end()?;
        let span = Span::new(start, self.pos);
        let value = match self.text[start..self.pos].parse::<i64>() {
            Ok(v) => v,
            Err(_) => {
                self.number_error(span);
                0
            }
        };
        Some(IntLit { value, span })
    }

    /// `float | int` as a factor: its value as a float, and its span.
    pub(super) fn factor(&mut self) -> Option<(f64, Span)> {
        let start = self.pos;
        self.pos = self.float_end().or_else(|| self.int_end())?;
        let v = self.text[start..self.pos]
            .parse::<f64>()
            .unwrap_or(f64::NAN);
        Some((v, Span::new(start, self.pos)))
    }

    /// `quantity = ${ qnumber ~ unit ~ !ident_char }`, reported when its number is infinite.
    pub(super) fn quantity(&mut self) -> Option<Quantity> {
        let start = self.pos;
        let mut e = self.digits_end(start);
        if e == start {
            return None;
        }
        if self.byte(e) == b'.' && self.byte(e + 1).is_ascii_digit() {
            e = self.digits_end(e + 1);
        }
        let rest = &self.b[e..self.end];
        let unit = UNITS.iter().find(|u| rest.starts_with(u))?.len();
        if is_ident_char(self.byte(e + unit)) {
            return None;
        }
        self.pos = e + unit;
        let span = Span::new(start, self.pos);
        let number = self.text[start..e].to_string();
        let value = number.parse::<f64>().unwrap_or(0.0);
        if !value.is_finite() {
            self.number_error(span);
        }
        Some(Quantity {
            number,
            value,
            unit: self.text[e..self.pos].to_string(),
            span,
        })
    }

    /// `expr = { or_expr }`.
    pub(super) fn expr(&mut self) -> Option<Expr> {
        self.lone_primary().or_else(|| self.chain(BinOp::Or))
    }

    /// The common case of [`Self::expr`] without its six levels of rules: a `primary` that no
    /// operator follows is the whole expression, and the levels above it would each have
    /// skipped the trivia after it and found nothing more (`or_expr`, `and_expr`, `not_expr`,
    /// `cmp_expr` and `add_expr` all return their single operand as it is). `None`, with
    /// nothing taken or recorded, whenever an operator or `not` could follow or start it.
    fn lone_primary(&mut self) -> Option<Expr> {
        let start = self.pos;
        if self.next_word() == b"not" {
            return None;
        }
        let (errors, refs) = (self.errors.len(), self.refs.len());
        let e = self.primary();
        self.skip();
        let operator_follows = matches!(self.peek(), b'+' | b'-' | b'=' | b'!' | b'<' | b'>')
            || matches!(self.next_word(), b"and" | b"or");
        if e.is_none() || operator_follows {
            self.pos = start;
            self.errors.truncate(errors);
            self.refs.truncate(refs);
            return None;
        }
        e
    }

    /// `or_expr` and `and_expr`: operands joined by a word operator, one flat chain.
    fn chain(&mut self, op: BinOp) -> Option<Expr> {
        let start = self.pos;
        let operand = |p: &mut Self| match op {
            BinOp::Or => p.chain(BinOp::And),
            _ => p.not_expr(),
        };
        let first = operand(self)?;
        self.skip();
        let mut rest = Vec::new();
        self.many(&mut rest, |p| {
            let at = p.pos;
            if !p.word(op.as_str()) {
                return None;
            }
            let op_span = Span::new(at, p.pos);
            p.skip();
            Some((op, op_span, operand(p)?))
        });
        Some(self.flat(start, first, rest))
    }

    /// The first operand alone, or the chain of it and the rest.
    fn flat(&self, start: usize, first: Expr, rest: Vec<(BinOp, Span, Expr)>) -> Expr {
        if rest.is_empty() {
            return first;
        }
        Expr {
            span: self.span(start),
            kind: ExprKind::Chain {
                first: Box::new(first),
                rest,
            },
        }
    }

    /// `not_expr = { not_op* ~ cmp_expr }`.
    fn not_expr(&mut self) -> Option<Expr> {
        let start = self.pos;
        let mut nots = Vec::new();
        self.many(&mut nots, |p| p.word("not").then_some(()));
        self.skip();
        let operand = self.cmp_expr()?;
        if nots.is_empty() {
            return Some(operand);
        }
        Some(Expr {
            span: self.span(start),
            kind: ExprKind::Not {
                count: nots.len(),
                expr: Box::new(operand),
            },
        })
    }

    /// `cmp_op`.
    fn cmp_op(&mut self) -> Option<CmpOp> {
        let op = match (self.peek(), self.byte(self.pos + 1)) {
            (b'=', b'=') => CmpOp::Eq,
            (b'!', b'=') => CmpOp::Ne,
            (b'<', b'=') => CmpOp::Le,
            (b'>', b'=') => CmpOp::Ge,
            (b'<', _) => CmpOp::Lt,
            (b'>', _) => CmpOp::Gt,
            _ => return None,
        };
        self.pos += op.as_str().len();
        Some(op)
    }

    /// `cmp_expr = { add_expr ~ (cmp_op ~ add_expr)? }`.
    fn cmp_expr(&mut self) -> Option<Expr> {
        let start = self.pos;
        let lhs = self.add_expr()?;
        self.skip();
        let Some((op, op_span, rhs)) = self.attempt(|p| {
            let at = p.pos;
            let op = p.cmp_op()?;
            let op_span = Span::new(at, p.pos);
            p.skip();
            Some((op, op_span, p.add_expr()?))
        }) else {
            return Some(lhs);
        };
        Some(Expr {
            span: self.span(start),
            kind: ExprKind::Compare {
                lhs: Box::new(lhs),
                op,
                op_span,
                rhs: Box::new(rhs),
            },
        })
    }

    /// `add_expr = { primary ~ (add_op ~ primary)* }`.
    fn add_expr(&mut self) -> Option<Expr> {
        let start = self.pos;
        let first = self.primary()?;
        self.skip();
        let mut rest = Vec::new();
        self.many(&mut rest, |p| {
            let at = p.pos;
            let op = match p.peek() {
                b'+' => BinOp::Add,
                b'-' => BinOp::Sub,
                _ => return None,
            };
            p.pos += 1;
            let op_span = Span::new(at, p.pos);
            p.skip();
            Some((op, op_span, p.primary()?))
        });
        Some(self.flat(start, first, rest))
    }

    /// `primary`: `quantity | float | int | string | bool_lit | none_lit | list_expr | record |
    /// paren | func_call | path`, tried in that order.
    pub(super) fn primary(&mut self) -> Option<Expr> {
        let start = self.pos;
        let kind = match self.peek() {
            b'0'..=b'9' | b'-' => self.number()?,
            b'"' => ExprKind::Str(self.string()?),
            b'[' => ExprKind::List(self.delimited(b'[', b']', Self::expr)?),
            b'{' => ExprKind::Record(self.record()?),
            b'(' => {
                self.pos += 1;
                self.skip();
                let e = self.expr()?;
                self.skip();
                if !self.eat(b')') {
                    return None;
                }
                ExprKind::Paren(Box::new(e))
            }
            _ => self.word_primary()?,
        };
        Some(Expr {
            span: self.span(start),
            kind,
        })
    }

    /// `quantity | float | int` (a quantity never starts with `-`).
    fn number(&mut self) -> Option<ExprKind> {
        if self.peek() != b'-' {
            if let Some(q) = self.quantity() {
                return Some(ExprKind::Quantity(q));
            }
        }
        let start = self.pos;
        if let Some(end) = self.float_end() {
            self.pos = end;
            let v = self.text[start..end].parse::<f64>().unwrap_or(f64::NAN);
            if !v.is_finite() {
                self.number_error(Span::new(start, end));
            }
            return Some(ExprKind::Float(v));
        }
        Some(ExprKind::Int(self.int_lit()?.value))
    }

    /// `bool_lit | none_lit | func_call | path`.
    fn word_primary(&mut self) -> Option<ExprKind> {
        match self.next_word() {
            b"true" | b"false" => {
                let v = self.next_word() == b"true";
                self.pos = self.word_end(self.pos);
                return Some(ExprKind::Bool(v));
            }
            b"none" => {
                self.pos += 4;
                return Some(ExprKind::None);
            }
            _ => {}
        }
        if let Some(call) = self.attempt(|p| {
            let func = p.ident()?;
            p.skip();
            let args = p.delimited(b'(', b')', Self::expr)?;
            Some(ExprKind::Call { func, args })
        }) {
            return Some(call);
        }
        // path = { ident ~ ("." ~ ident)* }
        let first = self.ident()?;
        self.skip();
        if self.peek() != b'.' {
            return Some(ExprKind::Path(OneOrVec::one(first)));
        }
        let mut path = vec![first];
        self.many(&mut path, |p| {
            if !p.eat(b'.') {
                return None;
            }
            p.skip();
            p.ident()
        });
        Some(ExprKind::Path(path.into()))
    }

    /// `record = { "{" ~ (field ~ ("," ~ field)* ~ ","?)? ~ "}" }`.
    pub(super) fn record(&mut self) -> Option<Record> {
        let start = self.pos;
        let fields = self.delimited(b'{', b'}', Self::field)?;
        Some(Record {
            span: self.span(start),
            fields,
        })
    }

    /// `field = { (ident | string) ~ ":" ~ expr }`.
    pub(super) fn field(&mut self) -> Option<Field> {
        let start = self.pos;
        let (key, quoted) = match self.ident() {
            Some(id) => (id, false),
            None => {
                let s = self.string()?;
                (
                    Ident {
                        name: s.value,
                        span: s.span,
                    },
                    true,
                )
            }
        };
        self.skip();
        if !self.eat(b':') {
            return None;
        }
        self.skip();
        let value = self.expr()?;
        Some(Field {
            span: self.span(start),
            key,
            quoted,
            value,
        })
    }
}
