//! Prints the program the generator makes for a seed (`gen::program`), to reproduce or minimise
//! a counterexample of the law test: `cargo run -p flowc-tests --example gen_program 2031`.

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    print!("{}", flowc_tests::gen::program(seed).source);
}
