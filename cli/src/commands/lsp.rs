//! `flowc lsp`: the language server, speaking the Language Server Protocol over standard input
//! and output (see `docs/editors.md`). The binary links the emitters and hands the server
//! the target checker of `flowc.toml` ([`crate::project`]); the server crate does not depend on
//! them.

/// Runs the server until the editor says `exit`; 0 after a clean shutdown, 1 otherwise.
pub fn run() -> u8 {
    flowc_lsp::run_stdio_with(Box::new(crate::project::WorkspaceTargets::default()))
}
