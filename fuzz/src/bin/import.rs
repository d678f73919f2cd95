//! AFL++ target `import` (see `flowc_fuzz::import`).

fn main() {
    afl::fuzz!(|data: &[u8]| flowc_fuzz::import(data));
}
