//! `flowc fmt`: the canonical layout of a `.flow` file.
//!
//! The formatter prints the syntax tree in one fixed style (two-space indents, one property or
//! statement per line, lists and records on one line when they fit in [`WIDTH`] columns) and
//! puts every comment back: comments before a declaration, property or statement stay before
//! it, a comment at the end of a line stays at the end of that line, and nothing is dropped.
//! Literals are printed exactly as written. Formatting is idempotent, and a file with syntax
//! errors is never formatted (the tree would be incomplete).

use flowc_grammar::ast::*;
use flowc_grammar::{parse, LineIndex, Span};

/// Lines longer than this are broken.
pub const WIDTH: usize = 100;

/// Why a file was not formatted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    /// How many syntax errors the file has.
    pub syntax_errors: usize,
}

/// Formats `text`, or refuses when it has syntax errors.
pub fn format(text: &str) -> Result<String, FormatError> {
    let parsed = parse(text);
    if !parsed.errors.is_empty() {
        return Err(FormatError {
            syntax_errors: parsed.errors.len(),
        });
    }
    let mut p = Printer {
        src: text,
        lines: LineIndex::new(text),
        comments: parsed.module.comments.clone(),
        next: 0,
        out: String::new(),
        indent: 0,
    };
    p.module(&parsed.module);
    Ok(p.out)
}

/// Expression `e` of the text `src` as the formatter writes it: the canonical text of a check's
/// condition in the plan, so that formatting a file never changes its plan (a finding of the
/// `fmt` fuzz target: `check limit<10.0` had the source text `limit<10.0`, and `limit < 10.0`
/// once formatted).
pub fn expr_text(src: &str, e: &Expr) -> String {
    let p = Printer {
        src,
        lines: LineIndex::new(src),
        comments: Vec::new(),
        next: 0,
        out: String::new(),
        indent: 0,
    };
    p.expr(e, 0)
}

struct Printer<'a> {
    src: &'a str,
    lines: LineIndex,
    comments: Vec<Comment>,
    next: usize,
    out: String,
    indent: usize,
}

impl Printer<'_> {
    fn pad(&self) -> String {
        "  ".repeat(self.indent)
    }

    fn line_of(&self, offset: u32) -> u32 {
        self.lines.line_col(offset).line
    }

    /// Whether the whitespace right before `offset` in the source holds a blank line.
    fn blank_before(&self, offset: u32) -> bool {
        let before = &self.src[..(offset as usize).min(self.src.len())];
        let ws = before.len() - before.trim_end().len();
        before[before.len() - ws..].matches('\n').count() >= 2
    }

    /// Writes an empty line, unless at the start of a block or after one already.
    fn blank_line(&mut self) {
        if !(self.out.is_empty() || self.out.ends_with("\n\n") || self.out.ends_with("{\n")) {
            self.out.push('\n');
        }
    }

    /// Writes comments that start before `offset` as whole lines, keeping the blank lines
    /// around them, then the blank line before `offset` if the source had one.
    fn leading_comments(&mut self, offset: u32) {
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= offset {
                break;
            }
            let text = c.text.clone();
            if self.blank_before(c.span.start) {
                self.blank_line();
            }
            self.next += 1;
            let pad = self.pad();
            for (i, l) in text.lines().enumerate() {
                if i == 0 {
                    self.out.push_str(&pad);
                }
                self.out.push_str(l.trim_end());
                self.out.push('\n');
            }
        }
        if offset != u32::MAX && self.blank_before(offset) {
            self.blank_line();
        }
    }

    /// Appends a comment that starts on the same source line as `end` (and before `limit`).
    fn trailing_comment(&mut self, end: u32, limit: u32) {
        if let Some(c) = self.comments.get(self.next) {
            if c.span.start >= end
                && c.span.start < limit
                && self.line_of(c.span.start) == self.line_of(end)
                && !c.text.contains('\n')
            {
                self.out.push_str("  ");
                self.out.push_str(&c.text);
                self.next += 1;
            }
        }
    }

    fn line(&mut self, text: &str, span: Span, limit: u32) {
        self.leading_comments(span.start);
        self.out.push_str(&self.pad());
        self.out.push_str(text);
        self.trailing_comment(span.end, limit);
        self.out.push('\n');
    }

    fn module(&mut self, m: &Module) {
        let mut prev: Option<&Item> = None;
        for item in &m.items {
            if let Some(p) = prev {
                // Imports, and build variables, stay together as a block of lines.
                let group = matches!(
                    (p, item),
                    (Item::Import(_), Item::Import(_)) | (Item::Build(_), Item::Build(_))
                );
                if !group {
                    self.blank_line();
                }
            }
            self.item(item);
            prev = Some(item);
        }
        self.leading_comments(u32::MAX);
        while self.out.ends_with("\n\n") {
            self.out.pop();
        }
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
    }

    fn item(&mut self, item: &Item) {
        let span = item.span();
        match item {
            Item::Import(i) => {
                let source = match &i.source {
                    ImportSource::Module { path, .. } => path.clone(),
                    ImportSource::File(s) => self.slice(s.span).to_string(),
                };
                let source = match &i.kind {
                    Some(kind) => format!("{} {source}", kind.name),
                    None => source,
                };
                let names: Vec<String> = i
                    .names
                    .iter()
                    .map(|n| match &n.alias {
                        Some(a) => format!("{} as {}", n.name.name, a.name),
                        None => n.name.name.clone(),
                    })
                    .collect();
                self.line(
                    &format!("import {source} ({})", names.join(", ")),
                    span,
                    u32::MAX,
                );
            }
            Item::Schema(s) => {
                let head = match s.extends.is_empty() {
                    true => format!("schema {}", s.name.name),
                    false => format!(
                        "schema {} extends {}",
                        s.name.name,
                        s.extends
                            .iter()
                            .map(|e| e.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                self.columns_block(&head, &s.columns, span);
            }
            Item::Secret(s) if s.kind == SecretKind::Volume => {
                let mut args: Vec<String> = Vec::new();
                if s.k8s_name.span != s.span {
                    args.push(self.slice(s.k8s_name.span).to_string());
                }
                for f in &s.options {
                    args.push(format!("{}: {}", f.key.name, self.slice(f.value.span)));
                }
                let text = format!("volume {} = k8s_pvc({})", s.name.name, args.join(", "));
                self.line(&text, span, u32::MAX);
            }
            Item::Secret(s) if s.whole() => {
                let text = format!(
                    "{} {} = {}({})",
                    s.kind.keyword(),
                    s.name.name,
                    s.kind.call(),
                    self.slice(s.k8s_name.span)
                );
                self.line(&text, span, u32::MAX);
            }
            Item::Secret(s) => {
                let text = format!(
                    "{} {} = {}({}, key: {})",
                    s.kind.keyword(),
                    s.name.name,
                    s.kind.call(),
                    self.slice(s.k8s_name.span),
                    self.slice(s.key.span)
                );
                self.line(&text, span, u32::MAX);
            }
            Item::Build(b) => {
                let text = format!("build {}", self.param(&b.var));
                self.line(&text, span, u32::MAX);
            }
            Item::Profile(p) => {
                let head = format!("profile {}", p.name.name);
                self.prop_block(&head, &p.props, span);
            }
            Item::Step(s) => {
                let head = self.step_head(s);
                if s.body.is_some() {
                    self.prop_block(&head, &s.props, span);
                } else {
                    self.line(&head, span, u32::MAX);
                }
            }
            Item::Pipeline(p) => {
                let params = self.params(&p.params);
                let head = format!("pipeline {}{}", p.name.name, params);
                self.leading_comments(span.start);
                self.out.push_str(&format!("{}{head} {{", self.pad()));
                self.trailing_comment(p.body.span.start + 1, p.body.span.end);
                self.out.push('\n');
                self.block_body(&p.body);
                self.out.push_str(&format!("{}}}", self.pad()));
                self.trailing_comment(span.end, u32::MAX);
                self.out.push('\n');
            }
            Item::Error(_) => {}
        }
    }

    fn slice(&self, span: Span) -> &str {
        &self.src[span.range()]
    }

    fn step_head(&self, s: &Step) -> String {
        let mut head = String::new();
        if s.builtin {
            head.push_str("builtin ");
        }
        head.push_str("step ");
        head.push_str(&s.name.name);
        if !s.generics.is_empty() {
            let gs: Vec<String> = s
                .generics
                .iter()
                .map(|g| {
                    if g.bound.is_empty() {
                        g.name.name.clone()
                    } else {
                        format!("{}: {}", g.name.name, self.inline_columns(&g.bound))
                    }
                })
                .collect();
            head.push_str(&format!("<{}>", gs.join(", ")));
        }
        head.push_str(&self.params(&s.params));
        if !s.outputs.is_empty() || s.builtin {
            let outs: Vec<String> = s
                .outputs
                .iter()
                .map(|o| format!("{}: {}", o.name.name, self.ty(&o.ty)))
                .collect();
            head.push_str(&format!(" -> ({})", outs.join(", ")));
        }
        head
    }

    /// `name: Type = default`.
    fn param(&self, p: &Param) -> String {
        let mut s = format!("{}: {}", p.name.name, self.ty(&p.ty));
        if let Some(d) = &p.default {
            s.push_str(" = ");
            s.push_str(&self.expr(d, self.indent + 1));
        }
        s
    }

    fn params(&self, params: &[Param]) -> String {
        let items: Vec<String> = params.iter().map(|p| self.param(p)).collect();
        let one = format!("({})", items.join(", "));
        if one.len() + self.indent * 2 + 40 <= WIDTH || items.is_empty() {
            one
        } else {
            let pad = "  ".repeat(self.indent + 1);
            let mut s = String::from("(\n");
            for i in items {
                s.push_str(&format!("{pad}{i},\n"));
            }
            s.push_str(&format!("{})", self.pad()));
            s
        }
    }

    fn inline_columns(&self, cols: &[Column]) -> String {
        if cols.is_empty() {
            return "{}".into();
        }
        let items: Vec<String> = cols
            .iter()
            .map(|c| format!("{}: {}", c.name.name, self.ty(&c.ty)))
            .collect();
        format!("{{ {} }}", items.join(", "))
    }

    fn has_comments_in(&self, span: Span) -> bool {
        self.comments[self.next..]
            .iter()
            .any(|c| c.span.start > span.start && c.span.end < span.end)
    }

    fn columns_block(&mut self, head: &str, cols: &[Column], span: Span) {
        let one = format!("{head} {}", self.inline_columns(cols));
        if one.len() + self.indent * 2 <= WIDTH && !self.has_comments_in(span) {
            self.line(&one, span, u32::MAX);
            return;
        }
        self.leading_comments(span.start);
        self.out.push_str(&format!("{}{head} {{", self.pad()));
        let open = cols.first().map_or(span.end, |c| c.span.start);
        self.trailing_comment(span.start, open);
        self.out.push('\n');
        self.indent += 1;
        for (i, c) in cols.iter().enumerate() {
            let limit = cols.get(i + 1).map_or(span.end, |n| n.span.start);
            let text = format!("{}: {},", c.name.name, self.ty(&c.ty));
            self.line(&text, c.span, limit);
        }
        self.leading_comments(span.end.saturating_sub(1));
        self.indent -= 1;
        self.out.push_str(&format!("{}}}", self.pad()));
        self.trailing_comment(span.end, u32::MAX);
        self.out.push('\n');
    }

    fn prop_block(&mut self, head: &str, props: &[Prop], span: Span) {
        self.leading_comments(span.start);
        if props.is_empty() && !self.has_comments_in(span) {
            self.out.push_str(&format!("{}{head} {{}}", self.pad()));
            self.trailing_comment(span.end, u32::MAX);
            self.out.push('\n');
            return;
        }
        self.out.push_str(&format!("{}{head} {{", self.pad()));
        let first = props.first().map_or(span.end, |p| p.span.start);
        // A comment right after the opening brace.
        let brace = self.src[span.range()]
            .find('{')
            .map_or(span.start, |i| span.start + i as u32);
        self.trailing_comment(brace + 1, first);
        self.out.push('\n');
        self.indent += 1;
        self.props(props, span.end);
        self.leading_comments(span.end.saturating_sub(1));
        self.indent -= 1;
        self.out.push_str(&format!("{}}}", self.pad()));
        self.trailing_comment(span.end, u32::MAX);
        self.out.push('\n');
    }

    /// A `schedule` with its `{ ... }` block of options, one per line.
    fn schedule_block(&mut self, head: &str, options: &[ScheduleOption], span: Span) {
        self.leading_comments(span.start);
        self.out.push_str(&format!("{}{head} {{", self.pad()));
        self.trailing_comment(options.first().map_or(span.end, |o| o.span.start), u32::MAX);
        self.out.push('\n');
        self.indent += 1;
        for (i, o) in options.iter().enumerate() {
            let limit = options.get(i + 1).map_or(span.end, |n| n.span.start);
            let text = match &o.kind {
                ScheduleOptionKind::Concurrency(p) => format!("concurrency {}", p.name),
                ScheduleOptionKind::History(r) => {
                    format!("history {}", self.record(r, self.indent))
                }
                ScheduleOptionKind::StartingDeadline(q) => {
                    format!("starting_deadline {}", self.slice(q.span))
                }
            };
            self.line(&text, o.span, limit);
        }
        self.leading_comments(span.end.saturating_sub(1));
        self.indent -= 1;
        self.out.push_str(&format!("{}}}", self.pad()));
        self.trailing_comment(span.end, u32::MAX);
        self.out.push('\n');
    }

    fn props(&mut self, props: &[Prop], end: u32) {
        for (i, p) in props.iter().enumerate() {
            let limit = props.get(i + 1).map_or(end, |n| n.span.start);
            let text = self.prop(p);
            self.line(&text, p.span, limit);
        }
    }

    fn prop(&self, p: &Prop) -> String {
        let ind = self.indent;
        match &p.kind {
            PropKind::Image(s) => format!("image {}", self.slice(s.span)),
            PropKind::Run(e) => format!("run {}", self.expr(e, ind)),
            PropKind::Python(s) => format!("python {}", self.slice(s.span)),
            PropKind::Use(names) => format!(
                "use {}",
                names
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            PropKind::Cache(CacheSetting::On) => "cache on".into(),
            PropKind::Cache(CacheSetting::Off) => "cache off".into(),
            PropKind::Cache(CacheSetting::Ttl(q)) => format!("cache ttl {}", self.slice(q.span)),
            PropKind::Resources(Resources::Fixed(r)) => {
                format!("resources {}", self.record(r, ind))
            }
            PropKind::Resources(Resources::Auto { bounds, .. }) => {
                let bs: Vec<String> = bounds
                    .iter()
                    .map(|(n, r)| format!("{}: {}", n.name, self.record(r, ind + 1)))
                    .collect();
                format!("resources auto({})", bs.join(", "))
            }
            PropKind::Retries {
                count,
                backoff,
                within,
            } => {
                let mut s = format!("retries {}", self.slice(count.span));
                if let Some(b) = backoff {
                    s.push_str(&format!(" backoff {}", self.slice(b.delay.span)));
                    if let Some((_, fs)) = b.factor {
                        s.push_str(&format!(" factor {}", self.slice(fs)));
                    }
                    if let Some(m) = &b.max {
                        s.push_str(&format!(" max {}", self.slice(m.span)));
                    }
                }
                if let Some(w) = within {
                    s.push_str(&format!(" within {}", self.slice(w.span)));
                }
                s
            }
            PropKind::Timeout(q) => format!("timeout {}", self.slice(q.span)),
            PropKind::Env { name, value } => {
                format!("env {} = {}", name.name, self.expr(value, ind))
            }
            PropKind::Mount { secret, path } => {
                format!("mount {} at {}", secret.name, self.slice(path.span))
            }
            PropKind::NodeSelector(r) => format!("node_selector {}", self.record(r, ind)),
            PropKind::Toleration(r) => format!("toleration {}", self.record(r, ind)),
            PropKind::Network(on) => format!("network {}", if *on { "on" } else { "off" }),
        }
    }

    fn block_body(&mut self, block: &Block) {
        self.indent += 1;
        for (i, s) in block.stmts.iter().enumerate() {
            let limit = block
                .stmts
                .get(i + 1)
                .map_or(block.span.end, |n| n.span.start);
            self.stmt(s, limit);
        }
        self.leading_comments(block.span.end.saturating_sub(1));
        self.indent -= 1;
    }

    fn stmt(&mut self, s: &Stmt, limit: u32) {
        let ind = self.indent;
        match &s.kind {
            StmtKind::Defaults(props) => self.prop_block("defaults", props, s.span),
            StmtKind::Schedule {
                cron,
                timezone,
                options,
            } => {
                let mut t = format!("schedule {}", self.slice(cron.span));
                if let Some(tz) = timezone {
                    t.push_str(&format!(" timezone {}", self.slice(tz.span)));
                }
                if options.is_empty() {
                    self.line(&t, s.span, limit);
                } else {
                    self.schedule_block(&t, options, s.span);
                }
            }
            StmtKind::Parallel(n) => {
                let t = format!("parallel {}", n.value);
                self.line(&t, s.span, limit);
            }
            StmtKind::If { .. } => {
                self.leading_comments(s.span.start);
                self.out.push_str(&self.pad());
                let mut current = s;
                while let StmtKind::If {
                    cond,
                    then,
                    otherwise,
                } = &current.kind
                {
                    self.out
                        .push_str(&format!("if {} {{", self.expr(cond, ind)));
                    self.trailing_comment(
                        then.span.start + 1,
                        then.stmts.first().map_or(then.span.end, |x| x.span.start),
                    );
                    self.out.push('\n');
                    self.block_body(then);
                    self.out.push_str(&format!("{}}}", self.pad()));
                    match otherwise {
                        Some(Else::If(next)) => {
                            self.out.push_str(" else ");
                            current = next;
                        }
                        Some(Else::Block(b)) => {
                            self.out.push_str(" else {");
                            self.trailing_comment(
                                b.span.start + 1,
                                b.stmts.first().map_or(b.span.end, |x| x.span.start),
                            );
                            self.out.push('\n');
                            self.block_body(b);
                            self.out.push_str(&format!("{}}}", self.pad()));
                            break;
                        }
                        None => break,
                    }
                }
                self.trailing_comment(s.span.end, limit);
                self.out.push('\n');
            }
            StmtKind::For {
                var,
                iter,
                parallel,
                body,
            } => {
                self.leading_comments(s.span.start);
                let mut head = format!("for {} in {}", var.name, self.expr(iter, ind));
                if let Some(p) = parallel {
                    head.push_str(&format!(" parallel {}", self.slice(p.span)));
                }
                self.out.push_str(&format!("{}{head} {{", self.pad()));
                self.trailing_comment(
                    body.span.start + 1,
                    body.stmts.first().map_or(body.span.end, |x| x.span.start),
                );
                self.out.push('\n');
                self.block_body(body);
                self.out.push_str(&format!("{}}}", self.pad()));
                self.trailing_comment(s.span.end, limit);
                self.out.push('\n');
            }
            StmtKind::Check(e) => {
                let t = format!("check {}", self.expr(e, ind));
                self.line(&t, s.span, limit);
            }
            StmtKind::Output { name, value } => {
                let t = match value {
                    Some(v) => format!("output {} = {}", name.name, self.expr(v, ind)),
                    None => format!("output {}", name.name),
                };
                self.line(&t, s.span, limit);
            }
            StmtKind::Finally(c) => {
                let t = format!("finally {}", self.call(c, ind));
                self.call_line(&t, c, s.span, limit);
            }
            StmtKind::Bind { name, call } => {
                let t = format!("{} = {}", name.name, self.call(call, ind));
                self.call_line(&t, call, s.span, limit);
            }
            StmtKind::Call(c) => {
                let t = self.call(c, ind);
                self.call_line(&t, c, s.span, limit);
            }
        }
    }

    /// A statement made of a call (`t`, already formatted), with its `with { ... }` block of
    /// settings, if any, written like a `defaults` block.
    fn call_line(&mut self, t: &str, c: &Call, span: Span, limit: u32) {
        match &c.settings {
            Some(settings) => {
                // The comments and blank line before the statement, not before its block.
                self.leading_comments(span.start);
                self.prop_block(&format!("{t} with"), &settings.props, settings.block)
            }
            None => self.line(t, span, limit),
        }
    }

    fn call(&self, c: &Call, ind: usize) -> String {
        let args: Vec<String> = c
            .args
            .iter()
            .map(|a| format!("{}: {}", a.name.name, self.expr(&a.value, ind + 1)))
            .collect();
        let mut tail = String::new();
        if let Some(t) = &c.cast {
            tail.push_str(&format!(" as {}", self.ty(t)));
        }
        if !c.after.is_empty() {
            tail.push_str(&format!(
                " after {}",
                c.after
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let one = format!("{}({}){tail}", c.callee.name, args.join(", "));
        if one.len() + ind * 2 + 12 <= WIDTH && !args.iter().any(|a| a.contains('\n')) {
            return one;
        }
        let pad = "  ".repeat(ind + 1);
        let mut s = format!("{}(\n", c.callee.name);
        for a in args {
            s.push_str(&format!("{pad}{a},\n"));
        }
        s.push_str(&format!("{}){tail}", "  ".repeat(ind)));
        s
    }

    fn ty(&self, t: &TypeExpr) -> String {
        let base = match &t.kind {
            TypeKind::Named(i) => i.name.clone(),
            TypeKind::List(inner) => format!("List<{}>", self.ty(inner)),
            TypeKind::Table(se) => format!("Table<{}>", self.schema_expr(se)),
            TypeKind::Metrics(None) => "Metrics".into(),
            TypeKind::Metrics(Some(se)) => format!("Metrics<{}>", self.schema_expr(se)),
            TypeKind::Columns(i) => format!("Columns<{}>", i.name),
            TypeKind::Column(i) => format!("Column<{}>", i.name),
            TypeKind::Record(cols) => self.inline_columns(cols),
        };
        if t.optional {
            format!("{base}?")
        } else {
            base
        }
    }

    fn schema_expr(&self, se: &SchemaExpr) -> String {
        se.terms
            .iter()
            .map(|t| {
                let mut s = match &t.kind {
                    SchemaTermKind::Name(i) => i.name.clone(),
                    SchemaTermKind::Inline(cols) => self.inline_columns(cols),
                };
                if let Some(p) = &t.projection {
                    s.push_str(&format!("[{}]", p.name));
                }
                s
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }

    fn record(&self, r: &Record, ind: usize) -> String {
        if r.fields.is_empty() {
            return "{}".into();
        }
        let fields: Vec<String> = r
            .fields
            .iter()
            .map(|f| {
                let key = if f.quoted {
                    self.slice(f.key.span).to_string()
                } else {
                    f.key.name.clone()
                };
                format!("{key}: {}", self.expr(&f.value, ind + 1))
            })
            .collect();
        let one = format!("{{ {} }}", fields.join(", "));
        if one.len() + ind * 2 + 16 <= WIDTH && !one.contains('\n') {
            return one;
        }
        let pad = "  ".repeat(ind + 1);
        let mut s = String::from("{\n");
        for f in fields {
            s.push_str(&format!("{pad}{f},\n"));
        }
        s.push_str(&format!("{}}}", "  ".repeat(ind)));
        s
    }

    fn expr(&self, e: &Expr, ind: usize) -> String {
        match &e.kind {
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Quantity(_) | ExprKind::Str(_) => {
                self.slice(e.span).to_string()
            }
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::None => "none".into(),
            ExprKind::Path(p) => p
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join("."),
            ExprKind::Paren(inner) => format!("({})", self.expr(inner, ind)),
            ExprKind::Call { func, args } => {
                let parts: Vec<String> = args.iter().map(|a| self.expr(a, ind)).collect();
                format!("{}({})", func.name, parts.join(", "))
            }
            ExprKind::Not { count, expr } => {
                format!("{}{}", "not ".repeat(*count), self.expr(expr, ind))
            }
            ExprKind::Chain { first, rest } => {
                let mut s = self.expr(first, ind);
                for (op, _, e) in rest {
                    s.push_str(&format!(" {} {}", op.as_str(), self.expr(e, ind)));
                }
                s
            }
            ExprKind::Compare { lhs, op, rhs, .. } => format!(
                "{} {} {}",
                self.expr(lhs, ind),
                op.as_str(),
                self.expr(rhs, ind)
            ),
            ExprKind::Record(r) => self.record(r, ind),
            ExprKind::List(items) => {
                let parts: Vec<String> = items.iter().map(|i| self.expr(i, ind + 1)).collect();
                let one = format!("[{}]", parts.join(", "));
                if one.len() + ind * 2 + 16 <= WIDTH && !one.contains('\n') {
                    return one;
                }
                let pad = "  ".repeat(ind + 1);
                let mut s = String::from("[\n");
                for p in parts {
                    s.push_str(&format!("{pad}{p},\n"));
                }
                s.push_str(&format!("{}]", "  ".repeat(ind)));
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::format;

    fn check(input: &str, expect: &str) {
        let out = format(input).expect("formats");
        assert_eq!(out, expect);
        assert_eq!(format(&out).expect("formats"), out, "not idempotent");
    }

    #[test]
    fn normalises_layout_and_keeps_comments() {
        check(
            "// head\nschema A{x:Int,y:Str?}   // trailing\n\n\n/// doc\nstep s(a:Int)->(o:File){image \"i:1\"\nrun [\"echo\",a]}\n",
            "// head\nschema A { x: Int, y: Str? }  // trailing\n\n/// doc\nstep s(a: Int) -> (o: File) {\n  image \"i:1\"\n  run [\"echo\", a]\n}\n",
        );
    }

    #[test]
    fn refuses_broken_files() {
        assert!(format("schema {").is_err());
    }

    #[test]
    fn comments_inside_blocks_survive() {
        let src = "pipeline p() {\n  // first\n  a = s(x: 1)  // why\n\n  // last\n}\n";
        check(src, src);
    }
}
