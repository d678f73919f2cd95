//! The `flowc` binary: parses arguments and hands over to the library.

fn main() -> std::process::ExitCode {
    flowc::main()
}
