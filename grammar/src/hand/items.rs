//! Top-level declarations, as `flow.pest`'s `item` rule and the `*_decl` rules under it.

use super::Hand;
use crate::ast::{
    BuildVar, Generic, Ident, Import, ImportName, ImportSource, Item, OutputParam, Param, Pipeline,
    Profile, Schema, Secret, SecretKind, Step, StrLit, StrParts,
};
use crate::span::Span;

impl Hand<'_> {
    /// `item`: the declaration its first word names.
    pub(super) fn item(&mut self) -> Option<Item> {
        let start = self.pos;
        let word = self.next_word();
        let known = matches!(
            word,
            b"import"
                | b"schema"
                | b"secret"
                | b"config"
                | b"volume"
                | b"build"
                | b"profile"
                | b"step"
                | b"builtin"
                | b"pipeline"
        );
        if !known {
            return None;
        }
        self.pos += word.len();
        self.skip();
        Some(match word {
            b"import" => Item::Import(self.import(start)?),
            b"schema" => Item::Schema(self.schema(start)?),
            b"secret" => Item::Secret(self.secret(start, SecretKind::Secret)?),
            b"config" => Item::Secret(self.secret(start, SecretKind::Config)?),
            b"volume" => Item::Secret(self.secret(start, SecretKind::Volume)?),
            b"build" => {
                let var = self.param()?;
                Item::Build(BuildVar {
                    span: self.span(start),
                    var,
                })
            }
            b"profile" => {
                let name = self.ident()?;
                self.skip();
                let (props, _) = self.prop_block()?;
                Item::Profile(Profile {
                    span: self.span(start),
                    name,
                    props,
                })
            }
            b"pipeline" => Item::Pipeline(self.pipeline(start)?),
            b"builtin" => {
                if !self.word("step") {
                    return None;
                }
                self.skip();
                Item::Step(self.step(start, true)?)
            }
            _ => Item::Step(self.step(start, false)?),
        })
    }

    /// `import_decl`, after its word.
    fn import(&mut self, start: usize) -> Option<Import> {
        // import_kind = { ident ~ &string }
        let kind = self.attempt(|p| {
            let kind = p.ident()?;
            p.skip();
            p.string_end(p.pos).map(|_| kind)
        });
        self.skip();
        let source = match self.attempt(Self::module_path) {
            Some(m) => m,
            None => ImportSource::File(self.string()?),
        };
        self.skip();
        if !self.eat(b'(') {
            return None;
        }
        self.skip();
        let names = self.comma_list(|p| {
            let name = p.ident()?;
            p.skip();
            let alias = p.attempt(|p| {
                if !p.word("as") {
                    return None;
                }
                p.skip();
                p.ident()
            });
            Some(ImportName { name, alias })
        })?;
        self.skip();
        self.eat(b',');
        self.skip();
        if !self.eat(b')') {
            return None;
        }
        Some(Import {
            span: self.span(start),
            kind,
            source,
            names,
        })
    }

    /// `module_path = ${ ident ~ ("." ~ ident)+ }`.
    fn module_path(&mut self) -> Option<ImportSource> {
        let start = self.pos;
        self.ident()?;
        let mut dots = 0;
        while self.peek() == b'.' {
            let at = self.pos;
            self.pos += 1;
            if self.ident().is_none() {
                self.pos = at;
                break;
            }
            dots += 1;
        }
        (dots > 0).then(|| ImportSource::Module {
            path: self.text[start..self.pos].to_string(),
            span: Span::new(start, self.pos),
        })
    }

    /// `schema_decl`, after its word.
    fn schema(&mut self, start: usize) -> Option<Schema> {
        let name = self.ident()?;
        self.skip();
        let extends = self.attempt(|p| {
            if !p.word("extends") {
                return None;
            }
            p.skip();
            p.comma_list(Self::ident)
        });
        self.skip();
        let columns = self.schema_body()?;
        Some(Schema {
            span: self.span(start),
            name,
            extends: extends.unwrap_or_default(),
            columns,
        })
    }

    /// `secret_decl`, `config_decl` or `volume_decl`, after its word.
    fn secret(&mut self, start: usize, kind: SecretKind) -> Option<Secret> {
        let name = self.ident()?;
        self.skip();
        if !self.eat(b'=') {
            return None;
        }
        self.skip();
        if !self.word(kind.call()) {
            return None;
        }
        self.skip();
        if !self.eat(b'(') {
            return None;
        }
        self.skip();
        let mut k8s_name = None;
        let mut name_param = None;
        let mut key = None;
        let mut options = Vec::new();
        if kind == SecretKind::Volume {
            // (string | field) ~ ("," ~ field)*
            match self.attempt(Self::string) {
                Some(s) => k8s_name = Some(s),
                None => options.push(self.field()?),
            }
            self.skip();
            self.many(&mut options, |p| {
                if !p.eat(b',') {
                    return None;
                }
                p.skip();
                p.field()
            });
        } else {
            let param = (kind == SecretKind::Secret)
                .then(|| self.attempt(Self::secret_param))
                .flatten();
            match param {
                Some((param, span)) => {
                    k8s_name = Some(empty_str(span));
                    name_param = Some(param);
                }
                None => k8s_name = Some(self.string()?),
            }
            self.skip();
            key = self.attempt(|p| {
                if !p.eat(b',') {
                    return None;
                }
                p.skip();
                if !p.word("key") {
                    return None;
                }
                p.skip();
                if !p.eat(b':') {
                    return None;
                }
                p.skip();
                p.string()
            });
        }
        self.skip();
        self.eat(b',');
        self.skip();
        if !self.eat(b')') {
            return None;
        }
        let span = self.span(start);
        Some(Secret {
            span,
            kind,
            name,
            k8s_name: k8s_name.unwrap_or_else(|| empty_str(span)),
            key: key.unwrap_or_else(|| empty_str(span)),
            options,
            name_param,
        })
    }

    /// `secret_param = { &kw_param ~ "param" ~ ident }`: the name, and the rule's span.
    fn secret_param(&mut self) -> Option<(Ident, Span)> {
        let start = self.pos;
        if !self.word("param") {
            return None;
        }
        self.skip();
        let name = self.ident()?;
        Some((name, self.span(start)))
    }

    /// `param = { ident ~ ":" ~ type_expr ~ ("=" ~ expr)? }`.
    fn param(&mut self) -> Option<Param> {
        let start = self.pos;
        let name = self.ident()?;
        self.skip();
        if !self.eat(b':') {
            return None;
        }
        self.skip();
        let ty = self.type_expr()?;
        self.skip();
        let default = self.attempt(|p| {
            if !p.eat(b'=') {
                return None;
            }
            p.skip();
            p.expr().map(Box::new)
        });
        Some(Param {
            span: self.span(start),
            name,
            ty,
            default,
        })
    }

    /// `step_decl` after `step`, or `builtin_decl` after `builtin step`.
    fn step(&mut self, start: usize, builtin: bool) -> Option<Step> {
        let name = self.ident()?;
        self.skip();
        let mut generics = Vec::new();
        if builtin {
            generics = self.attempt(Self::generics).unwrap_or_default();
            self.skip();
        }
        let params = self.delimited(b'(', b')', Self::param)?;
        self.skip();
        let outputs = match builtin {
            true => Some(self.outputs()?),
            false => self.attempt(Self::outputs),
        };
        self.skip();
        let block = match builtin {
            true => self.attempt(Self::prop_block),
            false => Some(self.prop_block()?),
        };
        let (props, body) = match block {
            Some((props, span)) => (props, Some(span)),
            None => (Vec::new(), None),
        };
        Some(Step {
            span: self.span(start),
            builtin,
            name,
            generics,
            params,
            outputs: outputs.unwrap_or_default(),
            props,
            body,
        })
    }

    /// `generics = { "<" ~ generic ~ ("," ~ generic)* ~ ","? ~ ">" }`, `generic = { ident ~
    /// (":" ~ schema_body)? }`.
    fn generics(&mut self) -> Option<Vec<Generic>> {
        if !self.eat(b'<') {
            return None;
        }
        self.skip();
        let generics = self.comma_list(|p| {
            let start = p.pos;
            let name = p.ident()?;
            p.skip();
            let bound = p.attempt(|p| {
                if !p.eat(b':') {
                    return None;
                }
                p.skip();
                p.schema_body()
            });
            Some(Generic {
                span: p.span(start),
                name,
                bound: bound.unwrap_or_default(),
            })
        })?;
        self.skip();
        self.eat(b',');
        self.skip();
        self.eat(b'>').then_some(generics)
    }

    /// `outputs = { "->" ~ "(" ~ (output_param ~ ("," ~ output_param)* ~ ","?)? ~ ")" }`.
    fn outputs(&mut self) -> Option<Vec<OutputParam>> {
        if !self.lit("->") {
            return None;
        }
        self.skip();
        self.delimited(b'(', b')', |p| {
            let c = p.column()?;
            Some(OutputParam {
                span: c.span,
                name: c.name,
                ty: c.ty,
            })
        })
    }

    /// `pipeline_decl`, after its word.
    fn pipeline(&mut self, start: usize) -> Option<Pipeline> {
        let name = self.ident()?;
        self.skip();
        let params = self.delimited(b'(', b')', Self::param)?;
        self.skip();
        let body = self.body()?;
        Some(Pipeline {
            span: self.span(start),
            name,
            params,
            body,
        })
    }
}

/// An empty string literal at `span` (a missing name or key, as the lowering makes it).
fn empty_str(span: Span) -> StrLit {
    StrLit {
        value: String::new(),
        parts: StrParts::default(),
        span,
    }
}
