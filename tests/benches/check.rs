//! Benchmark: `flowc check` (parse, resolve, type-check) of generated pipelines of 1,000 and
//! 10,000 steps, in memory. Run with `cargo bench -p flowc-tests --bench check`; the figures
//! are recorded in docs/perf.md.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flowc_compiler::{analyze, MemoryLoader};

fn main_file(steps: usize) -> String {
    flowc_tests::generate::pipeline(steps)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    group.sample_size(10);
    for steps in [1_000usize, 10_000] {
        let text = main_file(steps);
        let loader = MemoryLoader::new().with("big.flow", text.clone());
        let roots = [PathBuf::from("big.flow")];
        // The generated file must be valid, or the benchmark measures error paths.
        let a = analyze(&loader, &roots);
        assert!(!a.has_errors(), "generated pipeline has errors");
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(steps), &steps, |b, _| {
            b.iter(|| analyze(&loader, &roots))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
