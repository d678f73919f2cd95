//! Writes a generated benchmark pipeline of N steps to standard output: the layered graph of
//! shared components (`generate::pipeline`), or, with a shape, the pipeline of distinct steps
//! (`generate::distinct`):
//!
//! ```sh
//! cargo run -p flowc-tests --example gen_pipeline 1000 > big.flow
//! cargo run -p flowc-tests --example gen_pipeline 1000 chain > distinct.flow   # or diamond
//! cargo run -p flowc-tests --example gen_pipeline 1000 chain-plain > plain.flow  # no settings
//! ```
//!
//! The `-plain` shapes (`chain-plain`, `diamond-plain`) leave out every step's `resources` and
//! `retries` (`generate::distinct_plain`).

use flowc_tests::generate;

fn main() {
    let mut args = std::env::args().skip(1);
    let steps = args
        .next()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1000);
    match args.next() {
        None => print!("{}", generate::pipeline(steps)),
        Some(name) => match name.strip_suffix("-plain") {
            Some(base) => match generate::Shape::parse(base) {
                Some(shape) => print!("{}", generate::distinct_plain(steps, shape)),
                None => unknown(&name),
            },
            None => match generate::Shape::parse(&name) {
                Some(shape) => print!("{}", generate::distinct(steps, shape)),
                None => unknown(&name),
            },
        },
    }
}

/// Says which shapes there are and exits with status 2.
fn unknown(name: &str) -> ! {
    eprintln!(
        "gen_pipeline: unknown shape `{name}`; use `chain`, `diamond`, `chain-plain` or `diamond-plain`"
    );
    std::process::exit(2);
}
