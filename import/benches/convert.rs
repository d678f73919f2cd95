//! Benchmark: `flowc import kfp` of 100 component files (the vendored real components,
//! cycled), YAML reading, conversion and formatting included, in memory. Run with
//! `cargo bench -p flowc-import --bench convert`; the figure is recorded in docs/perf.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn components() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/components");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("the vendored components")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            (name, std::fs::read_to_string(&p).expect("readable"))
        })
        .collect();
    files.sort();
    files.iter().cycle().take(100).cloned().collect()
}

fn bench(c: &mut Criterion) {
    let files = components();
    for (name, text) in &files {
        // Every input must convert, or the benchmark measures error paths.
        assert!(!flowc_import::convert(name, text).has_errors(), "{name}");
    }
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let mut group = c.benchmark_group("import");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("100_components", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|(n, t)| flowc_import::convert(n, t).source.len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
