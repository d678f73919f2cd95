//! `secret` and `config` declarations: the Kubernetes Secret (or ConfigMap) and key each one
//! names.

use super::volumes::dns_subdomain;
use super::Checker;
use crate::diagnostics::ops;
use crate::resolve::ModuleId;
use flowc_grammar::ast::{Secret, SecretKind};

impl Checker<'_> {
    /// Checks a `secret` (or `config`) declaration: a valid Secret (or ConfigMap) name, a
    /// DNS-1123 subdomain, and key (none for the whole object).
    pub fn check_secret(&mut self, m: ModuleId, s: &Secret) {
        let file = self.file(m);
        let object = match s.kind {
            SecretKind::Secret => "Secret",
            SecretKind::Config => "ConfigMap",
            SecretKind::Volume => return self.check_volume(m, s),
        };
        // Secret and ConfigMap names are DNS-1123 subdomains, as claim names are.
        if s.name_param.is_none() && !dns_subdomain(&s.k8s_name.value) {
            self.push(ops::invalid_secret_name(
                file,
                s.k8s_name.span,
                &s.k8s_name.value,
                object,
            ));
        }
        if s.whole() {
            return;
        }
        if s.key.value.is_empty()
            || !s
                .key
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        {
            self.push(ops::invalid_secret_key(
                file,
                s.key.span,
                &s.key.value,
                object,
            ));
        }
    }
}
