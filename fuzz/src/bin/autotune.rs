//! AFL++ target `autotune` (see `flowc_fuzz::autotune`).

fn main() {
    afl::fuzz!(|data: &[u8]| flowc_fuzz::autotune(data));
}
