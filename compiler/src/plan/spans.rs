//! Where the parts of a plan come from in the source.
//!
//! The plan is what every backend reads, and a backend that cannot express something reports
//! it as a diagnostic at the line that causes it; these spans say which line. They are a side
//! channel of the plan: `#[serde(skip)]` fields, never in its JSON. A task's settings are
//! merged from its step, the step's profiles and the pipeline's `defaults`
//! ([`super::lower`]); [`setting_spans`] walks the same properties in the same order, so each
//! setting points at the property that won the merge.

use flowc_grammar::ast::{Item, Prop, PropKind, StmtKind};
use flowc_grammar::Span;

use crate::check::{CallNode, ResolvedProps};
use crate::resolve::DeclId;
use crate::source::FileId;
use crate::Analysis;

/// A byte span in one file of the analysis the plan was built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SourceSpan {
    /// The file.
    pub file: FileId,
    /// The byte range in it.
    pub span: Span,
}

/// Where each setting of a task was written: the property that won the merge of the step's
/// own properties over its profiles over the pipeline's `defaults`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SettingSpans {
    /// `image`.
    pub image: Option<SourceSpan>,
    /// `run`.
    pub run: Option<SourceSpan>,
    /// `cache`.
    pub cache: Option<SourceSpan>,
    /// `resources` (the last one written, as resources merge key by key).
    pub resources: Option<SourceSpan>,
    /// `retries`.
    pub retries: Option<SourceSpan>,
    /// `timeout`.
    pub timeout: Option<SourceSpan>,
    /// `env`, by variable name.
    pub env: Vec<(String, SourceSpan)>,
    /// `mount`, by path.
    pub mounts: Vec<(String, SourceSpan)>,
    /// `node_selector` (the last one written).
    pub node_selector: Option<SourceSpan>,
    /// `toleration`s, in the order they add up.
    pub tolerations: Vec<SourceSpan>,
    /// `network`.
    pub network: Option<SourceSpan>,
}

impl SettingSpans {
    /// Records the properties of one list, written in `file`, over what is recorded.
    fn apply(&mut self, file: FileId, props: &[Prop]) {
        for p in props {
            let at = Some(SourceSpan { file, span: p.span });
            match &p.kind {
                PropKind::Image(_) => self.image = at,
                PropKind::Run(_) | PropKind::Python(_) => self.run = at,
                PropKind::Use(_) => {}
                PropKind::Cache(_) => self.cache = at,
                PropKind::Resources(_) => self.resources = at,
                PropKind::Retries { .. } => self.retries = at,
                PropKind::Timeout(_) => self.timeout = at,
                PropKind::Env { name, .. } => {
                    self.env.retain(|(n, _)| *n != name.name);
                    self.env
                        .push((name.name.clone(), SourceSpan { file, span: p.span }));
                }
                PropKind::Mount { path, .. } => {
                    self.mounts.retain(|(m, _)| *m != path.value);
                    self.mounts
                        .push((path.value.clone(), SourceSpan { file, span: p.span }));
                }
                PropKind::NodeSelector(_) => self.node_selector = at,
                PropKind::Toleration(_) => self.tolerations.push(SourceSpan { file, span: p.span }),
                PropKind::Network(_) => self.network = at,
            }
        }
    }
}

/// `span` in the file of `decl`'s module.
pub(super) fn in_decl(a: &Analysis, decl: DeclId, span: Span) -> Option<SourceSpan> {
    Some(SourceSpan {
        file: a.program.file(decl.module),
        span,
    })
}

/// The `schedule` statement of pipeline `decl`, if it has one at its top level.
pub(super) fn schedule(a: &Analysis, decl: DeclId) -> Option<SourceSpan> {
    let Item::Pipeline(p) = a.program.item(decl) else {
        return None;
    };
    let stmt = p
        .body
        .stmts
        .iter()
        .find(|s| matches!(s.kind, StmtKind::Schedule { .. }))?;
    in_decl(a, decl, stmt.span)
}

/// Where the settings every call of pipeline `pipeline` (whose `defaults` are `defaults`)
/// starts from were written: its `defaults` block, then that block's profiles. Found once per
/// pipeline: looking for the block again for each call made a build quadratic in its calls.
pub(super) fn defaults_spans(
    a: &Analysis,
    pipeline: DeclId,
    defaults: &ResolvedProps,
) -> SettingSpans {
    let mut out = SettingSpans::default();
    if let Item::Pipeline(p) = a.program.item(pipeline) {
        let block = p.body.stmts.iter().find_map(|s| match &s.kind {
            StmtKind::Defaults(props) => Some(props),
            _ => None,
        });
        if let Some(props) = block {
            out.apply(a.program.file(pipeline.module), props);
        }
    }
    for u in &defaults.uses {
        profile(a, *u, 0, &mut out);
    }
    out
}

/// Where each setting of a call of `step` in pipeline `pipeline` was written, in the order
/// [`super::lower`] merges them: from the pipeline's [`defaults_spans`], the step's profiles,
/// the step, the call's own profiles and settings.
pub(super) fn setting_spans(
    a: &Analysis,
    pipeline: DeclId,
    defaults: &SettingSpans,
    step: Option<DeclId>,
    call: &CallNode,
) -> SettingSpans {
    let mut out = defaults.clone();
    if let Some(d) = step {
        if let Some(own) = a.checked.props.get(&d) {
            for u in &own.uses {
                profile(a, *u, 0, &mut out);
            }
        }
        declared(a, d, &mut out);
    }
    if let Some(settings) = &call.call.settings {
        for u in &call.settings.uses {
            profile(a, *u, 0, &mut out);
        }
        out.apply(a.program.file(pipeline.module), &settings.props);
    }
    out
}

/// A profile's properties, the profiles it uses first (as `profile_props` merges them).
fn profile(a: &Analysis, d: DeclId, depth: usize, out: &mut SettingSpans) {
    if depth < 32 {
        if let Some(own) = a.checked.props.get(&d) {
            for u in &own.uses {
                profile(a, *u, depth + 1, out);
            }
        }
    }
    declared(a, d, out);
}

/// The properties written in the declaration of a step or profile.
fn declared(a: &Analysis, d: DeclId, out: &mut SettingSpans) {
    let props = match a.program.item(d) {
        Item::Step(s) => &s.props,
        Item::Profile(p) => &p.props,
        _ => return,
    };
    out.apply(a.program.file(d.module), props);
}
