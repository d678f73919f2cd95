//! One module per subcommand; [`run`] dispatches and returns the exit code.

pub mod autotune;
mod autotune_in_force;
pub mod build;
pub mod check;
pub mod diff;
pub mod exec;
pub mod explain;
pub mod fmt;
pub mod graph;
pub mod import;
pub mod lsp;
pub mod python_types;
pub mod replay;
pub mod run;
pub mod runs;
pub mod store;

use crate::args::{Cli, Command};

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    crate::pages::for_command(
        compiles_only(&cli.command) || matches!(cli.command, Command::Run(_)),
    );
    match cli.command {
        Command::Check(a) => check::run(&a),
        Command::Explain(a) => explain::run(&a),
        Command::Fmt(a) => fmt::run(&a),
        Command::Graph(a) => graph::run(&a),
        Command::Build(a) => build::run(&a),
        Command::Run(a) => run::run(&a),
        Command::Diff(a) => diff::run(&a),
        Command::Runs(a) => runs::run(&a),
        Command::Replay(a) => replay::run(&a),
        Command::Store(c) => store::run(&c),
        Command::Autotune(a) => autotune::run(&a),
        Command::Exec(a) => exec::run(&a),
        Command::Lsp => lsp::run(),
        Command::Import(a) => import::run(&a),
        Command::PythonTypes(a) => python_types::run(&a),
    }
}

/// Whether a command only reads and compiles source text (no tables, no steps): such a
/// command runs without transparent huge pages (see [`crate::pages`]).
fn compiles_only(command: &Command) -> bool {
    matches!(
        command,
        Command::Check(_)
            | Command::Build(_)
            | Command::Fmt(_)
            | Command::Diff(_)
            | Command::Graph(_)
            | Command::Lsp
    )
}

/// Prints an I/O or usage failure the same way for every command.
pub(crate) fn fail(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    crate::EXIT_FAILURE
}
