//! Runs a target on files without AFL++: `cargo run --bin replay -- TARGET FILE...` (a crash
//! AFL++ found, or the seed corpus), printing each file's name before running it.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((name, files)) = args.split_first() else {
        eprintln!("usage: replay TARGET FILE...");
        std::process::exit(2);
    };
    let Some((_, run)) = flowc_fuzz::TARGETS.iter().find(|(n, _)| n == name) else {
        eprintln!("unknown target `{name}`");
        std::process::exit(2);
    };
    for f in files {
        eprintln!("{f}");
        match std::fs::read(f) {
            Ok(data) => run(&data),
            Err(e) => eprintln!("{f}: {e}"),
        }
    }
}
