//! Malformed input never panics: every fixture, cut at many places and with bytes flipped, goes
//! through detection and every reader, which must answer with data or errors.

use flowc_autotune::readers::{read_as, Format, Sink};
use std::path::PathBuf;

const FORMATS: [Format; 5] = [
    Format::FlowcRecords,
    Format::ArgoStatus,
    Format::PrometheusRange,
    Format::NextflowTrace,
    Format::WfCommons,
];

fn fixtures() -> Vec<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                out.push((p.display().to_string(), text));
            }
        }
    }
    out
}

fn read_all_ways(name: &str, text: &str) {
    for format in FORMATS {
        let mut sink = Sink::new(name, false);
        let _ = read_as(format, text, &mut sink);
    }
    let mut sink = Sink::new(name, true);
    let _ = flowc_autotune::readers::read_text(name, text, &mut sink);
}

#[test]
fn cut_and_flipped_inputs_never_panic() {
    let mut state = 0x1234_5678_9abc_def0u64;
    for (name, text) in fixtures() {
        let bytes = text.as_bytes();
        let step = (bytes.len() / 40).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            read_all_ways(&name, &String::from_utf8_lossy(&bytes[..cut]));
        }
        for _ in 0..20 {
            let mut mutated = bytes.to_vec();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let i = (state as usize) % mutated.len().max(1);
                if let Some(b) = mutated.get_mut(i) {
                    *b = b"{}[]\",:0-9.eE\n\tnulltrue"[(state >> 32) as usize % 23];
                }
            }
            read_all_ways(&name, &String::from_utf8_lossy(&mutated));
        }
    }
}
