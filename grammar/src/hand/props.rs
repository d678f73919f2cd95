//! Properties of steps, profiles, `defaults` and `with` blocks, as `flow.pest`'s `prop_block`
//! and `prop` rules.

use super::Hand;
use crate::ast::{Backoff, CacheSetting, Expr, ExprKind, Prop, PropKind, Resources};
use crate::span::Span;

impl Hand<'_> {
    /// `prop_block = { "{" ~ prop* ~ "}" }`: its properties and its span.
    pub(super) fn prop_block(&mut self) -> Option<(Vec<Prop>, Span)> {
        let start = self.pos;
        if !self.eat(b'{') {
            return None;
        }
        self.skip();
        let mut props = Vec::new();
        self.many(&mut props, Self::prop);
        let props = super::exact(props);
        self.skip();
        if !self.eat(b'}') {
            return None;
        }
        Some((props, self.span(start)))
    }

    /// `prop`: the property its first word (`&prop_word`) names.
    fn prop(&mut self) -> Option<Prop> {
        let start = self.pos;
        let word = self.next_word();
        let kind = match word {
            b"image" | b"python" | b"timeout" | b"network" | b"node_selector" | b"toleration" => {
                self.pos += word.len();
                self.skip();
                match word {
                    b"image" => PropKind::Image(self.string()?),
                    b"python" => PropKind::Python(self.string()?),
                    b"timeout" => PropKind::Timeout(self.quantity()?),
                    b"node_selector" => PropKind::NodeSelector(self.record()?),
                    b"toleration" => PropKind::Toleration(self.record()?),
                    _ => match self.next_word() {
                        b"on" | b"off" => {
                            let on = self.next_word() == b"on";
                            self.pos = self.word_end(self.pos);
                            PropKind::Network(on)
                        }
                        _ => return None,
                    },
                }
            }
            b"run" => {
                self.pos += 3;
                self.skip();
                let list = self.pos;
                if self.peek() != b'[' {
                    return None;
                }
                let items = self.delimited(b'[', b']', Self::expr)?;
                PropKind::Run(std::sync::Arc::new(Expr {
                    span: self.span(list),
                    kind: ExprKind::List(items),
                }))
            }
            b"use" => {
                self.pos += 3;
                self.skip();
                PropKind::Use(self.comma_list(Self::ident)?)
            }
            b"cache" => {
                self.pos += 5;
                self.skip();
                PropKind::Cache(self.cache()?)
            }
            b"resources" => {
                self.pos += 9;
                self.skip();
                PropKind::Resources(self.resources()?)
            }
            b"retries" => self.retries()?,
            b"env" => {
                self.pos += 3;
                self.skip();
                let name = self.ident()?;
                self.skip();
                if !self.eat(b'=') {
                    return None;
                }
                self.skip();
                PropKind::Env {
                    name,
                    value: self.expr()?,
                }
            }
            b"mount" => {
                self.pos += 5;
                self.skip();
                let secret = self.ident()?;
                self.skip();
                if !self.word("at") {
                    return None;
                }
                self.skip();
                PropKind::Mount {
                    secret,
                    path: self.string()?,
                }
            }
            _ => return None,
        };
        Some(Prop {
            span: self.span(start),
            kind,
        })
    }

    /// `cache_off | cache_on | cache_ttl`.
    fn cache(&mut self) -> Option<CacheSetting> {
        if self.word("off") {
            return Some(CacheSetting::Off);
        }
        if self.word("on") {
            return Some(CacheSetting::On);
        }
        if !self.word("ttl") {
            return None;
        }
        self.skip();
        Some(CacheSetting::Ttl(self.quantity()?))
    }

    /// `resources_auto | record`; `resources_auto = { &kw_auto ~ "auto" ~ "(" ~ (bound ~ (","
    /// ~ bound)* ~ ","?)? ~ ")" }`, `bound = { ident ~ ":" ~ record }`.
    fn resources(&mut self) -> Option<Resources> {
        let start = self.pos;
        let auto = self.attempt(|p| {
            if !p.word("auto") {
                return None;
            }
            p.skip();
            let bounds = p.delimited(b'(', b')', |p| {
                let name = p.ident()?;
                p.skip();
                if !p.eat(b':') {
                    return None;
                }
                p.skip();
                Some((name, p.record()?))
            })?;
            Some(Resources::Auto {
                span: p.span(start),
                bounds,
            })
        });
        match auto {
            Some(a) => Some(a),
            None => Some(Resources::Fixed(self.record()?)),
        }
    }

    /// `retries_prop = { "retries" ~ int ~ backoff? ~ retry_within? }`. The pest lowering
    /// reads `within` before `backoff`, so a number error in `within` comes first.
    fn retries(&mut self) -> Option<PropKind> {
        self.pos += 7;
        self.skip();
        let count = self.int_lit()?;
        self.skip();
        let backoff_errors = self.errors.len();
        let backoff = self.attempt(Self::backoff).map(Box::new);
        self.skip();
        let within_errors = self.errors.len();
        let within = self.attempt(|p| {
            if !p.word("within") {
                return None;
            }
            p.skip();
            p.quantity()
        });
        self.errors[backoff_errors..].rotate_left(within_errors - backoff_errors);
        Some(PropKind::Retries {
            count,
            backoff,
            within,
        })
    }

    /// `backoff = { &kw_backoff ~ "backoff" ~ quantity ~ (&kw_factor ~ "factor" ~ (float |
    /// int))? ~ (&kw_max ~ "max" ~ quantity)? }`.
    fn backoff(&mut self) -> Option<Backoff> {
        if !self.word("backoff") {
            return None;
        }
        self.skip();
        let delay = self.quantity()?;
        self.skip();
        let factor = self.attempt(|p| {
            if !p.word("factor") {
                return None;
            }
            p.skip();
            p.factor()
        });
        self.skip();
        let max = self.attempt(|p| {
            if !p.word("max") {
                return None;
            }
            p.skip();
            p.quantity()
        });
        Some(Backoff { delay, factor, max })
    }
}
