//! The notebook's neuron, o = tanh(x1*w1 + x2*w2 + b), shared by the
//! engine's tests: as a program for the expression language, and built by
//! hand with the engine under the notebook's labels. The notebook's
//! numbers: o = 0.7071, x1.grad = -1.5, w1.grad = 1, x2.grad = 0.5,
//! w2.grad = 0, b.grad = 0.5.

use backprop::{Graph, Value};

/// The neuron as a program.
pub const NEURON: &str = "x1 = 2; x2 = 0; w1 = -3; w2 = 1; b = 6.8813735870195432
n = x1*w1 + x2*w2 + b
o = tanh(n)";

/// Every value of the hand-built neuron.
pub struct Neuron<'g> {
    pub x1: Value<'g>,
    pub x2: Value<'g>,
    pub w1: Value<'g>,
    pub w2: Value<'g>,
    pub b: Value<'g>,
    /// `x1*w1`.
    pub x1w1: Value<'g>,
    /// `x2*w2`.
    pub x2w2: Value<'g>,
    /// `x1*w1 + x2*w2`.
    pub sum: Value<'g>,
    pub n: Value<'g>,
    pub o: Value<'g>,
}

/// The neuron built in `g` as the notebook builds it, each value labelled
/// with its name (the sum of products `x1*w1 + x2*w2`); no backward pass.
pub fn labelled_neuron(g: &Graph) -> Neuron<'_> {
    let x1 = g.value(2.0).with_label("x1");
    let x2 = g.value(0.0).with_label("x2");
    let w1 = g.value(-3.0).with_label("w1");
    let w2 = g.value(1.0).with_label("w2");
    let b = g.value(6.8813735870195432).with_label("b");
    let x1w1 = (x1 * w1).with_label("x1*w1");
    let x2w2 = (x2 * w2).with_label("x2*w2");
    let sum = (x1w1 + x2w2).with_label("x1*w1 + x2*w2");
    let n = (sum + b).with_label("n");
    let o = n.tanh().with_label("o");
    Neuron {
        x1,
        x2,
        w1,
        w2,
        b,
        x1w1,
        x2w2,
        sum,
        n,
        o,
    }
}
