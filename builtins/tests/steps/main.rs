//! The integration tests of flowc-builtins, in one binary (one link of polars instead of one
//! per file): each module exercises one part of the steps through the runner interface.

#![allow(dead_code)]

mod common;
mod examples;
mod handoff;
mod io;
mod runner;
mod survey;
mod table;
