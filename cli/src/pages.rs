//! The process's memory pages. Commands that only read and compile source text ask the kernel
//! for no transparent huge pages: the allocator asks for them on its arenas, and a fault in one
//! after another memory-hungry process may compact and zero 2 MiB at a time, which made
//! `flowc build` two to three times slower in some runs (docs/perf.md, "Huge pages after another
//! process"). `flowc run` starts without them too and gets them back when its plan has built-in
//! steps, whose tables gain from them; its steps' programs keep the machine's setting
//! (`flowc_runtime::huge_pages`).

/// Turns transparent huge pages off for the rest of this process (and any process it starts).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn no_huge_pages() {
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only and changes a flag of
    // this process's memory map; it cannot fail in a way that matters (an old kernel without
    // the flag returns EINVAL, and the pages stay as they were).
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// `flowc run`: no huge pages while the source is compiled and, unless the plan has built-in
/// steps, while it runs.
pub fn for_run() {
    flowc_runtime::huge_pages::off();
}

/// No such setting elsewhere.
#[cfg(not(target_os = "linux"))]
pub fn no_huge_pages() {}
