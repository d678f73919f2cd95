//! AFL++ target `check` (see `flowc_fuzz::check`).

fn main() {
    afl::fuzz!(|data: &[u8]| flowc_fuzz::check(data));
}
