//! # backprop
//!
//! Backpropagation from scratch: a scalar reverse-mode autograd engine.
//!
//! ```
//! use backprop::Graph;
//!
//! let g = Graph::new();
//! let a = g.value(-4.0);
//! let b = g.value(2.0);
//! let c = a + b;
//! let d = a * b + b.powf(3.0);
//! let y = (c * d).tanh();
//! y.backward();
//! println!("{y} da={} db={}", a.grad(), b.grad());
//! ```
#![warn(missing_docs)]

pub mod data;
pub mod engine;
pub mod expr;
pub mod gradcheck;
pub mod nn;
pub mod optim;
pub mod plot;
pub mod viz;

pub use engine::{Graph, Mark, NodeId, Op, Trace, Value};
