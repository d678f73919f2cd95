//! The `flowc` binary: parses arguments and hands over to the library.

/// mimalloc rather than the system allocator: the front end builds and frees many small nodes
/// on every check and every keystroke in the language server (docs/perf.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Transparent huge pages off before the allocator touches its first pages (see
/// `flowc::pages`): a constructor that runs before mimalloc's own (priority 101).
#[cfg(target_os = "linux")]
#[used]
#[allow(unsafe_code)]
#[link_section = ".init_array.00100"]
static HUGE_PAGES_OFF: extern "C" fn() = huge_pages_off;

#[cfg(target_os = "linux")]
extern "C" fn huge_pages_off() {
    flowc::pages::at_start();
}

fn main() -> std::process::ExitCode {
    flowc::main()
}
