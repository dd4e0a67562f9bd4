//! The interactive page: one self-contained HTML file.

use super::Explanation;

/// The most value nodes a page draws.
pub const PAGE_MAX_NODES: usize = 1500;

/// The version of the embedded Viz.js (Graphviz compiled to WebAssembly).
pub const VIZ_JS_VERSION: &str = "3.31.0";

/// Why a page could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// More nodes than [`PAGE_MAX_NODES`].
    #[error("the graph has {nodes} nodes, more than the page's limit of {max}")]
    TooLarge {
        /// Nodes in the graph.
        nodes: usize,
        /// The limit.
        max: usize,
    },
}

/// The DOT text the page lays out.
pub fn to_dot(_e: &Explanation) -> String {
    String::new()
}

/// The page.
///
/// # Errors
/// [`PageError::TooLarge`].
pub fn to_html(_e: &Explanation) -> Result<String, PageError> {
    Ok(String::new())
}
