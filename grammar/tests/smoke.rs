//! Smoke tests of the parser on whole files.

use flowc_grammar::{ast::Item, parse};

const SKETCH: &str = r#"//! Daily weighting of the TV panel to population targets.
import std.survey (select_active, rake, weighting_quality)
import "./common.flow" (hdfs)

schema Panelist { panelist_id: Int, sex: Str, age_group: Str, region: Str? }
schema Target   { variable: Str, level: Str, share: Float }
schema Wide extends Panelist { income: Float }

secret hdfs_keytab = k8s("hdfs-keytab", key: "hdfs.keytab")

/// HDFS access.
profile hdfs {                       // the boilerplate every HDFS step shares
  mount hdfs_keytab at "/etc/security/keytabs/hdfs.keytab"
  env HADOOP_CONF_DIR = "/etc/hadoop/conf"
}

builtin step rake<T: { sex: Str }>(panel: Table<T>, targets: Table<Target>, by: Columns<T>, tolerance: Float = 0.000001) -> (weights: Table<T + { weight: Float }>)

step load_panel(day: Date) -> (panel: Table<Panelist>) {
  image   "registry.example.com/ms/etl:1.4.2"
  run     ["python", "-m", "etl.load_panel", "--day", day, "--out=${panel}"]
  use     hdfs
  cache   ttl 1d
  resources auto(min: {cpu: 0.5, memory: 512Mi}, max: {memory: 16Gi})
  retries 2 backoff 30s factor 2 max 10m
  timeout 20m
  node_selector { "cloud.google.com/gke-accelerator": "nvidia-tesla-t4" }
  toleration { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }
}

pipeline daily_weights(day: Date, share_active: Float = 0.3, regions: List<Str> = ["n", "s"]) {
  defaults { retries 1 }
  schedule "0 6 * * *" timezone "Europe/Paris"
  panel   = load_panel(day: day)
  active  = select_active(panel: panel, share: share_active, seed: 42)
  targets = read_csv(path: "targets.csv") as Table<Target>
  weights = rake(panel: active, targets: targets, by: [sex, age_group, region]) after panel
  quality = weighting_quality(weights: weights, targets: targets)
  if share_active > 0.5 and not (day == "2024-01-01") {
    extra = load_panel(day: day)
  } else {
    other = load_panel(day: day)
  }
  for r in regions parallel 2 {
    part = load_panel(day: day)
  }
  check quality.max_abs_error < 0.001
  output weights
  output w2 = weights
  finally load_panel(day: day)
}
"#;

#[test]
fn parses_the_design_sketch() {
    let p = parse(SKETCH);
    assert!(p.errors.is_empty(), "{:#?}", p.errors);
    assert_eq!(p.module.items.len(), 10);
    assert!(p.module.items.iter().all(|i| !matches!(i, Item::Error(_))));
    assert_eq!(p.module.comments.len(), 3);
}

#[test]
fn three_broken_declarations_give_three_errors() {
    let text = "schema A { x Int }\nstep s(a: Int) -> (b: File) { image 3 }\npipeline p() { x = s(a 1) }\nschema B { y: Int }\n";
    let p = parse(text);
    assert_eq!(p.errors.len(), 3, "{:#?}", p.errors);
    for e in &p.errors {
        assert!(!e.message.contains("_"), "rule name leaked: {}", e.message);
    }
    assert!(matches!(p.module.items[3], Item::Schema(_)));
}

#[test]
fn garbage_never_panics() {
    for text in [
        "\u{0}\u{1}\u{ff}",
        "}}}}",
        "((((",
        "\"",
        "/*",
        "step",
        "pipeline p( {",
        "x = = =",
    ] {
        let _ = parse(text);
    }
    let deep = format!(
        "pipeline p() {{ x = f(a: {}1{}) }}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert_eq!(parse(&deep).errors.len(), 1);
    let nots = format!("pipeline p() {{ check {} true }}", "not ".repeat(10_000));
    assert!(parse(&nots).errors.is_empty());
}

#[test]
fn names_that_start_with_a_keyword_are_names() {
    use flowc_grammar::ast::StmtKind;
    let text = r#"step s(x: Int) -> (out: File) {
  imageset "a"
}
pipeline p() {
  checked = s(x: 1)
  output_path = s(x: 2)
  iffy = s(x: 3)
  format = s(x: 4)
  defaults_x = s(x: 5)
  finally_done = s(x: 6)
  schedule_at = s(x: 7)
  asap = s(x: 8) after checked
  output out = output_path.out
  check checked.out != none
}
"#;
    let p = parse(text);
    // `imageset` is not the `image` property: the step's body is a syntax error there.
    assert_eq!(p.errors.len(), 1, "{:#?}", p.errors);
    assert!(
        p.errors[0].message.contains("`imageset`"),
        "{}",
        p.errors[0].message
    );
    let Some(Item::Pipeline(pipeline)) = p.module.items.get(1) else {
        panic!("{:#?}", p.module.items)
    };
    let kinds: Vec<String> = pipeline
        .body
        .stmts
        .iter()
        .map(|s| match &s.kind {
            StmtKind::Bind { name, .. } => format!("bind {}", name.name),
            StmtKind::Output { name, .. } => format!("output {}", name.name),
            StmtKind::Check(_) => "check".to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "bind checked",
            "bind output_path",
            "bind iffy",
            "bind format",
            "bind defaults_x",
            "bind finally_done",
            "bind schedule_at",
            "bind asap",
            "output out",
            "check"
        ]
    );
}
