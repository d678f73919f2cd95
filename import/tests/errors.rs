//! Bad input: each problem has its stable code and the line of the YAML node it is about, and
//! no input panics (every truncation of the vendored files, and seeded random bytes).

mod common;
#[path = "../../tests/shared.rs"]
mod shared;

use common::{check, data_files, tests_dir};
use flowc_import::{convert, Code};

/// A component whose `args` are `ARGS` (one YAML line each) and whose inputs are `a` (a
/// String) and `b` (an optional Integer), with the output `out`.
fn component(args: &str) -> String {
    format!(
        "name: demo\ninputs:\n- {{name: a, type: String}}\n- {{name: b, type: Integer, optional: true}}\noutputs:\n- {{name: out, type: Dataset}}\nimplementation:\n  container:\n    image: busybox:1.36\n    command: [sh, -c, 'echo \"$@\"', demo]\n    args:\n{args}"
    )
}

/// Asserts that `text` reports `code` at `line`, and whether the file is still converted.
fn assert_reports(text: &str, code: Code, line: usize, converted: bool) {
    let c = convert("bad.yaml", text);
    let found: Vec<(String, usize)> = c
        .problems
        .iter()
        .map(|p| (p.code.as_str().to_string(), p.line))
        .collect();
    assert!(
        c.problems.iter().any(|p| p.code == code && p.line == line),
        "expected {code} at line {line}, found {found:?}\n{text}"
    );
    assert_eq!(
        !c.has_errors(),
        converted,
        "{code}: converted is not {converted}: {found:?}"
    );
    assert_eq!(c.source.is_empty(), !converted, "{code}: {}", c.source);
    for p in &c.problems {
        assert!(p.col >= 1 && !p.help.is_empty(), "{p:?}");
    }
}

#[test]
fn not_yaml() {
    assert_reports(
        "name: demo\ninputs: [a, b\nimplementation: x\n",
        Code::NotYaml,
        3,
        false,
    );
    assert_reports("a: 'unterminated\n", Code::NotYaml, 1, false);
}

#[test]
fn yaml_of_another_kind() {
    assert_reports(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
        Code::NotKfp,
        1,
        false,
    );
    assert_reports("- just\n- a list\n", Code::NotKfp, 1, false);
    assert_reports("", Code::NotKfp, 1, false);
}

#[test]
fn unknown_placeholder() {
    assert_reports(
        &component("    - --x\n    - {inputValu: a}\n"),
        Code::UnknownPlaceholder,
        13,
        false,
    );
    let c = convert("bad.yaml", &component("    - {inputValu: a}\n"));
    assert!(
        c.problems[0].help.contains("inputValue"),
        "{:?}",
        c.problems
    );
    assert_reports(
        &component("    - {inputValue: a, inputPath: a}\n"),
        Code::UnknownPlaceholder,
        12,
        false,
    );
}

#[test]
fn reference_to_an_undeclared_input() {
    assert_reports(
        &component("    - --x\n    - {inputValue: c}\n"),
        Code::UndeclaredName,
        13,
        false,
    );
    assert_reports(
        &component("    - {outputPath: a}\n"),
        Code::UndeclaredName,
        12,
        false,
    );
    assert_reports(
        &component("    - {concat: [--x=, {inputValue: nope}]}\n"),
        Code::UndeclaredName,
        12,
        false,
    );
}

#[test]
fn unknown_type_name() {
    let text = component("    - {inputValue: a}\n    - {inputValue: b}\n    - {outputPath: out}\n")
        .replace("type: String", "type: Frobnicator");
    assert_reports(&text, Code::UnknownType, 3, true);
    let c = convert("bad.yaml", &text);
    assert!(c.source.contains("a: Str"), "{}", c.source);
}

#[test]
fn duplicate_names() {
    let text = component("    - {inputValue: a}\n").replace(
        "- {name: b, type: Integer, optional: true}",
        "- {name: a, type: Integer}",
    );
    assert_reports(&text, Code::DuplicateName, 4, false);
}

#[test]
fn names_invalid_in_flow_are_renamed() {
    let text = component(
        "    - {inputValue: Learning rate}\n    - {inputValue: b}\n    - {outputPath: out}\n",
    )
    .replace("name: a,", "name: Learning rate,")
    .replace("name: demo", "name: Train model")
    .replace("name: out,", "name: if,");
    let text = text.replace("{outputPath: out}", "{outputPath: if}");
    let c = convert("bad.yaml", &text);
    assert!(!c.has_errors(), "{:?}", c.problems);
    let renamed: Vec<usize> = c
        .problems
        .iter()
        .filter(|p| p.code == Code::Renamed)
        .map(|p| p.line)
        .collect();
    assert_eq!(renamed, vec![1, 3, 6], "{:?}", c.problems);
    assert!(
        c.source.contains("step train_model(learning_rate: Str"),
        "{}",
        c.source
    );
    assert!(c.source.contains("-> (if_: File)"), "{}", c.source);
    let diagnostics = check("renamed", &c.source);
    assert!(diagnostics.is_empty(), "{diagnostics:?}\n{}", c.source);
}

#[test]
fn wrong_shapes_are_reported() {
    assert_reports(
        &component("    - {inputValue: a}\n").replace("inputs:\n", "inputs: 3\nx:\n"),
        Code::InvalidField,
        2,
        false,
    );
    assert_reports(
        "name: g\nimplementation:\n  graph: {tasks: {}}\n",
        Code::InvalidField,
        3,
        false,
    );
    assert_reports(
        "name: g\nimplementation:\n  container: {command: [echo]}\n",
        Code::InvalidField,
        3,
        false,
    );
}

#[test]
fn conditional_arguments_and_concat_convert() {
    let text = component(
        "    - {concat: ['--a=', {inputValue: a}, '/x']}\n    - if:\n        cond: {isPresent: b}\n        then: [--b, {inputValue: b}]\n    - {if: {cond: {isPresent: b}, then: [{inputValue: b}]}}\n    - {outputPath: out}\n",
    );
    let c = convert("cond.yaml", &text);
    assert!(!c.has_errors(), "{:?}", c.problems);
    assert!(c.source.contains(r#""--a=${a}/x""#), "{}", c.source);
    let approximated: Vec<usize> = c
        .problems
        .iter()
        .filter(|p| p.code == Code::Approximated)
        .map(|p| p.line)
        .collect();
    assert_eq!(approximated, vec![13], "{:?}", c.problems);
    assert!(c.source.contains("// `if isPresent b`"), "{}", c.source);
    assert!(c.source.contains("b: Int?"), "{}", c.source);
    let diagnostics = check("cond", &c.source);
    assert!(diagnostics.is_empty(), "{diagnostics:?}\n{}", c.source);
}

#[test]
fn truncated_files_never_panic() {
    let mut files = data_files("components");
    files.extend(reference_texts());
    files.extend(data_files("pipelines"));
    for (name, text) in &files {
        let mut cut = 0;
        while cut < text.len() {
            if text.is_char_boundary(cut) {
                let c = convert(name, &text[..cut]);
                assert!(
                    c.has_errors() || !c.source.is_empty(),
                    "{name} cut at {cut}: neither an error nor a result"
                );
            }
            cut += 1 + cut / 50;
        }
    }
}

/// The compiled pipelines of `shared/reference/kfp/`, failing clearly when `shared/` is not
/// beside the repository.
fn reference_texts() -> Vec<(String, String)> {
    shared::shared_files("reference/kfp", "yaml")
        .into_iter()
        .map(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name.to_string(), text)
        })
        .collect()
}

/// A small seeded generator (xorshift), so the random inputs are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_bytes_and_mutations_never_panic() {
    let mut rng = Rng(0x5eed_f10c);
    let alphabet = b"{}[]:-,'\"\n #&*!|>%@`abcinputValuePathoutputconcatif\t\\";
    let mut seeds = data_files("components");
    seeds.extend(reference_texts());
    seeds.extend(data_files("pipelines"));
    for round in 0..4000 {
        let len = (rng.next() % 400) as usize;
        let bytes: Vec<u8> = if round % 2 == 0 {
            (0..len).map(|_| (rng.next() & 0xff) as u8).collect()
        } else {
            // Mutations of a real file: random bytes of YAML's own punctuation put in.
            let (_, text) = &seeds[round % seeds.len()];
            let mut b = text.as_bytes().to_vec();
            for _ in 0..1 + rng.next() % 8 {
                let at = (rng.next() as usize) % b.len().max(1);
                let c = alphabet[(rng.next() as usize) % alphabet.len()];
                if at < b.len() {
                    b[at] = c;
                }
            }
            b
        };
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if round % 4 == 3 {
            // Whole lines dropped: YAML that parses, with fields missing.
            let lines: Vec<&str> = text.lines().collect();
            let drop = (rng.next() as usize) % lines.len().max(1);
            let every = 2 + (rng.next() as usize) % 7;
            text = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != drop && i % every != 0)
                .map(|(_, l)| *l)
                .collect::<Vec<_>>()
                .join("\n");
        }
        let c = convert("random.yaml", &text);
        assert!(c.has_errors() || !c.source.is_empty(), "round {round}");
    }
}

/// A compiled pipeline of one task running `comp-say` (inputs `msg`, a string, and `n`, an
/// optional integer) whose executor's arguments are `ARGS` (YAML list lines at 8 spaces).
fn compiled(args: &str, component: &str) -> String {
    format!(
        "components:\n  comp-say:\n    executorLabel: exec-say\n    inputDefinitions:\n      parameters:\n        msg: {{parameterType: STRING}}\n        n: {{parameterType: NUMBER_INTEGER, isOptional: true}}\ndeploymentSpec:\n  executors:\n    exec-say:\n      container:\n        image: busybox:1.36\n        command: [echo]\n        args:\n{args}pipelineInfo: {{name: say-demo}}\nroot:\n  dag:\n    tasks:\n      say:\n        componentRef: {{name: {component}}}\n        inputs:\n          parameters:\n            msg: {{runtimeValue: {{constant: hi}}}}\n        taskInfo: {{name: say}}\nschemaVersion: 2.1.0\n"
    )
}

#[test]
fn compiled_pipelines_report_undeclared_names() {
    let ok = "        - '{{$.inputs.parameters[''msg'']}}'\n";
    assert_reports(
        &compiled(
            "        - '{{$.inputs.parameters[''nope'']}}'\n",
            "comp-say",
        ),
        Code::UndeclaredName,
        15,
        false,
    );
    assert_reports(
        &compiled(ok, "comp-missing"),
        Code::UndeclaredName,
        21,
        false,
    );
    let c = convert("ok.yaml", &compiled(ok, "comp-say"));
    assert!(!c.has_errors(), "{:?}", c.problems);
    assert!(c.source.contains("say(msg: \"hi\")"), "{}", c.source);
}

#[test]
fn structured_placeholders_of_compiled_components_convert() {
    let args = "        - '{\"Concat\": [\"--msg=\", \"{{$.inputs.parameters[''msg'']}}\"]}'\n        - '{\"IfPresent\": {\"InputName\": \"n\", \"Then\": [\"--n\", \"{{$.inputs.parameters[''n'']}}\"]}}'\n";
    let c = convert("structured.yaml", &compiled(args, "comp-say"));
    assert!(!c.has_errors(), "{:?}", c.problems);
    assert!(c.source.contains(r#""--msg=${msg}""#), "{}", c.source);
    assert!(c.source.contains("\"--n\","), "{}", c.source);
    assert!(c.source.contains("// `IfPresent n`"), "{}", c.source);
    let approximated: Vec<usize> = c
        .problems
        .iter()
        .filter(|p| p.code == Code::Approximated)
        .map(|p| p.line)
        .collect();
    assert_eq!(approximated, vec![16], "{:?}", c.problems);
    let diagnostics = check("structured", &c.source);
    assert!(diagnostics.is_empty(), "{diagnostics:?}\n{}", c.source);
}

#[test]
fn what_a_string_cannot_hold_is_noted_in_place() {
    let text = component(
        "    - concat:\n      - --a=\n      - {inputValue: a}\n      - if: {cond: {isPresent: b}, then: [',', {inputValue: b}]}\n    - {outputPath: out}\n",
    );
    let c = convert("concat.yaml", &text);
    assert!(!c.has_errors(), "{:?}", c.problems);
    assert!(
        c.problems
            .iter()
            .any(|p| p.code == Code::LeftOut && p.line == 15),
        "{:?}",
        c.problems
    );
    assert!(
        c.source.contains("// left out: `if` inside this string"),
        "{}",
        c.source
    );
    assert!(c.source.contains(r#""--a=${a}""#), "{}", c.source);
}

#[test]
fn every_code_is_documented() {
    let doc = std::fs::read_to_string(tests_dir().join("../../docs/migrating.md"))
        .expect("docs/migrating.md");
    for code in Code::ALL {
        let row = format!("| `{}` | {} |", code.as_str(), code.name());
        assert!(doc.contains(&row), "docs/migrating.md has no row `{row}`");
    }
}

#[test]
fn unread_fields_of_compiled_pipelines_are_noted_in_place() {
    let ok = "        - '{{$.inputs.parameters[''msg'']}}'\n";
    let text = compiled(ok, "comp-say")
        .replace(
            "        image: busybox:1.36\n",
            "        image: busybox:1.36\n        workingDir: /w\n",
        )
        .replace(
            "        taskInfo: {name: say}\n",
            "        taskInfo: {name: say}\n        priority: 3\n",
        );
    let c = convert("fields.yaml", &text);
    assert!(!c.has_errors(), "{:?}", c.problems);
    let left_out: Vec<usize> = c
        .problems
        .iter()
        .filter(|p| p.code == Code::LeftOut)
        .map(|p| p.line)
        .collect();
    assert_eq!(left_out, vec![13, 27], "{:?}", c.problems);
    assert!(
        c.source
            .contains("// left out: the container field `workingDir`"),
        "{}",
        c.source
    );
    assert!(
        c.source.contains("// left out: the task field `priority`"),
        "{}",
        c.source
    );
}

#[test]
fn keys_written_twice_are_duplicate_names() {
    let text = component("    - {inputValue: a}\n").replace(
        "    image: busybox:1.36\n",
        "    image: busybox:1.36\n    image: busybox:1.37\n",
    );
    assert_reports(&text, Code::DuplicateName, 10, false);
}
