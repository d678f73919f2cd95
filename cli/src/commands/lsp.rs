//! `flowc lsp`: the language server, speaking the Language Server Protocol over standard input
//! and output (see `docs/editors.md`).

/// Runs the server until the editor says `exit`; 0 after a clean shutdown, 1 otherwise.
pub fn run() -> u8 {
    flowc_lsp::run_stdio()
}
