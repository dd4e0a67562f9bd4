//! Derivatives built on [`Graph::grad`]: Hessians, Hessian-vector products
//! and Jacobians, on a graph and as functions of plain inputs (PyTorch's
//! `torch.autograd.functional.hessian`, `hvp` and `jacobian`).
//!
//! Costs: one [`Graph::grad`] appends the backward computation (a few nodes
//! per node on the path to the inputs); a Hessian-vector product is that
//! plus one number sweep; a Hessian of `n` inputs is that plus `n` number
//! sweeps, one per row (no more than `n` Hessian-vector products).

use super::{Graph, Value};

impl Graph {
    /// The Hessian `H[i][j] = d² output / d input_i d input_j`, as numbers:
    /// row `i` is the gradient of `d output / d input_i` (from
    /// [`Graph::grad`]). Appends the gradient's nodes to the graph.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let (x, y) = (g.value(2.0), g.value(3.0));
    /// let f = x * x * y; // H = [[2y, 2x], [2x, 0]]
    /// assert_eq!(g.hessian(f, &[x, y]), [[6.0, 4.0], [4.0, 0.0]]);
    /// ```
    ///
    /// # Panics
    /// If a value belongs to another graph.
    pub fn hessian<'g>(&'g self, output: Value<'g>, inputs: &[Value<'g>]) -> Vec<Vec<f64>> {
        self.grad(output, inputs)
            .into_iter()
            .map(|d| self.gradients(d, inputs))
            .collect()
    }

    /// The Hessian-vector product `H v`, as numbers, at the cost of about
    /// one gradient taken twice: the gradient as values, its dot product
    /// with `v`, and that product's gradient (Pearlmutter's trick,
    /// "reverse over reverse").
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let (x, y) = (g.value(2.0), g.value(3.0));
    /// let f = x * x * y; // H = [[6, 4], [4, 0]]
    /// assert_eq!(g.hvp(f, &[x, y], &[1.0, -1.0]), [2.0, 4.0]);
    /// ```
    ///
    /// # Panics
    /// If `v` and `inputs` differ in length, or a value belongs to another
    /// graph.
    pub fn hvp<'g>(&'g self, output: Value<'g>, inputs: &[Value<'g>], v: &[f64]) -> Vec<f64> {
        assert_eq!(
            inputs.len(),
            v.len(),
            "hvp needs one direction entry per input, got {} inputs and {} entries",
            inputs.len(),
            v.len()
        );
        let d = self.grad(output, inputs);
        let v: Vec<Value<'g>> = v.iter().map(|&x| self.value(x)).collect();
        let dv = self.dot(&d, &v);
        self.gradients(dv, inputs)
    }

    /// The Jacobian `J[i][j] = d output_i / d input_j`, as numbers: one
    /// number sweep per output.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let (x, y) = (g.value(2.0), g.value(3.0));
    /// assert_eq!(g.jacobian(&[x * y, x + y], &[x, y]), [[3.0, 2.0], [1.0, 1.0]]);
    /// ```
    ///
    /// # Panics
    /// If a value belongs to another graph.
    pub fn jacobian<'g>(&'g self, outputs: &[Value<'g>], inputs: &[Value<'g>]) -> Vec<Vec<f64>> {
        outputs.iter().map(|&y| self.gradients(y, inputs)).collect()
    }
}

/// Builds `f` on a fresh graph with leaves holding `x`.
fn with_inputs<R>(x: &[f64], run: impl for<'g> FnOnce(&'g Graph, Vec<Value<'g>>) -> R) -> R {
    let g = Graph::new();
    let xs: Vec<Value<'_>> = x.iter().map(|&v| g.value(v)).collect();
    run(&g, xs)
}

/// The Hessian of `f` at `x` (`n × n` for `n` inputs), like PyTorch's
/// `torch.autograd.functional.hessian`. `f` builds its output from the
/// input values on the graph it is given.
///
/// ```
/// // Rosenbrock: f = (1 - x)² + 100 (y - x²)²; at (1, 1), H = [[802, -400], [-400, 200]]
/// let h = backprop::engine::hessian(
///     |_, v| (1 - v[0]).powf(2.0) + 100 * (v[1] - v[0].powf(2.0)).powf(2.0),
///     &[1.0, 1.0],
/// );
/// assert_eq!(h, [[802.0, -400.0], [-400.0, 200.0]]);
/// ```
pub fn hessian<F>(f: F, x: &[f64]) -> Vec<Vec<f64>>
where
    F: for<'g> Fn(&'g Graph, &[Value<'g>]) -> Value<'g>,
{
    with_inputs(x, |g, xs| g.hessian(f(g, &xs), &xs))
}

/// The Hessian-vector product `H(x) v` of `f` at `x`, without forming `H`
/// (PyTorch's `torch.autograd.functional.hvp`); see [`Graph::hvp`].
///
/// ```
/// let hv = backprop::engine::hvp(|_, v| v[0] * v[0] * v[1], &[2.0, 3.0], &[1.0, 0.0]);
/// assert_eq!(hv, [6.0, 4.0]);
/// ```
///
/// # Panics
/// If `v` and `x` differ in length.
pub fn hvp<F>(f: F, x: &[f64], v: &[f64]) -> Vec<f64>
where
    F: for<'g> Fn(&'g Graph, &[Value<'g>]) -> Value<'g>,
{
    with_inputs(x, |g, xs| g.hvp(f(g, &xs), &xs, v))
}

/// The Jacobian of a function with several outputs at `x`: `J[i][j] =
/// d f_i / d x_j` (PyTorch's `torch.autograd.functional.jacobian`).
///
/// ```
/// let j = backprop::engine::jacobian(|_, v| vec![v[0] * v[1], v[0].exp()], &[2.0, 3.0]);
/// assert_eq!(j[0], [3.0, 2.0]);
/// assert_eq!(j[1], [2f64.exp(), 0.0]);
/// ```
pub fn jacobian<F>(f: F, x: &[f64]) -> Vec<Vec<f64>>
where
    F: for<'g> Fn(&'g Graph, &[Value<'g>]) -> Vec<Value<'g>>,
{
    with_inputs(x, |g, xs| g.jacobian(&f(g, &xs), &xs))
}
