//! Semantic checking: declarations, properties and pipelines.
//!
//! [`check_program`] walks every module of a [`Program`] and returns a [`Checked`] model:
//! schemas, step signatures and the checked pipelines (their bindings and graph), plus
//! diagnostics. Declarations are lowered lazily and memoised, so the order of declarations in a
//! file never matters; pipelines are checked callee-first so that a pipeline used as a step has
//! its output types ready.

mod assign;
pub mod build_vars;
mod call;
mod call_settings;
mod collect;
mod expr;
mod functions;
mod image;

pub(crate) use image::image_problem;
pub(crate) mod layers;
mod lints;
mod lower;
mod pipeline;
mod pipeline_model;
mod profiles;
mod props;
pub mod python;
mod run_policy;
mod schedule;
mod scope;
mod secret_params;
mod secrets;
mod step_graph;
pub(crate) mod volumes;

use std::sync::Arc;

use crate::maps::{HashMap, HashSet, IndexMap};

use crate::diagnostics::{names, Code, Diagnostic};
use crate::resolve::{DeclId, DeclKind, ModuleId, Program, ScopeEntry};
use crate::source::FileId;
use crate::types::Schema;
use flowc_grammar::ast::Item;
use flowc_grammar::Span;

pub use expr::parse_date;
pub use lower::{ParamSig, StepSig};
pub use pipeline::{Binding, CallNode, Frame, PipelineInfo, PipelineOutput};
pub(crate) use pipeline_model::visible_sites;
pub use pipeline_model::ScheduleOptions;
pub use props::{CacheMode, EnvValue, ResolvedProps, ResourceSpec, RetrySpec, RunList};

/// The checked model of a program.
#[derive(Debug, Default)]
pub struct Checked {
    /// Schemas by declaration.
    pub schemas: HashMap<DeclId, Schema>,
    /// Step signatures by declaration, in the order they were lowered (an index map: its
    /// entries sit side by side, where a hash map sized for every declaration spreads them over
    /// twice the memory and touches all of it).
    ///
    /// Each signature is shared (`Arc`): checking a call holds its callee's signature while
    /// the checker changes, and takes another handle on it instead of a copy of every
    /// parameter.
    pub steps: IndexMap<DeclId, Arc<StepSig>>,
    /// Checked pipelines by declaration.
    pub pipelines: HashMap<DeclId, PipelineInfo>,
    /// The properties written in each step and profile declaration (an index map, as `steps`).
    pub props: IndexMap<DeclId, ResolvedProps>,
    /// The build variables declared in the program, by name.
    pub build_vars: build_vars::BuildVars,
}

/// The checker: the program it checks, the model it builds and the diagnostics it reports.
/// Its methods are spread over this module's files, one concern each (`lower`, `props`,
/// `pipeline`, `call`, `expr`, `lints`).
pub(crate) struct Checker<'p> {
    /// The resolved program being checked.
    pub program: &'p Program,
    /// Diagnostics reported so far.
    pub diags: Vec<Diagnostic>,
    /// The checked model built so far.
    pub out: Checked,
    /// Declarations being lowered, to detect cycles.
    pub in_progress: HashSet<DeclId>,
    /// Imported names looked up, per module, for the unused-import lint.
    pub used_names: HashSet<(ModuleId, String)>,
    /// Declarations referenced from anywhere.
    pub used_decls: HashSet<DeclId>,
    /// The `${build.name}` reads met where build values are put: (module, offset).
    pub build_reads: HashSet<(ModuleId, u32)>,
    /// Whether the path being resolved is a string's `${...}`, where a call with several
    /// outputs must name one (`E438`).
    pub interpolating: bool,
}

impl<'p> Checker<'p> {
    pub fn file(&self, m: ModuleId) -> FileId {
        self.program.file(m)
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Looks `name` up in module `m`'s scope and marks it used (an imported name in
    /// [`Self::used_names`], for the unused-import lint, which reads no other).
    pub fn lookup(&mut self, m: ModuleId, name: &str) -> Option<ScopeEntry> {
        let entry = self.program.module(m).scope.get(name).cloned()?;
        if entry.import.is_some() {
            self.used_names.insert((m, name.to_string()));
        }
        self.used_decls.insert(entry.decl);
        Some(entry)
    }

    /// Names of `kind` in scope in module `m`, for suggestions.
    pub fn names_of_kind(&self, m: ModuleId, kinds: &[DeclKind]) -> Vec<String> {
        self.program
            .module(m)
            .scope
            .iter()
            .filter(|(_, e)| kinds.contains(&e.kind))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Looks up a name that must be of one of `kinds`, reporting unknown names with
    /// `unknown_code` and names of another kind with E111.
    pub fn lookup_kind(
        &mut self,
        m: ModuleId,
        name: &str,
        span: Span,
        kinds: &[DeclKind],
        unknown_code: Code,
        what: &str,
    ) -> Option<ScopeEntry> {
        let file = self.file(m);
        match self.lookup(m, name) {
            Some(e) if kinds.contains(&e.kind) => Some(e),
            Some(e) => {
                let declared = self.decl_name_span(e.decl);
                self.push(names::wrong_kind(
                    file,
                    span,
                    name,
                    e.kind.a(),
                    what,
                    declared,
                ));
                None
            }
            None if self.is_broken(m, name) => None,
            None => {
                let in_scope = self.names_of_kind(m, kinds);
                self.push(names::unknown_name(
                    unknown_code,
                    file,
                    span,
                    name,
                    what,
                    &in_scope,
                ));
                None
            }
        }
    }

    /// Whether `name` belongs to a declaration or import of module `m` that is already
    /// reported as broken, so that its uses are not reported again.
    pub fn is_broken(&self, m: ModuleId, name: &str) -> bool {
        self.program.module(m).broken.iter().any(|b| b == name)
    }

    /// The file and span of a declaration's name.
    pub fn decl_name_span(&self, decl: DeclId) -> (FileId, Span) {
        let item = self.program.item(decl);
        let span = item.name().map_or(item.span(), |n| n.span);
        (self.program.file(decl.module), span)
    }

    pub fn item(&self, decl: DeclId) -> &'p Item {
        self.program.item(decl)
    }
}

impl Checker<'_> {
    /// Sizes the model's maps for every declaration of the program once: their entries are
    /// large, and growing them one rehash at a time moves them to fresh memory again and again
    /// (a tenth of the checking of a 1,000-step file, docs/perf.md).
    fn reserve(&mut self) {
        let (mut steps, mut props, mut schemas) = (0, 0, 0);
        for module in &self.program.modules {
            for item in &module.ast.items {
                match item {
                    Item::Step(_) => steps += 1,
                    Item::Profile(_) => props += 1,
                    Item::Schema(_) => schemas += 1,
                    _ => {}
                }
            }
        }
        self.out.steps.reserve(steps);
        self.out.props.reserve(steps + props);
        self.out.schemas.reserve(schemas);
    }
}

/// Checks every module of `program`.
pub fn check_program(program: &Program) -> (Checked, Vec<Diagnostic>) {
    let mut checker = Checker {
        program,
        diags: Vec::new(),
        out: Checked::default(),
        in_progress: HashSet::default(),
        used_names: HashSet::default(),
        used_decls: HashSet::default(),
        build_reads: HashSet::default(),
        interpolating: false,
    };
    checker.reserve();
    for (mi, module) in program.modules.iter().enumerate() {
        let m = ModuleId(mi as u32);
        for (ii, item) in module.ast.items.iter().enumerate() {
            let decl = DeclId {
                module: m,
                item: ii as u32,
            };
            match item {
                Item::Schema(_) => {
                    checker.schema(decl);
                }
                Item::Step(_) => {
                    checker.lower_step_sig(decl);
                }
                Item::Profile(p) => checker.check_profile(m, p),
                Item::Secret(s) => checker.check_secret(m, s),
                Item::Build(b) => checker.check_build_var(m, b),
                Item::Pipeline(_) => {
                    checker.pipeline(decl);
                }
                Item::Import(_) | Item::Error(_) => {}
            }
        }
    }
    checker.misplaced_build_refs();
    checker.check_secret_params();
    lints::run(&mut checker);
    (checker.out, checker.diags)
}
