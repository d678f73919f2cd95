//! Writes the generated benchmark pipeline of N steps (`generate::pipeline`) to standard
//! output: `cargo run -p flowc-tests --example gen_pipeline 1000 > big.flow`.

fn main() {
    let steps = std::env::args()
        .nth(1)
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1000);
    print!("{}", flowc_tests::generate::pipeline(steps));
}
