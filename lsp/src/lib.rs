//! `flowc lsp`: the language server.
//!
//! This crate is protocol glue. The editor features are plain functions of the compiler
//! (`flowc_compiler::ide`: hover, go to definition, references, completion, symbols, rename)
//! and its formatter; here they are wired to the Language Server Protocol:
//!
//! - [`transport`]: JSON-RPC over stdio with `Content-Length` framing, answering malformed
//!   messages with a parse error instead of stopping;
//! - `documents`: the open buffers, overlaid on the disk as the compiler's file loader, with
//!   full and incremental sync;
//! - `convert`: byte offsets to UTF-16 positions and back, paths to URIs, diagnostics;
//! - `server`: the main loop (messages handled in order; every request inside `catch_unwind`,
//!   so a bug answers one request with an error and the server keeps serving), re-analysis
//!   of the open files and the files importing them after changes, and publication of the
//!   same diagnostics `flowc check` reports, each with a link to its code's explanation;
//! - `workspace`: what requests read (the documents, the current analysis, each document's last
//!   analysis without syntax errors) and the lookups between URIs, files and locations;
//! - `handlers`: one function per request, reading the workspace;
//! - [`targets`]: the [`TargetChecker`] through which the `flowc` binary, which links the
//!   emitters, adds target problems (E5xx, W5xx) when the workspace's `flowc.toml` names a
//!   target; this crate does not depend on the emitters.
//!
//! While a file has syntax errors, hover, go to definition and completion fall back on the last
//! analysis in which it had none, with offsets mapped through the edit.

mod convert;
mod documents;
mod handlers;
mod server;
pub mod targets;
pub mod transport;
mod workspace;

pub use targets::TargetChecker;

use std::io::{Read, Write};

/// Serves the protocol over standard input and output until `exit`; returns the process exit
/// code (0 after a `shutdown` request, 1 otherwise, as the protocol asks).
pub fn run_stdio() -> u8 {
    serve(std::io::stdin(), std::io::stdout())
}

/// [`run_stdio`], reporting target problems through `targets`.
pub fn run_stdio_with(targets: Box<dyn TargetChecker>) -> u8 {
    serve_with(std::io::stdin(), std::io::stdout(), Some(targets))
}

/// Serves the protocol over any pair of streams (tests and benchmarks use pipes).
pub fn serve<R, W>(input: R, output: W) -> u8
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    serve_with(input, output, None)
}

/// [`serve`], reporting target problems through `targets` when there is a checker.
pub fn serve_with<R, W>(input: R, output: W, targets: Option<Box<dyn TargetChecker>>) -> u8
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let (conn, threads) = transport::connect(input, output);
    let code = server::run(conn, targets);
    threads.join();
    code
}
