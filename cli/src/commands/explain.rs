//! `flowc explain CODE`: the long explanation of a diagnostic code.

use flowc_compiler::Code;

use crate::{EXIT_FAILURE, EXIT_OK};

/// Runs `flowc explain`.
pub fn run(args: &crate::args::ExplainArgs) -> u8 {
    if args.code.eq_ignore_ascii_case("all") {
        for c in Code::ALL {
            println!("{:<5} {:<28} {}", c.as_str(), c.name(), c.summary());
        }
        return EXIT_OK;
    }
    match Code::parse(&args.code) {
        Some(c) => {
            print!("{}", c.explanation());
            if !c.explanation().ends_with('\n') {
                println!();
            }
            EXIT_OK
        }
        None => {
            let known: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
            eprintln!(
                "error: `{}` is not a flowc diagnostic code{}",
                args.code,
                flowc_compiler::suggest::did_you_mean(
                    &args.code.to_ascii_uppercase(),
                    known.iter().copied()
                )
                .map(|h| format!("; {h}"))
                .unwrap_or_default()
            );
            eprintln!("run `flowc explain all` to list every code");
            EXIT_FAILURE
        }
    }
}
