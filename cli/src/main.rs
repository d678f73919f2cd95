//! The `flowc` binary: parses arguments and hands over to the library.

/// mimalloc rather than the system allocator: the front end builds and frees many small nodes
/// on every check and every keystroke in the language server (docs/perf.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    flowc::main()
}
