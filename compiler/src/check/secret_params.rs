//! Secrets named by a pipeline parameter (`secret creds = k8s(param tenant_secret, key: "t")`):
//! every entry pipeline whose steps use one declares that parameter as `Str` (E439).
//!
//! An entry pipeline is one no other pipeline calls: it is what a run starts, and the run's
//! value of the parameter names the Kubernetes Secret. A called pipeline's steps use the
//! entry's parameter, so the requirement falls on its callers. A step's secrets are its
//! properties layered as the plan layers them (the pipeline's `defaults`, the step's own
//! properties, the call's `with`, each with its profiles).

use std::collections::{BTreeMap, BTreeSet};

use crate::maps::HashSet;

use super::layers::layered_props;
use super::props::{EnvValue, ResolvedProps};
use super::Checker;
use crate::diagnostics::{ops, Code};
use crate::resolve::DeclId;
use crate::types::{Scalar, Ty};
use flowc_grammar::ast::{Item, SecretKind};

/// The parameter-named secrets a pipeline uses: secret name → parameter name.
type Uses = BTreeMap<String, String>;

impl Checker<'_> {
    /// Reports E439 for every entry pipeline that uses a parameter-named secret without
    /// declaring the parameter as `Str`.
    pub(super) fn check_secret_params(&mut self) {
        if !self.program.modules.iter().any(|m| {
            m.ast
                .items
                .iter()
                .any(|i| matches!(i, Item::Secret(s) if s.name_param.is_some()))
        }) {
            return;
        }
        let called: HashSet<DeclId> = self
            .out
            .pipelines
            .values()
            .flat_map(|p| p.nodes.iter())
            .filter(|n| n.callee_is_pipeline)
            .filter_map(|n| n.callee)
            .collect();
        let mut entries: Vec<DeclId> = self
            .out
            .pipelines
            .keys()
            .filter(|d| !called.contains(d))
            .copied()
            .collect();
        entries.sort_by_key(|d| (d.module.0, d.item));
        for decl in entries {
            let uses = self.secret_param_uses(decl, &mut BTreeSet::new());
            for (secret, param) in uses {
                self.require_str_param(decl, &secret, &param);
            }
        }
    }

    fn require_str_param(&mut self, decl: DeclId, secret: &str, param: &str) {
        let Some(info) = self.out.pipelines.get(&decl) else {
            return;
        };
        let found = info.sig.params.iter().find(|p| p.name == param);
        if found.is_some_and(|p| p.ty == Ty::Scalar(Scalar::Str)) {
            self.param_used_by_secret(decl, param);
            return;
        }
        let ty = found.map(|p| p.ty.to_string());
        let span = match found {
            Some(p) => p.span,
            None => match self.program.item(decl) {
                Item::Pipeline(p) => p.name.span,
                other => other.span(),
            },
        };
        let file = self.program.file(decl.module);
        let name = info.sig.name.clone();
        self.push(ops::secret_name_param_missing(
            file,
            span,
            &name,
            secret,
            param,
            ty.as_deref(),
        ));
    }

    /// A parameter that names a Secret is used: drops its "never used" warning (W004).
    fn param_used_by_secret(&mut self, decl: DeclId, param: &str) {
        let Item::Pipeline(p) = self.program.item(decl) else {
            return;
        };
        let Some(name) = p.params.iter().find(|q| q.name.name == param) else {
            return;
        };
        let file = self.program.file(decl.module);
        let span = name.name.span;
        self.diags.retain(|d| {
            d.code != Code::UnusedParameter
                || !d
                    .labels
                    .iter()
                    .any(|l| l.primary && l.file == file && l.span == span)
        });
    }

    /// The parameter-named secrets the steps of pipeline `decl` (and the pipelines it calls)
    /// use.
    fn secret_param_uses(&self, decl: DeclId, seen: &mut BTreeSet<(u32, u32)>) -> Uses {
        let mut out = Uses::new();
        if !seen.insert((decl.module.0, decl.item)) {
            return out;
        }
        let Some(info) = self.out.pipelines.get(&decl) else {
            return out;
        };
        for node in &info.nodes {
            let Some(callee) = node.callee else {
                continue;
            };
            if node.callee_is_pipeline {
                out.extend(self.secret_param_uses(callee, seen));
                continue;
            }
            let props = layered_props(
                &self.out.props,
                &info.defaults,
                Some(callee),
                &node.settings,
            );
            self.collect_named(&props, &mut out);
        }
        out
    }

    fn collect_named(&self, props: &ResolvedProps, out: &mut Uses) {
        let env = props.env.values().filter_map(|v| match v {
            EnvValue::Secret(d) => Some(*d),
            _ => None,
        });
        for d in env.chain(props.mounts.iter().map(|(d, _)| *d)) {
            if let Item::Secret(s) = self.program.item(d) {
                if let (SecretKind::Secret, Some(p)) = (s.kind, &s.name_param) {
                    out.insert(s.name.name.clone(), p.name.clone());
                }
            }
        }
    }
}
