//! AFL++ target `fmt` (see `flowc_fuzz::fmt`).

fn main() {
    afl::fuzz!(|data: &[u8]| flowc_fuzz::fmt(data));
}
