//! Reports of recommendations: Markdown for a merge-request description and a self-contained
//! HTML page with inline SVG charts. Both are pure functions of their input: same input, same
//! bytes.

pub mod html;
pub mod markdown;
pub mod svg;

pub use html::html;
pub use markdown::markdown;
