//! Wording of syntax errors: what was expected where, in words a user reads.
//!
//! pest reports the rules and literal tokens it tried at the farthest position it reached. This
//! module turns them into phrases ("a type", "`:`", "a step property such as `image` or `run`"),
//! merges duplicates in a fixed order, and names what was found instead. Rule names never reach
//! the user.

use std::collections::BTreeSet;

use pest::error::{Error, ErrorVariant, InputLocation};

use crate::rules::Rule;

const PROP_WORDS: &[&str] = &[
    "image",
    "run",
    "python",
    "use",
    "cache",
    "resources",
    "retries",
    "timeout",
    "env",
    "mount",
    "node_selector",
    "toleration",
    "network",
];
const STMT_WORDS: &[&str] = &[
    "defaults", "schedule", "if", "for", "check", "output", "finally",
];
const ITEM_WORDS: &[&str] = &[
    "import", "schema", "secret", "config", "volume", "build", "profile", "step", "builtin",
    "pipeline",
];
const TYPE_WORDS: &[&str] = &["List", "Table", "Metrics", "Columns", "Column"];

/// Ordered phrases: a lower rank is printed first.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Phrase(u8, String);

fn rule_phrase(rule: Rule) -> Option<Phrase> {
    use Rule::*;
    let (rank, text) = match rule {
        import_decl | schema_decl | secret_decl | config_decl | volume_decl | build_decl | profile_decl
        | step_decl | builtin_decl | pipeline_decl => (
            9,
            "a declaration (`import`, `schema`, `secret`, `config`, `volume`, `build`, `profile`, `step`, `pipeline`)",
        ),
        ident | named_type => (1, "a name"),
        int => (2, "an integer"),
        float => (2, "a number"),
        quantity => (2, "a quantity such as `512Mi`, `500m` or `20m`"),
        string => (2, "a string"),
        import_kind => (2, "an import kind such as `kfp`"),
        expr | or_expr | and_expr | not_expr | cmp_expr | add_expr | path | paren | bool_lit
        | none_lit => (3, "an expression"),
        list_expr => (3, "a list `[...]`"),
        func_call => (3, "a function call such as `flatten(xs)`"),
        record => (3, "a record `{ key: value }`"),
        type_expr | list_type | table_type | metrics_type | columns_type | column_type
        | record_type => {
            (4, "a type")
        }
        schema_expr | schema_term => (4, "a schema"),
        column => (5, "a column `name: Type`"),
        param => (5, "a parameter `name: Type`"),
        output_param => (5, "an output `name: Type`"),
        arg => (5, "a named argument `name: value`"),
        field => (5, "a field `key: value`"),
        bound => (5, "a bound such as `min: { memory: 1Gi }`"),
        prop_word | image_prop | run_prop | python_prop | use_prop | cache_prop | resources_prop | retries_prop
        | timeout_prop | env_prop | mount_prop | node_selector_prop | toleration_prop | network_prop => (
            6,
            "a property (`image`, `run`, `python`, `use`, `cache`, `resources`, `retries`, `timeout`, `env`, `mount`, `node_selector`, `toleration`, `network`)",
        ),
        stmt_word | defaults_stmt | schedule_stmt | if_stmt | for_stmt | check_stmt | output_stmt
        | finally_stmt | bind_stmt | call_stmt | call => (
            7,
            "a statement (`name = step(...)`, `if`, `for`, `check`, `output`, `finally`, `defaults`, `schedule`)",
        ),
        cmp_op => (8, "a comparison operator"),
        add_op | or_op | and_op => (8, "an operator"),
        cache_on | cache_off | cache_ttl => (2, "`on`, `off` or `ttl`"),
        network_on | network_off => (2, "`on` or `off`"),
        resources_auto => (3, "`auto(...)`"),
        projection => (8, "`[columns]`"),
        optional_mark => (8, "`?`"),
        generics => (8, "`<...>`"),
        outputs => (8, "`->`"),
        EOI => (10, "the end of the declaration"),
        // `kw_check`: the whole-word check before a keyword, worded as the keyword itself.
        _ => return format!("{rule:?}").strip_prefix("kw_").and_then(token_phrase),
    };
    Some(Phrase(rank, text.to_string()))
}

fn token_phrase(token: &str) -> Option<Phrase> {
    if PROP_WORDS.contains(&token) {
        return rule_phrase(Rule::image_prop);
    }
    if STMT_WORDS.contains(&token) {
        return rule_phrase(Rule::if_stmt);
    }
    if ITEM_WORDS.contains(&token) {
        return rule_phrase(Rule::step_decl);
    }
    if TYPE_WORDS.contains(&token) {
        return rule_phrase(Rule::type_expr);
    }
    match token {
        // Pieces of atomic rules reported through their rule.
        "Ki" | "Mi" | "Gi" | "Ti" | "ms" | "K" | "k" | "M" | "G" | "T" | "m" | "s" | "h" | "d"
        | "true" | "false" | "none" | "\"" | "\\" | "u{" | "." | "not" => None,
        // Whitespace and comments, tried between any two tokens.
        "-" | "_" | " " | "\t" | "\n" | "\r" | "/" | "*" | "//" | "/*" | "*/" => None,
        "and" | "or" | "+" => rule_phrase(Rule::add_op),
        "==" | "!=" | "<=" | ">=" | "<" | ">" => rule_phrase(Rule::cmp_op),
        "on" | "off" | "ttl" => rule_phrase(Rule::cache_on),
        t => Some(Phrase(0, format!("`{t}`"))),
    }
}

/// Describes a pest failure: the byte offset (in `src`), the message and the label.
pub(crate) fn describe_failure(src: &str, err: &Error<Rule>) -> (usize, String, String) {
    let mut offset = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut phrases = BTreeSet::new();
    if let Some(attempts) = err.parse_attempts() {
        if attempts.max_position >= offset {
            offset = attempts.max_position;
        }
        for t in attempts.expected_tokens() {
            // The token type is not exported by pest; its text is what we need.
            let token = t.to_string();
            if token == "BUILTIN_RULE" || token.contains("..") {
                continue;
            }
            if let Some(p) = token_phrase(&token) {
                phrases.insert(p);
            }
        }
        for stack in attempts.call_stacks() {
            let Some(rule) = stack.parent else { continue };
            if let Some(p) = rule_phrase(rule) {
                phrases.insert(p);
            }
        }
    }
    if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
        for r in positives {
            if let Some(p) = rule_phrase(*r) {
                phrases.insert(p);
            }
        }
    }
    let mut offset = offset.min(src.len());
    // `imageset "a"`: a whole-word check read `image` and failed on `s`. Point at the word.
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if src[offset..].starts_with(is_word) && src[..offset].ends_with(is_word) {
        offset = src[..offset]
            .rfind(|c: char| !is_word(c))
            .map_or(0, |i| after_char(src, i));
    }
    // `step s(in: Int)`: pest matched the keyword inside `ident`'s negative lookahead, so it
    // stops after it. Name the keyword instead.
    if phrases.iter().any(|p| p.1 == "a name") {
        let before = src[..offset].trim_end();
        let word_start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| after_char(before, i));
        let word = &before[word_start..];
        if crate::keywords::RESERVED.contains(&word) {
            return (
                word_start,
                format!("`{word}` is a reserved word and cannot be used as a name"),
                "reserved word".to_string(),
            );
        }
    }
    let found = found_at(src, offset);
    let expected: Vec<String> = phrases.into_iter().map(|p| p.1).take(6).collect();
    let message = if expected.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {}, found {found}", join_or(&expected))
    };
    let label = if expected.is_empty() {
        "unexpected here".to_string()
    } else {
        format!("expected {}", join_or(&expected[..expected.len().min(3)]))
    };
    (offset, message, label)
}

/// The byte offset just after the character that starts at byte `i` of `s` (which may be
/// several bytes long: the text before a word can end in any character).
fn after_char(s: &str, i: usize) -> usize {
    i + s[i..].chars().next().map_or(1, char::len_utf8)
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Names the token at `offset`.
fn found_at(src: &str, offset: usize) -> String {
    let rest = &src[offset..];
    let Some(c) = rest.chars().next() else {
        return "the end of the declaration".into();
    };
    if c.is_alphanumeric() || c == '_' {
        let word: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
            .take(40)
            .collect();
        return format!("`{word}`");
    }
    if c == '"' {
        return "a string".into();
    }
    if c.is_control() {
        return format!("the control character U+{:04X}", c as u32);
    }
    format!("`{c}`")
}

#[cfg(test)]
mod tests {
    /// Fuzzing finding (`check` and `fmt` targets, December 2026): a syntax error right after a
    /// comment whose last word follows a multi-byte character (`é`) cut the text inside that
    /// character when naming the word before the error, and panicked.
    #[test]
    fn a_word_after_a_multi_byte_character_is_cut_at_a_character_boundary() {
        for text in [
            "pipeline p() {\n  // Fériday\n \u{1}\n}\n",
            "pipeline p() {\n  // F\u{FFFD}iday\n \u{1}\n}\n",
            "step s(é\u{1}: Int) {\n}\n",
        ] {
            let parsed = crate::parse::parse(text);
            assert!(!parsed.errors.is_empty(), "{text:?} has a syntax error");
        }
    }
}
