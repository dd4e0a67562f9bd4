//! # 05: Newton's method needs the derivative of the derivative
//!
//! The Rosenbrock function `f(x, y) = (1 - x)² + 100 (y - x²)²` has its
//! minimum at (1, 1), at the bottom of a long curved valley. Gradient
//! descent follows the slope and crawls along the valley floor; Newton's
//! method also uses the curvature, the Hessian `H` of second derivatives,
//! and steps by `-H⁻¹ ∇f`. Here the gradient is taken as graph values
//! ([`Graph::grad`]) and differentiated again ([`Graph::hessian`]): both
//! methods start from the classic (-1.2, 1) and stop within 1e-8 of (1, 1).
//!
//! `cargo run --release --example 05-newton-rosenbrock`

use backprop::{Graph, Value};

/// Rosenbrock's function on two values.
fn rosenbrock<'g>(x: Value<'g>, y: Value<'g>) -> Value<'g> {
    (1 - x).powf(2.0) + 100 * (y - x * x).powf(2.0)
}

/// Distance from the minimum (1, 1).
fn error(p: [f64; 2]) -> f64 {
    (p[0] - 1.0).hypot(p[1] - 1.0)
}

const TOL: f64 = 1e-8;

/// Newton's method: solve `H d = -∇f` (2 × 2) and step by `d`.
fn newton(start: [f64; 2]) -> (usize, [f64; 2]) {
    let mut p = start;
    let mut g = Graph::new();
    for it in 0..100 {
        if error(p) < TOL {
            return (it, p);
        }
        let (grad, h) = {
            let (x, y) = (g.value(p[0]), g.value(p[1]));
            let f = rosenbrock(x, y);
            (g.gradients(f, &[x, y]), g.hessian(f, &[x, y]))
        };
        g.clear();
        let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
        let dx = -(h[1][1] * grad[0] - h[0][1] * grad[1]) / det;
        let dy = -(h[0][0] * grad[1] - h[1][0] * grad[0]) / det;
        p = [p[0] + dx, p[1] + dy];
        println!(
            "newton {:>2}: ({:+.12}, {:+.12})  error {:.3e}",
            it + 1,
            p[0],
            p[1],
            error(p)
        );
    }
    (100, p)
}

/// Gradient descent with the largest fixed step that is stable at the
/// start (the curvature there is about 1500).
fn gradient_descent(start: [f64; 2], lr: f64, max_steps: usize) -> (usize, [f64; 2]) {
    let mut p = start;
    let mut g = Graph::new();
    for it in 0..max_steps {
        if error(p) < TOL {
            return (it, p);
        }
        let grad = {
            let (x, y) = (g.value(p[0]), g.value(p[1]));
            g.gradients(rosenbrock(x, y), &[x, y])
        };
        g.clear();
        p = [p[0] - lr * grad[0], p[1] - lr * grad[1]];
    }
    (max_steps, p)
}

fn main() {
    let start = [-1.2, 1.0];
    let (n_newton, p) = newton(start);
    println!(
        "Newton's method: {n_newton} iterations to ({:.10}, {:.10})",
        p[0], p[1]
    );
    let (n_gd, p) = gradient_descent(start, 1e-3, 1_000_000);
    println!(
        "gradient descent (lr 1e-3): {n_gd} iterations to ({:.10}, {:.10})",
        p[0], p[1]
    );
    assert!(
        n_newton < 30,
        "Newton should converge in well under 30 iterations"
    );
    assert!(n_gd > 100 * n_newton);
}
