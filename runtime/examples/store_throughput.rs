//! Store throughput: storing an artifact in the local store, in a store on object storage, and
//! uploading the same bytes with the same client alone; then reading it back from a store on
//! object storage into an empty local folder against a plain download.
//!
//! `cargo run --release -p flowc-runtime --example store_throughput -- s3://BUCKET/PREFIX MIB
//! ROUNDS` with the object storage's variables set (bench/store_throughput.sh starts a moto
//! server and sets them). Prints the median MiB/s of each, over ROUNDS rounds of distinct
//! content.

use std::path::Path;
use std::time::Instant;

use flowc_runtime::store::s3::S3;
use flowc_runtime::store::Store;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "s3://bench/store".into());
    let mib: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(64);
    let rounds: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(5);
    if let Err(e) = bench(&url, mib, rounds) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// Bytes of round `round`: distinct content each round, the same for every contender.
fn content(mib: usize, round: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ round as u64;
    (0..mib << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn mib_per_s(mib: usize, seconds: f64) -> f64 {
    mib as f64 / seconds.max(1e-9)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn timed(f: impl FnOnce() -> Result<(), String>) -> Result<f64, String> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed().as_secs_f64())
}

fn bench(url: &str, mib: usize, rounds: usize) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("flowc-store-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let local = Store::open(&dir.join("local")).map_err(|e| e.to_string())?;
    let remote = Store::open_remote(
        &dir.join("remote"),
        Box::new(S3::connect(url).map_err(|e| e.to_string())?),
    )
    .map_err(|e| e.to_string())?;
    let plain = S3::connect(url).map_err(|e| e.to_string())?;
    let mut figures: [Vec<f64>; 5] = Default::default();
    for round in 0..rounds {
        let bytes = content(mib, round);
        let file = dir.join("artifact");
        let write = |p: &Path| std::fs::write(p, &bytes).map_err(|e| e.to_string());
        // Writing the file is not timed: each contender starts from the written file.
        write(&file)?;
        figures[0].push(timed(|| {
            local.put(&file).map(|_| ()).map_err(|e| e.to_string())
        })?);
        write(&file)?;
        let mut stored = None;
        figures[1].push(timed(|| {
            stored = Some(remote.put(&file).map_err(|e| e.to_string())?);
            Ok(())
        })?);
        write(&file)?;
        figures[2].push(timed(|| {
            plain
                .put_file(&format!("plain/{round}"), &file)
                .map_err(|e| e.to_string())
        })?);
        // Reading back: a cache entry naming the object, looked up from an empty local folder.
        let stored = stored.ok_or("nothing stored")?;
        let key = format!("{:064x}", round + 1);
        let entry = flowc_runtime::store::CacheEntry {
            key: key.clone(),
            created_ms: 0,
            run_id: "bench".into(),
            outputs: [("out".to_string(), stored)].into_iter().collect(),
        };
        remote.cache_put(&entry).map_err(|e| e.to_string())?;
        let reader_dir = dir.join(format!("reader-{round}"));
        let reader = Store::open_remote(
            &reader_dir,
            Box::new(S3::connect(url).map_err(|e| e.to_string())?),
        )
        .map_err(|e| e.to_string())?;
        figures[3].push(timed(|| {
            reader.cache_get(&key).map(|_| ()).ok_or("no entry".into())
        })?);
        let dest = dir.join(format!("plain-{round}"));
        figures[4].push(timed(|| {
            plain
                .get_file(&format!("plain/{round}"), &dest)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })?);
    }
    let names = [
        "local store: put",
        "S3 store: put (local put, then upload)",
        "plain upload, same client",
        "S3 store: cache hit into an empty local folder",
        "plain download, same client",
    ];
    println!("{mib} MiB, {rounds} rounds (median)");
    for (name, f) in names.iter().zip(figures) {
        let m = median(f);
        println!("{name:<48} {:>8.1} MiB/s  {:>8.3} s", mib_per_s(mib, m), m);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
