//! AFL++ target `exec` (see `flowc_fuzz::exec`).

fn main() {
    afl::fuzz!(|data: &[u8]| flowc_fuzz::exec(data));
}
