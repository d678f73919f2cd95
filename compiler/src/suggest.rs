//! "Did you mean" suggestions for misspelt names.

/// The candidate closest to `name`, worded as a help message, if one is close enough.
///
/// Closeness is the Jaro-Winkler similarity (good at typos and dropped letters); ties go to the
/// earlier candidate, so the suggestion is deterministic.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate closest to `name`, if one is close enough.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == name || c.is_empty() {
            continue;
        }
        let lower = name.to_lowercase() == c.to_lowercase();
        let score = if lower {
            1.0
        } else {
            strsim::jaro_winkler(name, c)
        };
        if score >= 0.82 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(closest("raek", ["rake", "select_active"]), Some("rake"));
        assert_eq!(closest("load_panle", ["load_panel"]), Some("load_panel"));
        assert_eq!(closest("xyz", ["rake"]), None);
    }
}
