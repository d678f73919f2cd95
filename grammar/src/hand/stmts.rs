//! Pipeline bodies, as `flow.pest`'s `block`, `stmt`, `call` and `schedule_block` rules.

use std::sync::Arc;

use super::Hand;
use crate::ast::{
    Arg, Block, Call, CallSettings, Else, ScheduleOption, ScheduleOptionKind, Stmt, StmtKind,
};

impl Hand<'_> {
    /// `block = { "{" ~ stmt* ~ "}" }`.
    pub(super) fn block(&mut self) -> Option<Block> {
        self.block_of(Vec::new())
    }

    /// A pipeline's body, the rest of its declaration: its statements' vector is sized at once
    /// for a statement a line (generated pipelines have thousands, and a vector grown one
    /// doubling at a time copies them into fresh memory again and again); the pages of an
    /// unused end are never touched.
    pub(super) fn body(&mut self) -> Option<Block> {
        let rest = self.b.get(self.pos..self.end).unwrap_or_default();
        let lines = memchr::memchr_iter(b'\n', rest).count();
        self.block_of(Vec::with_capacity(lines))
    }

    /// `block`, its statements pushed to `stmts`.
    fn block_of(&mut self, mut stmts: Vec<Stmt>) -> Option<Block> {
        let start = self.pos;
        if !self.eat(b'{') {
            return None;
        }
        self.skip();
        self.many(&mut stmts, Self::stmt);
        let stmts = super::exact(stmts);
        self.skip();
        if !self.eat(b'}') {
            return None;
        }
        Some(Block {
            span: self.span(start),
            stmts,
        })
    }

    /// `stmt`: a statement its first word names (`&stmt_word`), else `bind_stmt | call_stmt`.
    fn stmt(&mut self) -> Option<Stmt> {
        let start = self.pos;
        let keyword = matches!(
            self.next_word(),
            b"defaults"
                | b"schedule"
                | b"if"
                | b"for"
                | b"check"
                | b"output"
                | b"finally"
                | b"parallel"
        );
        if keyword {
            if let Some(kind) = self.attempt(Self::keyword_stmt) {
                return Some(Stmt {
                    span: self.span(start),
                    kind,
                });
            }
        }
        let bind = self.attempt(|p| {
            let name = p.ident()?;
            p.skip();
            if !p.eat(b'=') {
                return None;
            }
            p.skip();
            Some(StmtKind::Bind {
                name,
                call: Arc::new(p.call()?),
            })
        });
        let kind = match bind {
            Some(kind) => kind,
            None => StmtKind::Call(Arc::new(self.call()?)),
        };
        Some(Stmt {
            span: self.span(start),
            kind,
        })
    }

    /// The statement that starts with a statement word.
    fn keyword_stmt(&mut self) -> Option<StmtKind> {
        let word = self.next_word();
        if word == b"if" {
            return self.if_stmt();
        }
        self.pos += word.len();
        self.skip();
        Some(match word {
            b"defaults" => StmtKind::Defaults(self.prop_block()?.0),
            b"schedule" => self.schedule()?,
            b"for" => {
                let var = self.ident()?;
                self.skip();
                if !self.word("in") {
                    return None;
                }
                self.skip();
                let iter = self.expr()?;
                self.skip();
                let parallel = self.attempt(|p| {
                    if !p.word("parallel") {
                        return None;
                    }
                    p.skip();
                    p.int_lit()
                });
                self.skip();
                StmtKind::For {
                    var,
                    iter,
                    parallel,
                    body: self.block()?,
                }
            }
            b"check" => StmtKind::Check(self.expr()?),
            b"output" => {
                let name = self.ident()?;
                self.skip();
                let value = self.attempt(|p| {
                    if !p.eat(b'=') {
                        return None;
                    }
                    p.skip();
                    p.expr()
                });
                StmtKind::Output { name, value }
            }
            b"finally" => StmtKind::Finally(Arc::new(self.call()?)),
            _ => StmtKind::Parallel(self.int_lit()?),
        })
    }

    /// `if_stmt = { &kw_if ~ "if" ~ expr ~ block ~ (&kw_else ~ "else" ~ (if_stmt | block))? }`.
    fn if_stmt(&mut self) -> Option<StmtKind> {
        self.nested(|p| {
            if !p.word("if") {
                return None;
            }
            p.skip();
            let cond = p.expr()?;
            p.skip();
            let then = p.block()?;
            p.skip();
            let otherwise = p.attempt(|p| {
                if !p.word("else") {
                    return None;
                }
                p.skip();
                let start = p.pos;
                if let Some(kind) = p.attempt(Self::if_stmt) {
                    let span = p.span(start);
                    return Some(Else::If(Box::new(Stmt { span, kind })));
                }
                Some(Else::Block(p.block()?))
            });
            Some(StmtKind::If {
                cond,
                then,
                otherwise,
            })
        })
    }

    /// `schedule_stmt = { "schedule" ~ string ~ (&kw_timezone ~ "timezone" ~ string)? ~
    /// schedule_block? }`, after its word.
    fn schedule(&mut self) -> Option<StmtKind> {
        let cron = self.string()?;
        self.skip();
        let timezone = self.attempt(|p| {
            if !p.word("timezone") {
                return None;
            }
            p.skip();
            p.string()
        });
        self.skip();
        let options = self.attempt(|p| {
            if !p.eat(b'{') {
                return None;
            }
            p.skip();
            let mut options = Vec::new();
            p.many(&mut options, Self::schedule_option);
            p.skip();
            p.eat(b'}').then_some(options)
        });
        Some(StmtKind::Schedule {
            cron,
            timezone,
            options: options.unwrap_or_default(),
        })
    }

    /// `schedule_opt`: `concurrency_opt | history_opt | deadline_opt`.
    fn schedule_option(&mut self) -> Option<ScheduleOption> {
        let start = self.pos;
        let word = self.next_word();
        self.pos += word.len();
        self.skip();
        let kind = match word {
            b"concurrency" => ScheduleOptionKind::Concurrency(self.ident()?),
            b"history" => ScheduleOptionKind::History(self.record()?),
            b"starting_deadline" => ScheduleOptionKind::StartingDeadline(self.quantity()?),
            _ => return None,
        };
        Some(ScheduleOption {
            span: self.span(start),
            kind,
        })
    }

    /// `call = { ident ~ "(" ~ (arg ~ ("," ~ arg)* ~ ","?)? ~ ")" ~ cast? ~ after? ~
    /// with_block? }`.
    fn call(&mut self) -> Option<Call> {
        let start = self.pos;
        let callee = self.ident()?;
        self.skip();
        let args = self.delimited(b'(', b')', |p| {
            let start = p.pos;
            let name = p.ident()?;
            p.skip();
            if !p.eat(b':') {
                return None;
            }
            p.skip();
            let value = p.expr()?;
            Some(Arg {
                span: p.span(start),
                name,
                value,
            })
        })?;
        self.skip();
        let cast = self.attempt(|p| {
            if !p.word("as") {
                return None;
            }
            p.skip();
            p.type_expr().map(Box::new)
        });
        self.skip();
        let after = self
            .attempt(|p| {
                if !p.word("after") {
                    return None;
                }
                p.skip();
                p.comma_list(Self::ident)
            })
            .unwrap_or_default();
        self.skip();
        let settings = self.attempt(|p| {
            let start = p.pos;
            if !p.word("with") {
                return None;
            }
            p.skip();
            let (props, block) = p.prop_block()?;
            Some(Box::new(CallSettings {
                span: p.span(start),
                block,
                props,
            }))
        });
        Some(Call {
            span: self.span(start),
            callee,
            args,
            cast,
            after,
            settings,
        })
    }
}
