//! Raking benchmark (no harness): rakes a synthetic panel of 1,000,000 and
//! 10,000,000 rows on 4 variables (2, 6, 8 and 4 levels) to 1e-6 and
//! compares with the memory-bandwidth reference, two plain passes summing
//! the same columns.
//!
//! Run with `cargo bench -p flowc-survey` (optimised build). Optional
//! arguments: row counts, e.g. `cargo bench -p flowc-survey -- 2000000`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use flowc_survey::synth::{synth_panel, synth_targets};
use flowc_survey::{rake, rake_into, CatVar, Codes, RakeOptions};

/// Sum of a `u32` column (vectorisable).
fn sum_codes(x: Codes<'_>) -> u64 {
    x.iter().map(u64::from).sum()
}

/// Sum of an `f64` column with eight independent accumulators (vectorisable).
fn sum_f64(x: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    acc.iter().sum::<f64>() + chunks.remainder().iter().sum::<f64>()
}

/// Median and minimum of `reps` timings of `f`.
fn time<F: FnMut()>(reps: usize, mut f: F) -> (Duration, Duration) {
    f(); // warm-up: page faults, caches
    let mut t: Vec<Duration> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    (t[t.len() / 2], t[0])
}

/// Medians of `reps` timings of `a` and `b`, run alternately so that both see
/// the same machine load (the benchmark machine is shared).
fn time_pair<A: FnMut(), B: FnMut()>(reps: usize, mut a: A, mut b: B) -> (Duration, Duration) {
    a();
    b();
    let mut ta = Vec::with_capacity(reps);
    let mut tb = Vec::with_capacity(reps);
    for _ in 0..reps {
        let s = Instant::now();
        a();
        ta.push(s.elapsed());
        let s = Instant::now();
        b();
        tb.push(s.elapsed());
    }
    ta.sort();
    tb.sort();
    (ta[reps / 2], tb[reps / 2])
}

fn gbs(bytes: f64, d: Duration) -> f64 {
    bytes / d.as_secs_f64() / 1e9
}

fn bench(n: usize) {
    let reps = if n <= 2_000_000 { 11 } else { 5 };
    let s = Instant::now();
    let panel = synth_panel(1, n);
    let gen = s.elapsed();
    let targets = synth_targets();
    let vars = panel.vars();
    let t = targets.targets();
    let base = panel.base_weight.as_slice();
    let opts = RakeOptions::default();
    println!("== {n} rows, 4 variables (2, 6, 8, 4 levels), tolerance 1e-6");
    println!("synthetic panel generated in {:.3} s", gen.as_secs_f64());

    // Memory-bandwidth reference: two plain passes over the same columns.
    let bytes_pass = (4 * 4 + 8) as f64 * n as f64;
    let reference = || {
        for _ in 0..2 {
            let mut s = 0u64;
            for v in &vars {
                s = s.wrapping_add(sum_codes(black_box(v.codes)));
            }
            black_box(s);
            black_box(sum_f64(black_box(base)));
        }
    };

    // Raking into a preallocated buffer (the kernel itself).
    let mut out = vec![0.0; n];
    let report = rake_into(&vars, &t, Some(base), &opts, &mut out).expect("rake");
    assert!(report.converged && report.max_rel_error <= 1e-6);
    let (ref_med, med) = time_pair(reps, reference, || {
        black_box(rake_into(&vars, &t, Some(base), &opts, &mut out).expect("rake"));
    });
    println!(
        "reference (2 passes summing 4 code columns + weights): median {:.2} ms, {:.1} GB/s",
        ref_med.as_secs_f64() * 1e3,
        gbs(2.0 * bytes_pass, ref_med)
    );
    // Pass 1 reads codes + weights and parks the cell keys in the output;
    // pass 2 reads keys + weights and writes the weights.
    let bytes_rake = bytes_pass + 8.0 * n as f64 + 24.0 * n as f64;
    println!(
        "rake_into (base weights): median {:.2} ms, {:.1} M rows/s, {:.1} GB/s, {:.2}x the reference; {} sweeps, {} cells, max rel error {:.2e}",
        med.as_secs_f64() * 1e3,
        n as f64 / med.as_secs_f64() / 1e6,
        gbs(bytes_rake, med),
        med.as_secs_f64() / ref_med.as_secs_f64(),
        report.iterations,
        report.cells,
        report.max_rel_error
    );

    // The same codes one byte a row (as the built-in steps hand them over), alternately with
    // the four-byte ones.
    let bytes: Vec<Vec<u8>> = vars
        .iter()
        .map(|v| v.codes.iter().map(|c| c as u8).collect())
        .collect();
    let narrow: Vec<CatVar<'_>> = vars
        .iter()
        .zip(&bytes)
        .map(|(v, c)| CatVar::new(v.name, c, v.n_levels))
        .collect();
    let mut out8 = vec![0.0; n];
    let (wide_med, byte_med) = time_pair(
        reps,
        || {
            black_box(rake_into(&vars, &t, Some(base), &opts, &mut out).expect("rake"));
        },
        || {
            black_box(rake_into(&narrow, &t, Some(base), &opts, &mut out8).expect("rake"));
        },
    );
    assert!(out
        .iter()
        .zip(&out8)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    println!(
        "rake_into, u32 codes: median {:.2} ms; u8 codes: median {:.2} ms ({:.2}x)",
        wide_med.as_secs_f64() * 1e3,
        byte_med.as_secs_f64() * 1e3,
        byte_med.as_secs_f64() / wide_med.as_secs_f64()
    );

    let (med_nb, _) = time(reps, || {
        black_box(rake_into(&vars, &t, None, &opts, &mut out).expect("rake"));
    });
    println!(
        "rake_into (no base weights): median {:.2} ms, {:.1} M rows/s",
        med_nb.as_secs_f64() * 1e3,
        n as f64 / med_nb.as_secs_f64() / 1e6
    );

    let (med_alloc, _) = time(reps, || {
        black_box(rake(&vars, &t, Some(base), &opts).expect("rake"));
    });
    println!(
        "rake (allocating the output): median {:.2} ms",
        med_alloc.as_secs_f64() * 1e3
    );

    let trim = RakeOptions {
        cap: Some(2.5),
        floor: Some(0.4),
        ..RakeOptions::default()
    };
    let tr = rake_into(&vars, &t, Some(base), &trim, &mut out).expect("rake");
    let (med_trim, _) = time(reps.min(5), || {
        black_box(rake_into(&vars, &t, Some(base), &trim, &mut out).expect("rake"));
    });
    println!(
        "rake_into with trimming (cap 2.5, floor 0.4): median {:.2} ms; {} sweeps, {} trim rounds, {} rows trimmed, converged {}",
        med_trim.as_secs_f64() * 1e3,
        tr.iterations,
        tr.trim_rounds,
        tr.trimmed,
        tr.converged
    );
    println!();
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000_000, 10_000_000]
    } else {
        sizes
    };
    for n in sizes {
        bench(n);
    }
}
