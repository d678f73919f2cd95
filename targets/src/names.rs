//! Kubernetes names derived from flowc identifiers: valid, short enough, unique and stable.
//!
//! Names are lower-cased, `_`, `.` and spaces become `-`, other characters are dropped, runs of
//! `-` collapse, and the ends are trimmed to alphanumerics. A name longer than its limit is cut
//! and gets `-` plus 8 hex digits of the SHA-256 of the original, so it stays unique and the
//! same source always gives the same name.

use std::collections::BTreeSet;

/// Longest DNS-1123 label (namespaces, volume names, most Argo object names).
pub const DNS_LABEL_MAX: usize = 63;

/// A DNS-1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`) of at most `max` characters.
pub fn dns_label(raw: &str, max: usize) -> String {
    let mut s = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            s.push(c);
        } else if matches!(c, '-' | '_' | '.' | ' ' | '/' | ':') && !s.ends_with('-') {
            s.push('-');
        }
    }
    trim_dashes(&mut s);
    if s.is_empty() {
        s.push('x');
    }
    if s.len() <= max {
        return s;
    }
    let hash = short_hash(raw);
    let keep = max.saturating_sub(hash.len() + 1);
    let head = s[..keep].trim_end_matches('-');
    format!("{head}-{hash}")
}

/// Removes the dashes at both ends of `s` in place (`str::trim_matches('-')` without a copy).
fn trim_dashes(s: &mut String) {
    let end = s.trim_end_matches('-').len();
    s.truncate(end);
    let start = s.len() - s.trim_start_matches('-').len();
    s.drain(..start);
}

pub use flowc_compiler::hash::short_hash;

/// Hands out unique names within one scope (a DAG, a namespace).
#[derive(Clone, Debug, Default)]
pub struct Namer {
    used: BTreeSet<String>,
}

impl Namer {
    /// A namer with no name taken.
    pub fn new() -> Namer {
        Namer::default()
    }

    /// A unique label for `raw`: on a collision, `-2`, `-3` … within the length limit.
    pub fn name(&mut self, raw: &str, max: usize) -> String {
        let base = dns_label(raw, max);
        if self.used.insert(base.clone()) {
            return base;
        }
        for k in 2.. {
            let suffix = format!("-{k}");
            let head = if base.len() + suffix.len() > max {
                base[..max - suffix.len()].trim_end_matches('-').to_string()
            } else {
                base.clone()
            };
            let candidate = format!("{head}{suffix}");
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
        }
        unreachable_name()
    }
}

/// Whether `s` is a Kubernetes extended resource name with a domain prefix (`amd.com/gpu`,
/// `nvidia.com/mig-1g.5gb`): a DNS-1123 subdomain, `/`, then a name of at most 63 letters,
/// digits, `-`, `_` or `.`, beginning and ending with a letter or digit.
pub fn is_extended_resource_name(s: &str) -> bool {
    let Some((prefix, name)) = s.split_once('/') else {
        return false;
    };
    let alnum_ends = |x: &str| {
        x.starts_with(|c: char| c.is_ascii_alphanumeric())
            && x.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    let prefix_ok = prefix.len() <= 253
        && prefix.contains('.')
        && prefix.split('.').all(|l| {
            l.len() <= DNS_LABEL_MAX
                && alnum_ends(l)
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
    let name_ok = name.len() <= DNS_LABEL_MAX
        && alnum_ends(name)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    prefix_ok
        && name_ok
        && !prefix.starts_with("kubernetes.io")
        && !prefix.ends_with(".kubernetes.io")
}

fn unreachable_name() -> String {
    // `2..` never ends; this keeps the function total without a panic.
    String::from("x")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(dns_label("Daily_Weights.v2", 63), "daily-weights-v2");
        assert_eq!(dns_label("__x__", 63), "x");
        let long = "a".repeat(100);
        let n = dns_label(&long, 63);
        assert_eq!(n.len(), 63);
        assert_eq!(n, dns_label(&long, 63), "stable");
        assert_ne!(dns_label(&format!("{long}b"), 63), n, "unique");
    }

    #[test]
    fn extended_resource_names() {
        assert!(is_extended_resource_name("amd.com/gpu"));
        assert!(is_extended_resource_name("nvidia.com/mig-1g.5gb"));
        assert!(!is_extended_resource_name("nvidia-tesla-t4"));
        assert!(!is_extended_resource_name("gpu/x"));
        assert!(!is_extended_resource_name("amd.com/"));
        assert!(!is_extended_resource_name("AMD.com/gpu"));
        assert!(!is_extended_resource_name("amd.com/g p u"));
        assert!(!is_extended_resource_name("kubernetes.io/gpu"));
    }

    #[test]
    fn namer_dedupes() {
        let mut n = Namer::new();
        assert_eq!(n.name("load_panel", 63), "load-panel");
        assert_eq!(n.name("load-panel", 63), "load-panel-2");
        assert_eq!(n.name("Load.Panel", 63), "load-panel-3");
    }
}
