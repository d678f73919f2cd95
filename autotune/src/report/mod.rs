//! Reports of recommendations: Markdown for a merge-request description, a self-contained
//! HTML page with inline SVG charts, and the documented JSON of `autotune recommend`. Both are pure functions of their input: same input, same
//! bytes.

pub mod html;
pub mod json;
pub mod markdown;
pub mod svg;

pub use html::html;
pub use json::json;
pub use markdown::markdown;
