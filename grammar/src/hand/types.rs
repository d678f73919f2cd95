//! Types and schema bodies, as `flow.pest`'s `type_expr`, `schema_body`, `column`,
//! `schema_expr` and `schema_term` rules.

use super::{is_ident_char, Hand};
use crate::ast::{Column, SchemaExpr, SchemaTerm, SchemaTermKind, TypeExpr, TypeKind};

impl Hand<'_> {
    /// `type_expr = { base_type ~ optional_mark? }`.
    pub(super) fn type_expr(&mut self) -> Option<TypeExpr> {
        self.nested(|p| {
            let start = p.pos;
            let kind = p.base_type()?;
            p.skip();
            let optional = p.eat(b'?');
            Some(TypeExpr {
                span: p.span(start),
                kind,
                optional,
            })
        })
    }

    /// `base_type`: `list_type | table_type | metrics_type | columns_type | column_type |
    /// record_type | named_type`, in that order (each of the first five starts with its own
    /// capital, so only the one its first letter names is tried before `named_type`).
    fn base_type(&mut self) -> Option<TypeKind> {
        let special = match self.peek() {
            b'L' => self.attempt(|p| {
                p.type_open("List")?;
                let t = p.type_expr()?;
                p.type_close(TypeKind::List(Box::new(t)))
            }),
            b'T' => self.attempt(|p| {
                p.type_open("Table")?;
                let s = p.schema_expr()?;
                p.type_close(TypeKind::Table(s))
            }),
            b'M' => self.attempt(Self::metrics_type),
            b'C' => self
                .attempt(|p| {
                    p.type_open("Columns")?;
                    let t = p.ident()?;
                    p.type_close(TypeKind::Columns(t))
                })
                .or_else(|| {
                    self.attempt(|p| {
                        p.type_open("Column")?;
                        let t = p.ident()?;
                        p.type_close(TypeKind::Column(t))
                    })
                }),
            b'{' => return Some(TypeKind::Record(self.schema_body()?)),
            _ => None,
        };
        special.or_else(|| self.ident().map(TypeKind::Named))
    }

    /// `"Name" ~ !ident_char` (whitespace allowed before the lookahead, as pest skips there).
    fn type_word(&mut self, name: &str) -> Option<()> {
        if !self.lit(name) {
            return None;
        }
        self.skip();
        (!is_ident_char(self.peek())).then_some(())
    }

    /// `"Name" ~ !ident_char ~ "<"`, and the skip after it.
    fn type_open(&mut self, name: &str) -> Option<()> {
        self.type_word(name)?;
        self.skip();
        if !self.eat(b'<') {
            return None;
        }
        self.skip();
        Some(())
    }

    /// The `">"` that closes a type's argument.
    fn type_close(&mut self, kind: TypeKind) -> Option<TypeKind> {
        self.skip();
        self.eat(b'>').then_some(kind)
    }

    /// `metrics_type = { "Metrics" ~ !ident_char ~ ("<" ~ schema_expr ~ ">")? }`.
    fn metrics_type(&mut self) -> Option<TypeKind> {
        self.type_word("Metrics")?;
        self.skip();
        let schema = self.attempt(|p| {
            if !p.eat(b'<') {
                return None;
            }
            p.skip();
            let s = p.schema_expr()?;
            p.skip();
            p.eat(b'>').then_some(s)
        });
        Some(TypeKind::Metrics(schema))
    }

    /// `schema_body = { "{" ~ (column ~ (","? ~ column)* ~ ","?)? ~ "}" }`.
    pub(super) fn schema_body(&mut self) -> Option<Vec<Column>> {
        if !self.eat(b'{') {
            return None;
        }
        self.skip();
        let columns = self
            .attempt(|p| {
                let mut columns = vec![p.column()?];
                p.skip();
                p.many(&mut columns, |p| {
                    p.eat(b',');
                    p.skip();
                    p.column()
                });
                p.skip();
                p.eat(b',');
                Some(columns)
            })
            .unwrap_or_default();
        self.skip();
        self.eat(b'}').then_some(columns)
    }

    /// `column = { ident ~ ":" ~ type_expr }` (also `output_param`).
    pub(super) fn column(&mut self) -> Option<Column> {
        let start = self.pos;
        let name = self.ident()?;
        self.skip();
        if !self.eat(b':') {
            return None;
        }
        self.skip();
        let ty = self.type_expr()?;
        Some(Column {
            span: self.span(start),
            name,
            ty,
        })
    }

    /// `schema_expr = { schema_term ~ ("+" ~ schema_term)* }`.
    fn schema_expr(&mut self) -> Option<SchemaExpr> {
        let start = self.pos;
        let mut terms = vec![self.schema_term()?];
        self.skip();
        self.many(&mut terms, |p| {
            if !p.eat(b'+') {
                return None;
            }
            p.skip();
            p.schema_term()
        });
        Some(SchemaExpr {
            span: self.span(start),
            terms,
        })
    }

    /// `schema_term = { (schema_body | ident) ~ projection? }`, `projection = { "[" ~ ident ~
    /// "]" }`.
    fn schema_term(&mut self) -> Option<SchemaTerm> {
        let start = self.pos;
        let kind = match self.peek() {
            b'{' => SchemaTermKind::Inline(self.schema_body()?),
            _ => SchemaTermKind::Name(self.ident()?),
        };
        self.skip();
        let projection = self.attempt(|p| {
            if !p.eat(b'[') {
                return None;
            }
            p.skip();
            let id = p.ident()?;
            p.skip();
            p.eat(b']').then_some(id)
        });
        Some(SchemaTerm {
            span: self.span(start),
            kind,
            projection,
        })
    }
}
