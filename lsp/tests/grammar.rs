//! The editor grammars highlight every keyword of the language, and nothing else as a keyword:
//! the TextMate grammar of the VS Code extension and the Neovim snippet's syntax keywords are
//! compared with the parser's lists (`flowc_grammar::keywords`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use flowc_grammar::keywords::{CONTEXTUAL, RESERVED, TYPES};
use serde_json::Value;

fn editors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../editors")
}

fn language() -> BTreeSet<String> {
    RESERVED
        .iter()
        .chain(CONTEXTUAL)
        .chain(TYPES)
        .map(|s| s.to_string())
        .collect()
}

/// Words of the alternations in a regex: `\b(a|b|c)\b` gives `a`, `b`, `c`. Groups holding
/// anything but names and `|` (character classes, lookarounds) are not alternations of words.
fn alternation_words(regex: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = regex;
    while let Some(open) = rest.find('(') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(')') else { break };
        let group = &after[..close];
        if !group.is_empty()
            && group
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '|')
        {
            out.extend(
                group
                    .split('|')
                    .filter(|w| !w.is_empty())
                    .map(str::to_string),
            );
        }
        rest = after;
    }
    out
}

/// Whether a scope marks a keyword, a type or a language constant.
fn keyword_scope(scope: &str) -> bool {
    ["keyword.", "storage.", "constant.language", "support.type"]
        .iter()
        .any(|p| scope.starts_with(p))
}

fn collect(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            let mut scopes: Vec<&str> = map
                .get("name")
                .and_then(Value::as_str)
                .into_iter()
                .collect();
            if let Some(Value::Object(caps)) = map.get("captures") {
                scopes.extend(caps.values().filter_map(|c| c.get("name")?.as_str()));
            }
            if scopes.iter().any(|s| keyword_scope(s)) {
                if let Some(m) = map.get("match").and_then(Value::as_str) {
                    out.extend(alternation_words(m));
                }
            }
            map.values().for_each(|x| collect(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| collect(x, out)),
        _ => {}
    }
}

#[test]
fn the_textmate_grammar_highlights_every_keyword() {
    let path = editors().join("vscode/syntaxes/flow.tmLanguage.json");
    let text = std::fs::read_to_string(&path).expect("the grammar exists");
    let grammar: Value = serde_json::from_str(&text).expect("the grammar is JSON");
    assert_eq!(grammar["scopeName"], "source.flow");
    let mut words = BTreeSet::new();
    collect(&grammar, &mut words);
    let lang = language();
    let missing: Vec<&String> = lang.difference(&words).collect();
    assert!(
        missing.is_empty(),
        "keywords the grammar does not highlight: {missing:?}"
    );
    let extra: Vec<&String> = words.difference(&lang).collect();
    assert!(
        extra.is_empty(),
        "words the grammar highlights as keywords but the parser does not know: {extra:?}"
    );
}

#[test]
fn the_extension_declares_the_language_and_grammar() {
    let text =
        std::fs::read_to_string(editors().join("vscode/package.json")).expect("package.json");
    let pkg: Value = serde_json::from_str(&text).expect("package.json is JSON");
    let langs = &pkg["contributes"]["languages"][0];
    assert_eq!(langs["id"], "flow");
    assert_eq!(langs["extensions"][0], ".flow");
    let grammar = &pkg["contributes"]["grammars"][0];
    assert_eq!(grammar["scopeName"], "source.flow");
    assert!(editors()
        .join("vscode")
        .join(grammar["path"].as_str().unwrap_or(""))
        .exists());
    assert!(editors()
        .join("vscode/language-configuration.json")
        .exists());
}

#[test]
fn the_neovim_snippet_highlights_every_keyword() {
    let text =
        std::fs::read_to_string(editors().join("nvim/flowc.lua")).expect("the snippet exists");
    let mut words = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.trim().strip_prefix("syntax keyword ") {
            words.extend(rest.split_whitespace().skip(1).map(str::to_string));
        }
    }
    assert_eq!(words, language());
}
