#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod data;
pub mod engine;
pub mod explain;
pub mod expr;
mod files;
pub mod gradcheck;
pub mod nn;
pub mod optim;
pub mod plot;
pub mod viz;

pub use engine::{Graph, Mark, NodeId, Op, Trace, Value};
