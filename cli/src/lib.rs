//! The `flowc` command-line tool.
//!
//! One module per subcommand in [`commands`]; clap types in [`args`]; rendering of diagnostics
//! for people and machines in [`render`]. This crate is the edge: it reads files, prints, and
//! maps outcomes to exit codes (0 success, 1 errors found, 2 usage or I/O failure).

pub mod args;
pub mod commands;
pub mod loader;
pub mod lockfile;
pub mod pages;
pub mod project;
pub mod render;

use std::process::ExitCode;

use clap::Parser;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the input has errors (or warnings with `--deny-warnings`).
pub const EXIT_ERRORS: u8 = 1;
/// Exit code: bad usage or an I/O failure.
pub const EXIT_FAILURE: u8 = 2;

/// Runs the tool with the process arguments.
pub fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_FAILURE
            } else {
                EXIT_OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    ExitCode::from(commands::run(cli))
}
