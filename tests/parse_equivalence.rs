//! The hand-written parser against pest, on every `.flow` text the repository has and on
//! random mutations of them: the tree, the errors and the build-variable reads must be the
//! same whichever parser made them, and the hand parser must accept exactly the declarations
//! pest accepts (never one pest rejects).
//!
//! Three runs of [`flowc_grammar::parse_with`] per text: `Both` (what `parse` does) must equal
//! `Pest` exactly; `Hand` (no pest at all) must equal `Pest` except for the wording of syntax
//! errors, which only pest has.

use flowc_grammar::lexer::{tokenize, TokenKind};
use flowc_grammar::split::{split, split_by_tokens};
use flowc_grammar::{parse_with, Engine, Parse, SyntaxErrorKind, HAND_DECLINED};
use flowc_tests::gen::rng::Rng;
use flowc_tests::generate::{distinct, pipeline, Shape};
use flowc_tests::{flow_files, repo_root};

/// Every `.flow` file of the fixtures and examples, every ```flow block of docs/, and
/// generated pipelines, as (name, text).
fn corpus() -> Vec<(String, String)> {
    let root = repo_root();
    let mut out = Vec::new();
    for dir in ["tests/fixtures", "examples"] {
        for rel in flow_files(&root, dir) {
            // Read as the CLI reads (some fixtures are not UTF-8 on purpose).
            let bytes = std::fs::read(root.join(&rel)).expect("readable .flow file");
            let text = String::from_utf8_lossy(&bytes).into_owned();
            out.push((rel.display().to_string(), text));
        }
    }
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    for path in docs {
        let text = std::fs::read_to_string(&path).expect("readable doc");
        for (i, block) in text.split("```flow\n").skip(1).enumerate() {
            let block = block.split("```").next().unwrap_or_default();
            out.push((format!("{}#{i}", path.display()), block.to_string()));
        }
    }
    out.push(("generate::pipeline(60)".into(), pipeline(60)));
    out.push(("distinct chain".into(), distinct(40, Shape::Chain)));
    out.push(("distinct diamond".into(), distinct(40, Shape::Diamond)));
    for seed in 0..150 {
        out.push((
            format!("gen::program({seed})"),
            flowc_tests::gen::program(seed).source,
        ));
    }
    out
}

/// The errors with the wording of syntax errors left out (only pest words them).
fn errors_without_wording(p: &Parse) -> Vec<String> {
    p.errors
        .iter()
        .map(|e| match e.kind {
            SyntaxErrorKind::Unexpected => "a declaration that does not parse".to_string(),
            _ => format!("{e:?}"),
        })
        .collect()
}

/// Compares the parsers on `text`; `Err` says how they differ. Returns whether pest found a
/// declaration that does not parse.
fn compare(text: &str) -> Result<bool, String> {
    let (bytes, tokens) = (
        format!("{:?}", split(text)),
        format!("{:?}", split_by_tokens(text)),
    );
    if bytes != tokens {
        return Err(format!(
            "the byte scan splits differently from the token scan:\n  bytes: {bytes}\n  tokens: {tokens}"
        ));
    }
    let pest = parse_with(text, Engine::Pest);
    let both = parse_with(text, Engine::Both);
    let hand = parse_with(text, Engine::Hand);
    let (pest_dbg, both_dbg) = (format!("{pest:?}"), format!("{both:?}"));
    if pest_dbg != both_dbg {
        return Err(format!(
            "parse differs from pest alone:\n  pest: {pest_dbg}\n  both: {both_dbg}"
        ));
    }
    let (pest_items, hand_items) = (format!("{:?}", pest.module), format!("{:?}", hand.module));
    if pest_items != hand_items {
        return Err(format!(
            "the hand parser's tree differs:\n  pest: {pest_items}\n  hand: {hand_items}"
        ));
    }
    let (pe, he) = (errors_without_wording(&pest), errors_without_wording(&hand));
    if pe != he {
        return Err(format!(
            "the hand parser accepts or rejects otherwise:\n  pest: {pe:?}\n  hand: {he:?}"
        ));
    }
    let declined = hand.errors.iter().any(|e| e.message == HAND_DECLINED);
    Ok(declined)
}

#[test]
fn the_parsers_agree_on_every_text_of_the_repository() {
    let corpus = corpus();
    assert!(corpus.len() > 300, "corpus too small: {}", corpus.len());
    let mut rejected = Vec::new();
    for (name, text) in &corpus {
        match compare(text) {
            Ok(true) => rejected.push(name.clone()),
            Ok(false) => {}
            Err(e) => panic!("{name}: {e}"),
        }
    }
    // The corpus is mostly valid: the hand parser reads the valid declarations itself.
    assert!(rejected.len() * 10 < corpus.len(), "{rejected:?}");
}

/// Tokens that mutations insert: delimiters, operators, keywords, and the literals whose edges
/// the parsers must agree on.
const INSERTS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "<",
    ">",
    ",",
    ":",
    "=",
    "==",
    "?",
    ".",
    "-",
    "->",
    "+",
    "if",
    "else",
    "not",
    "and",
    "or",
    "as",
    "after",
    "with",
    "for",
    "in",
    "step",
    "build",
    "check",
    "output",
    "none",
    "true",
    "List",
    "Table",
    "Metrics",
    "Column",
    "Columns",
    "1",
    "-1",
    "1.5",
    "512Mi",
    "5mi",
    "1.5.3",
    "99999999999999999999",
    "\"s\"",
    "\"${build.tag}\"",
    "\"\\q\"",
    "\"\\u{e9}\"",
    "\x0b",
    "/* c */",
    "// c\n",
    "\n",
    "flatten(x)",
    "auto",
    "ttl",
    "key",
    "param",
];

/// `text` with a few random token-level edits: a token deleted, doubled, swapped with the next,
/// copied from elsewhere, or one of [`INSERTS`] put before it.
fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut out = text.to_string();
    for _ in 0..rng.range(1, 3) {
        out = edit(&out, rng);
    }
    out
}

/// `text` with one random token-level edit.
fn edit(text: &str, rng: &mut Rng) -> String {
    let tokens: Vec<_> = tokenize(text)
        .into_iter()
        .filter(|t| !matches!(t.kind, TokenKind::Whitespace | TokenKind::Newline))
        .collect();
    if tokens.is_empty() {
        return text.to_string();
    }
    let i = rng.below(tokens.len());
    let t = tokens[i].span.range();
    let this = &text[t.clone()];
    let (before, after) = (&text[..t.start], &text[t.end..]);
    match rng.below(5) {
        0 => format!("{before}{after}"),
        1 => format!("{before}{this} {this}{after}"),
        2 if i + 1 < tokens.len() => {
            let n = tokens[i + 1].span.range();
            let next = &text[n.clone()];
            let between = &text[t.end..n.start];
            format!("{before}{next}{between}{this}{}", &text[n.end..])
        }
        3 => {
            let other = &text[tokens[rng.below(tokens.len())].span.range()];
            format!("{before}{other} {this}{after}")
        }
        _ => {
            let ins = INSERTS[rng.below(INSERTS.len())];
            format!("{before}{ins} {this}{after}")
        }
    }
}

#[test]
fn the_parsers_agree_on_random_mutations() {
    let corpus = corpus();
    let (mut accepted, mut rejected) = (0, 0);
    for (k, (name, text)) in corpus.iter().enumerate() {
        if text.len() > 20_000 {
            continue;
        }
        for round in 0..12u64 {
            let seed = (k as u64) << 16 | round;
            let mut rng = Rng::new(seed);
            let mutated = mutate(text, &mut rng);
            match compare(&mutated) {
                Ok(true) => rejected += 1,
                Ok(false) => accepted += 1,
                Err(e) => panic!("{name}, seed {seed}: {e}\n--- mutated text ---\n{mutated}"),
            }
        }
    }
    // Both outcomes are exercised many times over.
    assert!(accepted > 500 && rejected > 500, "{accepted} {rejected}");
}

#[test]
fn the_parsers_agree_on_the_edges_of_the_grammar() {
    let cases = [
        // Whole-word keywords: `checked` is a name, `check` a statement word.
        "pipeline p() {\n  checked = f()\n  check = f()\n}\n",
        "pipeline p() {\n  parallel = f()\n  schedule = g()\n  output = h()\n}\n",
        "pipeline p() {\n  checkx(a: 1)\n  check a\n  ifx = f()\n}\n",
        // Types: the lookahead after a type word comes after whitespace.
        "step s(a: List <Int>, b: List x, c: Metrics, d: Metrics <{k: Float}>) -> (o: File) {}\n",
        "step s(a: Listx, b: Columns<t>, c: Column<t>, d: Columnsx, e: Columns <if>) {}\n",
        "step s(a: Table<A + B[c] + {x: Int}>, b: { r: Str, s: Float? }) -> () {}\n",
        "step s(a: List<Int) {}\n",
        // Strings and escapes.
        "step s() { image \"a\\\"b\\\\c\\n\\t\\r\\$\\u{e9}\\u{10FFFF}${x}${build.y}${a.b}\" }\n",
        "step s() { image \"\\q\" }\n",
        "step s() { image \"\\u{1234567}\" }\n",
        "step s() { image \"\\u{}\" }\n",
        "step s() { image \"é ${build.}\" }\n",
        // Quantities and numbers.
        "step s() { timeout 5mi }\n",
        "step s() { timeout 5Ki\n resources { cpu: 1.5.3 } }\n",
        "pipeline p(a: Int = -5Mi) {}\n",
        "pipeline p(a: Int = 1.x) {}\n",
        "pipeline p(a: Int = 99999999999999999999, b: Float = 1e5) {}\n",
        "pipeline p(a: Int = -9223372036854775808, b: Int = 9223372036854775808) {}\n",
        "step s() { retries 99999999999999999999 backoff 1s factor 99999999999999999999 max 1m within 2h }\n",
        // `else if`, expressions and function calls.
        "pipeline p(a: Bool) {\n  if a { x = f() } else if not a and b or c { y = f() } else { z = f() }\n}\n",
        "pipeline p() {\n  check a.b . c == -1 + 2 - x\n  check not not (a) != [1, 2,]\n  check flatten(xs) == flatten([[1], [2]],)\n}\n",
        "pipeline p() {\n  x = f(a: g(b: 1))\n}\n",
        "pipeline p() {\n  x = f(a: flatten(), b: h(1)(2))\n}\n",
        "pipeline p() {\n  if {a: 1} == {b: 2} {} else {}\n  for x in [1, 2] parallel 2 { y = f(x: x) }\n}\n",
        "pipeline p() {\n  x = f(a: 1) as Table<T> after a, b with { cache off retries 1 }\n  finally g()\n}\n",
        // Trivia in odd places, vertical tab included.
        "step s(a: Int /* c */ , b: File\x0b) -> (o: File // c\n) { run [a /* c */] }\n",
        "pipeline p() {\n  output x\x0b\n  output y = 1\x0b\n}\n",
        // A vertical tab is skipped by pest but not trimmed off spans: a repetition that
        // stops must back off the skip before it.
        "pipeline p() {\n  check a.b\x0b\n  check 1 + 2\x0b\n  check a or b\x0b\n  x = f() after a, b\x0b\n}\n",
        // Declarations of every kind.
        "import std.survey (rake, trim as t,)\nimport kfp \"x.yaml\" (a)\nimport std.if (x)\n",
        "secret s = k8s(param tenant, key: \"k\",)\nsecret t = k8s(\"n\")\nconfig c = k8s_configmap(\"c\")\n",
        "volume v = k8s_pvc(size: 10Gi, \"x\": 1)\nvolume w = k8s_pvc(\"claim\")\nvolume u = k8s_pvc(\"a\": 1)\n",
        "build tag: Str = \"dev\"\nprofile p { use a, b\n network off\n mount s at \"/x\" }\n",
        "builtin step b<T: { x: Int }, U>(t: Table<T>) -> (o: Table<T>)\n",
        "schema A extends B, C { x: Int y: Str, }\nschema D {}\n",
        // The splitter's byte scan against the lexer's rules.
        "step s() {}\n1step\n\x0bstep t() {}\n  /*/ step */ step u() {}\n",
        "step s() { image \"é\\é\\\"step\" }\nstep t() { image \"\\\nstep\" }\n",
        "step s() {\n  run [\"a\n]\n}\nbuild x = 1\n{ build y\n",
        "step s() { // é } \nschema é {}\n/* unterminated\nstep t() {}\n",
        "pipeline p() { x = \"\\",
        "pipeline p() {\n  schedule \"0 6 * * *\" timezone \"UTC\" { concurrency forbid history { ok: 1 } starting_deadline 10m }\n  defaults { cache ttl 1d }\n  parallel 4\n}\n",
    ];
    for text in cases {
        if let Err(e) = compare(text) {
            panic!("{text:?}: {e}");
        }
    }
}

#[test]
fn deep_nesting_without_brackets_goes_to_pest() {
    let deep_type = format!(
        "step s(a: {}Int{}) {{}}\n",
        "List<".repeat(120),
        ">".repeat(120)
    );
    let mut deep_else = String::from("pipeline p(a: Bool) {\n  if a {}");
    deep_else.push_str(&" else if a {}".repeat(120));
    deep_else.push_str("\n}\n");
    for text in [deep_type, deep_else] {
        let hand = parse_with(&text, Engine::Hand);
        assert!(
            hand.errors.iter().any(|e| e.message == HAND_DECLINED),
            "the hand parser gives nesting past its limit to pest"
        );
        let pest = parse_with(&text, Engine::Pest);
        let both = parse_with(&text, Engine::Both);
        assert_eq!(format!("{pest:?}"), format!("{both:?}"));
    }
}
