//! The parser pest generates from `flow.pest`, and its [`Rule`] enum.
//!
//! Its own module so that the parser ([`crate::parse`]) and the wording of its failures
//! ([`crate::expect`]) both depend on it without depending on each other.

/// The generated parser.
#[derive(pest_derive::Parser)]
#[grammar = "flow.pest"]
pub(crate) struct FlowParser;
