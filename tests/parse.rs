//! Robustness of the parser and checker: no input makes them panic, and a broken declaration
//! never hides the diagnostics of the others.
//!
//! The harness is libtest-mimic's: every example's prefixes are a test of their own
//! (`prefixes::NAME`), so one example's failure does not hide the others'.

use std::path::Path;

use flowc_compiler::{analyze, MemoryLoader};
use flowc_tests::{flow_files, repo_root};
use libtest_mimic::{Arguments, Trial};

fn main() {
    let args = Arguments::from_args();
    let examples = flow_files(&repo_root(), "examples");
    assert!(!examples.is_empty(), "no examples found");
    let mut trials: Vec<Trial> = examples
        .into_iter()
        .map(|rel| {
            let name = format!("prefixes::{}", rel.display()).replace('\\', "/");
            Trial::test(name, move || {
                every_prefix_is_handled(&rel);
                Ok(())
            })
        })
        .collect();
    let plain: [(&str, fn()); 5] = [
        (
            "unbalanced_braces_report_and_recover",
            unbalanced_braces_report_and_recover,
        ),
        (
            "binary_garbage_is_an_error_not_a_panic",
            binary_garbage_is_an_error_not_a_panic,
        ),
        (
            "ten_thousand_deep_nesting_is_refused_cleanly",
            ten_thousand_deep_nesting_is_refused_cleanly,
        ),
        (
            "a_five_megabyte_file_is_checked",
            a_five_megabyte_file_is_checked,
        ),
        (
            "truncated_strings_and_comments",
            truncated_strings_and_comments,
        ),
    ];
    trials.extend(plain.into_iter().map(|(name, f)| {
        Trial::test(name, move || {
            f();
            Ok(())
        })
    }));
    libtest_mimic::run(&args, trials).exit();
}

fn check_text(text: impl Into<Vec<u8>>) -> flowc_compiler::Analysis {
    let loader = MemoryLoader::new().with("input.flow", text);
    analyze(&loader, &[Path::new("input.flow").to_path_buf()])
}

/// Every prefix of one example, cut at many points (inside strings and comments too), is
/// checked and formatted without a panic.
fn every_prefix_is_handled(rel: &Path) {
    let text = std::fs::read_to_string(repo_root().join(rel)).unwrap_or_default();
    let step = (text.len() / 97).max(1);
    let mut cut = 0;
    while cut < text.len() {
        if text.is_char_boundary(cut) {
            let a = check_text(&text[..cut]);
            let _ = flowc_compiler::fmt::format(&text[..cut]);
            drop(a);
        }
        cut += step;
    }
}

fn unbalanced_braces_report_and_recover() {
    let a = check_text("schema A { x: Int\nschema B { y: Int }\npipeline p() {\n  x = f(\n}\n}}\n");
    assert!(a.diagnostics.iter().any(|d| d.code.as_str() == "E002"));
    assert!(a.has_errors());
}

fn binary_garbage_is_an_error_not_a_panic() {
    let mut bytes = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..20_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        bytes.push((x >> 16) as u8);
    }
    let a = check_text(bytes.clone());
    assert!(a.diagnostics.iter().any(|d| d.code.as_str() == "E007"));
    // Valid UTF-8 noise too.
    let noise: String = bytes.iter().map(|b| char::from(b % 95 + 32)).collect();
    let a = check_text(noise);
    assert!(a.has_errors());
}

fn ten_thousand_deep_nesting_is_refused_cleanly() {
    let text = format!(
        "pipeline p() {{\n  x = f(a: {}1{})\n}}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let a = check_text(text);
    assert!(a.diagnostics.iter().any(|d| d.code.as_str() == "E005"));
    let text = format!(
        "pipeline p() {{\n  check {}true\n}}\n",
        "not ".repeat(10_000)
    );
    let a = check_text(text);
    assert!(!a
        .diagnostics
        .iter()
        .any(|d| d.code.as_str().starts_with("E0")));
    let text = format!(
        "pipeline p(a: Int) {{\n  check a{} > 0\n}}\n",
        " + a".repeat(10_000)
    );
    let a = check_text(text);
    assert!(!a.has_errors());
}

fn a_five_megabyte_file_is_checked() {
    let mut text = String::from(
        "step s(x: Int) -> (y: File) {\n  image \"reg/x:1\"\n  run [\"echo\", x, y]\n}\n\n",
    );
    let mut i = 0;
    while text.len() < 5 * 1024 * 1024 {
        text.push_str(&format!("pipeline p{i}(n: Int = {i}) {{\n  a = s(x: n)\n  b = s(x: n + 1) after a\n  output b\n}}\n\n"));
        i += 1;
    }
    let a = check_text(text);
    assert!(!a.has_errors());
}

fn truncated_strings_and_comments() {
    for text in [
        "step s() { image \"abc",
        "/* never closed",
        "pipeline p() { x = f(a: \"",
        "//! only a comment",
    ] {
        let _ = check_text(text);
    }
}
