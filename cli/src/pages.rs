//! The process's transparent huge pages. The allocator (mimalloc) asks for them on its arenas,
//! and on this project's machines the kernel zeroes a 2 MiB page at its first touch, which
//! costs milliseconds where the hypervisor has not backed the memory yet, or after another
//! memory-hungry process (docs/perf.md, "Huge pages after another process" and "`flowc run`
//! against GNU make"). So they are off from the start of the process, before the allocator
//! reserves its first memory ([`at_start`], which the binary calls from a constructor).
//! Commands that only read and compile source text keep them off, and so does `flowc run`
//! unless its plan has built-in steps, whose tables gain from them; the other commands get them
//! back ([`for_command`]). Programs that flowc starts keep the machine's setting
//! (`flowc_runtime::huge_pages`).

/// Turns huge pages off for this process, unless they were off already when it started.
pub fn at_start() {
    flowc_runtime::huge_pages::off();
}

/// Huge pages for a command: off (`keep_off`: it only compiles, or it is `flowc run`, whose
/// runner decides once the plan is known), or back on.
pub fn for_command(keep_off: bool) {
    match keep_off {
        true => flowc_runtime::huge_pages::off(),
        false => flowc_runtime::huge_pages::on(),
    }
}
