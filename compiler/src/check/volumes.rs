//! `volume` declarations: a persistent volume claim, existing (`k8s_pvc("team-data")`) or
//! created for each run and deleted after it (`k8s_pvc(size: 10Gi, storage_class: "fast",
//! access: "ReadWriteMany")`). [`volume_ref`] reads one (the plan keeps it as a `VolumeRef`)
//! and lists what Kubernetes would refuse in it; the checker reports those as `E431`.

use super::Checker;
use crate::diagnostics::ops;
use crate::resolve::ModuleId;
use crate::units;
use flowc_grammar::ast::{ExprKind, Secret, StrPart};
use flowc_grammar::Span;

/// The access modes a claim may ask for.
pub const ACCESS_MODES: &[&str] = &[
    "ReadWriteOnce",
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOncePod",
];

/// A volume declaration's claim: an existing one by name, or the settings of one created for
/// the run.
#[derive(Clone, Debug, Default)]
pub(crate) struct VolumeSpec {
    pub claim: Option<String>,
    pub size: Option<String>,
    pub storage_class: Option<String>,
    pub access: Option<String>,
}

/// One thing Kubernetes would refuse in a volume declaration.
pub(crate) struct VolumeProblem {
    pub span: Span,
    pub message: String,
    pub label: &'static str,
    pub help: &'static str,
}

/// Whether `v` is a DNS-1123 subdomain (the names of claims and storage classes).
pub(crate) fn dns_subdomain(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 253
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A byte count as a canonical Kubernetes quantity: whole `Ti`, `Gi`, `Mi` or `Ki` when it is
/// one, else bytes.
pub fn quantity_text(bytes: u64) -> String {
    for (unit, factor) in [
        ("Ti", 1u64 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ] {
        if bytes.is_multiple_of(factor) {
            return format!("{}{unit}", bytes / factor);
        }
    }
    bytes.to_string()
}

/// The plan's view of a volume declaration, and what is wrong in it.
pub(crate) fn volume_ref(s: &Secret) -> (VolumeSpec, Vec<VolumeProblem>) {
    let mut out = VolumeSpec::default();
    let mut problems = Vec::new();
    let named = s.k8s_name.span != s.span;
    let mut problem = |span, message: String, label, help| {
        problems.push(VolumeProblem {
            span,
            message,
            label,
            help,
        })
    };
    if named {
        if !dns_subdomain(&s.k8s_name.value) {
            problem(
                s.k8s_name.span,
                format!("`{}` is not a valid claim name", s.k8s_name.value),
                "not a DNS-1123 subdomain",
                "use the claim's name exactly as `kubectl get pvc` prints it",
            );
        }
        out.claim = Some(s.k8s_name.value.clone());
    }
    for f in &s.options {
        let text = match &f.value.kind {
            ExprKind::Str(lit) if lit.parts.iter().all(|p| matches!(p, StrPart::Text(_))) => {
                Some(lit.value.clone())
            }
            _ => None,
        };
        match f.key.name.as_str() {
            _ if named => problem(
                f.span,
                format!("an existing claim takes no `{}`", f.key.name),
                "setting of a created claim",
                "give either the name of an existing claim, or `size:` (and `storage_class:`, `access:`) for one created for the run",
            ),
            "size" => match &f.value.kind {
                ExprKind::Quantity(q) => match units::memory_bytes(q) {
                    Ok(b) if b > 0 => out.size = Some(quantity_text(b)),
                    _ => problem(
                        f.value.span,
                        "a claim's size must be a positive quantity of bytes".into(),
                        "invalid size",
                        "write the size with a unit, such as `10Gi` or `500Mi`",
                    ),
                },
                _ => problem(
                    f.value.span,
                    "a claim's size must be a quantity such as `10Gi`".into(),
                    "not a quantity",
                    "write the size with a unit, such as `10Gi` or `500Mi`",
                ),
            },
            "storage_class" => match text {
                Some(t) if dns_subdomain(&t) => out.storage_class = Some(t),
                _ => problem(
                    f.value.span,
                    "`storage_class` must be the name of a storage class".into(),
                    "not a storage class name",
                    "use the name `kubectl get storageclass` prints, as a string",
                ),
            },
            "access" => match text {
                Some(t) if ACCESS_MODES.contains(&t.as_str()) => out.access = Some(t),
                _ => problem(
                    f.value.span,
                    "`access` must be a Kubernetes access mode".into(),
                    "not an access mode",
                    "use \"ReadWriteOnce\", \"ReadWriteMany\", \"ReadOnlyMany\" or \"ReadWriteOncePod\"",
                ),
            },
            other => problem(
                f.key.span,
                format!("`{other}` is not a setting of a claim"),
                "unknown setting",
                "a created claim takes `size`, `storage_class` and `access`",
            ),
        }
    }
    if !named && !s.options.iter().any(|f| f.key.name == "size") {
        problem(
            s.span,
            "a claim created for the run needs a `size`".into(),
            "no claim name and no size",
            "name an existing claim (`k8s_pvc(\"team-data\")`) or give a size (`k8s_pvc(size: 10Gi)`)",
        );
    }
    if !named && out.access.is_none() {
        out.access = Some("ReadWriteOnce".into());
    }
    (out, problems)
}

impl Checker<'_> {
    /// Checks a `volume` declaration (`E431`).
    pub fn check_volume(&mut self, m: ModuleId, s: &Secret) {
        let file = self.file(m);
        for p in volume_ref(s).1 {
            self.push(ops::invalid_volume(
                file, p.span, p.message, p.label, p.help,
            ));
        }
    }
}
