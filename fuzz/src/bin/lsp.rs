//! AFL++ target `lsp` (see `flowc_fuzz::lsp`).

fn main() {
    afl::fuzz!(|data: &[u8]| flowc_fuzz::lsp(data));
}
