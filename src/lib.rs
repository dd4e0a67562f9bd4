#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod data;
pub mod engine;
pub mod explain;
pub mod expr;
pub mod files;
pub mod format;
pub mod gradcheck;
pub mod nn;
pub mod optim;
#[cfg(feature = "plot")]
pub mod plot;
pub mod viz;

pub use engine::{Graph, Mark, NodeId, Op, Trace, Value};

/// The embedded font for plots and PNG drawings: DejaVu Sans (Bitstream Vera
/// license, see `assets/DejaVuSans-LICENSE.txt`), so that no system font is
/// needed.
#[cfg(any(feature = "plot", feature = "png"))]
pub(crate) static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
