//! Layers of properties: what a call of a step runs with is the pipeline's `defaults`, the
//! step's own properties and the call's `with`, each after the profiles it uses, a later
//! layer winning key by key (variables by name, mounts by path, resources by field,
//! tolerations adding up). The plan builder and the checks that need a call's settings (the
//! secrets it uses, `secret_params.rs`) both read them from here.

use crate::maps::IndexMap;

use super::{ResolvedProps, ResourceSpec};
use crate::resolve::DeclId;

/// The properties of a profile with the profiles it uses applied first.
fn profile_props(all: &IndexMap<DeclId, ResolvedProps>, d: DeclId, depth: usize) -> ResolvedProps {
    let mut out = ResolvedProps::default();
    let Some(own) = all.get(&d) else {
        return out;
    };
    if depth < 32 {
        for u in &own.uses {
            let p = profile_props(all, *u, depth + 1);
            merge(&mut out, &p);
        }
    }
    merge(&mut out, own);
    out
}

/// The properties a call of `step` runs with: the pipeline's `defaults`, then the step's own
/// properties, then the call's `with`, each after the profiles it uses (`all` holds the
/// properties written in each step and profile).
pub(crate) fn layered_props(
    all: &IndexMap<DeclId, ResolvedProps>,
    defaults: &ResolvedProps,
    step: Option<DeclId>,
    call: &ResolvedProps,
) -> ResolvedProps {
    let mut props = ResolvedProps::default();
    merge(&mut props, defaults);
    for u in &defaults.uses {
        let p = profile_props(all, *u, 0);
        merge(&mut props, &p);
    }
    let own = step.and_then(|d| all.get(&d));
    for layer in own.into_iter().chain([call]) {
        for u in &layer.uses {
            let p = profile_props(all, *u, 0);
            merge(&mut props, &p);
        }
        merge(&mut props, layer);
    }
    props
}

/// Applies `over` on top of `base`, as a later layer of properties wins.
fn merge(base: &mut ResolvedProps, over: &ResolvedProps) {
    if over.image.is_some() {
        base.image.clone_from(&over.image);
    }
    if over.run.is_some() {
        base.run.clone_from(&over.run);
    }
    if over.python.is_some() {
        base.python.clone_from(&over.python);
    }
    if over.cache.is_some() {
        base.cache = over.cache;
    }
    if let Some(r) = &over.resources {
        base.resources = Some(Box::new(match base.resources.take() {
            Some(b) => merge_resources(*b, r),
            None => ResourceSpec::clone(r),
        }));
    }
    if over.retries.is_some() {
        base.retries.clone_from(&over.retries);
    }
    if over.timeout_ms.is_some() {
        base.timeout_ms = over.timeout_ms;
    }
    for (k, v) in &over.env {
        base.env.insert(k.clone(), v.clone());
    }
    for (secret, path) in &over.mounts {
        base.mounts.retain(|(_, p)| p != path);
        base.mounts.push((*secret, path.clone()));
    }
    if over.network.is_some() {
        base.network = over.network;
    }
    for (k, v) in &over.node_selector {
        base.node_selector.insert(k.clone(), v.clone());
    }
    base.tolerations.extend(over.tolerations.iter().cloned());
}

/// `over`'s resources on top of `base`'s, key by key (an `auto` spec replaces them whole).
pub(crate) fn merge_resources(base: ResourceSpec, over: &ResourceSpec) -> ResourceSpec {
    if over.auto {
        return over.clone();
    }
    ResourceSpec {
        auto: false,
        cpu_millis: over.cpu_millis.or(base.cpu_millis),
        cpu_limit_millis: over.cpu_limit_millis.or(base.cpu_limit_millis),
        memory_bytes: over.memory_bytes.or(base.memory_bytes),
        memory_limit_bytes: over.memory_limit_bytes.or(base.memory_limit_bytes),
        gpu: over.gpu.or(base.gpu),
        gpu_type: over.gpu_type.clone().or(base.gpu_type),
        min: None,
        max: None,
    }
}
