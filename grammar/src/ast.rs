//! The typed syntax tree of a `.flow` file.
//!
//! Every node carries the [`Span`] of the source it came from. Comments are not in the tree:
//! they live in [`Module::comments`] as a side table (ruff's design), which the formatter
//! re-attaches by position and the analysis reads for doc comments. Operator chains are flat
//! lists, and bracket nesting is bounded by the scanner, so every walk over this tree is shallow.

use std::sync::Arc;

use crate::span::Span;

/// A parsed file: its declarations in source order, and its comments.
#[derive(Clone, Debug, Default)]
pub struct Module {
    /// Top-level declarations, including [`Item::Error`] placeholders for broken ones.
    pub items: Vec<Item>,
    /// Every comment of the file in source order.
    pub comments: Vec<Comment>,
    /// Every `${build.name}` read in a string of the file, in source order (the checker tells
    /// those it met where build variables are read from those written elsewhere).
    pub build_refs: Vec<Ident>,
}

/// A comment in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// Where the comment is, including its `//` or `/* */` markers.
    pub span: Span,
    /// The comment's text, markers included, trailing spaces removed.
    pub text: String,
    /// What kind of comment it is.
    pub kind: CommentKind,
}

/// The kinds of comments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentKind {
    /// `// ...`
    Line,
    /// `/// ...`: documents the declaration that follows.
    Doc,
    /// `//! ...`: documents the module.
    ModuleDoc,
    /// `/* ... */`
    Block,
}

/// A name with its location.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A top-level declaration.
#[derive(Clone, Debug)]
pub enum Item {
    /// `import std.survey (rake)` or `import "./common.flow" (hdfs)`.
    Import(Import),
    /// `schema Panelist { ... }`.
    Schema(Schema),
    /// `secret keytab = k8s("name", key: "k")`, or `config krb5 = k8s_configmap("name", key:
    /// "k")`.
    Secret(Secret),
    /// `build image_tag: Str = "dev"`.
    Build(BuildVar),
    /// `profile hdfs { ... }`.
    Profile(Profile),
    /// `step name(...) -> (...) { ... }` or `builtin step ...`.
    Step(Step),
    /// `pipeline name(...) { ... }`.
    Pipeline(Pipeline),
    /// A declaration that did not parse; its diagnostics are in the parse errors.
    Error(Span),
}

impl Item {
    /// The span of the whole declaration.
    pub fn span(&self) -> Span {
        match self {
            Item::Import(i) => i.span,
            Item::Schema(i) => i.span,
            Item::Secret(i) => i.span,
            Item::Build(i) => i.span,
            Item::Profile(i) => i.span,
            Item::Step(i) => i.span,
            Item::Pipeline(i) => i.span,
            Item::Error(s) => *s,
        }
    }

    /// The declared name, for declarations that have one.
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Item::Schema(i) => Some(&i.name),
            Item::Secret(i) => Some(&i.name),
            Item::Profile(i) => Some(&i.name),
            Item::Step(i) => Some(&i.name),
            Item::Pipeline(i) => Some(&i.name),
            // Build variables have a namespace of their own (`${build.name}`).
            Item::Import(_) | Item::Build(_) | Item::Error(_) => None,
        }
    }
}

/// An import declaration.
#[derive(Clone, Debug)]
pub struct Import {
    /// The whole declaration.
    pub span: Span,
    /// The kind of a foreign file, such as `kfp` in `import kfp "train.yaml" (train)`; none for
    /// `.flow` modules.
    pub kind: Option<Ident>,
    /// Where the names come from.
    pub source: ImportSource,
    /// The imported names.
    pub names: Vec<ImportName>,
}

/// The module an import reads.
#[derive(Clone, Debug)]
pub enum ImportSource {
    /// A standard-library module such as `std.survey`.
    Module {
        /// The dotted path as written.
        path: String,
        /// Where it is written.
        span: Span,
    },
    /// A file path relative to the importing file.
    File(StrLit),
}

impl ImportSource {
    /// The span of the source path.
    pub fn span(&self) -> Span {
        match self {
            ImportSource::Module { span, .. } => *span,
            ImportSource::File(s) => s.span,
        }
    }
}

/// One imported name, possibly renamed with `as`.
#[derive(Clone, Debug)]
pub struct ImportName {
    /// The name in the imported module.
    pub name: Ident,
    /// The local name, when renamed.
    pub alias: Option<Ident>,
}

impl ImportName {
    /// The name this import binds in the importing module.
    pub fn local(&self) -> &Ident {
        self.alias.as_ref().unwrap_or(&self.name)
    }
}

/// A table schema.
#[derive(Clone, Debug)]
pub struct Schema {
    /// The whole declaration.
    pub span: Span,
    /// The schema's name.
    pub name: Ident,
    /// Schemas whose columns this one includes.
    pub extends: Vec<Ident>,
    /// The columns declared here.
    pub columns: Vec<Column>,
}

/// A column of a schema: `name: Type`.
#[derive(Clone, Debug)]
pub struct Column {
    /// The whole column.
    pub span: Span,
    /// The column name.
    pub name: Ident,
    /// The column type (a scalar, possibly optional).
    pub ty: TypeExpr,
}

/// A Kubernetes Secret reference (`secret`), or a ConfigMap reference (`config`): both name
/// one key of a Kubernetes object, mounted as a file or set as a variable the same way.
#[derive(Clone, Debug)]
pub struct Secret {
    /// The whole declaration.
    pub span: Span,
    /// Whether it declares a Secret or a ConfigMap.
    pub kind: SecretKind,
    /// The name used in the source.
    pub name: Ident,
    /// The Kubernetes Secret's (or ConfigMap's, or existing claim's) name; empty for a claim
    /// created for the run.
    pub k8s_name: StrLit,
    /// The key inside the Secret (or ConfigMap); empty for a volume, and for a whole Secret or
    /// ConfigMap (no `key`), whose span is then the declaration's ([`Secret::whole`]).
    pub key: StrLit,
    /// A volume's settings (`size: 10Gi`, `storage_class: "..."`, `access: "..."`).
    pub options: Vec<Field>,
    /// `k8s(param tenant_secret, ...)`: the Secret's name is this `Str` parameter of the entry
    /// pipeline; [`Secret::k8s_name`] is then empty, spanning `param tenant_secret`.
    pub name_param: Option<Ident>,
}

impl Secret {
    /// Whether a `secret` or `config` names the whole Secret or ConfigMap (`k8s("name")`, no
    /// `key`): mounted as a directory, one file per key.
    pub fn whole(&self) -> bool {
        self.kind != SecretKind::Volume && self.key.span == self.span
    }
}

/// What a [`Secret`] declaration refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// `secret NAME = k8s("secret-name", key: "k")`: a Kubernetes Secret.
    Secret,
    /// `config NAME = k8s_configmap("configmap-name", key: "k")`: a Kubernetes ConfigMap.
    Config,
    /// `volume NAME = k8s_pvc("claim")` or `k8s_pvc(size: 10Gi)`: a persistent volume claim,
    /// existing or created for the run.
    Volume,
}

impl SecretKind {
    /// The declaration's keyword (`secret`, `config`).
    pub fn keyword(self) -> &'static str {
        match self {
            SecretKind::Secret => "secret",
            SecretKind::Config => "config",
            SecretKind::Volume => "volume",
        }
    }

    /// The constructor after `=` (`k8s`, `k8s_configmap`, `k8s_pvc`).
    pub fn call(self) -> &'static str {
        match self {
            SecretKind::Secret => "k8s",
            SecretKind::Config => "k8s_configmap",
            SecretKind::Volume => "k8s_pvc",
        }
    }
}

/// A named bundle of properties.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The whole declaration.
    pub span: Span,
    /// The profile's name.
    pub name: Ident,
    /// Its properties.
    pub props: Vec<Prop>,
}

/// A container step or a built-in step declaration.
#[derive(Clone, Debug)]
pub struct Step {
    /// The whole declaration.
    pub span: Span,
    /// Whether it is `builtin step` (implemented natively by flowc).
    pub builtin: bool,
    /// The step's name.
    pub name: Ident,
    /// Schema variables of a built-in step, such as `T: { sex: Str }`.
    pub generics: Vec<Generic>,
    /// Inputs: parameters and artifacts.
    pub params: Vec<Param>,
    /// Outputs.
    pub outputs: Vec<OutputParam>,
    /// Properties from the body.
    pub props: Vec<Prop>,
    /// The span of the `{ ... }` body, if there is one.
    pub body: Option<Span>,
}

/// A schema variable of a built-in step, with the columns it must have.
#[derive(Clone, Debug)]
pub struct Generic {
    /// The whole generic.
    pub span: Span,
    /// Its name.
    pub name: Ident,
    /// Columns every schema bound to it must have.
    pub bound: Vec<Column>,
}

/// An input of a step or pipeline.
#[derive(Clone, Debug)]
pub struct Param {
    /// The whole parameter.
    pub span: Span,
    /// Its name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeExpr,
    /// Its default value (boxed: most parameters have none, and a step's parameters are a
    /// large part of the tree).
    pub default: Option<Box<Expr>>,
}

/// A build variable: `build image_tag: Str = "dev"`, given with `flowc build --set
/// image_tag=1.2.0` and read in strings as `${build.image_tag}`.
#[derive(Clone, Debug)]
pub struct BuildVar {
    /// The whole declaration.
    pub span: Span,
    /// Its name, type and default, written as a parameter's.
    pub var: Param,
}

/// An output of a step.
#[derive(Clone, Debug)]
pub struct OutputParam {
    /// The whole output.
    pub span: Span,
    /// Its name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeExpr,
}

/// A type as written.
#[derive(Clone, Debug)]
pub struct TypeExpr {
    /// The whole type.
    pub span: Span,
    /// What type it is.
    pub kind: TypeKind,
    /// Whether it ends with `?`.
    pub optional: bool,
}

/// The kinds of written types.
#[derive(Clone, Debug)]
pub enum TypeKind {
    /// `Str`, `Int`, `File`, a schema variable, ...
    Named(Ident),
    /// `List<T>`.
    List(Box<TypeExpr>),
    /// `Table<Schema>`.
    Table(SchemaExpr),
    /// `Metrics` or `Metrics<{ key: Float }>`.
    Metrics(Option<SchemaExpr>),
    /// `Columns<t>`: a list of column names of the table input or schema variable `t`.
    Columns(Ident),
    /// `Column<t>`: one column name of `t`.
    Column(Ident),
    /// `{ region: Str, share: Float }`: a record of named fields.
    Record(Vec<Column>),
}

/// A schema as written inside `Table<...>`: terms joined by `+`.
#[derive(Clone, Debug)]
pub struct SchemaExpr {
    /// The whole expression.
    pub span: Span,
    /// The terms, in order; later terms' columns override earlier ones.
    pub terms: Vec<SchemaTerm>,
}

/// One term of a schema expression.
#[derive(Clone, Debug)]
pub struct SchemaTerm {
    /// The whole term.
    pub span: Span,
    /// A named schema or variable, or inline columns.
    pub kind: SchemaTermKind,
    /// `T[cols]`: keep only the columns named by the parameter `cols`.
    pub projection: Option<Ident>,
}

/// The kinds of schema terms.
#[derive(Clone, Debug)]
pub enum SchemaTermKind {
    /// A schema name or schema variable.
    Name(Ident),
    /// `{ col: Type, ... }`.
    Inline(Vec<Column>),
}

/// A property of a step, profile or `defaults` block.
#[derive(Clone, Debug)]
pub struct Prop {
    /// The whole property.
    pub span: Span,
    /// Which property.
    pub kind: PropKind,
}

/// The properties.
#[derive(Clone, Debug)]
pub enum PropKind {
    /// `image "registry/name:tag"`.
    Image(StrLit),
    /// `run ["cmd", "--flag", input]`. Shared: the checked model keeps the step's command as
    /// written, and holds this same list rather than a copy of it.
    Run(Arc<Expr>),
    /// `python "package.module:function"`: the step calls a Python function (instead of `run`).
    Python(StrLit),
    /// `use profile_a, profile_b`.
    Use(Vec<Ident>),
    /// `cache on|off|ttl 1d`.
    Cache(CacheSetting),
    /// `resources { ... }` or `resources auto(min: {...}, max: {...})`.
    Resources(Resources),
    /// `retries 3 backoff 10s factor 2 max 5m`.
    Retries {
        /// Number of retries after the first attempt.
        count: IntLit,
        /// Backoff between attempts (boxed: rare, and it would make every property as large as
        /// itself).
        backoff: Option<Box<Backoff>>,
        /// `within 2h`: no retry starts once this long has passed since the first attempt.
        within: Option<Quantity>,
    },
    /// `timeout 20m`.
    Timeout(Quantity),
    /// `env NAME = value` (a string, a parameter or a secret).
    Env {
        /// The variable name.
        name: Ident,
        /// Its value.
        value: Expr,
    },
    /// `mount secret_name at "/path"`.
    Mount {
        /// The secret to mount.
        secret: Ident,
        /// The file path it appears at.
        path: StrLit,
    },
    /// `node_selector { "label": "value" }`.
    NodeSelector(Record),
    /// `network on|off`: whether the step may reach the network (`off`: a hermetic step).
    Network(bool),
    /// `toleration { key: "...", operator: "...", effect: "..." }`.
    Toleration(Record),
}

impl PropKind {
    /// The keyword that starts the property.
    pub fn keyword(&self) -> &'static str {
        match self {
            PropKind::Image(_) => "image",
            PropKind::Run(_) => "run",
            PropKind::Python(_) => "python",
            PropKind::Use(_) => "use",
            PropKind::Cache(_) => "cache",
            PropKind::Resources(_) => "resources",
            PropKind::Retries { .. } => "retries",
            PropKind::Timeout(_) => "timeout",
            PropKind::Env { .. } => "env",
            PropKind::Mount { .. } => "mount",
            PropKind::NodeSelector(_) => "node_selector",
            PropKind::Toleration(_) => "toleration",
            PropKind::Network(_) => "network",
        }
    }
}

/// A cache setting.
#[derive(Clone, Debug)]
pub enum CacheSetting {
    /// `cache off`.
    Off,
    /// `cache on` (no expiry).
    On,
    /// `cache ttl 1d`.
    Ttl(Quantity),
}

/// Resource settings.
#[derive(Clone, Debug)]
pub enum Resources {
    /// Fixed values: `{ cpu: 2, memory: 4Gi, gpu: 1 }`.
    Fixed(Record),
    /// Tuned by `flowc autotune` within bounds: `auto(min: {...}, max: {...})`.
    Auto {
        /// The span of `auto(...)`.
        span: Span,
        /// Named bounds, normally `min` and `max`.
        bounds: Vec<(Ident, Record)>,
    },
}

/// Backoff between retries.
#[derive(Clone, Debug)]
pub struct Backoff {
    /// Delay before the first retry.
    pub delay: Quantity,
    /// Growth factor of the delay.
    pub factor: Option<(f64, Span)>,
    /// Longest delay.
    pub max: Option<Quantity>,
}

/// An integer literal.
#[derive(Clone, Debug)]
pub struct IntLit {
    /// Its value.
    pub value: i64,
    /// Where it is written.
    pub span: Span,
}

/// A number with a unit, such as `512Mi`, `500m` or `20m`.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    /// The number as written (`"0.5"`).
    pub number: String,
    /// The number's value.
    pub value: f64,
    /// The unit as written (`"Mi"`).
    pub unit: String,
    /// Where it is written.
    pub span: Span,
}

/// A string literal, with its `${name}` interpolations split out.
#[derive(Clone, Debug, PartialEq)]
pub struct StrLit {
    /// The unescaped value, interpolations left as written (`${name}`).
    pub value: String,
    /// The literal's parts.
    pub parts: StrParts,
    /// Where the literal is written, quotes included.
    pub span: Span,
}

impl StrLit {
    /// The names interpolated in the string (the first name of a dotted path).
    pub fn vars(&self) -> impl Iterator<Item = &Ident> {
        self.parts.iter().filter_map(|p| match p {
            StrPart::Var(v) => Some(v),
            StrPart::Path(p) => p.first(),
            StrPart::Text(_) | StrPart::Build(_) => None,
        })
    }

    /// The names and dotted paths interpolated in the string, each as a path.
    pub fn paths(&self) -> impl Iterator<Item = &[Ident]> {
        self.parts.iter().filter_map(|p| match p {
            StrPart::Var(v) => Some(std::slice::from_ref(v)),
            StrPart::Path(p) => Some(p.as_slice()),
            StrPart::Text(_) | StrPart::Build(_) => None,
        })
    }

    /// The build variables read in the string (`${build.name}`).
    pub fn build_vars(&self) -> impl Iterator<Item = &Ident> {
        self.parts.iter().filter_map(|p| match p {
            StrPart::Build(v) => Some(&**v),
            StrPart::Text(_) | StrPart::Var(_) | StrPart::Path(_) => None,
        })
    }
}

/// The parts of a string literal, read as a slice of [`StrPart`]s. Most literals are one piece
/// of text, held without a vector of its own.
pub type StrParts = OneOrVec<StrPart>;

/// A list read as a slice, whose single item (the usual case: a string of one part, a path of
/// one name) is held in place, without a vector (an allocation) of its own.
#[derive(Clone)]
pub struct OneOrVec<T>(OneOrVecRepr<T>);

#[derive(Clone)]
enum OneOrVecRepr<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrVec<T> {
    /// A list of one item.
    pub fn one(item: T) -> Self {
        OneOrVec(OneOrVecRepr::One(item))
    }
}

impl<T> Default for OneOrVec<T> {
    fn default() -> Self {
        OneOrVec(OneOrVecRepr::Many(Vec::new()))
    }
}

impl<T> From<Vec<T>> for OneOrVec<T> {
    fn from(mut items: Vec<T>) -> Self {
        match items.len() {
            1 => items.pop().map_or_else(OneOrVec::default, OneOrVec::one),
            _ => OneOrVec(OneOrVecRepr::Many(items)),
        }
    }
}

impl<T> std::ops::Deref for OneOrVec<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match &self.0 {
            OneOrVecRepr::One(p) => std::slice::from_ref(p),
            OneOrVecRepr::Many(v) => v,
        }
    }
}

/// Written as the list of its items, the way a vector is.
impl<T: std::fmt::Debug> std::fmt::Debug for OneOrVec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq> PartialEq for OneOrVec<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: PartialEq> PartialEq<Vec<T>> for OneOrVec<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        **self == **other
    }
}

impl<'a, T> IntoIterator for &'a OneOrVec<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A part of a string literal.
#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    /// Literal text.
    Text(String),
    /// `${name}`: the value of a parameter, input or output path.
    Var(Ident),
    /// `${call.output}` (or `${call.metrics.key}`): a dotted path in a pipeline's string, the
    /// value of a call's output read by name.
    Path(Vec<Ident>),
    /// `${build.name}`: the value of a build variable, given when the pipeline is built (boxed:
    /// rare, and a part the size of a name).
    Build(Box<Ident>),
}

/// A record: `{ key: value, "quoted.key": value }`.
#[derive(Clone, Debug)]
pub struct Record {
    /// The whole record.
    pub span: Span,
    /// Its fields in order.
    pub fields: Vec<Field>,
}

impl Record {
    /// The first field named `key`.
    pub fn get(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key.name == key)
    }
}

/// A field of a record.
#[derive(Clone, Debug)]
pub struct Field {
    /// The whole field.
    pub span: Span,
    /// The key; `quoted` tells whether it was written as a string.
    pub key: Ident,
    /// Whether the key was a string literal.
    pub quoted: bool,
    /// The value.
    pub value: Expr,
}

/// A pipeline declaration.
#[derive(Clone, Debug)]
pub struct Pipeline {
    /// The whole declaration.
    pub span: Span,
    /// Its name.
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<Param>,
    /// Its body.
    pub body: Block,
}

/// `{ statements }`.
#[derive(Clone, Debug)]
pub struct Block {
    /// The braces and what is between them.
    pub span: Span,
    /// The statements.
    pub stmts: Vec<Stmt>,
}

/// A pipeline statement.
#[derive(Clone, Debug)]
pub struct Stmt {
    /// The whole statement.
    pub span: Span,
    /// Which statement.
    pub kind: StmtKind,
}

/// The pipeline statements.
#[derive(Clone, Debug)]
pub enum StmtKind {
    /// `defaults { props }`: properties for every step of the pipeline.
    Defaults(Vec<Prop>),
    /// `schedule "0 6 * * *" timezone "Europe/Paris"`.
    Schedule {
        /// The cron expression.
        cron: StrLit,
        /// The IANA time zone.
        timezone: Option<StrLit>,
        /// The options of its `{ ... }` block, in order (none without a block).
        options: Vec<ScheduleOption>,
    },
    /// `parallel N`: at most `N` steps of the pipeline run at once.
    Parallel(IntLit),
    /// `if cond { ... } else { ... }`.
    If {
        /// The condition.
        cond: Expr,
        /// The branch taken when it holds.
        then: Block,
        /// The other branch.
        otherwise: Option<Else>,
    },
    /// `for x in list parallel 4 { ... }`: fan-out; names bound inside are lists after it.
    For {
        /// The loop variable.
        var: Ident,
        /// The list iterated over.
        iter: Expr,
        /// At most this many iterations at once.
        parallel: Option<IntLit>,
        /// The body.
        body: Block,
    },
    /// `check quality.max_abs_error < 0.001`: fails the run when false.
    Check(Expr),
    /// `output name` or `output name = expr`.
    Output {
        /// The output's name.
        name: Ident,
        /// Its value; `output x` means `output x = x`.
        value: Option<Expr>,
    },
    /// `finally notify(...)`: an exit handler that runs whatever happened.
    Finally(Arc<Call>),
    /// `name = step(args)`.
    Bind {
        /// The name bound to the call's outputs.
        name: Ident,
        /// The call.
        call: Arc<Call>,
    },
    /// `step(args)` with no name.
    Call(Arc<Call>),
}

/// The `else` part of an `if`.
#[derive(Clone, Debug)]
pub enum Else {
    /// `else { ... }`.
    Block(Block),
    /// `else if ...`.
    If(Box<Stmt>),
}

/// A call of a step or pipeline. Statements hold it shared (`Arc`): the checked pipeline's
/// call nodes keep the same call rather than a copy of it.
#[derive(Clone, Debug)]
pub struct Call {
    /// The whole call.
    pub span: Span,
    /// The step or pipeline called.
    pub callee: Ident,
    /// Named arguments in order.
    pub args: Vec<Arg>,
    /// `as Table<Schema>`: the type of the single output (boxed, as the settings: both are rare,
    /// and every statement would otherwise be as large as a call that has them).
    pub cast: Option<Box<TypeExpr>>,
    /// `after a, b`: explicit ordering.
    pub after: Vec<Ident>,
    /// `with { ... }`: settings of this call only, over the step's own.
    pub settings: Option<Box<CallSettings>>,
}

/// An option of a `schedule { ... }` block: how the cron-started runs behave.
#[derive(Clone, Debug)]
pub struct ScheduleOption {
    /// The whole option.
    pub span: Span,
    /// Which option.
    pub kind: ScheduleOptionKind,
}

/// The options of a schedule.
#[derive(Clone, Debug)]
pub enum ScheduleOptionKind {
    /// `concurrency allow|forbid|replace`: what a start does while the previous run is running.
    Concurrency(Ident),
    /// `history { succeeded: N, failed: N }`: how many finished runs are kept.
    History(Record),
    /// `starting_deadline 10m`: how late a missed start may still happen.
    StartingDeadline(Quantity),
}

/// The `with { ... }` block of a call: properties that apply to this call only.
#[derive(Clone, Debug)]
pub struct CallSettings {
    /// From `with` to the closing brace.
    pub span: Span,
    /// The block from its opening brace.
    pub block: Span,
    /// The properties in order.
    pub props: Vec<Prop>,
}

/// A named argument.
#[derive(Clone, Debug)]
pub struct Arg {
    /// The whole argument.
    pub span: Span,
    /// The parameter it sets.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
}

/// An expression.
#[derive(Clone, Debug)]
pub struct Expr {
    /// The whole expression.
    pub span: Span,
    /// Which expression.
    pub kind: ExprKind,
}

/// The expressions.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// `42`.
    Int(i64),
    /// `0.5`.
    Float(f64),
    /// `512Mi`, `20m`.
    Quantity(Quantity),
    /// `"text ${name}"`.
    Str(StrLit),
    /// `true`, `false`.
    Bool(bool),
    /// `none`.
    None,
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `{ k: v }`.
    Record(Record),
    /// `name` or `name.field`.
    Path(OneOrVec<Ident>),
    /// `(expr)`.
    Paren(Box<Expr>),
    /// `flatten(xs)`: a built-in function applied to positional arguments.
    Call {
        /// The function's name.
        func: Ident,
        /// The arguments, in order.
        args: Vec<Expr>,
    },
    /// `a or b or c`, `a and b`, `a + b - c`: a flat chain.
    Chain {
        /// The first operand.
        first: Box<Expr>,
        /// Each operator with its span, and the operand after it.
        rest: Vec<(BinOp, Span, Expr)>,
    },
    /// `not not x`.
    Not {
        /// How many `not`s.
        count: usize,
        /// The operand.
        expr: Box<Expr>,
    },
    /// `a < b`.
    Compare {
        /// Left operand.
        lhs: Box<Expr>,
        /// The operator.
        op: CmpOp,
        /// The operator's span.
        op_span: Span,
        /// Right operand.
        rhs: Box<Expr>,
    },
}

/// Chain operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `+`
    Add,
    /// `-`
    Sub,
}

impl BinOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Add => "+",
            BinOp::Sub => "-",
        }
    }
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}
