//! Signature help: while a call is typed, the callee's parameters with the one being given
//! highlighted.
//!
//! The call is found the way completion finds it (tokens, so a call that does not parse yet
//! still counts). The active parameter is the one named (or being named) in the argument at
//! the cursor, or, in an empty argument, the first one not given yet (required ones first).

use super::completion::call_at;
use super::{doc_comment, module_of};
use crate::check::StepSig;
use crate::source::FileId;
use crate::Analysis;

/// The signature of the call at the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHelp {
    /// `name(p1: T1, p2: T2 = 3) -> (out: T)` on one line.
    pub label: String,
    /// Each parameter's byte range in `label`.
    pub params: Vec<(usize, usize)>,
    /// The parameter being given, if any.
    pub active: Option<usize>,
    /// The callee's `///` documentation.
    pub doc: Option<String>,
}

/// Signature help at `offset` in `text`, the current text of `file` (which may be newer than
/// the analysis: names are looked up in the analysis, the call is read from `text`).
pub fn signature_help_in(
    a: &Analysis,
    file: FileId,
    text: &str,
    offset: u32,
) -> Option<SignatureHelp> {
    module_of(a, file)?;
    let call = call_at(a, file, text, offset)?;
    let sig = call.sig;
    let decl_text = &a.sources().get(a.program.file(sig.decl.module)).text;
    let (label, params) = label(sig, decl_text);
    let active = match &call.current {
        // A name, or the start of one being typed.
        Some(name) => sig.params.iter().position(|p| p.name == *name).or_else(|| {
            sig.params
                .iter()
                .position(|p| p.name.starts_with(name.as_str()) && !call.given.contains(&p.name))
        }),
        None => {
            let open = |required: bool| {
                sig.params
                    .iter()
                    .position(|p| p.is_required() == required && !call.given.contains(&p.name))
            };
            open(true).or_else(|| open(false))
        }
    };
    let module = a.program.module(sig.decl.module);
    let doc = doc_comment(&module.ast, decl_text, a.program.item(sig.decl));
    Some(SignatureHelp {
        label,
        params,
        active,
        doc,
    })
}

/// The one-line label and the byte range of each parameter in it.
fn label(sig: &StepSig, text: &str) -> (String, Vec<(usize, usize)>) {
    let mut label = format!("{}(", sig.name);
    let mut params = Vec::new();
    for (i, p) in sig.params.iter().enumerate() {
        if i > 0 {
            label.push_str(", ");
        }
        let start = label.len();
        label.push_str(&format!("{}: {}", p.name, p.ty));
        if let Some(src) = p.default.as_ref().and_then(|d| text.get(d.span.range())) {
            label.push_str(" = ");
            label.push_str(&src.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        params.push((start, label.len()));
    }
    label.push(')');
    if !sig.outputs.is_empty() {
        let outs: Vec<String> = sig
            .outputs
            .iter()
            .map(|o| format!("{}: {}", o.name, o.ty))
            .collect();
        label.push_str(&format!(" -> ({})", outs.join(", ")));
    }
    (label, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_util::fixture;

    const GOOD: &str = "/// Loads a day.\nstep load(day: Date, limit: Int = 10, note: Str?) -> (rows: File) {\n  image \"x\"\n  run [\"x\", day, limit, rows]\n}\n\npipeline p(d: Date) {\n  r = load(day: d)\n}\n";

    /// Signature help at `$0` in `GOOD` with its call replaced by `call` (being typed), names
    /// looked up in an analysis of `GOOD`, as the language server does.
    fn help(call: &str) -> Option<SignatureHelp> {
        let (a, file, _) = fixture(&[("main.flow", GOOD)]);
        let current = GOOD.replace("  r = load(day: d)\n", &format!("  {call}\n"));
        let offset = current.find("$0").expect("a cursor") as u32;
        signature_help_in(&a, file, &current.replace("$0", ""), offset)
    }

    #[test]
    fn the_parameter_being_given_is_active() {
        let h = help("r = load(day: d, limit: $0").expect("help");
        assert_eq!(
            h.label,
            "load(day: Date, limit: Int = 10, note: Str?) -> (rows: File)"
        );
        assert_eq!(h.active, Some(1));
        let (s, e) = h.params[1];
        assert_eq!(&h.label[s..e], "limit: Int = 10");
        assert_eq!(h.doc.as_deref(), Some("Loads a day."));
        let h = help("r = load(day: d, no$0").expect("help");
        assert_eq!(h.active, Some(2), "a name being typed counts");
    }

    #[test]
    fn an_empty_argument_points_at_the_first_one_missing() {
        let h = help("r = load(limit: 3, $0)").expect("help");
        assert_eq!(h.active, Some(0), "`day` is required and not given");
        let h = help("r = load(day: d, $0)").expect("help");
        assert_eq!(h.active, Some(1));
    }

    #[test]
    fn nothing_outside_a_call() {
        assert_eq!(help("r = $0"), None);
        assert_eq!(help("r = load(day: d)\n $0"), None);
    }
}
